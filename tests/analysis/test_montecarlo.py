"""The Monte Carlo kernel against cases with known answers."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from jointplan.analysis.dag import compile_network
from jointplan.analysis.mcbatch import Work
from jointplan.analysis.montecarlo import (
    Figures,
    Focus,
    Model,
    Tally,
    figures,
    objective_distribution,
    pert_table,
    prepare,
    release,
    simulate,
    simulate_chunk,
)
from jointplan.model import (
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
from tests.conftest import PSPLIB

LEAF = "s"


def pert(low: int, likely: int, high: int) -> Duration:
    return Duration(likely, low, high, three_point=True)


def task(tid: str, start: int, duration: int | Duration, *after: str, **kw: object) -> Task:
    d = Duration.fixed(duration) if isinstance(duration, int) else duration
    return Task(tid, tid, start, d, after=after, **kw)  # type: ignore[arg-type]


def plan(pid: str, *tasks: Task, objectives: tuple[Objective, ...] = (),
         provides: tuple[Provision, ...] = (), owner: str = "AAA") -> Plan:
    return Plan(pid, owner, pid, (LEAF,), "all", objectives=objectives, tasks=tasks,
                provides=provides)


def workspace(*plans: Plan, resources: tuple[Resource, ...] = ()) -> Workspace:
    return Workspace("t", "T", (Partner("AAA", "A"), Partner("BBB", "B")),
                     resources=resources, scenarios=(Scenario(LEAF, "S", 1.0),),
                     plans=plans)


def run(ws: Workspace, samples: int = 4096, seed: int = 1,
        batch: int | None = None) -> tuple[Model, Tally, Figures]:
    model = prepare(compile_network(ws, LEAF), seed, quantile_samples=samples)
    tally = simulate(model, Focus.everything(model.network), samples, batch=batch)
    return model, tally, figures(model, tally)


def by_name(model: Model, values: np.ndarray) -> dict[str, float]:
    net = model.network
    return {net.name(t): float(values[t]) for t in range(net.tasks)}


def finish_values(model: Model, tally: Tally, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Every finish time of task ``t`` and how often it occurred (1-minute bins)."""
    assert model.shift[t] == 0
    counts = tally.finish_hist[model.hist_ptr[t]:model.hist_ptr[t + 1]]
    return model.lo[t] + np.arange(len(counts)), counts


def beta_cdf(alpha: float, beta: float, x: np.ndarray) -> np.ndarray:
    """The Beta CDF by the trapezoid rule on a million cells (independent of the kernel)."""
    grid = np.linspace(0, 1, 1_000_001)
    pdf = grid ** (alpha - 1) * (1 - grid) ** (beta - 1)
    cdf = np.concatenate([[0], np.cumsum((pdf[1:] + pdf[:-1]) / 2)])
    return np.interp(x, grid, cdf / cdf[-1])


def pert_cdf(low: int, likely: int, high: int, x: np.ndarray) -> np.ndarray:
    a = 1 + 4 * (likely - low) / (high - low)
    return beta_cdf(a, 6 - a, np.clip((x - low) / (high - low), 0, 1))


# -- chains of fixed durations ----------------------------------------------------


def test_a_chain_of_fixed_durations_finishes_exactly_and_is_wholly_critical() -> None:
    chain = plan("aaa-chain",
                 task("a", 0, 60), task("b", 60, 30, "a"), task("c", 90, 20, "b",
                                                              serves=("on-time", "late")),
                 objectives=(Objective("on-time", "On time", 110),
                             Objective("late", "Late", 109)))
    model, _, f = run(workspace(chain), samples=64)
    assert by_name(model, f.finish_mean) == {"aaa-chain/a": 60, "aaa-chain/b": 90,
                                             "aaa-chain/c": 110}
    assert by_name(model, f.finish_p50) == by_name(model, f.finish_p90) == by_name(
        model, f.finish_mean)
    assert by_name(model, f.criticality) == dict.fromkeys(by_name(model, f.criticality), 1.0)
    assert f.p_met.tolist() == [1.0, 0.0]
    assert f.objective_p50.tolist() == f.objective_p90.tolist() == [110, 110]


def test_a_task_whose_planned_start_decides_takes_its_predecessors_off_the_chain() -> None:
    slack = plan("aaa-slack", task("early", 0, 60), task("fixed", 100, 10, "early",
                                                         serves=("done",)),
                 objectives=(Objective("done", "Done", 200),))
    model, _, f = run(workspace(slack), samples=64)
    assert by_name(model, f.criticality) == {"aaa-slack/early": 0.0, "aaa-slack/fixed": 1.0}
    assert by_name(model, f.finish_mean)["aaa-slack/fixed"] == 110


