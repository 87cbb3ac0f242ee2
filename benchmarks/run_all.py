"""Run every benchmark, one after another, each in a fresh interpreter.

    python benchmarks/run_all.py [--scale 1] [--repeat N]

At scale 1 (the default) this takes 4-10 minutes on 2 cores: the
slow baselines (intervaltree, the plain STRtree pipeline, PyYAML with the GC
on) are most of it. Each benchmark's exit status is non-zero when its answers
differ from the baseline's; so is this script's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_capacity.py", "bench_areas.py", "bench_check.py")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeat", type=int, help="runs per method (default: each benchmark's own)")
    args = p.parse_args(argv)
    extra = ["--scale", str(args.scale)]
    if args.repeat is not None:
        extra += ["--repeat", str(args.repeat)]
    failed = []
    for name in BENCHMARKS:
        command = [sys.executable, str(HERE / name), *extra]
        print(f"$ {' '.join(['python', f'benchmarks/{name}', *extra])}", flush=True)
        t0 = time.perf_counter()
        status = subprocess.run(command, check=False).returncode
        print(f"({name}: {time.perf_counter() - t0:.0f} s, exit {status})\n", flush=True)
        if status:
            failed.append(name)
    if failed:
        print("answers differ or a run failed in: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
