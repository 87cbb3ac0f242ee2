"""The CP-SAT model of one group of tasks, solved lexicographically in stages.

Time is counted in steps of ``g`` minutes (``Problem.grid``), which every
time the rules mention is a multiple of, so an optimum lies on the grid.

Overload of a resource is time-indexed, which makes it exact: for every step
``t`` that a task of the group may occupy and where the load could exceed the
capacity, ``over[t] >= fixed(t) + Σ q_i·active_i(t) − capacity`` with
``over[t] >= 0``, and the objective pays ``g·over[t]``; minimising drives
``over[t]`` to ``max(0, load − capacity)``. ``active_i(t)`` is
``[s_i <= t] − [s_i <= t − d_i]``: two literals of the order encoding of the
start. An exclusive-area pair pays ``g·max(0, min(ends) − max(starts))``.
Once the least overload is proved 0, each later stage also carries the
cumulative and no-overlap constraints it implies, with the tasks as interval
variables, which only helps the solver prune.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ortools.sat.python import cp_model

from .deconflict_problem import Problem, violations

Status = Literal["optimal", "feasible", "none"]


@dataclass(frozen=True, slots=True)
class ComponentResult:
    starts: tuple[int, ...]
    status: Status
    overload_value: int
    """The group's overload term as found (minutes·quantity), and its proved bound."""
    overload_bound: int
    bounded: bool
    """False when no schedule was found in time: the bound is then unknown (0)."""
    used: float
    """Deterministic time spent."""
    stages: tuple[str, ...]


