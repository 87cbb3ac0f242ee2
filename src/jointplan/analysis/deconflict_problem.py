"""One leaf scenario as a scheduling problem: what may move, what binds it, what it costs.

The rules are those of ``docs/format.md`` ("What `jointplan deconflict`
prints"): only a task's start moves, within its ``flex``; committed tasks,
tasks without ``flex`` and provisions stay; every ``after`` is finish-to-start
and must hold; a task serving an objective may not finish after the
objective's ``by`` (or later than it does now, where it already does).
``overload`` is the exact cost the solver minimises first, evaluated here by a
sweep so that any answer can be checked independently of the solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

import numpy as np
import shapely
from numpy.typing import NDArray

from ..model import Commitment, Workspace
from .areas import area_conflicts, meeting_areas

Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Row:
    """A task as the solver sees it; ``plan``/``index`` point into the workspace."""

    plan: int
    index: int
    owner: str
    plan_id: str
    task_id: str
    start: int
    duration: int
    lo: int
    hi: int
    """The flex window: the starts allowed (``lo == hi == start`` for a task that stays)."""
    movable: bool
    active: bool
    """False for a task of a plan not active in the leaf: fixed, uses nothing."""
    uses: tuple[tuple[int, int], ...]
    """(resource index, quantity) pairs."""
    area: int
    exclusive: bool
    deadline: int | None
    """The latest finish its objectives allow: max(earliest ``by``, finish as written)."""
    deadline_objective: tuple[int, int] | None
    """(plan index, objective index) of the objective setting ``deadline``."""

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Fixed:
    """A provision of an active plan: reserves what it uses for its window, never moves."""

    plan: int
    index: int
    start: int
    end: int
    uses: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Problem:
    workspace: Workspace
    leaf: str
    rows: tuple[Row, ...]
    provisions: tuple[Fixed, ...]
    edges: tuple[tuple[int, int], ...]
    """(predecessor row, successor row): finish-to-start."""
    capacity: tuple[int, ...]
    meets: frozenset[tuple[int, int]]
    """Pairs ``(a, b)``, ``a <= b``, of area indexes whose interiors meet."""
    geometries: tuple[shapely.Geometry, ...]

    @property
    def starts(self) -> Ints:
        """The starts as written."""
        return np.asarray([r.start for r in self.rows], dtype=np.int64)

    def grid(self) -> int:
        """The largest step dividing every time the rules mention (at least 1 minute).

        Every constraint is a difference bound or a breakpoint at a multiple of
        it, so an optimum exists with every start on this grid: searching it is
        exact.
        """
        g = 0
        for r in self.rows:
            for x in (r.start, r.duration, r.lo, r.hi, r.deadline or 0):
                g = gcd(g, x)
        for f in self.provisions:
            g = gcd(gcd(g, f.start), f.end)
        return max(g, 1)

    def meet(self, a: int, b: int) -> bool:
        return a >= 0 and b >= 0 and (min(a, b), max(a, b)) in self.meets


def build_problem(ws: Workspace, leaf: str) -> Problem:
    """The leaf's tasks, provisions, dependencies and capacities; ``leaf`` must be a leaf."""
    active = {p.id for p in ws.plans if leaf in ws.active_leaves(p)}
    resources = {r.id: k for k, r in enumerate(ws.resources)}
    areas = {a.id: k for k, a in enumerate(ws.areas)}
    rows: list[Row] = []
    where: dict[tuple[str, str], int] = {}
    provisions: list[Fixed] = []
    for p, plan in enumerate(ws.plans):
        on = plan.id in active
        by = {o.id: (j, o.by) for j, o in enumerate(plan.objectives)}
        for j, t in enumerate(plan.tasks):
            placed = not {"start", "duration"}.intersection(t.withheld)
            duration = t.duration.likely if placed else 0
            movable = (on and placed and t.flex is not None
                       and t.commitment is not Commitment.COMMITTED and "flex" not in t.withheld)
            lo, hi = t.flex if movable and t.flex is not None else (t.start, t.start)
            served = sorted((by[s][1], by[s][0]) for s in t.serves if s in by)
            deadline = objective = None
            if served:
                deadline = max(served[0][0], t.start + duration)
                objective = (p, served[0][1])
            where[(plan.id, t.id)] = len(rows)
            rows.append(Row(
                plan=p, index=j, owner=plan.owner, plan_id=plan.id, task_id=t.id,
                start=t.start, duration=duration, lo=lo, hi=hi, movable=movable, active=on,
                uses=tuple((resources[r], q) for r, q in t.uses.items() if q > 0) if on else (),
                area=areas[t.area] if on and t.area is not None else -1,
                exclusive=on and t.exclusive, deadline=deadline if on else None,
                deadline_objective=objective if on else None))
        if on:
            for j, v in enumerate(plan.provides):
                provisions.append(Fixed(p, j, v.window[0], v.window[1], tuple(
                    (resources[r], q) for r, q in v.uses.items() if q > 0)))
    edges: list[tuple[int, int]] = []
    for plan in ws.plans:
        for t in plan.tasks:
            me = where[(plan.id, t.id)]
            for ref in t.after:
                other, _, name = ref.rpartition("/")
                pred = where.get((other or plan.id, name))
                if pred is not None and (rows[me].active or rows[pred].active):
                    edges.append((pred, me))
    geoms = tuple(shapely.geometry.shape(a.geometry) for a in ws.areas)
    a, b = meeting_areas(geoms)
    return Problem(ws, leaf, tuple(rows), tuple(provisions), tuple(edges),
                   tuple(r.capacity for r in ws.resources),
                   frozenset(zip(a.tolist(), b.tolist(), strict=True)), geoms)


