"""Area kernel at 100k tasks: `area_conflicts` against a plain shapely STRtree pipeline.

    python benchmarks/bench_areas.py [--scale 0.1] [--repeat 5]

Both get the same areas (random rectangles, star-shaped polygons and a few
multipolygons) and the same tasks (a random area each, a random interval,
15% exclusive), in one run:

- STRtree pipeline: one geometry per task; `STRtree(task_geoms).query(task_geoms,
  predicate="intersects")`; keep `i < j`, overlapping intervals and at least one
  exclusive; then `relate_pattern(..., "T********")` for a positive-area
  intersection.
- shapely grouped by area (the strongest fair baseline): the kernel's own
  idea written plainly — an `STRtree` of the areas (not the tasks), the
  same predicates once per pair of areas, then for each meeting pair every
  pair of their tasks compared at once with numpy broadcasting (overlapping
  in time, at least one exclusive).
- `area_conflicts`: the project's kernel (meeting area pairs once, then a
  time join per pair of areas by sorting).

The three sets of pairs, and their overlap windows, must be equal; the exit
status is 1 when they are not.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import shapely

from common import Method, machine, measure, parser, same_answers, table, verdict
from generate import random_polygon
from jointplan.analysis.areas import INTERIORS_MEET, AreaPairs, area_conflicts

HORIZON = 30 * 1440
BOX = (0.0, 40.0, 24.0, 56.0)
BASELINE = "STRtree predicate pipeline"
GROUPED = "shapely grouped by area"
OURS = "area_conflicts"


def workload(tasks: int, areas: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    geometries = [shapely.geometry.shape(random_polygon(rng, BOX)) for _ in range(areas)]
    nrng = np.random.default_rng(seed)
    start = nrng.integers(0, HORIZON, tasks)
    return {
        "geometries": geometries,
        "area": nrng.integers(0, areas, tasks),
        "start": start,
        "end": start + nrng.integers(30, 12 * 60 + 1, tasks),
        "exclusive": nrng.random(tasks) < 0.15,
    }


def strtree_pipeline(geometries: list[shapely.Geometry], area: np.ndarray, start: np.ndarray,
                     end: np.ndarray, exclusive: np.ndarray) -> AreaPairs:
    """The plain way: every task its own geometry in one tree, predicates on all candidates."""
    geoms = np.asarray(geometries, dtype=object)[area]
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (i < j) & (start[i] < end[j]) & (start[j] < end[i]) & (exclusive[i] | exclusive[j])
    i, j = i[keep], j[keep]
    meets = shapely.relate_pattern(geoms[i], geoms[j], INTERIORS_MEET)
    i, j = i[meets].astype(np.int64), j[meets].astype(np.int64)
    return AreaPairs(i, j, np.maximum(start[i], start[j]), np.minimum(end[i], end[j]))


def grouped_by_area(geometries: list[shapely.Geometry], area: np.ndarray, start: np.ndarray,
                    end: np.ndarray, exclusive: np.ndarray) -> AreaPairs:
    """Areas tested once in shapely, then tasks compared pair by pair of meeting areas."""
    geoms = np.asarray(geometries, dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a <= b
    a, b = a[keep], b[keep]
    meets = shapely.relate_pattern(geoms[a], geoms[b], INTERIORS_MEET)
    order = np.argsort(area, kind="stable")
    bounds = np.searchsorted(area[order], np.arange(len(geoms) + 1))
    members = [order[bounds[k]:bounds[k + 1]] for k in range(len(geoms))]
    firsts, seconds = [], []
    for x, y in zip(a[meets].tolist(), b[meets].tolist(), strict=True):
        ti, tj = members[x], members[y]
        if not (ti.size and tj.size):
            continue
        hit = ((start[ti][:, None] < end[tj][None, :]) & (start[tj][None, :] < end[ti][:, None])
               & (exclusive[ti][:, None] | exclusive[tj][None, :]))
        p, q = np.nonzero(hit)
        i, j = ti[p], tj[q]
        if x == y:
            i, j = i[i < j], j[i < j]
        firsts.append(np.minimum(i, j))
        seconds.append(np.maximum(i, j))
    i = np.concatenate(firsts).astype(np.int64) if firsts else np.zeros(0, dtype=np.int64)
    j = np.concatenate(seconds).astype(np.int64) if seconds else np.zeros(0, dtype=np.int64)
    return AreaPairs(i, j, np.maximum(start[i], start[j]), np.minimum(end[i], end[j]))


def as_set(pairs: AreaPairs) -> set[tuple[int, int, int, int]]:
    return set(zip(pairs.first.tolist(), pairs.second.tolist(), pairs.start.tolist(),
                   pairs.end.tolist(), strict=True))


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n\n")[0], repeat=5)
    p.add_argument("--areas", type=int, default=2000, help="areas at scale 1")
    args = p.parse_args(argv)
    tasks = max(1000, int(100_000 * args.scale))
    areas = max(20, int(args.areas * args.scale))
    w = workload(tasks, areas, args.seed)
    g, a, s, e, x = w["geometries"], w["area"], w["start"], w["end"], w["exclusive"]
    meeting = int(sum(1 for _ in zip(*shapely.STRtree(g).query(g, predicate="intersects"),
                                     strict=True)))
    print(f"areas: {tasks:,} tasks on {areas:,} areas over {HORIZON // 1440} days, "
          f"{int(np.sum(x)):,} exclusive; {machine()}")
    methods = [
        Method(BASELINE, lambda: strtree_pipeline(g, a, s, e, x), tasks),
        Method(GROUPED, lambda: grouped_by_area(g, a, s, e, x), tasks),
        Method(OURS, lambda: area_conflicts(g, a, s, e, x), tasks),
    ]
    measure(methods, args.repeat)
    base, grouped, ours = methods
    print(table(f"area kernel, {tasks:,} tasks, {args.repeat} runs", methods,
                {"STRtree": BASELINE, "grouped": GROUPED, "ours": OURS}, "tasks"))
    print(f"conflicting pairs: {len(ours.answer):,}; pairs of areas that intersect (both "
          f"orders, each with itself): {meeting:,}")
    print(verdict("area_conflicts faster than the STRtree pipeline (<= 1x)", ours, base, 1.0))
    print(f"area_conflicts is {base.best / ours.best:.1f}x faster than the STRtree pipeline "
          f"(best wall), {base.best_cpu / ours.best_cpu:.1f}x (best CPU)")
    print(f"area_conflicts / shapely grouped by area: {ours.best / grouped.best:.2f}x best wall, "
          f"{ours.median / grouped.median:.2f}x median wall, "
          f"{ours.best_cpu / grouped.best_cpu:.2f}x best CPU (no goal; below 1 is faster)")
    reference = as_set(base.answer)
    same = []
    for m in methods:
        same.append(as_set(m.answer) == reference)
        print(same_answers(m.name, same[-1], f"{len(m.answer):,} pairs with their windows "
                           f"(the STRtree pipeline: {len(reference):,})"))
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
