"""Capacity conflicts: where the summed use of a resource exceeds its capacity.

A sort-and-sweep over start/end events, never all pairs: O(n log n) in the
number of uses. Intervals are half-open ``[start, end)``, so intervals that
only touch do not overlap and a zero-length use counts nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CapacitySweep:
    """Conflicts found by one sweep, with the load profile needed to cut them.

    Conflict ``k`` is resource ``resource[k]`` over ``[start[k], end[k])`` with
    peak ``peak[k]``; its load steps are ``times[lo[k]:hi[k]]`` /
    ``levels[lo[k]:hi[k]]`` (level ``levels[i]`` holds from ``times[i]`` to the
    next step). ``member_conflict[m]`` / ``member_use[m]`` pair each conflict
    with the input rows that use the resource during it.
    """

    resource: Ints
    start: Ints
    end: Ints
    peak: Ints
    lo: Ints
    hi: Ints
    times: Ints
    levels: Ints
    member_conflict: Ints
    member_use: Ints

    def __len__(self) -> int:
        return int(self.resource.size)

    def peak_within(self, k: int, a: int, b: int) -> int:
        """The highest load of conflict ``k`` during ``[a, b)``, a sub-window of it."""
        lo, hi = int(self.lo[k]), int(self.hi[k])
        times = self.times[lo:hi]
        first = max(int(np.searchsorted(times, a, side="right")) - 1, 0)
        last = int(np.searchsorted(times, b, side="left"))
        return int(self.levels[lo + first: lo + max(last, first + 1)].max())


def capacity_conflicts(resource: Ints, start: Ints, end: Ints, quantity: Ints,
                       capacity: Ints) -> CapacitySweep:
    """Maximal intervals in which a resource's summed use exceeds its capacity.

    ``resource``, ``start``, ``end`` and ``quantity`` hold one row per use;
    ``capacity[r]`` is the capacity of resource ``r``.
    """
    resource = np.asarray(resource, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    quantity = np.asarray(quantity, dtype=np.int64)
    capacity = np.asarray(capacity, dtype=np.int64)
    live = np.flatnonzero((quantity > 0) & (end > start))
    if live.size == 0:
        return _empty()
    r, s, e, q = resource[live], start[live], end[live], quantity[live]
    base = int(min(s.min(), 0))
    span = int(e.max()) - base + 1
    # One sortable key per (resource, time): the sweep of every resource at once.
    key_start = r * span + (s - base)
    key_end = r * span + (e - base)
    keys = np.concatenate((key_start, key_end))
    deltas = np.concatenate((q, -q))
    order = np.argsort(keys, kind="stable")
    keys, deltas = keys[order], deltas[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    ukeys = keys[np.concatenate(([0], bounds))]
    # Each resource's deltas sum to zero, so one running sum serves them all.
    levels = np.cumsum(np.add.reduceat(deltas, np.concatenate(([0], bounds))))
    ures = ukeys // span
    utimes = ukeys % span + base
    over = levels > capacity[ures]
    if not over.any():
        return _empty()
    edges = np.diff(np.concatenate(([False], over, [False])).astype(np.int8))
    run_lo = np.flatnonzero(edges == 1)
    run_hi = np.flatnonzero(edges == -1)  # first step after the run: the level drops
    c_res = ures[run_lo]
    c_start = utimes[run_lo]
    c_end = utimes[run_hi]
    peak = _run_max(levels, run_lo, run_hi)
    # Members: rows whose interval meets a conflict window of the same resource.
    ckey_start = c_res * span + (c_start - base)
    ckey_end = c_res * span + (c_end - base)
    first = np.searchsorted(ckey_end, key_start, side="right")
    last = np.searchsorted(ckey_start, key_end, side="left")
    counts = np.maximum(last - first, 0)
    rows = np.repeat(np.arange(live.size), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    member_conflict = np.repeat(first, counts) + offsets
    return CapacitySweep(
        resource=c_res, start=c_start, end=c_end, peak=peak.astype(np.int64),
        lo=run_lo.astype(np.int64), hi=run_hi.astype(np.int64),
        times=utimes.astype(np.int64), levels=levels.astype(np.int64),
        member_conflict=member_conflict.astype(np.int64),
        member_use=live[rows].astype(np.int64))


def _run_max(levels: Ints, lo: Ints, hi: Ints) -> Ints:
    # Runs are disjoint and ordered, so reduceat over the run starts plus the
    # positions just after each run gives every run's maximum in one pass.
    idx = np.empty(lo.size * 2, dtype=np.int64)
    idx[0::2], idx[1::2] = lo, hi
    padded = np.concatenate((levels, [0]))
    return np.maximum.reduceat(padded, idx)[0::2]


def _empty() -> CapacitySweep:
    z = np.zeros(0, dtype=np.int64)
    return CapacitySweep(z, z, z, z, z, z, z, z, z, z)
