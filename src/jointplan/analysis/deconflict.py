"""Deconfliction: the least disruptive set of start moves that removes a leaf's conflicts.

``deconflict(workspace, leaf, options)`` is a pure function of its arguments:
the same files, leaf and options give the same moves (a fixed seed, a
deterministic time limit and a fixed number of workers), whoever asks. The
gate cuts the result for a viewer (``sharing/deconflict_cut.py``).

The objective is lexicographic, solved in stages, each fixing the optimum
found by the one before (see ``docs/format.md``): (1) overload, (2) with
``--objective makespan`` the latest finish, (3) moved tasks and moved minutes,
as one weighted sum ``W·tasks + minutes`` with ``W`` one more than the most
minutes any schedule can move, so that the weighting is exactly
lexicographic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..model import Workspace
from .areas import area_conflicts
from .capacity import capacity_conflicts
from .deconflict_lns import LARGE, solve_large
from .deconflict_model import ComponentResult, solve_component
from .deconflict_problem import Problem, build_problem, makespan, overload, violations

Status = Literal["optimal", "feasible", "none"]
Objective = Literal["overload", "makespan"]

DEFAULT_TIME_LIMIT = 30.0
DEFAULT_WORKERS = 1
DEFAULT_SEED = 0


@dataclass(frozen=True, slots=True)
class Options:
    objective: Objective = "overload"
    time_limit: float = DEFAULT_TIME_LIMIT
    """Deterministic time (CP-SAT's work units, about a second each on a typical core)."""
    workers: int = DEFAULT_WORKERS
    seed: int = DEFAULT_SEED
    decompose: bool = True
    """Solve each connected group of tasks apart; False gives one model of every task."""
    warm_start: bool = True
    """Hint the solver with the starts as written."""
    only_connected: bool = True
    """Give variables only to the tasks that can reach a conflict; False: every movable task."""
    search: bool = True
    """Solve a group of more than ``LARGE`` tasks by the whole group's one-literal-per-start
    model (or, given too little time, a relaxation bound) and neighbourhood search
    (``deconflict_lns``); False: one model per group, whatever its size."""


@dataclass(frozen=True, slots=True)
class Move:
    partner: str
    plan: str
    task: str
    from_: int
    to: int
    row: int
    """The problem row of the task (``Problem.rows``)."""


@dataclass(frozen=True, slots=True)
class Cost:
    overload: int
    moved_tasks: int
    moved_minutes: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """The custodian's answer: every move, the exact cost and the proven bound."""

    problem: Problem
    options: Options
    status: Status
    starts: tuple[int, ...]
    moves: tuple[Move, ...]
    cost: Cost
    bound: int | None
    makespan: int | None
    variables: int
    components: int
    stages: tuple[str, ...] = field(default=())
    """Per component and stage, the solver's status: for the record, not for partners."""

    @property
    def workspace(self) -> Workspace:
        return self.problem.workspace

    @property
    def leaf(self) -> str:
        return self.problem.leaf


def deconflict(workspace: Workspace, leaf: str, options: Options = Options()) -> Resolution:
    """The least overload, then fewest moved tasks, then fewest moved minutes, in ``leaf``."""
    problem = build_problem(workspace, leaf)
    return solve(problem, options)


def solve(problem: Problem, options: Options = Options()) -> Resolution:
    """``deconflict`` on a problem already built."""
    written = problem.starts
    broken = [(i, j) for i, j in problem.edges
              if written[j] < written[i] + problem.rows[i].duration]
    if any(not problem.rows[i].movable and not problem.rows[j].movable for i, j in broken):
        return _none(problem, options)
    groups = variable_groups(problem, options, broken)
    g = problem.grid()
    starts = [int(x) for x in written]
    budget = options.time_limit
    left = sum(len(v) for v in groups)
    results: list[ComponentResult] = []
    for members in groups:
        share = budget * len(members) / max(left, 1)
        result = None
        if options.search and options.objective == "overload" and len(members) > LARGE:
            result = solve_large(problem, members, g, options, share)
        if result is None:
            result = solve_component(problem, members, g, options, share)
        left -= len(members)
        budget = max(budget - result.used, 0.0)
        if result.status == "none":
            return _none(problem, options)
        results.append(result)
        for k, s in zip(members, result.starts, strict=True):
            starts[k] = s
    if violations(problem, starts):  # pragma: no cover - the model encodes every rule
        raise AssertionError("solver returned a schedule that breaks the rules: "
                             + "; ".join(violations(problem, starts)))
    total = overload(problem, starts)
    status: Status = "optimal" if all(r.status == "optimal" for r in results) else "feasible"
    gap = sum(r.overload_value - r.overload_bound for r in results)
    bounded = all(r.bounded for r in results)
    bound = total if status == "optimal" else (max(total - gap, 0) if bounded else 0)
    moves = tuple(sorted(
        (Move(r.owner, r.plan_id, r.task_id, r.start, starts[k], k)
         for k, r in enumerate(problem.rows) if starts[k] != r.start),
        key=lambda m: (m.partner, m.plan, m.task)))
    cost = Cost(total, len(moves), sum(abs(m.to - m.from_) for m in moves))
    return Resolution(problem, options, status, tuple(starts), moves, cost, bound,
                      makespan(problem, starts) if options.objective == "makespan" else None,
                      sum(len(v) for v in groups), len(groups),
                      tuple(s for r in results for s in r.stages))


def _none(problem: Problem, options: Options) -> Resolution:
    starts = tuple(int(x) for x in problem.starts)
    return Resolution(problem, options, "none", starts, (), Cost(overload(problem, starts), 0, 0),
                      None, makespan(problem, starts) if options.objective == "makespan" else None,
                      0, 0)


# -- which tasks get variables ------------------------------------------------------------


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def reach(problem: Problem, k: int) -> tuple[int, int]:
    """The minutes a task may occupy: ``[lo, hi + duration)`` (its window, if it stays)."""
    r = problem.rows[k]
    return r.lo, r.hi + r.duration


def variable_groups(problem: Problem, options: Options,
                    broken: Sequence[tuple[int, int]] = ()) -> list[list[int]]:
    """Rows that get variables, in independent groups, each sorted; groups by first row.

    Two movable tasks interact when they may use one resource at once, may be
    at once in meeting areas, or one comes after the other; a group is a
    connected set of interacting tasks. Only groups with a task in a conflict
    as written, or in an ``after`` broken as written, need solving (all, with
    ``--objective makespan``); the rest keep their starts.
    """
    rows = problem.rows
    movable = [k for k, r in enumerate(rows) if r.movable]
    if not movable:
        return []
    every = options.objective == "makespan" or not options.only_connected
    u = _Union(len(rows))
    by_resource: dict[int, list[int]] = {}
    by_area: dict[int, list[int]] = {}
    for k in movable:
        for rid, _ in rows[k].uses:
            by_resource.setdefault(rid, []).append(k)
        if rows[k].area >= 0 and rows[k].duration > 0:
            by_area.setdefault(rows[k].area, []).append(k)
    for members in by_resource.values():
        _join_overlapping(problem, u, members)
    for a, b in problem.meets:
        members = sorted(set(by_area.get(a, [])) | set(by_area.get(b, [])))
        _join_overlapping(problem, u, members)
    for i, j in problem.edges:
        if rows[i].movable and rows[j].movable:
            u.join(i, j)
    if not options.decompose:
        for k in movable:
            u.join(movable[0], k)
    seeds = set(movable) if every else _seeds(problem, broken)
    wanted = {u.find(k) for k in seeds if rows[k].movable}
    out: dict[int, list[int]] = {}
    for k in movable:
        root = u.find(k)
        if root in wanted:
            out.setdefault(root, []).append(k)
    return [out[root] for root in sorted(out)]


def _join_overlapping(problem: Problem, u: _Union, members: list[int]) -> None:
    """Join tasks whose reaches overlap (the components of an interval graph)."""
    spans = sorted((*reach(problem, k), k) for k in members)
    end = None
    first = -1
    for lo, hi, k in spans:
        if hi <= lo:
            continue
        if end is not None and lo < end:
            u.join(first, k)
            end = max(end, hi)
        else:
            first, end = k, hi


def _seeds(problem: Problem, broken: Sequence[tuple[int, int]]) -> set[int]:
    """Rows in a conflict as written, or in an ``after`` broken as written."""
    rows = problem.rows
    start = problem.starts
    dur = np.asarray([r.duration for r in rows], dtype=np.int64)
    use_row: list[int] = []
    res: list[int] = []
    qty: list[int] = []
    s: list[int] = []
    e: list[int] = []
    for k, r in enumerate(rows):
        for rid, q in r.uses:
            use_row.append(k)
            res.append(rid)
            qty.append(q)
            s.append(r.start)
            e.append(r.end)
    for f in problem.provisions:
        for rid, q in f.uses:
            use_row.append(-1)
            res.append(rid)
            qty.append(q)
            s.append(f.start)
            e.append(f.end)
    out: set[int] = set()
    if res:
        sweep = capacity_conflicts(np.asarray(res), np.asarray(s), np.asarray(e),
                                   np.asarray(qty), np.asarray(problem.capacity))
        out.update(use_row[m] for m in sweep.member_use.tolist() if use_row[m] >= 0)
    if rows:
        pairs = area_conflicts(problem.geometries, np.asarray([r.area for r in rows]), start,
                               start + dur, np.asarray([r.exclusive for r in rows]))
        out.update(pairs.first.tolist())
        out.update(pairs.second.tolist())
    for i, j in broken:
        out.update((i, j))
    return out
