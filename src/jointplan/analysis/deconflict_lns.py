"""Large groups: the whole group's model for a proved bound and a schedule, then a search.

One time-indexed model of a group of hundreds of tasks in the order encoding
(``deconflict_model``) is too weak for a few deterministic seconds: its
linear relaxation ignores most of the rules, so the solver stops far from the
optimum with a weak bound. A large group is solved in two parts instead, both
deterministic.

The whole group. A model with one literal per task and start (``_Indexed``)
runs first, from the written starts, with one worker that keeps the full
linear relaxation: its relaxation is close to the optimum (every rule is a
sum of the start literals), so it proves a bound within about 1 % of the
least overload on the generated week and finds schedules near it. The
printed bound is the overload the group cannot change added to the model's
bound.

The schedule, polished. Starting from the model's schedule, the search frees
the tasks of one neighbourhood at a time (the group's tasks using one
resource, most overloaded first; those using either of two resources that
share a task; the tasks in one set of meeting areas) with every other task
where it is, and solves that small model exactly — overload, then moves —
within a small deterministic budget. A result is kept only when the whole
group's (overload, moved tasks, moved minutes) is lexicographically smaller,
so each step improves (and takes back moves the model made needlessly), and
the rounds go on until a round changes nothing or the time is spent.

Last, without a solver, each moved task is moved back toward its written
start, nearest first, wherever that lowers the group's cost (``_take_back``):
the model minimises overload only, and the search has too little time to
take back every needless move.

Given too little time for the whole group's model, the bound comes from a
relaxation instead: the overload is a sum of independent terms — one integral
per resource and the area pairs — and each term is minimised over the
group's starts on its own, keeping only the rules that bind the tasks of that
term (flex, deadlines, and the ``after`` rules among those tasks or to tasks
that stay; a task of the group outside the term counts with its whole flex).
Each is a relaxation of the whole problem, so the sum of their proved bounds
is a proved lower bound on the least overload of the leaf; the search then
starts from the written starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .deconflict_model import ComponentResult, _Model, _Run
from .deconflict_problem import Problem, overload, violations

LARGE = 150
"""Groups with more tasks than this take the path of this module."""

SUB_LIMIT = 0.05
"""Deterministic seconds for one neighbourhood's solve."""

PAIRS = 15
"""Neighbourhoods of two resources that share a task: the most overloaded pairs, after the single
resources."""

WHOLE_SHARE = 0.75
"""The part of the group's budget for the whole group's model; the search has the rest."""

INDEXED_LIMIT = 1_000_000
"""Terms at most in the sums of the whole group's model (173,062 on the 1,000-task
benchmark's group): with wide flex on a fine grid (a window of hundreds of starts a task) it would
grow as windows × durations, so beyond this the group takes the relaxations instead."""

TAKE_BACK_PASSES = 3
"""Passes of ``_take_back`` at most (each over every moved task of the group)."""

WHOLE_MIN = 4.0
"""Deterministic seconds: a group given less skips the whole group's model (which then has too
little time to reach a useful bound or schedule) and keeps ``SMALL_BOUND_SHARE`` for its
relaxations and the rest for the search."""

WHOLE_PER_TASK = 0.01
"""Deterministic seconds per task of the group below which it skips the whole group's model too:
a model of thousands of tasks given a few seconds finds nothing better."""

SMALL_BOUND_SHARE = 0.15

