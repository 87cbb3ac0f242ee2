"""The least overload of the generated 1,000-task week, proved by a MIP solver: where the
optimum lies, so that the solver's gap can be judged on both sides.

    .venv/bin/python benchmarks/deconflict_optimum.py                # HiGHS, one thread
    .venv/bin/python benchmarks/deconflict_optimum.py --solver SCIP

Evidence, not part of ``jointplan deconflict``: the time limit here is wall
time (a MIP solver has no deterministic clock), so an answer cut short by it
depends on the machine's load. The model is the one-literal-per-start model of
``deconflict_lns._Indexed`` (the same steps and area pairs, every rule a sum of
start literals) over every task that gets a variable, as a MIP through
OR-Tools' linear solver wrapper. The schedule found is checked against the
rules and its overload recomputed by the independent sweep; the bound printed
is the solver's dual bound plus the overload no task can change.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ortools.linear_solver import pywraplp  # noqa: E402

from bench_deconflict import generate  # noqa: E402
from jointplan.analysis.deconflict import Options, variable_groups  # noqa: E402
from jointplan.analysis.deconflict_lns import _windows  # noqa: E402
from jointplan.analysis.deconflict_model import _Model  # noqa: E402
from jointplan.analysis.deconflict_problem import build_problem, overload, violations  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--solver", default="HIGHS", help="an OR-Tools MIP solver (HIGHS, SCIP)")
    parser.add_argument("--time-limit", type=float, default=600.0, help="wall seconds")
    args = parser.parse_args(argv)
    problem = build_problem(generate(args.tasks, max(args.tasks // 20, 1)), "leaf")
    rows, g = problem.rows, problem.grid()
    at = [int(x) for x in problem.starts]
    groups = variable_groups(problem, Options())
    members = sorted(k for group in groups for k in group)
    ref = _Model(problem, members, g, "overload", at=at, terms=False)
    win = _windows(problem, members, g)
    solver = pywraplp.Solver.CreateSolver(args.solver)
    x = {k: {s: solver.BoolVar(f"x{k}_{s}") for s in range(win[k][0], win[k][1] + 1)}
         for k in members}
    for k in members:
        solver.Add(sum(x[k].values()) == 1)
    dur = ref.dur

    def before(k: int, t: int) -> Any:
        a, b = win[k]
        return 0 if t < a else 1 if t >= b else sum(x[k][s] for s in range(a, t + 1))

    def used(k: int, t: int) -> Any:
        if k in x:
            a, b = win[k]
            return sum(x[k][s] for s in range(max(a, t - dur[k] + 1), min(b, t) + 1))
        return 1 if at[k] // g <= t < at[k] // g + dur[k] else 0

    def span(k: int) -> tuple[int, int]:
        return (win[k][0], win[k][1] + dur[k]) if k in x else (at[k] // g, at[k] // g + dur[k])

    for i, j in problem.edges:
        if i in x and j in x:
            for t in range(win[j][0], win[j][1] + 1):
                solver.Add(before(j, t) <= before(i, t - dur[i]))
        elif j in x:
            for s, var in x[j].items():
                if s * g < at[i] + rows[i].duration:
                    solver.Add(var == 0)
        elif i in x:
            for s, var in x[i].items():
                if s * g + rows[i].duration > at[j]:
                    solver.Add(var == 0)
    terms = []
    for t, base, here in ref.cells:
        over = solver.NumVar(max(base, 0), solver.infinity(), "")
        solver.Add(over >= base + sum(q * used(k, t) for k, q in here))
        terms.append(over)
    for i, j in ref.area_pairs:
        (a1, b1), (a2, b2) = span(i), span(j)
        for t in range(max(a1, a2), min(b1, b2)):
            both = solver.NumVar(0, solver.infinity(), "")
            solver.Add(both >= used(i, t) + used(j, t) - 1)
            terms.append(both)
    solver.Minimize(g * sum(terms))
    constant = overload(problem, at) - ref.overload_at(at)
    solver.SetTimeLimit(int(args.time_limit * 1000))
    solver.SetNumThreads(1)
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
    print(f"{args.tasks} tasks, {len(members)} with variables in {len(groups)} groups; "
          f"{solver.NumVariables()} columns, {solver.NumConstraints()} rows; {args.solver}, "
          f"1 thread, limit {args.time_limit:g} wall s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    began = time.perf_counter()
    status = solver.Solve(params)
    seconds = time.perf_counter() - began
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        print(f"no schedule (status {status}) in {seconds:.1f} s")
        return 1
    found = list(at)
    for k in members:
        found[k] = max(x[k], key=lambda s, k=k: x[k][s].solution_value()) * g
    broken = violations(problem, found)
    value = overload(problem, found)
    bound = constant + math.ceil(solver.Objective().BestBound() - 1e-6)
    name = "optimal" if status == pywraplp.Solver.OPTIMAL else "feasible"
    print(f"{name}: overload {value} (the sweep's), bound {bound}, "
          f"gap {(value - bound) / max(value, 1):.2%}, {seconds:.1f} wall s"
          + (f"; INVALID: {broken[0]}" if broken else ""))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
