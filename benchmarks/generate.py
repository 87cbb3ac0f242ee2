"""Write a synthetic but valid workspace folder of N tasks, for benchmarks.

    python benchmarks/generate.py OUT_DIR --tasks 100000 [--seed 1]

The folder holds a `workspace.yaml` (partners, areas, resources, a scenario
tree, indicators), one file per plan and an `observations.yaml`. It uses
every part of the format the analysis touches: shared, narrowed and private
plans, withheld fields, three-point durations, flex windows, `after` chains
within and across plans, resource uses, areas (rectangles, star-shaped
polygons, a few multipolygons) with exclusive tasks, expectations and
provisions (some linked by `answers`), and observations. Capacities are set
so that some resources overflow and most do not.

The same arguments always write the same bytes (a seeded generator, no clock).
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import shapely

PARTNERS = (("NOR", "Kingdom of Norland"), ("SOU", "Republic of Sudmark"),
            ("RRA", "Regional Relief Agency"), ("EST", "Estmark Civil Protection"),
            ("WES", "Westport Harbour Authority"), ("CEN", "Central Medical Corps"))
# A scenario tree: three top-level scenarios, two of them split, so five leaves.
SCENARIOS = (
    ("baseline", None, 0.5, "Tensions persist without crisis"),
    ("strait-closure", None, 0.3, "Strait closed to commercial shipping"),
    ("closure-long", "strait-closure", 0.4, "Closure lasts beyond 7 days"),
    ("closure-short", "strait-closure", 0.6, "Closure ends within 7 days"),
    ("unrest", None, 0.2, "Civil unrest in the port cities"),
    ("unrest-north", "unrest", 0.5, "Unrest in the northern ports"),
    ("unrest-south", "unrest", 0.5, "Unrest in the southern ports"),
)
TOP_SCENARIOS = tuple(s for s, parent, _, _ in SCENARIOS if parent is None)
HORIZON_MIN = -1 * 1440          # tasks start between T-1d ...
HORIZON_MAX = 14 * 1440          # ... and T+14d
BOX = (20.0, 54.0, 30.0, 60.0)   # lon/lat box the areas lie in
TASKS_PER_PLAN = 2500


@dataclass(frozen=True)
class Sizes:
    """How big a generated workspace is; everything scales with the number of tasks."""

    tasks: int
    plans: int
    resources: int
    areas: int
    indicators: int
    observations: int

    @classmethod
    def for_tasks(cls, tasks: int) -> Sizes:
        return cls(tasks=tasks,
                   plans=max(len(PARTNERS), math.ceil(tasks / TASKS_PER_PLAN)),
                   resources=max(4, tasks // 500),
                   areas=max(4, tasks // 250),
                   indicators=8,
                   observations=max(10, min(1000, tasks // 100)))


# -- geometry (also used by bench_areas.py) -------------------------------------------------


def random_polygon(rng: random.Random, box: tuple[float, float, float, float] = BOX,
                   size: tuple[float, float] = (0.05, 0.4)) -> dict[str, object]:
    """A GeoJSON Polygon or MultiPolygon: a rectangle, a star-shaped polygon or two rectangles."""
    kind = rng.random()
    if kind < 0.6:
        return {"type": "Polygon", "coordinates": [_rectangle(rng, box, size)]}
    if kind < 0.95:
        return {"type": "Polygon", "coordinates": [_star(rng, box, size)]}
    first = _rectangle(rng, box, size)
    # The second part lies clear east of the first, so the parts never touch.
    east = max(x for x, _ in first) + 0.01
    second = _rectangle(rng, (east, box[1], min(east + 0.6, box[2] + 0.6), box[3]), size)
    return {"type": "MultiPolygon", "coordinates": [[first], [second]]}


def _rectangle(rng: random.Random, box: tuple[float, float, float, float],
               size: tuple[float, float]) -> list[list[float]]:
    w, h = rng.uniform(*size), rng.uniform(*size)
    x = round(rng.uniform(box[0], box[2] - w), 4)
    y = round(rng.uniform(box[1], box[3] - h), 4)
    x2, y2 = round(x + w, 4), round(y + h, 4)
    return [[x, y], [x2, y], [x2, y2], [x, y2], [x, y]]


def _star(rng: random.Random, box: tuple[float, float, float, float],
          size: tuple[float, float]) -> list[list[float]]:
    # Vertices at increasing angles around a centre: always a simple polygon.
    r = rng.uniform(*size) / 2
    cx, cy = rng.uniform(box[0] + r, box[2] - r), rng.uniform(box[1] + r, box[3] - r)
    n = rng.randint(5, 12)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    ring = [[round(cx + rng.uniform(0.5, 1) * r * math.cos(a), 4),
             round(cy + rng.uniform(0.5, 1) * r * math.sin(a), 4)] for a in angles]
    ring.append(ring[0])
    if not shapely.Polygon(ring).is_valid:  # rounding can fold a thin spike; fall back
        return _rectangle(rng, box, size)
    return ring


# -- text ------------------------------------------------------------------------------------


def fmt_time(minutes: int) -> str:
    return ("T-" if minutes < 0 else "T+") + fmt_duration(abs(minutes))


def fmt_duration(minutes: int) -> str:
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    return (f"{d}d" if d else "") + (f"{h}h" if h else "") + (f"{m}m" if m else "") or "0h"


def _flow(mapping: dict[str, object]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


def _codes(codes: list[str]) -> str:
    return "[" + ", ".join(codes) + "]"


def _geometry(g: dict[str, object]) -> str:
    coords = str(g["coordinates"]).replace("'", "")
    return f"{{type: {g['type']}, coordinates: {coords}}}"


# -- the workspace ---------------------------------------------------------------------------


@dataclass
class _Plan:
    id: str
    owner: str
    share: str | list[str] | None
    scenarios: list[str]
    tasks: int
    public: list[int]            # tasks others may wait for (`after` across plans)
    expects: list[tuple[str, str]]  # (expectation id, from)


def generate(out: str | Path, tasks: int = 100_000, seed: int = 1) -> Sizes:
    """Write the workspace into ``out`` (created; must be empty or absent) and return its sizes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    sizes = Sizes.for_tasks(tasks)
    rng = random.Random(seed)
    codes = [c for c, _ in PARTNERS]
    resources = [f"res-{k:04d}" for k in range(sizes.resources)]
    areas = [f"area-{k:04d}" for k in range(sizes.areas)]
    capacity = _capacities(rng, sizes)
    (out / "workspace.yaml").write_text(_workspace_text(rng, sizes, resources, capacity, areas))

    plans = _plans(rng, sizes, codes)
    for plan in plans:
        _fill_expects(rng, plan, codes)
    for p, plan in enumerate(plans):
        text = _plan_text(rng, plan, plans[:p], plans, codes, resources, areas)
        (out / f"{plan.id}.yaml").write_text(text)
    (out / "observations.yaml").write_text(_observations_text(rng, sizes, codes))
    return sizes