def test_a_predecessor_in_another_plan_moves_the_start() -> None:
    first = plan("aaa-first", task("long", 0, 500))
    second = plan("bbb-second", task("wait", 100, 50, "aaa-first/long"), owner="BBB")
    model, _, f = run(workspace(first, second), samples=32)
    assert by_name(model, f.finish_mean)["bbb-second/wait"] == 550


def test_a_start_forced_past_its_flex_is_a_breach() -> None:
    p = plan("aaa-flex", task("first", 0, 120),
             task("tight", 60, 10, "first", flex=(0, 90)),
             task("loose", 60, 10, "first", flex=(0, 150)),
             task("no-flex", 60, 10, "first"),
             task("later", 200, 10, "first"))
    model, _, f = run(workspace(p), samples=32)
    assert by_name(model, f.p_flex_breach) == {
        "aaa-flex/first": 0.0, "aaa-flex/tight": 1.0, "aaa-flex/loose": 0.0,
        "aaa-flex/no-flex": 1.0, "aaa-flex/later": 0.0}


def test_a_psplib_network_finishes_at_its_critical_path_length() -> None:
    """PSPLIB j30 instances state their critical path length (MPM-Time)."""
    files = sorted(PSPLIB.glob("j30*_1.sm"))[:5]
    assert files, f"PSPLIB data missing under {PSPLIB}"
    for path in files:
        lines = path.read_text().splitlines()
        mpm = int(lines[lines.index(next(x for x in lines if x.startswith("pronr."))) + 1]
                  .split()[-1])
        prec = lines.index("PRECEDENCE RELATIONS:") + 2
        succ: dict[int, list[int]] = {}
        for line in lines[prec:]:
            if line.startswith("*"):
                break
            job, _, _, *rest = (int(x) for x in line.split())
            succ[job] = rest
        req = lines.index("REQUESTS/DURATIONS:") + 3
        dur = {int(x.split()[0]): int(x.split()[2]) for x in lines[req:req + len(succ)]}
        preds: dict[int, list[str]] = {j: [] for j in succ}
        for j, ss in succ.items():
            for s in ss:
                preds[s].append(f"j{j}")
        sink = max(succ)
        tasks = [task(f"j{j}", 0, dur[j], *preds[j], serves=("done",) if j == sink else ())
                 for j in sorted(succ)]
        ws = workspace(plan("aaa-rcpsp", *tasks, objectives=(Objective("done", "Done",
                                                                       mpm),)))
        _, _, f = run(ws, samples=16)
        assert f.objective_p50[0] == mpm and f.p_met[0] == 1.0, path.name


# -- durations --------------------------------------------------------------------


def test_one_pert_task_has_the_beta_pert_mean_variance_and_distribution() -> None:
    low, likely, high = 240, 360, 720
    n = 1 << 18
    model, tally, f = run(workspace(plan("aaa-one", task("t", 0, pert(low, likely, high)))),
                          samples=n)
    values, counts = finish_values(model, tally, 0)
    mean = (low + 4 * likely + high) / 6
    var = (mean - low) * (high - mean) / 7
    # Beta(2, 4) has kurtosis 2.625, so the sample variance's standard error is
    # var * sqrt((2.625 - 1) / n); four standard errors, plus 1/12 for rounding
    # durations to whole minutes and 0.1 for the quantile table.
    assert abs(f.finish_mean[0] - mean) < 4 * math.sqrt(var / n) + 0.1
    sample_var = float((counts * (values - f.finish_mean[0]) ** 2).sum() / n)
    assert abs(sample_var - var) < 4 * var * math.sqrt(1.625 / n) + 1 / 12 + 0.1
    # The whole distribution: by the DKW inequality the empirical CDF is within
    # 0.005 of the true one except with probability 2 exp(-2 n 0.005^2) < 1e-5.
    empirical = np.cumsum(counts) / n
    exact = pert_cdf(low, likely, high, values + 0.5)  # durations are rounded to minutes
    assert np.abs(empirical - exact).max() < 0.006


def test_the_quantile_table_stays_within_the_estimate() -> None:
    table = pert_table(30, 30, 90)
    assert table.min() >= 30 and table.max() <= 90 and np.all(np.diff(table) >= 0)
    assert abs(table.mean() - (30 + 4 * 30 + 90) / 6) < 0.1