# -- the rules and the cost, checked on any schedule ---------------------------------------


def violations(problem: Problem, starts: Sequence[int] | Ints) -> list[str]:
    """Every rule a schedule breaks (empty when it keeps them all)."""
    s = [int(x) for x in starts]
    out = []
    for k, r in enumerate(problem.rows):
        if s[k] != r.start and not r.movable:
            out.append(f"{r.plan_id}/{r.task_id} may not move")
        if not r.lo <= s[k] <= r.hi:
            out.append(f"{r.plan_id}/{r.task_id} starts outside its flex")
        if r.deadline is not None and s[k] + r.duration > r.deadline:
            out.append(f"{r.plan_id}/{r.task_id} finishes after its deadline")
    for i, j in problem.edges:
        if s[j] < s[i] + problem.rows[i].duration:
            out.append(f"{problem.rows[j].plan_id}/{problem.rows[j].task_id} starts before "
                       f"{problem.rows[i].plan_id}/{problem.rows[i].task_id} ends")
    return out


def capacity_overload(problem: Problem, starts: Sequence[int] | Ints) -> int:
    """Σ over resources of ∫ max(0, load − capacity) dt, in quantity × minutes."""
    res: list[int] = []
    beg: list[int] = []
    end: list[int] = []
    qty: list[int] = []
    for k, r in enumerate(problem.rows):
        if r.duration > 0:
            for rid, q in r.uses:
                res.append(rid)
                beg.append(int(starts[k]))
                end.append(int(starts[k]) + r.duration)
                qty.append(q)
    for f in problem.provisions:
        if f.end > f.start:
            for rid, q in f.uses:
                res.append(rid)
                beg.append(f.start)
                end.append(f.end)
                qty.append(q)
    total = 0
    by_res: dict[int, list[int]] = {}
    for u, rid in enumerate(res):
        by_res.setdefault(rid, []).append(u)
    for rid, us in by_res.items():
        times = np.asarray([beg[u] for u in us] + [end[u] for u in us], dtype=np.int64)
        deltas = np.asarray([qty[u] for u in us] + [-qty[u] for u in us], dtype=np.int64)
        order = np.argsort(times, kind="stable")
        times, deltas = times[order], deltas[order]
        level = np.cumsum(deltas)
        excess = np.maximum(level[:-1] - problem.capacity[rid], 0)
        total += int((excess * np.diff(times)).sum())
    return total


def area_overload(problem: Problem, starts: Sequence[int] | Ints) -> int:
    """Σ over unordered pairs in meeting areas, one exclusive, of the minutes they overlap."""
    start = np.asarray([int(x) for x in starts], dtype=np.int64)
    dur = np.asarray([r.duration for r in problem.rows], dtype=np.int64)
    area = np.asarray([r.area for r in problem.rows], dtype=np.int64)
    excl = np.asarray([r.exclusive for r in problem.rows], dtype=bool)
    if not start.size:
        return 0
    pairs = area_conflicts(problem.geometries, area, start, start + dur, excl)
    return int((pairs.end - pairs.start).sum())


def overload(problem: Problem, starts: Sequence[int] | Ints) -> int:
    """The first term of the objective for a schedule."""
    return capacity_overload(problem, starts) + area_overload(problem, starts)


def makespan(problem: Problem, starts: Sequence[int] | Ints) -> int:
    """The latest finish of the leaf's tasks (0 when it has none)."""
    ends = [int(starts[k]) + r.duration for k, r in enumerate(problem.rows) if r.active]
    return max(ends, default=0)
