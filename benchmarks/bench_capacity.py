"""Capacity kernel at 1M task uses: `capacity_conflicts` against a lower bound and intervaltree.

    python benchmarks/bench_capacity.py [--scale 0.1] [--repeat 7]

Methods, all on the same arrays in one run:

- lower bound (the goal's baseline): build the 2M event keys, `np.argsort`
  them, gather the deltas and `np.cumsum` — the load profile and nothing else
  (no run finding, peaks or members).
- packed-sort bound: the same, but sorting (key << b | event index) with
  `np.sort`, the trick the kernel itself uses; a stricter floor, shown so the
  ratio to the argsort bound is not mistaken for beating a true minimum.
- `capacity_conflicts`: the project's kernel, the full answer (windows, peaks,
  load steps, members).
- intervaltree: one `IntervalTree` per resource; the load at every boundary
  point by `tree.at(point)`, over-capacity elementary segments merged into
  windows, members by `tree.overlap(window)`. Too slow for 1M uses, so it runs
  on a subsample of whole resources and its time is scaled up by the share of
  uses (the job is linear in the number of resources); the output says so.

Answers, compared after the clock stops: the over-capacity windows and their
peaks read off each bound's load profile equal the kernel's; on the
subsample, intervaltree's windows, peaks and members equal the kernel's (from
the full run and from a run on the subsample alone). The exit status is 1
when any answer differs.
"""

from __future__ import annotations

import sys

import numpy as np
from intervaltree import Interval, IntervalTree

from common import Method, machine, measure, parser, same_answers, table, verdict
from jointplan.analysis.capacity import CapacitySweep, capacity_conflicts

HORIZON = 30 * 1440
LOWER = "argsort+cumsum (lower bound)"
PACKED = "packed sort+cumsum"
OURS = "capacity_conflicts"


def workload(uses: int, resources: int, seed: int) -> dict[str, np.ndarray]:
    """Random uses: resource, start, end, quantity, and a capacity per resource."""
    rng = np.random.default_rng(seed)
    resource = np.sort(rng.integers(0, resources, uses))
    rng.shuffle(resource)
    start = rng.integers(0, HORIZON, uses)
    end = start + rng.integers(30, 12 * 60 + 1, uses)
    quantity = rng.integers(1, 4, uses)
    # Capacity between 1.2x and 2.2x the resource's mean load: some resources
    # overflow often, some rarely, some never.
    load = np.bincount(resource, weights=quantity * (end - start), minlength=resources) / HORIZON
    capacity = np.ceil(load * rng.uniform(1.2, 2.2, resources)).astype(np.int64)
    return {"resource": resource, "start": start, "end": end, "quantity": quantity,
            "capacity": capacity}


def lower_bound(resource: np.ndarray, start: np.ndarray, end: np.ndarray,
                quantity: np.ndarray) -> np.ndarray:
    """The load profile of every resource by one argsort and one cumsum (the bare minimum)."""
    span = int(end.max()) + 1
    keys = np.concatenate((resource * span + start, resource * span + end))
    deltas = np.concatenate((quantity, -quantity))
    return np.cumsum(deltas[np.argsort(keys)])


def packed_bound(resource: np.ndarray, start: np.ndarray, end: np.ndarray,
                 quantity: np.ndarray) -> np.ndarray:
    """The load profile by one value sort of packed (key, event index) and one cumsum."""
    span = int(end.max()) + 1
    keys = np.concatenate((resource * span + start, resource * span + end))
    bits = int(keys.size - 1).bit_length()
    packed = (keys << bits) | np.arange(keys.size)
    packed.sort()
    deltas = np.concatenate((quantity, -quantity))
    return np.cumsum(deltas[packed & ((1 << bits) - 1)])


