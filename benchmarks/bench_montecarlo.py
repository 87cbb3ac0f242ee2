"""The Monte Carlo kernel against networkx and plain Python, on one 2,000-task DAG.

    python benchmarks/bench_montecarlo.py [--tasks 2000] [--samples 262144] [--repeat 3]
                                          [--dask-samples 2097152] [--no-dask]

Throughput is in task-samples per second (tasks times samples), end to end
and sampling included: drawing every duration, moving every start after its
predecessors, the flex breaches, the finish histograms, the objectives, the
criticality walk and the resource sweep. Side by side, in one run, on the
same network:

- the numpy kernel (`jointplan.analysis.montecarlo`) on one core;
- networkx: per sample, durations drawn with numpy, set as edge weights of a
  DiGraph built once (planned starts as edges from a source), then
  `nx.dag_longest_path_length`; a few samples, extrapolated;
- plain Python: per sample, one pass in topological order with
  `random.betavariate`; a few samples, extrapolated.

The kernel runs twice: as shipped (task quantiles from the first 65,536
samples) and with every sample in the task histograms. CPU time of this
process is reported beside the wall clock, because a shared machine's load
inflates the latter.

Then one large run in process and on fresh local Dask clusters of one and two
worker processes (one thread each): wall clock, whether the figures are
identical, and the CPU seconds each worker spent.

Answers: the baselines draw their own durations while timed; after the clock
stops they run again on the kernel's own durations of its first 16 samples,
and the latest finish of every sample must equal the kernel's. The two
kernel runs must tally the same figures (all but the task histograms, which
differ by design); every Dask run must tally exactly what the in-process run
does. The exit status is 1 when any answer differs.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from common import machine, parser, same_answers  # noqa: E402
from jointplan.analysis.dag import Network, compile_network  # noqa: E402
from jointplan.analysis.mcbatch import BLOCK, Work, _stream  # noqa: E402
from jointplan.analysis.montecarlo import (  # noqa: E402
    Focus,
    Model,
    Tally,
    prepare,
    release,
    simulate,
    simulate_chunk,
)
from jointplan.model import (  # noqa: E402
    Duration,
    Objective,
    Partner,
    Plan,
    Provision,
    Resource,
    Scenario,
    Task,
    Workspace,
)
from jointplan.services.simulate import (  # noqa: E402
    CHUNKS_PER_WORKER,
    _chunks,
    dask_client,
    run_on_client,
)

PARTNERS = ("NOR", "SOU", "RRA", "EST", "WES", "CEN", "NAV", "MED")
LEAF = "crisis"


def network(tasks: int = 2000, seed: int = 1) -> Workspace:
    """A workspace of ``tasks`` tasks in 16 plans, all active in one leaf.

    Tasks are made in one global order; each waits for one to three recent
    tasks of its plan and, one time in ten, for a task of another plan, so
    the network is deep (long chains) and connected across partners.
    Planned starts follow the predecessors' likely ends with some slack.
    Four tasks in five have three-point durations; two in five a flex
    window; one in four uses one of 20 resources; every plan has three
    objectives and a provision.
    """
    rng = random.Random(seed)
    n_plans = 16
    plan_ids = [f"{PARTNERS[p % len(PARTNERS)].lower()}-plan{p}" for p in range(n_plans)]
    resources = [Resource(f"res{k}", f"Resource {k}", rng.randint(2, 5)) for k in range(20)]
    members: list[list[int]] = [[] for _ in range(n_plans)]
    start: list[int] = []
    end: list[int] = []
    made: list[list[Task]] = [[] for _ in range(n_plans)]
    for i in range(tasks):
        p = i % n_plans
        mine = members[p]
        after: list[str] = []
        preds: list[int] = []
        if mine and rng.random() > 0.05:
            for j in rng.sample(mine[-8:], k=min(len(mine[-8:]), rng.choice((1, 1, 2, 3)))):
                preds.append(j)
                after.append(f"t{j}")
        if i >= n_plans and rng.random() < 0.1:
            j = rng.randrange(max(0, i - 200), i)
            if j % n_plans != p:
                preds.append(j)
                after.append(f"{plan_ids[j % n_plans]}/t{j}")
        s = max([end[j] for j in preds], default=rng.randrange(0, 2880))
        s += rng.choice((0, 0, 0, 30, 60, 120))
        likely = rng.randrange(30, 720, 15)
        if rng.random() < 0.8:
            dur = Duration(likely, int(likely * rng.uniform(0.5, 0.95)),
                           int(likely * rng.uniform(1.1, 2.5)), three_point=True)
        else:
            dur = Duration.fixed(likely)
        flex = (s - 60, s + rng.choice((60, 240, 720))) if rng.random() < 0.4 else None
        uses = {}
        if rng.random() < 0.25:
            uses = {f"res{rng.randrange(20)}": rng.randint(1, 2)}
        made[p].append(Task(f"t{i}", f"Task {i}", s, dur, flex, tuple(after), uses))
        mine.append(i)
        start.append(s)
        end.append(s + likely)
    plans = []
    for p in range(n_plans):
        tlist = made[p]
        objectives = tuple(Objective(f"o{k}", f"Objective {k}", end[members[p][-1]] + 720 * k)
                           for k in range(3))
        tagged = []
        for j, t in enumerate(tlist):
            k = j * 3 // len(tlist)
            serves = (f"o{k}",) if (j + 1) * 3 // len(tlist) != k or rng.random() < 0.05 else ()
            tagged.append(Task(t.id, t.title, t.start, t.duration, t.flex, t.after, t.uses,
                               serves=serves))
        provision = Provision("give", PARTNERS[(p + 1) % len(PARTNERS)], "Help",
                              (1440, 4320), {f"res{p}": 1})
        plans.append(Plan(plan_ids[p], PARTNERS[p % len(PARTNERS)], f"Plan {p}", (LEAF,),
                          "all", objectives=objectives, tasks=tuple(tagged),
                          provides=(provision,)))
    return Workspace("bench", "Benchmark", tuple(Partner(c, c) for c in PARTNERS),
                     resources=tuple(resources),
                     scenarios=(Scenario(LEAF, "Crisis", 1.0),), plans=tuple(plans))


# -- the baselines ---------------------------------------------------------------------


def _durations(net: Network, rng: np.random.Generator) -> np.ndarray:
    a, m, b = net.low, net.likely, net.high
    width = np.maximum(b - a, 1)
    alpha = 1 + 4 * (m - a) / width
    beta = 1 + 4 * (b - m) / width
    return np.where(b > a, a + (b - a) * rng.beta(alpha, beta), m)


def networkx_graph(net: Network) -> Any:
    """Tasks as edges ``t -> end(t)`` (weighted by their duration), planned starts as
    edges from a source, `after` as zero-weight edges ``end(p) -> t``: the longest
    path is the latest finish. Built once, outside the timing."""
    import networkx as nx

    g = nx.DiGraph()
    for t in range(net.tasks):
        g.add_edge("source", t, weight=float(net.start[t]))
        g.add_edge(t, ("end", t), weight=0.0)
        for p in net.preds(t).tolist():
            g.add_edge(("end", p), t, weight=0.0)
    return g


def networkx_pass(net: Network, g: Any, samples: int, seed: int,
                  given: np.ndarray | None = None) -> list[float]:
    """Per sample: draw durations, weight the graph, nx.dag_longest_path_length.
    With ``given`` (tasks x samples), sample ``i`` takes column ``i`` instead of drawing."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    out = []
    for i in range(samples):
        d = _durations(net, rng) if given is None else given[:, i]
        for t in range(net.tasks):
            g[t][("end", t)]["weight"] = float(d[t])
        out.append(nx.dag_longest_path_length(g, weight="weight"))
    return out


