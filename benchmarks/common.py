"""Shared helpers for the benchmarks: repeated timing and a plain table.

Every method of a benchmark is run ``repeat`` times, the methods interleaved
round by round, so that load from other processes on a shared machine falls
on all of them alike. The table shows the best and the median of the runs;
ratios are to the baseline's best (and median).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Method:
    """A named way to do the job; ``run`` returns its answer (kept from the last run)."""

    name: str
    run: Callable[[], Any]
    work: float
    """Units of work one run does (for the throughput column)."""
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """CPU seconds of each run, this process and its children (less sensitive to load)."""
    answer: Any = None
    note: str = ""
    summary: Callable[[Any], Any] | None = None
    """Turns what ``run`` returned into the answer kept (after the clock stops, so a
    digest of a large result costs the method nothing and keeps nothing alive)."""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(methods: list[Method], repeat: int, *, collect: bool = True) -> None:
    """Time every method ``repeat`` times, round-robin; each run starts after a full collection."""
    for _ in range(repeat):
        for m in methods:
            if collect:
                gc.collect()
            c0, t0 = _cpu(), time.perf_counter()
            result = m.run()
            m.times.append(time.perf_counter() - t0)
            m.cpu.append(_cpu() - c0)
            m.answer = m.summary(result) if m.summary is not None else result
            del result


def same_answers(method: str, same: bool, detail: str) -> str:
    """The line every benchmark prints for every method it times: whether its answer is
    the one it is checked against, and what was compared."""
    return f"same answers: {same}  {method}: {detail}"


def table(title: str, methods: list[Method], baselines: dict[str, str], unit: str) -> str:
    """A table: method, wall time best and median, CPU best, throughput, ratios.

    Each ratio column gives the method's time over the baseline's, for the best
    wall times, the median wall times and the best CPU times.

    ``baselines`` maps a short column label to the name of the method it divides by.
    """
    by_name = {m.name: m for m in methods}
    head = ["method", "best s", "median s", "cpu s", f"{unit}/s"]
    head += [f"x {label} best/med/cpu" for label in baselines]
    rows = []
    for m in methods:
        row = [m.name + (f"  [{m.note}]" if m.note else ""), f"{m.best:.3f}",
               f"{m.median:.3f}", f"{m.best_cpu:.3f}", _si(m.work / m.best)]
        for b in baselines.values():
            base = by_name[b]
            row.append(f"{m.best / base.best:.2f} / {m.median / base.median:.2f} / "
                       f"{m.best_cpu / base.best_cpu:.2f}")
        rows.append(row)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = [title, line, "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                                  for i, (h, w) in enumerate(zip(head, widths, strict=True))),
           line]
    out += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
    out.append(line)
    out.append(f"  wall seconds best and median of the runs, CPU seconds best; {unit}/s from "
               "the best wall time")
    out += [f"  x {label} = time / time of: {name}" for label, name in baselines.items()]
    return "\n".join(out)


def _si(x: float) -> str:
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= factor:
            return f"{x / factor:.2f}{suffix}"
    return f"{x:.1f}"


def parser(description: str, repeat: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply every size by this (0.1 for a quick run)")
    p.add_argument("--repeat", type=int, default=repeat, help="runs per method (best and "
                   "median are reported)")
    p.add_argument("--seed", type=int, default=1)
    return p


def machine() -> str:
    """One line on where the figures were taken."""
    try:
        load = "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        load = "load avg n/a"
    import numpy
    import shapely
    import yaml
    return (f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} cores, numpy {numpy.__version__}, shapely {shapely.__version__}, "
            f"PyYAML {yaml.__version__} (libyaml {yaml.__with_libyaml__}), {load}")


def verdict(goal: str, method: Method, baseline: Method, limit: float) -> str:
    """One line: the ratio of best wall times and of best CPU times, and whether both meet it.

    On a shared machine the wall time of a run depends on what else runs; the
    CPU time much less so. A goal counts as met only when both ratios meet it.
    """
    wall = method.best / baseline.best
    cpu = method.best_cpu / baseline.best_cpu
    med = method.median / baseline.median
    met = wall <= limit and cpu <= limit
    return (f"goal {goal}: {wall:.2f}x best wall, {med:.2f}x median wall, {cpu:.2f}x best CPU "
            f"-> {'met' if met else 'NOT met'}")