def profile_windows(profile: np.ndarray, keys: np.ndarray, span: int,
                    capacity: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(resource, start, end, peak) of every maximal over-capacity window, read off a load
    profile: ``profile[k]`` is the load after the k-th event in the order of ``keys``
    sorted (events at one key in any order; only the load after the last one counts)."""
    keys = np.sort(keys)
    last = np.flatnonzero(np.r_[keys[1:] != keys[:-1], True])
    load, point = profile[last], keys[last]
    resource, time = point // span, point % span
    over = load > capacity[resource]
    # A resource's last point has load 0: every run of over-capacity points ends before it,
    # and the window ends at the next point of the same resource.
    edges = np.diff(np.r_[0, over.astype(np.int8), 0])
    first, stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not first.size:
        return []
    peak = np.maximum.reduceat(load, np.ravel(np.column_stack((first, stop)))[:-1])[::2]
    return list(zip(resource[first].tolist(), time[first].tolist(), time[stop].tolist(),
                    peak.tolist(), strict=True))


def with_intervaltree(resource: np.ndarray, start: np.ndarray, end: np.ndarray,
                      quantity: np.ndarray, capacity: np.ndarray,
                      ) -> list[tuple[int, int, int, int, frozenset[int]]]:
    """(resource, start, end, peak, member rows) of every conflict, one tree per resource."""
    out = []
    rows_of: dict[int, list[int]] = {}
    for row, r in enumerate(resource.tolist()):
        rows_of.setdefault(r, []).append(row)
    s_list, e_list, q_list = start.tolist(), end.tolist(), quantity.tolist()
    for r in sorted(rows_of):
        rows = [i for i in rows_of[r] if q_list[i] > 0 and e_list[i] > s_list[i]]
        tree = IntervalTree(Interval(s_list[i], e_list[i], i) for i in rows)
        points = sorted({s_list[i] for i in rows} | {e_list[i] for i in rows})
        cap = int(capacity[r])
        windows: list[list[int]] = []
        for a, b in zip(points, points[1:], strict=False):
            load = sum(q_list[iv.data] for iv in tree.at(a))
            if load <= cap:
                continue
            if windows and windows[-1][1] == a:
                windows[-1][1] = b
                windows[-1][2] = max(windows[-1][2], load)
            else:
                windows.append([a, b, load])
        for a, b, peak in windows:
            out.append((r, a, b, peak, frozenset(iv.data for iv in tree.overlap(a, b))))
    return out


def as_tuples(sweep: CapacitySweep, rows: np.ndarray | None = None,
              ) -> list[tuple[int, int, int, int, frozenset[int]]]:
    """The kernel's answer in the same shape as `with_intervaltree`'s."""
    members: dict[int, set[int]] = {}
    use = sweep.member_use if rows is None else rows[sweep.member_use]
    for k, u in zip(sweep.member_conflict.tolist(), use.tolist(), strict=True):
        members.setdefault(k, set()).add(u)
    return [(int(sweep.resource[k]), int(sweep.start[k]), int(sweep.end[k]),
             int(sweep.peak[k]), frozenset(members.get(k, ()))) for k in range(len(sweep))]


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n\n")[0], repeat=7)
    p.add_argument("--tree-resources", type=int, default=20,
                   help="resources in the intervaltree subsample")
    args = p.parse_args(argv)
    uses = max(1000, int(1_000_000 * args.scale))
    resources = max(10, int(1000 * args.scale))
    w = workload(uses, resources, args.seed)
    r, s, e, q, cap = w["resource"], w["start"], w["end"], w["quantity"], w["capacity"]
    print(f"capacity: {uses:,} uses on {resources:,} resources over {HORIZON // 1440} days "
          f"({2 * uses:,} events); {machine()}")

    span = int(e.max()) + 1
    keys = np.concatenate((r * span + s, r * span + e))

    def windows(profile: np.ndarray) -> list[tuple[int, int, int, int]]:
        return profile_windows(profile, keys, span, cap)

    methods = [
        Method(LOWER, lambda: lower_bound(r, s, e, q), uses, summary=windows),
        Method(PACKED, lambda: packed_bound(r, s, e, q), uses, summary=windows),
        Method(OURS, lambda: capacity_conflicts(r, s, e, q, cap), uses),
    ]
    measure(methods, args.repeat)
    lower, packed, ours = methods
    sweep: CapacitySweep = ours.answer

    # intervaltree on whole resources 0..k-1, scaled up by the share of uses.
    k = min(args.tree_resources, resources)
    sub = np.flatnonzero(r < k)
    rs, ss, es, qs = r[sub], s[sub], e[sub], q[sub]
    tree = Method(f"intervaltree (x{uses / sub.size:.1f} from {k} resources)",
                  lambda: with_intervaltree(rs, ss, es, qs, cap), uses,
                  note="extrapolated")
    ours_sub = Method("capacity_conflicts on the same subsample",
                      lambda: capacity_conflicts(rs, ss, es, qs, cap), sub.size)
    measure([tree, ours_sub], max(1, min(3, args.repeat)))
    tree_measured = tree.best
    tree.times = [t * uses / sub.size for t in tree.times]
    tree.cpu = [t * uses / sub.size for t in tree.cpu]

    # Same answers on the subsample: from the full run, and from the subsample run.
    expected = sorted(tree.answer, key=lambda c: (c[0], c[1]))
    full = sorted((c for c in as_tuples(sweep) if c[0] < k), key=lambda c: (c[0], c[1]))
    # Full-run members are rows of the whole input; the tree's are rows of the subsample.
    full = [(*c[:4], frozenset(sub.searchsorted(sorted(c[4])).tolist())) for c in full]
    part = sorted(as_tuples(ours_sub.answer), key=lambda c: (c[0], c[1]))
    same = expected == full == part

    print(table(f"capacity kernel, {uses:,} uses, {args.repeat} runs", [*methods, tree],
                {"LB": LOWER, "packed": PACKED, "ours": OURS}, "uses"))
    print(f"intervaltree subsample: {sub.size:,} uses on {k} resources, best "
          f"{tree_measured:.2f} s measured (x{uses / sub.size:.1f} = {tree.best:.1f} s above); "
          f"capacity_conflicts on it: best {ours_sub.best * 1000:.1f} ms")
    print(f"conflicts: {len(sweep):,} windows on {np.unique(sweep.resource).size:,} of "
          f"{resources:,} resources, {sweep.member_use.size:,} memberships; subsample "
          f"{len(expected):,} windows")
    print(verdict("capacity_conflicts <= 1.5x the argsort+cumsum lower bound", ours, lower, 1.5))
    print(f"(against the stricter packed-sort bound: {ours.best / packed.best:.2f}x best wall, "
          f"{ours.best_cpu / packed.best_cpu:.2f}x best CPU)")

    kernel = sorted(c[:4] for c in as_tuples(sweep))
    checks = [
        (LOWER, sorted(lower.answer) == kernel,
         f"{len(lower.answer):,} windows and peaks read off its load profile "
         f"(capacity_conflicts: {len(kernel):,})"),
        (PACKED, sorted(packed.answer) == kernel,
         f"{len(packed.answer):,} windows and peaks read off its load profile "
         f"(capacity_conflicts: {len(kernel):,})"),
        (OURS, sorted(lower.answer) == kernel and expected == full,
         f"{len(kernel):,} windows and peaks as read off the lower bound's profile; "
         f"windows, peaks and members on the subsample as intervaltree's"),
        (tree.name, expected == full,
         f"{len(expected):,} windows, peaks and members (capacity_conflicts on the full input, "
         f"restricted to the subsample)"),
        (ours_sub.name, part == expected,
         f"{len(part):,} windows, peaks and members (intervaltree: {len(expected):,})"),
    ]
    for name, ok, detail in checks:
        print(same_answers(name, ok, detail))
    return 0 if same and all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