def _solver(limit: float, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = max(limit, 0.01)
    return solver


def _windows(problem: Problem, members: Sequence[int], g: int) -> dict[int, tuple[int, int]]:
    """Each member's earliest and latest start on the grid, by its flex and deadline."""
    out = {}
    for k in members:
        r = problem.rows[k]
        hi = r.hi
        if r.deadline is not None:
            hi = min(hi, r.deadline - r.duration)
        out[k] = (-(-r.lo // g), hi // g)
    return out


def resource_bound(problem: Problem, members: Sequence[int], g: int, rid: int,
                   budget: float, seed: int) -> tuple[int, float, bool]:
    """A lower bound on resource ``rid``'s overload integral over the group's starts.

    Every item that is not a member stays as written. Returns the bound, the
    deterministic time spent and whether it is the exact minimum.
    """
    rows = problem.rows
    group = set(members)
    tasks = [(k, q) for k in members for res, q in rows[k].uses
             if res == rid and rows[k].duration > 0]
    cap = problem.capacity[rid]
    spans = [(rows[k].start, rows[k].end, q) for k, r in enumerate(rows)
             if k not in group and r.duration > 0 for res, q in r.uses if res == rid]
    spans += [(f.start, f.end, q) for f in problem.provisions if f.end > f.start
              for res, q in f.uses if res == rid]
    win = _windows(problem, [k for k, _ in tasks], g)
    times = [a for a, _, _ in spans] + [b for _, b, _ in spans]
    times += [win[k][0] * g for k, _ in tasks] + [(win[k][1]) * g + rows[k].duration
                                                  for k, _ in tasks]
    lo, hi = min(times, default=0) // g, -(-max(times, default=0) // g)
    fixed = np.zeros(hi - lo + 1, dtype=np.int64)
    for a, b, q in spans:
        fixed[a // g - lo] += q
        fixed[b // g - lo] -= q
    level = np.cumsum(fixed)[:-1]
    covered = np.zeros(hi - lo, dtype=bool)
    for k, _ in tasks:
        covered[win[k][0] - lo:win[k][1] + rows[k].duration // g - lo] = True
    constant = int(g * np.maximum(level[~covered] - cap, 0).sum())
    if not tasks:
        return constant, 0.0, True
    m = cp_model.CpModel()
    var = {k: m.new_int_var(win[k][0], win[k][1], "") for k, _ in tasks}
    dur = {k: rows[k].duration // g for k, _ in tasks}
    for i, j in problem.edges:
        if i in var and j in var:
            m.add(var[j] >= var[i] + dur[i])
        elif j in var and i not in group:
            m.add(var[j] >= (rows[i].start + rows[i].duration) // g)
        elif i in var and j not in group:
            m.add(var[i] + dur[i] <= rows[j].start // g)
    order: dict[tuple[int, int], Any] = {}

    def before(k: int, t: int) -> Any:
        a, b = win[k]
        if t < a:
            return 0
        if t >= b:
            return 1
        if (k, t) not in order:
            lit = m.new_bool_var("")
            m.add(var[k] <= t).only_enforce_if(lit)
            m.add(var[k] >= t + 1).only_enforce_if(~lit)
            order[(k, t)] = lit
        return order[(k, t)]

    terms = []
    floor = 0
    for t in range(lo, hi):
        if not covered[t - lo]:
            continue
        base = int(level[t - lo])
        floor += g * max(base - cap, 0)
        here = [(k, q) for k, q in tasks if win[k][0] <= t < win[k][1] + dur[k]]
        most = base + sum(q for _, q in here)
        if most <= cap:
            continue
        over = m.new_int_var(max(base - cap, 0), most - cap, "")
        m.add(over >= base - cap + sum(q * (before(k, t) - before(k, t - dur[k]))
                                       for k, q in here))
        terms.append(over)
    if not terms:
        return constant + floor, 0.0, True
    m.minimize(sum(terms))
    solver = _solver(budget, seed)
    status = solver.solve(m)
    used = solver.response_proto.deterministic_time
    if status == cp_model.OPTIMAL:
        return constant + g * int(round(solver.objective_value)), used, True
    if status == cp_model.INFEASIBLE:  # pragma: no cover - the written starts keep the rules
        return constant + floor, used, False
    return constant + g * max(int(-(-solver.best_objective_bound // 1)), 0), used, False


def area_bound(problem: Problem, members: Sequence[int], g: int, budget: float,
               seed: int) -> tuple[int, float, bool]:
    """A lower bound on the area term: each pair of meeting areas minimised on its own.

    A pair of tasks counts under the pair of their areas, so the term is a sum
    over area pairs; pairs with no member count as written.
    """
    rows = problem.rows
    group = set(members)
    by_area: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        if r.area >= 0 and r.duration > 0:
            by_area.setdefault(r.area, []).append(k)
    win = _windows(problem, [k for k in members if rows[k].area >= 0], g)
    total, used, exact = 0, 0.0, True
    keys = sorted(problem.meets)
    for n, (a, b) in enumerate(keys):
        pairs = []
        xs, ys = by_area.get(a, []), by_area.get(b, [])
        for i in xs:
            for j in ys:
                if (a == b and j <= i) or not (rows[i].exclusive or rows[j].exclusive):
                    continue
                if i in group or j in group:
                    pairs.append((i, j))
                else:
                    total += max(0, min(rows[i].end, rows[j].end) - max(rows[i].start,
                                                                        rows[j].start))
        if not pairs:
            continue
        m = cp_model.CpModel()
        var = {k: m.new_int_var(*win[k], "") for pair in pairs for k in pair if k in group}
        for i, j in problem.edges:
            if i in var and j in var:
                m.add(var[j] * g >= var[i] * g + rows[i].duration)

        at: dict[int, Any] = {k: var[k] * g if k in var else rows[k].start
                              for pair in pairs for k in pair}

        terms = []
        for i, j in pairs:
            first = m.new_int_var(-(10**9), 10**9, "")
            last = m.new_int_var(-(10**9), 10**9, "")
            m.add_min_equality(first, [at[i] + rows[i].duration, at[j] + rows[j].duration])
            m.add_max_equality(last, [at[i], at[j]])
            over = m.new_int_var(0, min(rows[i].duration, rows[j].duration), "")
            m.add(over >= first - last)
            terms.append(over)
        m.minimize(sum(terms))
        solver = _solver((budget - used) / (len(keys) - n), seed)
        status = solver.solve(m)
        used += solver.response_proto.deterministic_time
        if status == cp_model.OPTIMAL:
            total += int(round(solver.objective_value))
        else:
            exact = False
            total += max(int(-(-solver.best_objective_bound // 1)), 0)
    return total, used, exact


def group_bound(problem: Problem, members: Sequence[int], g: int, budget: float,
                seed: int) -> tuple[int, float, bool]:
    """A proved lower bound on the leaf's overload with the other items as written."""
    total, used, exact = area_bound(problem, members, g, budget / 4, seed)
    resources = sorted({rid for k in members for rid, _ in problem.rows[k].uses})
    touched = set(resources)
    rest = [rid for rid in range(len(problem.capacity)) if rid not in touched]
    total += _capacity_of(problem, problem.starts, rest)
    for n, rid in enumerate(resources):
        share = (budget - used) / (len(resources) - n)
        b, spent, ok = resource_bound(problem, members, g, rid, share, seed)
        total += b
        used += spent
        exact = exact and ok
    return total, used, exact


def _capacity_of(problem: Problem, starts: Any, resources: Sequence[int]) -> int:
    """The overload integral of some resources only."""
    per = _per_resource(problem, starts)
    return sum(per.get(rid, 0) for rid in resources)


def _per_resource(problem: Problem, starts: Any) -> dict[int, int]:
    """Each resource's overload integral (resources without any use are left out)."""
    res: list[int] = []
    beg: list[int] = []
    end: list[int] = []
    qty: list[int] = []
    for k, r in enumerate(problem.rows):
        if r.duration > 0:
            for rid, q in r.uses:
                res += [rid, rid]
                beg.append(int(starts[k]))
                end.append(int(starts[k]) + r.duration)
                qty += [q, -q]
    for f in problem.provisions:
        if f.end > f.start:
            for rid, q in f.uses:
                res += [rid, rid]
                beg.append(f.start)
                end.append(f.end)
                qty += [q, -q]
    if not res:
        return {}
    rid_a = np.asarray(res, dtype=np.int64)
    time_a = np.asarray([x for pair in zip(beg, end, strict=True) for x in pair],
                        dtype=np.int64)
    qty_a = np.asarray(qty, dtype=np.int64)
    order = np.lexsort((time_a, rid_a))
    rid_a, time_a, qty_a = rid_a[order], time_a[order], qty_a[order]
    bounds = np.flatnonzero(np.diff(rid_a)) + 1
    out: dict[int, int] = {}
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(rid_a)], strict=True):
        level = np.cumsum(qty_a[lo:hi])
        cap = problem.capacity[int(rid_a[lo])]
        excess = np.maximum(level[:-1] - cap, 0)
        out[int(rid_a[lo])] = int((excess * np.diff(time_a[lo:hi])).sum())
    return out


def _cost(problem: Problem, starts: list[int], members: Sequence[int]) -> tuple[int, int, int]:
    rows = problem.rows
    moved = [abs(starts[k] - rows[k].start) for k in members if starts[k] != rows[k].start]
    return overload(problem, starts), len(moved), sum(moved)


def neighbourhoods(problem: Problem, members: Sequence[int], starts: list[int]) -> list[list[int]]:
    """The group's tasks by resource (most overloaded first), by pair of resources sharing
    a task, then by set of meeting areas."""
    rows = problem.rows
    by_res: dict[int, list[int]] = {}
    for k in members:
        for rid, _ in rows[k].uses:
            by_res.setdefault(rid, []).append(k)
    per = _per_resource(problem, starts)
    load = {rid: per.get(rid, 0) for rid in by_res}
    out = [by_res[rid] for rid in sorted(by_res, key=lambda rid: (-load[rid], rid))
           if load[rid] > 0]
    if PAIRS:
        linked = sorted({(u[0][0], u[1][0]) for k in members
                         if len(u := sorted(rows[k].uses)) == 2 and u[0][0] != u[1][0]})
        linked = [pr for pr in linked if load.get(pr[0], 0) + load.get(pr[1], 0) > 0]
        linked.sort(key=lambda pr: (-load.get(pr[0], 0) - load.get(pr[1], 0), pr))
        out += [sorted(set(by_res[a]) | set(by_res[b])) for a, b in linked[:PAIRS]]
    by_area: dict[int, list[int]] = {}
    for k in members:
        if rows[k].area >= 0 and rows[k].duration > 0:
            by_area.setdefault(rows[k].area, []).append(k)
    for a, b in sorted(problem.meets):
        hood = sorted(set(by_area.get(a, [])) | set(by_area.get(b, [])))
        if hood:
            out.append(hood)
    return out


def _search(problem: Problem, members: list[int], g: int, options: Any, budget: float,
            starts: list[int], best: tuple[int, int, int]
            ) -> tuple[list[int], tuple[int, int, int], float, int]:
    """Neighbourhood search from ``starts`` until a round changes nothing or ``budget`` is spent."""
    small = replace(options, workers=1)  # each neighbourhood is small: one worker does best
    used = 0.0
    rounds = 0
    changed = True
    while changed and used < budget:
        rounds += 1
        changed = False
        for hood in neighbourhoods(problem, members, starts):
            if used >= budget:
                break
            model = _Model(problem, sorted(hood), g, options.objective, at=starts)
            run = _Run(model, problem, sorted(hood), g, small, hint=starts)
            run.used = 0.0
            limit = min(SUB_LIMIT, budget - used)
            run.stages([("overload", model.overload), ("moves", model.moves)], limit, limit)
            used += run.used
            if run.best is None:
                continue
            trial = list(starts)
            for k in hood:
                trial[k] = run.best[k] * g
            cost = _cost(problem, trial, members)
            if cost < best and not violations(problem, trial):
                starts, best, changed = trial, cost, True
    return starts, best, used, rounds


class _Indexed:
    """The whole group's overload as a model with one literal per task and start.

    ``x[k][s]`` is task ``k`` starting at step ``s`` (exactly one per task, over
    the starts its flex and deadline allow); a task is in use at ``t`` when one
    of its starts in ``(t − d, t]`` is chosen, so each counted step's overload
    is ``over_t ≥ fixed_t − capacity + Σ q·Σ x`` and each step two tasks in
    meeting areas (one exclusive) may share pays ``y_t ≥ in_i(t) + in_j(t) − 1``.
    An ``after`` rule is ``[s_j ≤ t] ≤ [s_i ≤ t − d_i]`` for every ``t``. The
    same steps and pairs as ``_Model`` (its ``cells`` and ``area_pairs``), so
    its objective at a schedule is ``_Model.overload_at``; but its linear
    relaxation is far stronger than that of the order encoding and
    ``start ≥ start + duration`` rows (every start a column, every rule a
    sum of them), which is what lets the solver prove a bound near the
    optimum.
    """

    def __init__(self, problem: Problem, members: list[int], g: int,
                 at: Sequence[int]) -> None:
        self.ref = _Model(problem, members, g, "overload", at=at, terms=False)
        self.m = cp_model.CpModel()
        self.p, self.members = problem, members
        self.g, self.at = g, list(at)
        self.dur = self.ref.dur
        self.win = _windows(problem, members, g)
        self.inside = set(members)
        self.x: dict[int, dict[int, Any]] = {}
        self.objective: Any = 0

    def size(self) -> int:
        """How many terms the model's sums would hold: its size, counted before it is built."""
        n = sum(b - a + 1 for a, b in self.win.values())
        for t, _, here in self.ref.cells:
            n += sum(self._starts_in(k, t) for k, _ in here)
        for i, j in self.ref.area_pairs:
            (a1, b1), (a2, b2) = self._span(i), self._span(j)
            n += sum(self._starts_in(i, t) + self._starts_in(j, t)
                     for t in range(max(a1, a2), min(b1, b2)))
        for i, j in self.p.edges:
            if i in self.inside and j in self.inside:
                n += (self.win[j][1] - self.win[j][0] + 2) * (
                    self.win[i][1] - self.win[i][0] + self.win[j][1] - self.win[j][0] + 2)
        return n

    def _starts_in(self, k: int, t: int) -> int:
        """How many of a member's starts put it in use at step ``t``."""
        if k not in self.inside:
            return 0
        a, b = self.win[k]
        return max(0, min(b, t) - max(a, t - self.dur[k] + 1) + 1)

    def build(self) -> None:
        m, rows, g, at, inside = self.m, self.p.rows, self.g, self.at, self.inside
        problem, members = self.p, self.members
        for k in members:
            a, b = self.win[k]
            self.x[k] = {s: m.new_bool_var(f"x{k}_{s}") for s in range(a, b + 1)}
            m.add_exactly_one(self.x[k].values())
        for i, j in problem.edges:
            if i in inside and j in inside:
                for t in range(self.win[j][0], self.win[j][1] + 1):
                    m.add(self._before(j, t) <= self._before(i, t - self.dur[i]))
            elif j in inside:
                for s, lit in self.x[j].items():
                    if s * g < at[i] + rows[i].duration:
                        m.add(lit == 0)
            elif i in inside:
                for s, lit in self.x[i].items():
                    if s * g + rows[i].duration > at[j]:
                        m.add(lit == 0)
        terms: list[Any] = []
        for t, base, here in self.ref.cells:
            most = base + sum(q for _, q in here)
            over = m.new_int_var(max(base, 0), max(most, 0), "")
            m.add(over >= base + sum(q * self._in(k, t) for k, q in here))
            terms.append(over)
        for i, j in self.ref.area_pairs:
            (a1, b1), (a2, b2) = self._span(i), self._span(j)
            for t in range(max(a1, a2), min(b1, b2)):
                both = m.new_bool_var("")
                m.add(both >= self._in(i, t) + self._in(j, t) - 1)
                terms.append(both)
        self.objective = sum(terms) if terms else 0

    def _before(self, k: int, t: int) -> Any:
        a, b = self.win[k]
        if t < a:
            return 0
        if t >= b:
            return 1
        return sum(self.x[k][s] for s in range(a, t + 1))

    def _in(self, k: int, t: int) -> Any:
        if k in self.inside:
            a, b = self.win[k]
            return sum(self.x[k][s] for s in range(max(a, t - self.dur[k] + 1), min(b, t) + 1))
        s = self.at[k] // self.g
        return 1 if s <= t < s + self.dur[k] else 0

    def _span(self, k: int) -> tuple[int, int]:
        if k in self.inside:
            return self.win[k][0], self.win[k][1] + self.dur[k]
        s = self.at[k] // self.g
        return s, s + self.dur[k]

    def hint(self, starts: Sequence[int]) -> None:
        for k, lits in self.x.items():
            for s, lit in lits.items():
                self.m.add_hint(lit, s == starts[k] // self.g)

    def starts(self, solver: cp_model.CpSolver, starts: Sequence[int]) -> list[int]:
        out = list(starts)
        for k, lits in self.x.items():
            out[k] = next(s for s, lit in lits.items() if solver.boolean_value(lit)) * self.g
        return out


def _whole(problem: Problem, members: list[int], g: int, options: Any, budget: float,
           starts: list[int]) -> tuple[list[int] | None, int, float]:
    """The time-indexed model of the whole group (``_Indexed``), hinted with ``starts``.

    Returns its schedule (None if it found none), a proved lower bound on the
    leaf's overload with the items outside the group as written (0 if none),
    and the deterministic time spent. The model's objective counts the
    group's resource steps and area pairs; the rest of the leaf's overload
    does not depend on the group, so ``overload(schedule) − objective +
    objective bound`` is a proved bound on the leaf (the objective at a
    schedule is at least that schedule's part of the overload, which keeps it
    a bound when the solver's auxiliary terms are not tight).
    """
    model = _Indexed(problem, members, g, starts)
    if model.size() > INDEXED_LIMIT:
        return None, 0, 0.0
    model.build()
    if isinstance(model.objective, int):  # nothing the group does changes its overload
        total = overload(problem, starts)
        return list(starts), total, 0.0
    model.hint(starts)
    model.m.minimize(model.objective)
    # One worker that keeps the full linear relaxation and its cuts: on this model it both
    # proves the bound and finds the schedules, and with several interleaved workers it
    # would get only its share of the same deterministic time (measured in
    # docs/performance.md). One worker also stops at its limit, where several overrun it.
    solver = _solver(budget, options.seed)
    solver.parameters.linearization_level = 2
    status = solver.solve(model.m)
    used = solver.response_proto.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, 0, used
    found = model.starts(solver, starts)
    value = g * int(round(solver.objective_value))
    proved = value if status == cp_model.OPTIMAL else min(
        g * int(-(-solver.best_objective_bound // 1)), value)
    # The objective's value at the schedule with every auxiliary term tight: exactly
    # the schedule's overload in the steps and pairs the model counts.
    value = min(value, model.ref.overload_at(found))
    total = overload(problem, found)
    return found, max(total - value + proved, 0), used


def _take_back(problem: Problem, members: Sequence[int], g: int, starts: list[int],
               best: tuple[int, int, int]) -> tuple[list[int], tuple[int, int, int]]:
    """Moves each moved task back toward its written start while that lowers the group's
    (overload, moved tasks, moved minutes): no solver, a few passes over the moved tasks.

    For each moved task in turn, the starts from its written one toward where it
    is (nearest the written first) are tried with every other task where it is;
    the first that keeps the task's ``after`` rules and gives a
    lexicographically smaller cost is kept. A start between the written one and
    the current one keeps the flex and the deadline, which both keep. Only the
    terms the task is in change: its resources' integrals and its area pairs,
    so only those are recomputed. Passes repeat while one changes something
    (at most ``TAKE_BACK_PASSES``).
    """
    rows = problem.rows
    starts = list(starts)
    users: dict[int, list[tuple[int, int]]] = {}
    for k, r in enumerate(rows):
        if r.duration > 0:
            for rid, q in r.uses:
                users.setdefault(rid, []).append((k, q))
    held: dict[int, list[tuple[int, int, int]]] = {}
    for f in problem.provisions:
        if f.end > f.start:
            for rid, q in f.uses:
                held.setdefault(rid, []).append((f.start, f.end, q))
    rivals: dict[int, list[int]] = {}
    by_area: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        if r.area >= 0 and r.duration > 0:
            by_area.setdefault(r.area, []).append(k)
    for k in members:
        r = rows[k]
        if r.area < 0 or r.duration <= 0:
            continue
        rivals[k] = [j for a, b in sorted(problem.meets) if r.area in (a, b)
                     for j in sorted(set(by_area.get(b if r.area == a else a, []))
                                     | set(by_area.get(a, []) if a == b else []))
                     if j != k and (r.exclusive or rows[j].exclusive)]
    before: dict[int, list[int]] = {}
    after: dict[int, list[int]] = {}
    for i, j in problem.edges:
        before.setdefault(j, []).append(i)
        after.setdefault(i, []).append(j)

    def integral(rid: int) -> int:
        events = [(f0, q) for f0, _, q in held.get(rid, [])]
        events += [(f1, -q) for _, f1, q in held.get(rid, [])]
        for k, q in users.get(rid, []):
            events += [(starts[k], q), (starts[k] + rows[k].duration, -q)]
        events.sort()
        total = level = 0
        cap = problem.capacity[rid]
        for n, (t, q) in enumerate(events[:-1]):
            level += q
            if level > cap:
                total += (level - cap) * (events[n + 1][0] - t)
        return total

    def shared(k: int) -> int:
        a, d = starts[k], rows[k].duration
        return sum(max(0, min(a + d, starts[j] + rows[j].duration) - max(a, starts[j]))
                   for j in rivals.get(k, []))

    def part(k: int) -> int:
        return sum(integral(rid) for rid in sorted({rid for rid, _ in rows[k].uses})) + shared(k)

    for _ in range(TAKE_BACK_PASSES):
        changed = False
        for k in members:
            written, now = rows[k].start, starts[k]
            if now == written:
                continue
            old = part(k)
            step = g if now > written else -g
            for s in range(written, now, step):
                if any(s < starts[i] + rows[i].duration for i in before.get(k, [])) or any(
                        starts[j] < s + rows[k].duration for j in after.get(k, [])):
                    continue
                starts[k] = s
                cost = (best[0] - old + part(k), best[1] - (s == written),
                        best[2] - abs(now - written) + abs(s - written))
                if cost < best:
                    best, changed = cost, True
                    break
                starts[k] = now
        if not changed:
            break
    return starts, _cost(problem, starts, members)  # the sweep's, not the running sum


def solve_large(problem: Problem, members: list[int], g: int, options: Any,
                budget: float) -> ComponentResult | None:
    """The large-group path; None when the written starts break a rule (use the full model).

    Given ``WHOLE_MIN`` deterministic seconds or more, and ``WHOLE_PER_TASK`` a
    task of the group or more: the whole group's model (``_Indexed``) from the
    written starts for ``WHOLE_SHARE`` of ``budget`` (a proved bound that keeps
    the coupling between resources, areas and ``after`` rules, and a
    schedule), then the neighbourhood search from its schedule with the rest,
    which also takes back needless moves. Given less, or should the model find
    no schedule, the relaxation bound (``SMALL_BOUND_SHARE``) and the search
    from the written starts with the rest. Either way ``_take_back`` last.
    """
    starts = [int(r.start) for r in problem.rows]
    if violations(problem, starts):
        return None
    best = _cost(problem, starts, members)
    record = []
    used = 0.0
    bound = 0
    whole = budget >= WHOLE_MIN and budget >= WHOLE_PER_TASK * len(members)
    if whole:
        found, bound, used = _whole(problem, members, g, options, budget * WHOLE_SHARE, starts)
        if found is not None and not violations(problem, found):
            cost = _cost(problem, found, members)
            record.append("whole:" + ("kept" if cost < best else "not kept"))
            if cost < best:
                starts, best = found, cost
        else:  # too large a model, or (never seen) no schedule in its time
            whole = False
            record.append("whole:none")
    if not whole:
        relaxed, spent, exact = group_bound(problem, members, g, budget * SMALL_BOUND_SHARE,
                                            options.seed)
        bound = max(bound, relaxed)
        used += spent
        record.append(f"bound:{'optimal' if exact else 'feasible'}")
    starts, best, spent, rounds = _search(problem, members, g, options,
                                          max(budget - used, 0.0), starts, best)
    used += spent
    record.append(f"search:{rounds} rounds")
    starts, best = _take_back(problem, members, g, starts, best)
    over = best[0]
    return ComponentResult(tuple(starts[k] for k in members), "feasible", over, min(bound, over),
                           True, used, tuple(record))