def python_pass(net: Network, samples: int, seed: int,
                given: np.ndarray | None = None) -> list[float]:
    """Per sample: one pass in topological order with random.betavariate. With
    ``given`` (tasks x samples), sample ``i`` takes column ``i`` instead of drawing."""
    rng = random.Random(seed)
    low, likely, high = net.low.tolist(), net.likely.tolist(), net.high.tolist()
    start = net.start.tolist()
    preds = [net.preds(t).tolist() for t in range(net.tasks)]
    columns = given.T.tolist() if given is not None else None
    out = []
    for i in range(samples):
        finish = [0.0] * net.tasks
        column = columns[i] if columns is not None else None
        for t in range(net.tasks):
            a, m, b = low[t], likely[t], high[t]
            if column is not None:
                d = column[t]
            else:
                d = m if a == b else a + (b - a) * rng.betavariate(1 + 4 * (m - a) / (b - a),
                                                                 1 + 4 * (b - m) / (b - a))
            s = start[t]
            for p in preds[t]:
                if finish[p] > s:
                    s = finish[p]
            finish[t] = s + d
        out.append(max(finish))
    return out


def kernel_samples(model: Model, focus: Focus, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's durations (tasks x samples) of samples 0 to ``samples`` - 1, drawn from
    each task's stream as the kernel draws them, and its latest finish of each sample."""
    net = model.network
    size = -(-samples // BLOCK) * BLOCK
    durations = np.repeat(net.likely.astype(np.int64)[:, None], samples, axis=1)
    for t in range(net.tasks):
        tab = int(model.table_of[t])
        if tab >= 0:
            raw = _stream(model.keys[t], 0).random_raw(size // 4).view(np.uint16)[:samples]
            durations[t] = np.asarray(model.table[tab], dtype=np.int64)[raw & 0xFFF]
    work = Work(model, focus, 0, size)
    work.run(size, Tally.zeros(model))
    return durations, work.finish[:, :samples].max(axis=0).astype(np.int64)


def same_figures(a: Tally, b: Tally, *, but: tuple[str, ...] = ()) -> bool:
    """Every count of two tallies equal, but the fields named."""
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
               if f.name not in but)


# -- dask --------------------------------------------------------------------------------


def _timed_chunk(model: Model, focus: Focus, first: int, count: int) -> tuple[Tally, float, str]:
    """A chunk on a worker, with the CPU seconds it took there and the worker's name."""
    from distributed import get_worker

    c0 = time.process_time()
    tally = simulate_chunk(model, focus, first, count, keep=True)
    return tally, time.process_time() - c0, get_worker().name


def dask_run(model: Model, focus: Focus, samples: int, workers: int,
             repeat: int) -> tuple[Tally, float, dict[str, float]]:
    """The run on a fresh local cluster of ``workers`` processes, split as `run_on_client`
    splits it, ``repeat`` times: the tally, the best wall time (the cluster's start and a
    warm-up not counted) and the CPU seconds each worker spent in that best run."""
    from distributed import wait

    best: tuple[float, dict[str, float]] = (float("inf"), {})
    total = Tally.zeros(model)
    with dask_client(workers, None) as client:
        run_on_client(client, model, focus, 64 * workers)  # workers import and warm up
        for _ in range(repeat):
            t0 = time.perf_counter()
            shared = client.scatter([model, focus], broadcast=True, hash=False)
            futures = [client.submit(_timed_chunk, shared[0], shared[1], first, count,
                                     pure=False)
                       for first, count in _chunks(samples, model.batch_for(),
                                                   CHUNKS_PER_WORKER * workers)]
            wait(futures)
            elapsed = time.perf_counter() - t0
            client.run(release)
            total = Tally.zeros(model)
            cpu: dict[str, float] = {}
            for tally, seconds, name in client.gather(futures):
                total = total + tally
                cpu[str(name)] = cpu.get(str(name), 0.0) + seconds
            del futures, shared
            if elapsed < best[0]:
                best = (elapsed, cpu)
    return total, best[0], best[1]


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs, and the last answer."""
    wall, cpu = [], []
    answer = None
    for _ in range(repeat):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        answer = run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(wall), min(cpu), answer


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n")[0], repeat=3)
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--samples", type=int, default=1 << 18)
    p.add_argument("--baseline-samples", type=int, default=3)
    p.add_argument("--dask-samples", type=int, default=1 << 21)
    p.add_argument("--no-dask", action="store_true", help="skip the Dask runs")
    p.add_argument("--dask-only", action="store_true", help="only the large run and Dask")
    args = p.parse_args(argv)
    tasks = int(args.tasks * args.scale)
    samples = max(16, int(args.samples * args.scale) // 16 * 16)
    t0 = time.perf_counter()
    net = compile_network(network(tasks, args.seed), LEAF)
    model = prepare(net, args.seed)
    every = prepare(net, args.seed, quantile_samples=samples)
    focus = Focus.everything(net)
    graph = networkx_graph(net)
    print(machine())
    print(f"network: {net.tasks} tasks, {len(net.pred)} `after` edges, "
          f"{len(net.objective_id)} objectives, {len(net.use_resource)} resource uses on "
          f"{len(net.resource_id)} resources; compiled and prepared in "
          f"{time.perf_counter() - t0:.2f} s; batch {model.batch_for()} samples")
    k = args.baseline_samples
    rows = [
        ("numpy kernel, as shipped", samples, lambda: simulate(model, focus, samples)),
        ("numpy kernel, quantiles from every sample", samples,
         lambda: simulate(every, focus, samples)),
        ("networkx dag_longest_path_length", k,
         lambda: networkx_pass(net, graph, k, args.seed)),
        ("pure Python pass", k, lambda: python_pass(net, k, args.seed)),
    ]
    rates = {}
    answers: dict[str, Any] = {}
    if args.dask_only:
        rows = []
    print(f"\nOne core, sampling included; best of {args.repeat} runs "
          "(CPU time of this process, and wall clock)")
    print(f"{'method':44} {'samples':>8} {'CPU s':>8} {'wall s':>8} {'task-samples/s':>15}")
    for name, n, run in rows:
        wall, cpu, answers[name] = _timed(run, args.repeat)
        rates[name] = net.tasks * n / cpu
        print(f"{name:44} {n:8d} {cpu:8.3f} {wall:8.3f} {rates[name] / 1e6:12.2f} M")
    for name in ("networkx dag_longest_path_length", "pure Python pass"):
        if name in rates:
            print(f"kernel / {name}: {rates['numpy kernel, as shipped'] / rates[name]:,.0f}x")
    same = [] if args.dask_only else check_one_core(net, graph, model, focus, answers)
    if args.no_dask:
        return 0 if all(same) else 1
    big = max(16, int(args.dask_samples * args.scale) // 16 * 16)
    big_repeat = max(1, args.repeat - 1)
    print(f"\nLarge run: {big} samples, {net.tasks * big / 1e9:.2f} G task-samples; "
          f"best wall clock of {big_repeat} runs")
    t_local, c_local, local = _timed(lambda: simulate(model, focus, big), big_repeat)
    print(f"  in process, 1 core:  {t_local:7.2f} s  {net.tasks * big / t_local / 1e6:7.1f} M/s"
          f"  (CPU {c_local:.2f} s, {net.tasks * big / c_local / 1e6:.1f} M/s)")
    for workers in (1, 2):
        tally, elapsed, cpu = dask_run(model, focus, big, workers, big_repeat)
        print(f"  dask, {workers} worker{'s' if workers > 1 else ' '}:      {elapsed:7.2f} s  "
              f"{net.tasks * big / elapsed / 1e6:7.1f} M/s  x{t_local / elapsed:.2f} of "
              f"in process; identical figures: {tally.same_as(local)}")
        busiest = max(cpu.values())
        print(f"    CPU s per worker: {', '.join(f'{v:.2f}' for v in sorted(cpu.values()))}; "
              f"in-process CPU / busiest worker's CPU: x{c_local / busiest:.2f}")
        same.append(tally.same_as(local))
        print(same_answers(f"dask, {workers} worker{'s' if workers > 1 else ''}", same[-1],
                           f"every figure of the {big} samples (in process)"))
    return 0 if all(same) else 1


def check_one_core(net: Network, graph: Any, model: Model, focus: Focus,
                   answers: dict[str, Any]) -> list[bool]:
    """The same-answers lines of the one-core methods; whether each holds."""
    k = BLOCK
    durations, latest = kernel_samples(model, focus, k)
    shipped = answers["numpy kernel, as shipped"]
    every = answers["numpy kernel, quantiles from every sample"]
    nx_latest = networkx_pass(net, graph, k, 0, given=durations)
    py_latest = python_pass(net, k, 0, given=durations)
    kept = same_figures(shipped, every, but=("finish_hist",))
    checks = [
        ("numpy kernel, as shipped", kept and np.array_equal(nx_latest, latest),
         f"all figures but the task histograms as the every-sample run; latest finish of "
         f"samples 0-{k - 1} as networkx's on the same durations"),
        ("numpy kernel, quantiles from every sample", kept,
         "all figures but the task histograms as the run as shipped"),
        ("networkx dag_longest_path_length", np.array_equal(nx_latest, latest),
         f"latest finish of samples 0-{k - 1}, on the kernel's durations, as the kernel's "
         f"(max {max(nx_latest):,.0f} min)"),
        ("pure Python pass", np.array_equal(py_latest, latest),
         f"latest finish of samples 0-{k - 1}, on the kernel's durations, as the kernel's "
         f"(max {max(py_latest):,.0f} min)"),
    ]
    for name, ok, detail in checks:
        print(same_answers(name, bool(ok), detail))
    return [bool(ok) for _, ok, _ in checks]


if __name__ == "__main__":
    sys.exit(main())