def _capacities(rng: random.Random, sizes: Sizes) -> list[int]:
    # Mean load on a resource in a leaf is about 2 (uses per resource x mean
    # duration / horizon x mean quantity x share of plans active); capacities
    # from 3 to 12 make a few resources overflow often and most rarely or never.
    return [rng.choice((3, 4, 5, 6, 8, 10, 12)) for _ in range(sizes.resources)]


def _workspace_text(rng: random.Random, sizes: Sizes, resources: list[str],
                    capacity: list[int], areas: list[str]) -> str:
    lines = ["jointplan: 1", "kind: workspace", "id: synthetic-strait",
             f"title: Synthetic workspace of {sizes.tasks} tasks", "partners:"]
    lines += [f"  - {{code: {c}, name: {n}}}" for c, n in PARTNERS]
    lines.append("areas:")
    for aid in areas:
        lines += [f"  - id: {aid}", f"    name: Area {aid[5:]}",
                  f"    geometry: {_geometry(random_polygon(rng))}"]
    lines.append("resources:")
    for rid, cap in zip(resources, capacity, strict=True):
        holder = rng.choice(PARTNERS)[0]
        lines.append(f"  - {{id: {rid}, name: Resource {rid[4:]}, capacity: {cap}, "
                     f"holder: {holder}}}")
    lines.append("scenarios:")
    for sid, parent, prior, title in SCENARIOS:
        fields = {"id": sid, "title": title, "prior": prior}
        if parent:
            fields["parent"] = parent
        lines.append(f"  - {_flow(fields)}")
    lines.append("indicators:")
    for k in range(sizes.indicators):
        owner = PARTNERS[k % len(PARTNERS)][0]
        likely = {s: round(rng.uniform(0.05, 0.95), 2) for s in TOP_SCENARIOS}
        for sid, parent, _, _ in SCENARIOS:
            if parent and rng.random() < 0.3:
                likely[sid] = round(rng.uniform(0.05, 0.95), 2)
        share = "all" if k % 3 else _codes(sorted(rng.sample([c for c, _ in PARTNERS], 2)))
        lines.append(f"  - {{id: ind-{k}, title: Indicator {k}, owner: {owner}, "
                     f"share: {share}, likelihood: {_flow(likely)}}}")
    return "\n".join(lines) + "\n"


