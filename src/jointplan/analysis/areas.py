"""Exclusive-area conflicts: two tasks in areas whose interiors meet, at once, one exclusive.

Area pairs are found once with shapely's STRtree and a vectorised DE-9IM
predicate (interiors intersect, which for polygons means an intersection of
positive area); tasks are then joined in time per meeting pair of areas by
sorting, so the cost follows the number of areas and real overlaps, not all
pairs of tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

INTERIORS_MEET = "T********"


def meeting_areas(geometries: Sequence[shapely.Geometry]) -> tuple[Ints, Ints]:
    """Pairs ``(a, b)``, ``a <= b``, of areas whose interiors intersect (an area meets itself)."""
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a <= b
    a, b = a[keep], b[keep]
    meets = shapely.relate_pattern(geoms[a], geoms[b], INTERIORS_MEET)
    return a[meets].astype(np.int64), b[meets].astype(np.int64)


@dataclass(frozen=True, slots=True)
class AreaPairs:
    """Conflicting task pairs ``(first[k], second[k])``, ``first < second``, over their overlap."""

    first: Ints
    second: Ints
    start: Ints
    end: Ints

    def __len__(self) -> int:
        return int(self.first.size)


def area_conflicts(geometries: Sequence[shapely.Geometry], area: Ints, start: Ints, end: Ints,
                   exclusive: Bools) -> AreaPairs:
    """Task pairs in meeting areas whose intervals overlap and of which one is exclusive.

    One row per task: ``area`` indexes ``geometries`` (-1 for none).
    """
    area = np.asarray(area, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    exclusive = np.asarray(exclusive, dtype=bool)
    rows = np.flatnonzero((area >= 0) & (end > start))
    pa, pb = meeting_areas(geometries)
    if rows.size == 0 or pa.size == 0:
        return _empty()
    order = rows[np.lexsort((start[rows], area[rows]))]
    by_area = area[order]
    bounds = np.searchsorted(by_area, np.arange(len(geometries) + 1))
    firsts: list[Ints] = []
    seconds: list[Ints] = []
    for a, b in zip(pa.tolist(), pb.tolist(), strict=True):
        in_a = order[bounds[a]:bounds[a + 1]]
        in_b = order[bounds[b]:bounds[b + 1]]
        if in_a.size == 0 or in_b.size == 0:
            continue
        for probe, other in ((in_a, in_b), (in_b, in_a)) if a != b else ((in_a, in_a),):
            probe = probe[exclusive[probe]]
            if probe.size:
                i, j = _overlapping(probe, other, start, end)
                firsts.append(i)
                seconds.append(j)
    if not firsts:
        return _empty()
    i = np.concatenate(firsts)
    j = np.concatenate(seconds)
    keep = i != j
    lo, hi = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    pairs = np.unique(np.stack((lo, hi), axis=1), axis=0) if lo.size else np.zeros((0, 2), int)
    lo, hi = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    return AreaPairs(lo, hi, np.maximum(start[lo], start[hi]), np.minimum(end[lo], end[hi]))


def _overlapping(probe: Ints, other: Ints, start: Ints, end: Ints) -> tuple[Ints, Ints]:
    """Every (p, o) with p in probe, o in other (sorted by start) whose intervals overlap."""
    o_start = start[other]
    longest = int((end[other] - o_start).max())
    lo = np.searchsorted(o_start, start[probe] - longest, side="right")
    hi = np.searchsorted(o_start, end[probe], side="left")
    counts = np.maximum(hi - lo, 0)
    p = np.repeat(probe, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    o = other[np.repeat(lo, counts) + offsets]
    hit = end[o] > start[p]
    return p[hit], o[hit]


def _empty() -> AreaPairs:
    z = np.zeros(0, dtype=np.int64)
    return AreaPairs(z, z, z, z)
