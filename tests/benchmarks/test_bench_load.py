"""The load benchmark asks for real routes, in the mix it says, and computes its percentiles."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from jointplan.api.routes import router

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_load.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmarks_bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _user(bench):  # type: ignore[no-untyped-def]
    return bench.User("t", "NOR", ["nor-plan"], ["nor-plan", "sou-plan"], ["sign"], ["s1"])


def test_every_request_of_the_mix_is_a_route_of_the_api(bench):
    rng = random.Random(1)
    for _ in range(2000):
        _, name, method, path, _ = bench.request(rng, _user(bench))
        path = path.split("?")[0]
        assert any(method in route.methods and route.path_regex.match(path)  # type: ignore[attr-defined]
                   for route in router.routes), (name, method, path)


def test_the_mix_is_80_15_5(bench):
    rng = random.Random(2)
    kinds = Counter(bench.request(rng, _user(bench))[0] for _ in range(20_000))
    assert abs(kinds["read"] / 20_000 - 0.80) < 0.02
    assert abs(kinds["write"] / 20_000 - 0.15) < 0.02
    assert abs(kinds["export/sim"] / 20_000 - 0.05) < 0.01


def test_percentiles_are_nearest_rank(bench):
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 51.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile([3.0], 99) == 3.0
