"""benchmarks/bench_psi.py checks its answers: at a tiny size both parts agree and it exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_psi.py"


def test_bench_psi_finds_the_same_intersections_and_collisions_at_a_tiny_size():
    run = subprocess.run([sys.executable, str(BENCH), "--scale", "0.002", "--repeat", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [x for x in run.stdout.splitlines() if x.startswith("same answers: ")]
    assert len(lines) == 3 and all(x.startswith("same answers: True ") for x in lines)
    assert "goal jointplan <= 1.2x openmined-psi alone" in run.stdout
    assert "coarse (1 day) then fine where met" in run.stdout