def _plans(rng: random.Random, sizes: Sizes, codes: list[str]) -> list[_Plan]:
    scenario_ids = [s for s, _, _, _ in SCENARIOS]
    per_plan = [sizes.tasks // sizes.plans + (1 if p < sizes.tasks % sizes.plans else 0)
                for p in range(sizes.plans)]
    plans = []
    for p in range(sizes.plans):
        owner = codes[p % len(codes)]
        roll = rng.random()
        others = [c for c in codes if c != owner]
        share: str | list[str] | None = (
            "all" if roll < 0.4 else None if roll < 0.55
            else sorted(rng.sample(others, rng.randint(1, len(others) - 1))))
        scenarios = sorted(rng.sample(scenario_ids, rng.choice((1, 1, 2))),
                           key=scenario_ids.index)
        plans.append(_Plan(f"{owner.lower()}-plan-{p:03d}", owner, share, scenarios,
                           per_plan[p], [], []))
    return plans


def _fill_expects(rng: random.Random, plan: _Plan, codes: list[str]) -> None:
    for k in range(max(1, plan.tasks // 400)):
        plan.expects.append((f"exp-{k}", rng.choice([c for c in codes if c != plan.owner])))


def _plan_text(rng: random.Random, plan: _Plan, earlier: list[_Plan], plans: list[_Plan],
               codes: list[str], resources: list[str], areas: list[str]) -> str:
    lines = ["jointplan: 1", "kind: plan", f"id: {plan.id}", f"owner: {plan.owner}",
             f"title: Contingency plan {plan.id[-3:]} of {plan.owner}",
             f"scenarios: {_codes(plan.scenarios)}"]
    if plan.share is not None:
        lines.append(f"share: {plan.share if plan.share == 'all' else _codes(plan.share)}")
    lines.append(f"tlp: {rng.choice(('clear', 'green', 'amber', 'amber', 'amber+strict'))}")
    objectives = [f"obj-{k}" for k in range(max(1, plan.tasks // 250))]
    lines.append("objectives:")
    for oid in objectives:
        lines.append(f"  - {{id: {oid}, title: Objective {oid[4:]} met, "
                     f"by: {fmt_time(rng.randrange(2 * 1440, HORIZON_MAX, 60))}}}")
    # Cross-plan `after` only into earlier plans that everyone may see: never a
    # cycle, never a reference to a task the owner may not see.
    targets = [p for p in earlier if p.share == "all" and p.public]
    lines.append("tasks:" if plan.tasks else "tasks: []")
    for j in range(plan.tasks):
        lines += _task_lines(rng, plan, j, targets, codes, resources, areas, objectives)
    lines.append("expects:")
    for eid, frm in plan.expects:
        start = rng.randrange(0, HORIZON_MAX - 2 * 1440, 60)
        lines += [f"  - id: {eid}", f"    from: {frm}",
                  f"    what: Support {eid[4:]} from {frm}",
                  f"    window: [{fmt_time(start)}, "
                  f"{fmt_time(start + rng.randrange(360, 2 * 1440, 60))}]"]
        if rng.random() < 0.8:
            lines.append(f"    uses: {{{rng.choice(resources)}: {rng.randint(1, 2)}}}")
    lines.append("provides:")
    for k in range(max(1, plan.tasks // 400)):
        to = rng.choice([c for c in codes if c != plan.owner])
        # An expectation of `to` addressed to this owner, to answer by link.
        wanted = [(q.id, eid) for q in plans if q.owner == to
                  for eid, frm in q.expects if frm == plan.owner]
        start = rng.randrange(0, HORIZON_MAX - 2 * 1440, 60)
        lines += [f"  - id: prov-{k}", f"    to: {to}", f"    what: Offer {k} to {to}",
                  f"    window: [{fmt_time(start)}, "
                  f"{fmt_time(start + rng.randrange(360, 3 * 1440, 60))}]",
                  f"    uses: {{{rng.choice(resources)}: {rng.randint(1, 3)}}}"]
        if wanted and rng.random() < 0.5:
            q_id, eid = rng.choice(wanted)
            lines.append(f"    answers: {q_id}/{eid}")
    return "\n".join(lines) + "\n"


def _task_lines(rng: random.Random, plan: _Plan, j: int, targets: list[_Plan],
                codes: list[str], resources: list[str], areas: list[str],
                objectives: list[str]) -> list[str]:
    start = rng.randrange(HORIZON_MIN, HORIZON_MAX, 10)
    likely = rng.randrange(30, 12 * 60 + 1, 30)
    lines = [f"  - id: t{j:05d}", f"    title: Task {j} of {plan.id}",
             f"    start: {fmt_time(start)}"]
    if rng.random() < 0.15:
        low, high = max(10, likely // 2), likely * 2
        lines.append(f"    duration: {{likely: {fmt_duration(likely)}, min: {fmt_duration(low)}, "
                     f"max: {fmt_duration(high)}}}")
    else:
        lines.append(f"    duration: {fmt_duration(likely)}")
    if rng.random() < 0.1:
        lines.append(f"    flex: [{fmt_time(start - 120)}, {fmt_time(start + 240)}]")
    after = []
    if j and rng.random() < 0.3:
        after.append(f"t{rng.randrange(max(0, j - 20), j):05d}")
    if targets and rng.random() < 0.02:
        other = rng.choice(targets)
        after.append(f"{other.id}/t{rng.choice(other.public):05d}")
    if after:
        lines.append(f"    after: {_codes(after)}")
    if rng.random() < 0.4:
        used = rng.sample(resources, 1 if rng.random() < 0.75 else 2)
        lines.append("    uses: " + _flow({r: rng.randint(1, 3) for r in used}))
    has_area = rng.random() < 0.2
    if has_area:
        lines.append(f"    area: {rng.choice(areas)}")
        if rng.random() < 0.15:
            lines.append("    exclusive: true")
    roll = rng.random()
    if roll < 0.2:
        lines.append("    commitment: committed")
    elif roll < 0.3:
        lines.append("    commitment: intent")
    if rng.random() < 0.3:
        lines.append(f"    serves: [{rng.choice(objectives)}]")
    if rng.random() < 0.1:
        lines.append(f"    phase: phase-{rng.randint(1, 4)}")
        lines.append(f"    unit: Unit {rng.randint(1, 40)}")
    narrowed = plan.share not in (None, "all") and rng.random() < 0.05
    if narrowed:
        shared = plan.share if isinstance(plan.share, list) else []
        lines.append(f"    share: {_codes(shared[:1])}")
    elif plan.share is not None and rng.random() < 0.05:
        field = rng.choice(("uses", "area", "commitment", "unit"))
        who = [c for c in codes if c != plan.owner]
        lines.append(f"    withhold: {{{field}: {_codes(sorted(rng.sample(who, 2)))}}}")
    if not narrowed:
        plan.public.append(j)
    return lines


def _observations_text(rng: random.Random, sizes: Sizes, codes: list[str]) -> str:
    lines = ["jointplan: 1", "kind: observations", "observations:"]
    for k in range(sizes.observations):
        day, hour, minute = 1 + k % 28, rng.randrange(24), rng.randrange(60)
        share = ", share: all" if rng.random() < 0.6 else ""
        seen = "true" if rng.random() < 0.4 else "false"
        lines.append(f"  - {{indicator: ind-{rng.randrange(sizes.indicators)}, "
                     f"at: 2026-11-{day:02d}T{hour:02d}:{minute:02d}Z, seen: {seen}, "
                     f"by: {rng.choice(codes)}{share}}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (must be empty or absent)")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace the folder if it exists")
    args = parser.parse_args(argv)
    if args.force and args.out.exists():
        shutil.rmtree(args.out)
    try:
        sizes = generate(args.out, args.tasks, args.seed)
    except FileExistsError as exc:
        print(f"generate.py: {exc}; use --force to replace it", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"{args.out}: {sizes.tasks} tasks in {sizes.plans} plans, {sizes.resources} "
          f"resources, {sizes.areas} areas, {sizes.observations} observations, "
          f"{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
