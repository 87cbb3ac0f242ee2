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
    alive = (quantity > 0) & (end > start)
    if alive.all():
        live = np.arange(alive.size)
        r, s, e, q = resource, start, end, quantity
    else:
        live = np.flatnonzero(alive)
        r, s, e, q = resource[live], start[live], end[live], quantity[live]
    if live.size == 0:
        return _empty()
    n = live.size
    base = int(min(s.min(), 0))
    span = int(e.max()) - base + 1
    # One sortable key per (resource, time): the sweep of every resource at once.
    key_start = r * span + (s - base)
    key_end = r * span + (e - base)
    keys = np.concatenate((key_start, key_end))
    keys, order = _sorted(keys, int(r.max()) * span + span if r.min() >= 0 else None)
    new = np.empty(keys.size, dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    steps = np.flatnonzero(new)
    ukeys = keys[steps]
    # Each resource's deltas sum to zero, so one running sum serves them all.
    deltas = np.concatenate((q, -q))[order]
    levels = np.cumsum(np.add.reduceat(deltas, steps))
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
    # Members: rows whose interval meets a conflict window. A row's start and
    # end are steps ``ps`` and ``pe``; it meets run ``k`` when run_lo[k] < pe
    # and run_hi[k] > ps, so it meets runs ``#(run_hi <= ps)`` up to
    # ``#(run_lo < pe)``: counts read from running sums over the steps.
    step_of = np.empty(keys.size, dtype=np.int64)
    step_of[order] = np.cumsum(new) - 1
    ps, pe = step_of[:n], step_of[n:]
    ended = np.zeros(ukeys.size + 1, dtype=np.int64)
    ended[run_hi] = 1
    first = np.cumsum(ended)[ps]
    begun = np.zeros(ukeys.size, dtype=np.int64)
    begun[run_lo] = 1
    last = np.cumsum(begun)[pe - 1]
    counts = np.maximum(last - first, 0)
    rows = np.repeat(np.arange(n), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    member_conflict = np.repeat(first, counts) + offsets
    return CapacitySweep(
        resource=c_res, start=c_start, end=c_end, peak=peak.astype(np.int64, copy=False),
        lo=run_lo.astype(np.int64, copy=False), hi=run_hi.astype(np.int64, copy=False),
        times=utimes.astype(np.int64, copy=False), levels=levels.astype(np.int64, copy=False),
        member_conflict=member_conflict.astype(np.int64, copy=False),
        member_use=live[rows].astype(np.int64, copy=False))


def _sorted(keys: Ints, bound: int | None) -> tuple[Ints, Ints]:
    """``keys`` sorted, and the permutation that sorts them (ties in any order).

    Where a key and an event index fit in 63 bits together, they are packed into
    one integer and sorted by value, several times faster than an argsort and
    gather; otherwise (or where ``bound`` is ``None``: keys possibly negative)
    an argsort. Every key must lie in ``[0, bound)``.
    """
    index_bits = max(int(keys.size - 1).bit_length(), 1)
    if bound is None or bound.bit_length() + index_bits > 63:
        order = np.argsort(keys)
        return keys[order], order
    packed = (keys << index_bits) | np.arange(keys.size, dtype=np.int64)
    packed.sort()
    return packed >> index_bits, packed & ((1 << index_bits) - 1)


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
