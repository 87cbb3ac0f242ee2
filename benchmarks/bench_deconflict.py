"""Deconfliction at scale: the decomposed, warm-started model against the plain model
and the greedy baseline, on generated workspaces, in one run.

    .venv/bin/python benchmarks/bench_deconflict.py                 # 1,000 tasks, 50 resources
    .venv/bin/python benchmarks/bench_deconflict.py --tasks 10000   # and 500 resources

"decomposed, search" is the solver as `jointplan deconflict` runs it (a group
of more than 150 tasks by the whole group's one-literal-per-start model, or a
relaxation bound given too little time, and neighbourhood search);
``--one-model`` adds the decomposition with one model per group (the method
before that search). Each method's answer is checked against the rules (no
committed or rigid task moved, flex, dependencies, deadlines) and its
overload recomputed by the independent sweep; an invalid answer makes the run exit 1. The gap is
(overload − best bound) / max(1, overload), with the best bound any run
proved; each run's own proved bound is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deconflict_greedy import greedy  # noqa: E402
from jointplan.analysis.deconflict import Options, solve  # noqa: E402
from jointplan.analysis.deconflict_problem import (  # noqa: E402
    Problem,
    build_problem,
    overload,
    violations,
)
from jointplan.model import (  # noqa: E402
    Area,
    Commitment,
    Duration,
    Objective,
    Partner,
    Plan,
    Resource,
    Scenario,
    Task,
    Workspace,
)

STEP = 30
"""Minutes: every time in the generated plans is a multiple of it."""


def generate(tasks: int, resources: int, seed: int = 7) -> Workspace:
    """A week of plans: 5 partners, 50 tasks a plan, some committed, some chained."""
    rng = random.Random(seed)
    partners = tuple(Partner(c, c) for c in ("AAA", "BBB", "CCC", "DDD", "EEE"))
    res = tuple(Resource(f"r{i}", f"R{i}", rng.choice([1, 2, 2, 3, 4]))
                for i in range(resources))
    n_areas = max(resources // 5, 2)
    areas = tuple(Area(f"a{i}", f"A{i}", {"type": "Polygon", "coordinates": [[
        [20.0 + i, 50.0], [21.5 + i, 50.0], [21.5 + i, 51.0], [20.0 + i, 51.0],
        [20.0 + i, 50.0]]]}) for i in range(n_areas))
    plans = []
    per_plan = 50
    for p in range(max(tasks // per_plan, 1)):
        owner = partners[p % len(partners)].code
        ts: list[Task] = []
        deadline = STEP * rng.randint(200, 330)
        for j in range(per_plan):
            dur = STEP * rng.randint(2, 12)
            start = STEP * rng.randint(0, 300)
            after: tuple[str, ...] = ()
            if ts and rng.random() < 0.2:
                pred = rng.choice(ts)
                after = (pred.id,)
                start = max(start, pred.end)
            flex = None
            if rng.random() < 0.75:
                slack = STEP * rng.randint(2, 16)
                flex = (start - slack, start + slack)
            area = None
            if rng.random() < 0.2:
                area = f"a{rng.randrange(n_areas)}"
            serves = ("due",) if rng.random() < 0.1 and start + dur <= deadline else ()
            ts.append(Task(
                id=f"t{j}", title="task", start=start, duration=Duration.fixed(dur),
                flex=flex, after=after,
                uses={f"r{rng.randrange(resources)}": rng.choice([1, 1, 2])
                      for _ in range(rng.choice([1, 1, 2]))},
                area=area, exclusive=area is not None and rng.random() < 0.3,
                commitment=Commitment.COMMITTED if rng.random() < 0.15 else Commitment.PLANNED,
                serves=serves))
        plans.append(Plan(f"{owner.lower()}-p{p}", owner, f"Plan {p}", ("leaf",), share="all",
                          objectives=(Objective("due", "Due", deadline),), tasks=tuple(ts)))
    return Workspace("bench", "Bench", partners, areas, res, (Scenario("leaf", "Leaf", 1.0),),
                     plans=tuple(plans))


def check(problem: Problem, starts: list[int] | tuple[int, ...], name: str) -> list[str]:
    broken = violations(problem, starts)
    for line in broken[:5]:
        print(f"  {name}: INVALID: {line}", file=sys.stderr)
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=None,
                        help="default: one per 20 tasks")
    parser.add_argument("--time-limit", type=float, default=10.0,
                        help="deterministic seconds for each model (default 10)")
    parser.add_argument("--plain-time-limit", type=float, default=None,
                        help="for the plain model (default: the same)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain model")
    parser.add_argument("--no-greedy", action="store_true", help="skip the greedy baseline")
    parser.add_argument("--one-model", action="store_true",
                        help="also run the decomposition with one model per group, as before "
                             "the neighbourhood search (the previous method)")
    parser.add_argument("--workers", type=int, default=1,
                        help="CP-SAT workers (interleaved, so still deterministic)")
    args = parser.parse_args(argv)
    resources = args.resources or max(args.tasks // 20, 1)
    ws = generate(args.tasks, resources)
    problem = build_problem(ws, "leaf")
    written = overload(problem, problem.starts)
    movable = sum(r.movable for r in problem.rows)
    print(f"{args.tasks} tasks ({movable} movable), {resources} resources; overload as "
          f"written: {written}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results: list[tuple[str, int, int, int, float, int | None, str]] = []
    invalid = False

    if not args.no_greedy:
        began = time.perf_counter()
        starts = greedy(problem)
        seconds = time.perf_counter() - began
        invalid |= bool(check(problem, starts, "greedy"))
        moved = [abs(s - r.start) for s, r in zip(starts, problem.rows, strict=True)
                 if s != r.start]
        results.append(("greedy", overload(problem, starts), len(moved), sum(moved), seconds,
                        None, "—"))

    runs = [("decomposed, search", Options(time_limit=args.time_limit, workers=args.workers))]
    if args.one_model:
        runs.append(("decomposed, one model", Options(time_limit=args.time_limit,
                                                      workers=args.workers, search=False)))
    if not args.no_plain:
        runs.append(("plain model", Options(time_limit=args.plain_time_limit or args.time_limit,
                                            workers=args.workers, decompose=False,
                                            warm_start=False, only_connected=False,
                                            search=False)))
    for name, options in runs:
        began = time.perf_counter()
        r = solve(problem, options)
        seconds = time.perf_counter() - began
        invalid |= bool(check(problem, r.starts, name))
        if overload(problem, r.starts) != r.cost.overload:
            print(f"  {name}: INVALID: reported overload {r.cost.overload} is not "
                  f"{overload(problem, r.starts)}", file=sys.stderr)
            invalid = True
        results.append((name, r.cost.overload, r.cost.moved_tasks, r.cost.moved_minutes,
                        seconds, r.bound, f"{r.status}, {r.components} groups, "
                        f"{r.variables} variables, limit {options.time_limit:g}, "
                        f"{options.workers} workers"))
    best = max((b for *_, b, _ in results if b is not None), default=0)
    print(f"best bound: {best}")
    print(f"{'method':<24} {'overload':>9} {'own bound':>9} {'gap':>7} {'moved':>6} "
          f"{'minutes':>8} {'seconds':>8}  notes")
    for name, over, tasks, minutes, seconds, own, note in results:
        gap = (over - best) / max(1, over)
        shown = "—" if own is None else str(own)
        print(f"{name:<24} {over:>9} {shown:>9} {gap:>7.2%} {tasks:>6} {minutes:>8} "
              f"{seconds:>8.1f}  {note}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
