"""Run every benchmark, one after another, each in a fresh interpreter.

    python benchmarks/run_all.py [--scale 1] [--repeat N]

At scale 1 (the default) the slow baselines (intervaltree, the plain
STRtree pipeline, PyYAML with the GC on) and the Monte Carlo benchmark's
large runs take most of the time; the time of each benchmark is printed
after it. Every benchmark prints a "same answers:" line for
every method it times, and exits non-zero when an answer differs; this
script exits non-zero when any benchmark does, or when one printed no such
line or a line that is not "same answers: True".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_capacity.py", "bench_areas.py", "bench_check.py", "bench_montecarlo.py")
SAME = "same answers: "


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
        answers = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as run:
            assert run.stdout is not None
            for line in run.stdout:  # passed on as it comes
                print(line, end="", flush=True)
                if line.startswith(SAME):
                    answers.append(line)
        same = bool(answers) and all(line.startswith(SAME + "True ") for line in answers)
        print(f"({name}: {time.perf_counter() - t0:.0f} s, exit {run.returncode}, "
              f"{len(answers)} same-answers lines, all true: {same})\n", flush=True)
        if run.returncode or not same:
            failed.append(name)
    if failed:
        print("answers differ or a run failed in: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
