"""PSPLIB j30 as workspaces, solved by `deconflict --objective makespan`.

Each instance (data/psplib-j30/, with its published optimal makespans in
optimum.csv) becomes one plan in one leaf scenario: every job but the dummy
source and sink is a task, one period is one minute, ``start`` is the job's
earliest start by precedence alone, ``flex`` is [T+0, T+horizon], and the
four renewable resources are resources of the workspace. The solver must
reach the published optimum; an answer that breaks a rule (a precedence, a
capacity) or that is shorter than the published optimum is invalid and makes
the run exit 1.

    .venv/bin/python benchmarks/bench_psplib.py --limit 20 --time-limit 10
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from jointplan.analysis.deconflict import Options, deconflict
from jointplan.analysis.deconflict_problem import build_problem, capacity_overload, violations
from jointplan.model import Duration, Partner, Plan, Resource, Scenario, Task, Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "psplib-j30"


def read_sm(path: Path) -> tuple[int, dict[int, list[int]], dict[int, tuple[int, list[int]]],
                                 list[int]]:
    """(horizon, successors, job -> (duration, requests), capacities) of one .sm file."""
    lines = path.read_text().splitlines()
    horizon = next(int(x.split(":")[1]) for x in lines if x.startswith("horizon"))
    succ: dict[int, list[int]] = {}
    jobs: dict[int, tuple[int, list[int]]] = {}
    capacities: list[int] = []
    section = ""
    for line in lines:
        if line.startswith("PRECEDENCE RELATIONS"):
            section = "prec"
            continue
        if line.startswith("REQUESTS/DURATIONS"):
            section = "req"
            continue
        if line.startswith("RESOURCEAVAILABILITIES"):
            section = "avail"
            continue
        if line.startswith("*"):
            section = "" if section != "avail" else section
            continue
        parts = line.split()
        if not parts or not parts[0].isdigit():
            continue
        numbers = [int(x) for x in parts]
        if section == "prec":
            succ[numbers[0]] = numbers[3:3 + numbers[2]]
        elif section == "req":
            jobs[numbers[0]] = (numbers[2], numbers[3:])
        elif section == "avail":
            capacities = numbers
    return horizon, succ, jobs, capacities


def workspace(path: Path) -> Workspace:
    """One instance as a workspace: one partner, one plan, one leaf."""
    horizon, succ, jobs, capacities = read_sm(path)
    first, last = min(jobs), max(jobs)
    preds: dict[int, list[int]] = {j: [] for j in jobs}
    for i, js in succ.items():
        for j in js:
            preds[j].append(i)
    earliest: dict[int, int] = {}
    for j in sorted(jobs):  # PSPLIB numbers jobs in a topological order
        earliest[j] = max((earliest[i] + jobs[i][0] for i in preds[j]), default=0)
    resources = tuple(Resource(f"r{k + 1}", f"R{k + 1}", c) for k, c in enumerate(capacities))
    tasks = []
    for j in sorted(jobs):
        if j in (first, last):
            continue
        duration, requests = jobs[j]
        tasks.append(Task(
            id=f"j{j}", title=f"Job {j}", start=earliest[j], duration=Duration.fixed(duration),
            flex=(0, horizon), after=tuple(f"j{i}" for i in preds[j] if i != first),
            uses={f"r{k + 1}": q for k, q in enumerate(requests) if q > 0}))
    plan = Plan("aaa-project", "AAA", path.stem, ("project",), tasks=tuple(tasks))
    return Workspace(path.stem.replace("_", "-"), path.stem, (Partner("AAA", "Alpha"),),
                     resources=resources, scenarios=(Scenario("project", "Project", 1.0),),
                     plans=(plan,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N instances only")
    parser.add_argument("--time-limit", type=float, default=10.0,
                        help="deterministic seconds per instance (default 10)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    with (DATA / "optimum.csv").open() as f:
        optimum = {row["problem"]: int(row["optimum"]) for row in csv.DictReader(f)}
    names = sorted(optimum, key=lambda n: [int(x) for x in n[3:-3].split("_")])
    if args.limit:
        names = names[:args.limit]
    options = Options(objective="makespan", time_limit=args.time_limit, workers=args.workers)
    solved = proved = invalid = 0
    times: list[float] = []
    misses: list[str] = []
    for name in names:
        ws = workspace(DATA / name)
        began = time.perf_counter()
        r = deconflict(ws, "project", options)
        times.append(time.perf_counter() - began)
        p = build_problem(ws, "project")
        broken = violations(p, r.starts) + (
            ["capacity exceeded"] if capacity_overload(p, r.starts) else [])
        if r.status == "none" or broken or (r.makespan or 0) < optimum[name]:
            invalid += 1
            print(f"{name}: INVALID {r.status} makespan {r.makespan} {broken[:3]}",
                  file=sys.stderr)
            continue
        if r.makespan == optimum[name]:
            solved += 1
            proved += r.status == "optimal" or "makespan:optimal" in r.stages
        else:
            misses.append(f"{name} ({r.makespan} vs {optimum[name]})")
        print(f"{name}: makespan {r.makespan} (optimum {optimum[name]}) {r.status} "
              f"{times[-1]:.2f} s", flush=True)
    n = len(names)
    times.sort()
    print(f"\nPSPLIB j30, {n} instances, time limit {args.time_limit} deterministic s, "
          f"{args.workers} worker(s)")
    print(f"  at the published optimum: {solved}/{n}; optimum proved: {proved}/{n}; "
          f"invalid: {invalid}")
    print(f"  seconds per instance: mean {sum(times) / n:.2f}, median {times[n // 2]:.2f}, "
          f"max {times[-1]:.2f}")
    if misses:
        print("  above the optimum: " + ", ".join(misses))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