def test_an_objective_served_by_two_parallel_tasks_finishes_at_the_later() -> None:
    """P(max(A, B) <= x) = P(A <= x) P(B <= x) for independent A and B."""
    a, b = (60, 120, 300), (90, 100, 200)
    n = 1 << 18
    ws = workspace(plan("aaa-two", task("a", 0, pert(*a), serves=("both",)),
                        task("b", 0, pert(*b), serves=("both",)),
                        objectives=(Objective("both", "Both", 150),)))
    model, tally, f = run(ws, samples=n)
    times, shares = objective_distribution(model, tally, 0)
    product = pert_cdf(*a, times + 0.5) * pert_cdf(*b, times + 0.5)
    assert np.abs(np.cumsum(shares) - product).max() < 0.006  # DKW, as above
    # E[X] = sum over k of P(X > k) for whole minutes; the sd of the maximum is below 45.
    x = np.arange(0, 300) + 0.5
    expected_mean = 300 - float(np.sum(pert_cdf(*a, x) * pert_cdf(*b, x)))
    assert abs(f.objective_mean[0] - expected_mean) < 4 * 45 / math.sqrt(n) + 0.1
    assert abs(f.p_met[0] - float(product[times == 150][0])) < 0.006
    crit = by_name(model, f.criticality)  # each is the later one some of the time
    assert 0.99 < crit["aaa-two/a"] + crit["aaa-two/b"] < 1.05 and min(crit.values()) > 0.1


# -- resources --------------------------------------------------------------------


DOCK = Resource("dock", "Dock", 1)


def test_a_resource_with_certain_overrun() -> None:
    p = plan("aaa-dock", task("x", 0, 60, uses={"dock": 1}), task("y", 30, 60,
                                                                  uses={"dock": 2}))
    _, _, f = run(workspace(p, resources=(DOCK,)), samples=64)
    assert f.p_over.tolist() == [1.0] and f.expected_overrun.tolist() == [2.0]


def test_uncertain_tasks_that_always_overlap_overrun_exactly() -> None:
    p = plan("aaa-dock", task("x", 0, pert(40, 60, 80), uses={"dock": 1}),
             task("y", 30, pert(10, 20, 90), uses={"dock": 1}),
             task("z", 35, pert(1, 2, 3), uses={"dock": 1}))
    _, _, f = run(workspace(p, resources=(DOCK,)), samples=2048)
    assert f.p_over.tolist() == [1.0] and f.expected_overrun.tolist() == [2.0]


def test_touching_and_zero_length_uses_do_not_overlap() -> None:
    p = plan("aaa-dock", task("x", 0, 60, uses={"dock": 1}),
             task("y", 60, 60, uses={"dock": 1}), task("blink", 30, 0, uses={"dock": 5}))
    _, _, f = run(workspace(p, resources=(DOCK,)), samples=16)
    assert f.p_over.tolist() == [0.0] and f.expected_overrun.tolist() == [0.0]


def test_a_provision_keeps_its_window_on_the_resource() -> None:
    p = plan("aaa-dock", task("x", 50, 10, uses={"dock": 1}),
             provides=(Provision("lend", "BBB", "Lend", (0, 100), {"dock": 2}),))
    _, _, f = run(workspace(p, resources=(DOCK,)), samples=16)
    assert f.expected_overrun.tolist() == [2.0]
    alone = plan("aaa-lend", provides=(Provision("lend", "BBB", "Lend", (0, 100), {"dock": 2}),))
    _, _, f = run(workspace(alone, resources=(DOCK,)), samples=16)  # a leaf without tasks
    assert f.expected_overrun.tolist() == [1.0] and f.finish_mean.size == 0


def _plain_excess(work: Work, n: int, capacity: int, own: np.ndarray) -> list[int]:
    """Per sample, by brute force: the largest load at a row's start while an own row is
    in use, less the capacity."""
    net = work.model.network
    out = []
    for s in range(n):
        rows = []
        for u in range(len(net.use_resource)):
            a, b = (x if isinstance(x, int) else int(x[s]) for x in work._times(u, n))
            rows.append((a, b, int(net.use_quantity[u]), bool(own[u])))
        peak = 0
        for moment, _, _, _ in rows:
            inside = [(q, o) for a, b, q, o in rows if a <= moment < b]
            if any(o for _, o in inside):
                peak = max(peak, sum(q for q, _ in inside))
        out.append(max(0, peak - capacity))
    return out


