"""Every benchmark checks its answers: at a tiny size, each prints a true "same answers"
line for every method it times, and the runner exits 0; a wrong answer makes it fail.

Nothing here is timed: the figures the benchmarks print are not looked at.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_every_benchmark_prints_true_same_answers_lines_and_exits_0():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "run_all.py"), "--scale", "0.01",
                          "--repeat", "1"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    blocks = run.stdout.split("$ python benchmarks/")[1:]
    assert [b.split(" ", 1)[0] for b in blocks] == [
        "bench_capacity.py", "bench_areas.py", "bench_check.py", "bench_montecarlo.py"]
    expected = {"bench_capacity.py": 5, "bench_areas.py": 3, "bench_check.py": 6,
                "bench_montecarlo.py": 6}
    for block in blocks:
        name = block.split(" ", 1)[0]
        lines = [line for line in block.splitlines() if line.startswith("same answers: ")]
        assert len(lines) == expected[name], (name, lines)
        assert all(line.startswith("same answers: True ") for line in lines), lines


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_areas
    import bench_capacity
    import bench_montecarlo
    return bench_capacity, bench_areas, bench_montecarlo


def test_the_checks_tell_a_wrong_answer(bench):
    capacity, areas, montecarlo = bench
    # Capacity: windows read off the load profile match the kernel, not with one use more.
    w = capacity.workload(2000, 10, 3)
    r, s, e, q, cap = w["resource"], w["start"], w["end"], w["quantity"], w["capacity"]
    span = int(e.max()) + 1
    keys = np.concatenate((r * span + s, r * span + e))
    kernel = sorted(c[:4] for c in capacity.as_tuples(
        capacity.capacity_conflicts(r, s, e, q, cap)))
    assert capacity.profile_windows(capacity.lower_bound(r, s, e, q), keys, span, cap) == kernel
    assert capacity.profile_windows(capacity.packed_bound(r, s, e, q), keys, span, cap) == kernel
    assert capacity.profile_windows(capacity.lower_bound(r, s, e, q + (np.arange(q.size) == 0)),
                                    keys, span, cap) != kernel
    # Areas: the grouped baseline finds the pipeline's pairs, and not when a task moves.
    a = areas.workload(3000, 40, 2)
    args = (a["geometries"], a["area"], a["start"], a["end"], a["exclusive"])
    pipeline = areas.as_set(areas.strtree_pipeline(*args))
    assert pipeline and areas.as_set(areas.grouped_by_area(*args)) == pipeline
    later = a["start"] + 1
    assert areas.as_set(areas.grouped_by_area(a["geometries"], a["area"], later, a["end"] + 1,
                                              a["exclusive"])) != pipeline
    # Monte Carlo: the baselines give the kernel's finishes on its durations, not on others.
    net = montecarlo.compile_network(montecarlo.network(120, 1), montecarlo.LEAF)
    model = montecarlo.prepare(net, 1)
    focus = montecarlo.Focus.everything(net)
    durations, latest = montecarlo.kernel_samples(model, focus, 16)
    graph = montecarlo.networkx_graph(net)
    assert np.array_equal(montecarlo.networkx_pass(net, graph, 16, 0, given=durations), latest)
    assert np.array_equal(montecarlo.python_pass(net, 16, 0, given=durations), latest)
    other, _ = montecarlo.kernel_samples(montecarlo.prepare(net, 2), focus, 16)
    assert not np.array_equal(montecarlo.python_pass(net, 16, 0, given=other), latest)
