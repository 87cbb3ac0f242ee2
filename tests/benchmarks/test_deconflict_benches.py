"""The deconfliction benchmarks run end to end on small inputs and check their answers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def psplib():
    return _load("bench_psplib")


def test_a_psplib_instance_becomes_one_plan_of_thirty_tasks_at_their_earliest_starts(psplib):
    ws = psplib.workspace(psplib.DATA / "j301_1.sm")
    (plan,) = ws.plans
    assert len(plan.tasks) == 30 and [r.capacity for r in ws.resources] == [12, 13, 4, 12]
    starts = {t.id: t for t in plan.tasks}
    for t in plan.tasks:
        assert t.flex == (0, 158)
        assert t.start == max((starts[p].end for p in t.after), default=0)


def test_the_psplib_benchmark_reaches_the_published_optimum(psplib, capsys):
    assert psplib.main(["--limit", "2", "--time-limit", "5"]) == 0
    assert "at the published optimum: 2/2" in capsys.readouterr().out


def test_the_scale_benchmark_checks_every_answer(capsys):
    bench = _load("bench_deconflict")
    assert bench.main(["--tasks", "50", "--time-limit", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "greedy" in out and "plain model" in out and "decomposed" in out