def test_the_pairwise_test_and_the_sweep_line_match_a_plain_sweep() -> None:
    rng = random.Random(5)
    tasks = [task(f"t{i}", rng.randrange(0, 600, 10), pert(20, rng.randrange(30, 60), 150),
                  *([f"t{rng.randrange(i)}"] if i and rng.random() < 0.3 else []),
                  uses={"dock": rng.choice((1, 1, 2))}) for i in range(40)]
    ws = workspace(plan("aaa-busy", *tasks), resources=(Resource("dock", "Dock", 12),))
    model = prepare(compile_network(ws, LEAF), 3)
    rows = len(model.network.use_resource)
    n = 64
    for own in (np.ones(rows, dtype=bool), np.arange(rows) % 7 == 0):
        for dense in (False, True):
            groups = tuple(dataclasses.replace(g, dense=dense) for g in model.groups)
            work = Work(dataclasses.replace(model, groups=groups), Focus(own, own), 0, n)
            tally = Tally.zeros(model)
            work.run(n, tally)
            plain = _plain_excess(work, n, 12, own)
            assert tally.over[0] == sum(x > 0 for x in plain) > 0
            assert tally.overrun_sum[0] == sum(plain)


def test_excess_counts_only_while_own_rows_are_in_use() -> None:
    p = plan("aaa-dock", task("mine", 0, 60, uses={"dock": 1}),
             task("theirs", 30, 60, uses={"dock": 1}), task("big", 100, 50, uses={"dock": 4}))
    ws = workspace(p, resources=(DOCK,))
    model = prepare(compile_network(ws, LEAF), 1)
    own = np.array([model.network.use_item[u] == "mine" for u in range(3)])
    everything = figures(model, simulate(model, Focus.everything(model.network), 16))
    focused = figures(model, simulate(model, Focus(own, own), 16))
    assert everything.expected_overrun.tolist() == [3.0]
    assert focused.expected_overrun.tolist() == [1.0]


# -- reproducibility --------------------------------------------------------------


def _network(extra: bool) -> Workspace:
    rng = random.Random(9)
    tasks = []
    for i in range(30):
        after = [f"t{rng.randrange(i)}"] if i and rng.random() < 0.7 else []
        tasks.append(task(f"t{i}", 60 * i, pert(30, 60, 200), *after,
                          uses={"dock": 1} if i % 4 == 0 else {},
                          serves=("end",) if i >= 27 else ()))
    plans = [plan("aaa-main", *tasks, objectives=(Objective("end", "End", 2400),))]
    if extra:
        plans.append(plan("bbb-other", task("t0", 0, pert(1, 5, 90), serves=("x",)),
                          task("t5", 0, pert(1, 2, 9), "t0", uses={"crane": 1}),
                          objectives=(Objective("x", "X", 10),), owner="BBB"))
    return workspace(*plans, resources=(DOCK, Resource("crane", "Crane", 0)))


def test_the_same_seed_gives_the_same_figures_and_another_seed_others() -> None:
    ws = _network(False)
    assert run(ws, seed=4)[1].same_as(run(ws, seed=4)[1])
    assert not run(ws, seed=4)[1].same_as(run(ws, seed=5)[1])


def test_an_unrelated_task_leaves_every_other_figure_unchanged() -> None:
    base_model, _, base = run(_network(False), samples=3000)
    more_model, _, more = run(_network(True), samples=3000)
    for name in ("finish_mean", "finish_p50", "finish_p90", "criticality", "p_flex_breach"):
        before = by_name(base_model, getattr(base, name))
        after = by_name(more_model, getattr(more, name))
        assert before == {k: after[k] for k in before}, name
    assert base.p_met[0] == more.p_met[0] and base.objective_p90[0] == more.objective_p90[0]
    assert base.p_over[0] == more.p_over[0]


def test_samples_add_up_the_same_however_they_are_split_or_batched() -> None:
    model = prepare(compile_network(_network(True), LEAF), 2)
    focus = Focus.everything(model.network)
    whole = simulate(model, focus, 1000, batch=1024)
    parts = simulate_chunk(model, focus, 0, 480, batch=64) + simulate_chunk(
        model, focus, 480, 520, batch=160)
    assert whole.same_as(parts)
    prefix = simulate(model, focus, 400, batch=32)
    assert not prefix.same_as(whole) and prefix.same_as(simulate_chunk(model, focus, 0, 400))


def test_buffers_kept_between_chunks_change_nothing() -> None:
    model = prepare(compile_network(_network(True), LEAF), 2)
    focus = Focus.everything(model.network)
    whole = simulate(model, focus, 1000)
    kept = [simulate_chunk(model, focus, first, count, batch=128, keep=True)
            for first, count in ((768, 232), (0, 256), (512, 256), (256, 256))]
    release()
    assert whole.same_as(kept[0] + kept[1] + kept[2] + kept[3])


def test_a_batch_must_start_on_a_block() -> None:
    model = prepare(compile_network(_network(False), LEAF), 2)
    with pytest.raises(ValueError, match="multiples of 16"):
        simulate_chunk(model, Focus.everything(model.network), 8, 100)
