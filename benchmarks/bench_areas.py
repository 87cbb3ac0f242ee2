"""Area kernel at 100k tasks: `area_conflicts` against a plain shapely STRtree pipeline.

    python benchmarks/bench_areas.py [--scale 0.1] [--repeat 5]

Both get the same areas (random rectangles, star-shaped polygons and a few
multipolygons) and the same tasks (a random area each, a random interval,
15% exclusive), in one run:

- STRtree pipeline: one geometry per task; `STRtree(task_geoms).query(task_geoms,
  predicate="intersects")`; keep `i < j`, overlapping intervals and at least one
  exclusive; then `relate_pattern(..., "T********")` for a positive-area
  intersection.
- `area_conflicts`: the project's kernel (meeting area pairs once, then a
  time join per pair of areas).

The two sets of pairs, and their overlap windows, must be equal.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import shapely

from common import Method, machine, measure, parser, table, verdict
from generate import random_polygon
from jointplan.analysis.areas import INTERIORS_MEET, AreaPairs, area_conflicts

HORIZON = 30 * 1440
BOX = (0.0, 40.0, 24.0, 56.0)
BASELINE = "STRtree predicate pipeline"
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
        Method(OURS, lambda: area_conflicts(g, a, s, e, x), tasks),
    ]
    measure(methods, args.repeat)
    base, ours = methods
    same = as_set(base.answer) == as_set(ours.answer)
    print(table(f"area kernel, {tasks:,} tasks, {args.repeat} runs", methods,
                {"STRtree": BASELINE, "ours": OURS}, "tasks"))
    print(f"conflicting pairs: {len(ours.answer):,} (STRtree pipeline {len(base.answer):,}); "
          f"pairs of areas that intersect (both orders, each with itself): {meeting:,}")
    print(f"same pairs and windows: {same}")
    print(verdict("area_conflicts faster than the STRtree pipeline (<= 1x)", ours, base, 1.0))
    print(f"area_conflicts is {base.best / ours.best:.1f}x faster (best wall), "
          f"{base.best_cpu / ours.best_cpu:.1f}x (best CPU)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