class _Model:
    """The variables and terms of one group, on a grid of ``g`` minutes."""

    def __init__(self, problem: Problem, members: list[int], g: int, objective: str,
                 hard: bool = False, at: Sequence[int] | None = None,
                 terms: bool = True) -> None:
        """``terms=False`` records the steps and pairs the overload counts (``cells``,
        ``area_pairs``) without building their terms, for another formulation to use."""
        self.p, self.members, self.g, self.hard = problem, members, g, hard
        self.terms = terms
        self.at = [r.start for r in problem.rows] if at is None else list(at)
        """Where the tasks that are not members are (as written, by default)."""
        self.floor = 0
        """The overload the fixed items cause alone in the group's minutes: a lower bound."""
        self.m = cp_model.CpModel()
        rows = problem.rows
        self.var = {k: self.m.new_int_var(rows[k].lo // g, rows[k].hi // g, f"s{k}")
                    for k in members}
        self.dur = {k: rows[k].duration // g for k in range(len(rows))}
        self._order: dict[tuple[int, int], Any] = {}
        self.overload_terms: list[Any] = []
        self.area_pairs: list[tuple[int, int]] = []
        self.cells: list[tuple[int, int, list[tuple[int, int]]]] = []
        """Each step with an overload term: (step, fixed load − capacity, members that may be
        in use with their quantities)."""
        self._rules()
        self._capacity()
        self._areas()
        self.overload = sum(self.overload_terms) if self.overload_terms else 0
        if hard:
            self.hard_when_no_overload()
        self.makespan: Any = None
        if objective == "makespan":
            self._makespan()
        self._moves()

    # -- the rules -----------------------------------------------------------------------

    def _start(self, k: int) -> Any:
        return self.var[k] if k in self.var else self.at[k] // self.g

    def _rules(self) -> None:
        rows, g = self.p.rows, self.g
        inside = set(self.members)
        for i, j in self.p.edges:
            if i in inside or j in inside:
                self.m.add(self._start(j) >= self._start(i) + self.dur[i])
        for k in self.members:
            deadline = rows[k].deadline
            if deadline is not None:
                self.m.add(self.var[k] + self.dur[k] <= deadline // g)

    # -- overload ------------------------------------------------------------------------

    def _before(self, k: int, t: int) -> Any:
        """``[s_k <= t]``: a constant outside the task's flex, else one literal."""
        lo, hi = self.p.rows[k].lo // self.g, self.p.rows[k].hi // self.g
        if t < lo:
            return 0
        if t >= hi:
            return 1
        key = (k, t)
        if key not in self._order:
            b = self.m.new_bool_var(f"b{k}_{t}")
            self.m.add(self.var[k] <= t).only_enforce_if(b)
            self.m.add(self.var[k] >= t + 1).only_enforce_if(~b)
            self._order[key] = b
        return self._order[key]

    def _capacity(self) -> None:
        rows, g = self.p.rows, self.g
        inside = set(self.members)
        users: dict[int, list[tuple[int, int]]] = {}
        for k in self.members:
            if self.dur[k] > 0:
                for rid, q in rows[k].uses:
                    users.setdefault(rid, []).append((k, q))
        self.cumulative: dict[int, tuple[int, list[tuple[int, int]], list[tuple[int, int, int]]]]
        self.cumulative = {}
        for rid, tasks in sorted(users.items()):
            cap = self.p.capacity[rid]
            lo = min(rows[k].lo // g for k, _ in tasks)
            hi = max(rows[k].hi // g + self.dur[k] for k, _ in tasks)
            fixed = [0] * (hi - lo + 1)
            covered = [False] * (hi - lo)
            for k, _ in tasks:
                for t in range(rows[k].lo // g, rows[k].hi // g + self.dur[k]):
                    covered[t - lo] = True
            spans = [(self.at[k] // g, (self.at[k] + r.duration) // g, q)
                     for k, r in enumerate(rows)
                     if k not in inside and r.duration > 0 for res, q in r.uses if res == rid]
            spans += [(f.start // g, f.end // g, q) for f in self.p.provisions
                      if f.end > f.start for res, q in f.uses if res == rid]
            for a, b, q in spans:
                a, b = max(a, lo), min(b, hi)
                if a < b:
                    fixed[a - lo] += q
                    fixed[b - lo] -= q
            level = 0
            segments: list[tuple[int, int, int]] = []
            for t in range(lo, hi):
                level += fixed[t - lo]
                held = min(level, cap)
                if segments and segments[-1][1] == t and segments[-1][2] == held:
                    segments[-1] = (segments[-1][0], t + 1, held)
                elif held > 0:
                    segments.append((t, t + 1, held))
                if not covered[t - lo]:
                    continue
                self.floor += g * max(level - cap, 0)
                if self.hard:
                    continue
                here = [(k, q) for k, q in tasks
                        if rows[k].lo // g <= t < rows[k].hi // g + self.dur[k]]
                most = level + sum(q for _, q in here)
                if most <= cap:
                    continue
                if not self.terms:
                    self.cells.append((t, level - cap, here))
                    continue
                load = level + sum(q * (self._before(k, t) - self._before(k, t - self.dur[k]))
                                   for k, q in here)
                self.cells.append((t, level - cap, here))
                over = self.m.new_int_var(max(level - cap, 0), most - cap, f"o{rid}_{t}")
                self.m.add(over >= load - cap)
                self.overload_terms.append(g * over)
            self.cumulative[rid] = (cap, tasks, segments)

    def _areas(self) -> None:
        rows, g = self.p.rows, self.g
        inside = set(self.members)
        by_area: dict[int, list[int]] = {}
        for k, r in enumerate(rows):
            if r.area >= 0 and r.duration > 0:
                by_area.setdefault(r.area, []).append(k)
        seen: set[tuple[int, int]] = set()
        for i in self.members:
            ri = rows[i]
            if ri.area < 0 or ri.duration <= 0:
                continue
            i_lo, i_hi = ri.lo, ri.hi + ri.duration
            for a, b in self.p.meets:
                if ri.area not in (a, b):
                    continue
                for j in by_area.get(b if ri.area == a else a, []) + (
                        by_area.get(a, []) if a == b else []):
                    rj = rows[j]
                    pair = (min(i, j), max(i, j))
                    if j == i or pair in seen or not (ri.exclusive or rj.exclusive):
                        continue
                    j_lo, j_hi = (rj.lo, rj.hi + rj.duration) if j in inside else (
                        self.at[j], self.at[j] + rj.duration)
                    if j_lo >= i_hi or i_lo >= j_hi:
                        continue
                    seen.add(pair)
                    self.area_pairs.append(pair)
                    if self.hard or not self.terms:
                        continue
                    first = self.m.new_int_var(-(10**9), 10**9, "")
                    last = self.m.new_int_var(-(10**9), 10**9, "")
                    self.m.add_min_equality(first, [self._start(i) + self.dur[i],
                                                    self._start(j) + self.dur[j]])
                    self.m.add_max_equality(last, [self._start(i), self._start(j)])
                    most = min(ri.duration, rj.duration) // g
                    over = self.m.new_int_var(0, most, f"a{i}_{j}")
                    self.m.add(over >= first - last)
                    self.overload_terms.append(g * over)

    def overload_at(self, starts: Sequence[int]) -> int:
        """The overload term's least value with the members at ``starts`` (minutes after T0):
        exactly the overload in the steps and pairs it counts."""
        g, dur = self.g, self.dur
        s = {k: starts[k] // g for k in self.members}
        total = 0
        for t, base, here in self.cells:
            load = base + sum(q for k, q in here if s[k] <= t < s[k] + dur[k])
            total += g * max(load, 0)
        for i, j in self.area_pairs:
            a = s[i] if i in s else self.at[i] // g
            b = s[j] if j in s else self.at[j] // g
            total += g * max(0, min(a + dur[i], b + dur[j]) - max(a, b))
        return total

    def _makespan(self) -> None:
        rows, g = self.p.rows, self.g
        fixed = [r.end // g for k, r in enumerate(rows) if r.active and k not in self.var]
        top = max([rows[k].hi // g + self.dur[k] for k in self.members] + fixed + [0])
        self.makespan = self.m.new_int_var(max(fixed + [0]), top, "makespan")
        for k in self.members:
            self.m.add(self.makespan >= self.var[k] + self.dur[k])

    def _moves(self) -> None:
        rows, g = self.p.rows, self.g
        moved = []
        dist = []
        span = 0
        for k in self.members:
            lo, hi, f = rows[k].lo // g, rows[k].hi // g, rows[k].start // g
            span += hi - lo
            b = self.m.new_bool_var(f"m{k}")
            self.m.add(self.var[k] == f).only_enforce_if(~b)
            d = self.m.new_int_var(0, hi - lo, f"d{k}")
            self.m.add(d >= self.var[k] - f)
            self.m.add(d >= f - self.var[k])
            moved.append(b)
            dist.append(d)
        self.weight = span + 1
        self.moves = self.weight * sum(moved) + sum(dist)

    def hard_when_no_overload(self) -> None:
        """Cumulative and no-overlap constraints: the group adds no overload to the fixed items'.

        Each resource's fixed load, capped at the capacity, is a set of fixed
        intervals; the group's tasks must fit beside it. Implied once the
        overload term equals ``floor``.
        """
        for cap, tasks, spans in self.cumulative.values():
            intervals = [self.m.new_fixed_size_interval_var(self.var[k], self.dur[k], "")
                         for k, _ in tasks]
            demands = [q for _, q in tasks]
            for a, b, q in spans:
                intervals.append(self.m.new_fixed_size_interval_var(a, b - a, ""))
                demands.append(q)
            self.m.add_cumulative(intervals, demands, cap)
        for i, j in self.area_pairs:
            self.m.add_no_overlap([
                self.m.new_fixed_size_interval_var(self._start(i), self.dur[i], ""),
                self.m.new_fixed_size_interval_var(self._start(j), self.dur[j], "")])


def solve_component(problem: Problem, members: list[int], g: int, options: Any,
                    budget: float) -> ComponentResult:
    """Solve one group: overload, then (makespan,) then moves; each stage fixes the last.

    First, with up to half the budget, a model in which the group adds no
    overload to what the fixed items cause alone (cumulative and no-overlap
    constraints, no overload terms): that overload is a lower bound, so where
    such a schedule exists it is the least, and the later stages run on it.
    Otherwise, the full model.
    """
    hard = _Model(problem, members, g, options.objective, hard=True)
    run = _Run(hard, problem, members, g, options)
    run.stages([("makespan", hard.makespan), ("moves", hard.moves)], budget, budget / 2)
    used = run.used
    if run.best is not None:
        return run.result(("overload:optimal", *run.record), hard.floor, hard.floor)
    soft = _Model(problem, members, g, options.objective)
    run = _Run(soft, problem, members, g, options)
    run.used = used
    run.stages([("overload", soft.overload), ("makespan", soft.makespan),
                ("moves", soft.moves)], budget, budget)
    if run.infeasible:
        return ComponentResult((), "none", 0, 0, False, run.used, tuple(run.record))
    if run.best is None:
        return _fallback(problem, members, run.used, run.record)
    return run.result(tuple(run.record), run.over_value, run.over_bound)


class _Run:
    """Lexicographic stages on one model, each fixing the optimum of the one before."""

    def __init__(self, model: _Model, problem: Problem, members: list[int], g: int,
                 options: Any, hint: Sequence[int] | None = None) -> None:
        self.model, self.members, self.g, self.options = model, members, g, options
        self.used = 0.0
        self.best: dict[int, int] | None = None
        self.all_optimal = True
        self.infeasible = False
        self.over_value = self.over_bound = 0
        self.record: list[str] = []
        if hint is not None:
            for k in members:
                model.m.add_hint(model.var[k], hint[k] // g)
        elif options.warm_start:
            for k in members:
                model.m.add_hint(model.var[k], problem.rows[k].start // g)

    def stages(self, stages: list[tuple[str, Any]], budget: float, first: float) -> None:
        m = self.model.m
        for n, (name, expr) in enumerate(stages):
            if expr is None:
                continue
            if isinstance(expr, int):  # nothing to minimise in this group
                self.record.append(f"{name}:optimal")
                continue
            left = budget - self.used
            if n == 0:
                left = min(left, first)
            if self.best is not None and left <= 0:
                self.all_optimal = False
                self.record.append(f"{name}:skipped")
                return
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = self.options.workers
            solver.parameters.random_seed = self.options.seed
            solver.parameters.max_deterministic_time = max(left, 0.01)
            if self.options.workers > 1:
                solver.parameters.interleave_search = True
            m.minimize(expr)
            status = solver.solve(m)
            self.used += solver.response_proto.deterministic_time
            if status == cp_model.INFEASIBLE:
                self.infeasible = True
                self.record.append(f"{name}:infeasible")
                return
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                self.all_optimal = False
                self.record.append(f"{name}:unknown")
                return
            optimal = status == cp_model.OPTIMAL
            self.all_optimal = self.all_optimal and optimal
            self.record.append(f"{name}:{'optimal' if optimal else 'feasible'}")
            value = int(round(solver.objective_value))
            self.best = {k: solver.value(self.model.var[k]) for k in self.members}
            if name == "overload":
                self.over_value = value
                self.over_bound = value if optimal else min(
                    int(-(-solver.best_objective_bound // 1)), value)
            m.add(expr <= value)
            if name == "overload" and value == self.model.floor:
                self.model.hard_when_no_overload()
            m.clear_hints()  # type: ignore[no-untyped-call]
            for k in self.members:
                m.add_hint(self.model.var[k], self.best[k])

    def result(self, record: tuple[str, ...], over_value: int,
               over_bound: int) -> ComponentResult:
        assert self.best is not None
        return ComponentResult(tuple(self.best[k] * self.g for k in self.members),
                               "optimal" if self.all_optimal else "feasible", over_value,
                               over_bound, True, self.used, record)


def _fallback(problem: Problem, members: list[int], used: float,
              record: list[str]) -> ComponentResult:
    """No schedule found in time: keep the starts as written if they keep every rule."""
    starts = [int(r.start) for r in problem.rows]
    if violations(problem, starts):
        return ComponentResult((), "none", 0, 0, False, used, tuple(record))
    return ComponentResult(tuple(problem.rows[k].start for k in members), "feasible", 0, 0,
                           False, used, tuple(record))
