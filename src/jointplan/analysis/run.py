"""Run every kernel on every leaf scenario: the full, uncut analysis of a workspace."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Workspace
from .areas import AreaPairs, area_conflicts
from .capacity import CapacitySweep, capacity_conflicts
from .compile import Compiled, compile_workspace
from .gaps import Gap, find_gaps


@dataclass(frozen=True, slots=True)
class LeafAnalysis:
    leaf: str
    capacity: CapacitySweep
    """Members index ``Compiled`` use rows (``use_item`` gives the item)."""
    areas: AreaPairs
    """Pairs index ``Compiled`` item rows."""
    gaps: tuple[Gap, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    compiled: Compiled
    leaves: tuple[LeafAnalysis, ...]


def analyse(ws: Workspace) -> Analysis:
    """Conflicts and gaps in every leaf, over everything (the gate cuts them later)."""
    c = compile_workspace(ws)
    use_plan = c.plan[c.use_item]
    results = []
    for k, leaf in enumerate(c.leaves):
        on_plan = c.active[k]
        uses = np.flatnonzero(on_plan[use_plan])
        sweep = capacity_conflicts(c.use_resource[uses], c.start[c.use_item[uses]],
                                   c.end[c.use_item[uses]], c.use_quantity[uses], c.capacity)
        sweep = _reindex(sweep, uses)
        items = np.flatnonzero(on_plan[c.plan] & ~c.is_provision)
        pairs = area_conflicts(c.geometries, c.area[items], c.start[items], c.end[items],
                               c.exclusive[items])
        pairs = AreaPairs(items[pairs.first], items[pairs.second], pairs.start, pairs.end)
        active = [p for j, p in enumerate(ws.plans) if on_plan[j]]
        results.append(LeafAnalysis(leaf, sweep, pairs, tuple(find_gaps(ws, leaf, active))))
    return Analysis(c, tuple(results))


def _reindex(sweep: CapacitySweep, uses: np.ndarray) -> CapacitySweep:
    """Point members at the compiled use rows rather than the leaf's selection."""
    return CapacitySweep(sweep.resource, sweep.start, sweep.end, sweep.peak, sweep.lo,
                         sweep.hi, sweep.times, sweep.levels, sweep.member_conflict,
                         uses[sweep.member_use] if sweep.member_use.size else sweep.member_use)
