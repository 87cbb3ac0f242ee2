"""PNG plots of a simulation, from the data already cut for the viewer.

Per leaf: one finish-time distribution per objective with its deadline, one
criticality chart, one load fan per resource. Files are named
``LEAF--finish--PLAN--OBJECTIVE.png``, ``LEAF--criticality.png`` and
``LEAF--load--RESOURCE.png``. matplotlib draws off screen (Agg).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..model import format_time
from ..sharing.simcut import FAN_QUANTILES, Charts

TOP_TASKS = 25
"""Tasks on the criticality chart."""
MAX_BARS = 80
"""Bars on a finish-time chart; finer histograms are merged into this many."""


def require_matplotlib() -> None:
    """ValueError, with what to install, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ValueError("--plots needs matplotlib, in the `sim` extras: pip install "
                         "'jointplan[sim]'") from exc


def _pyplot() -> Any:
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


HOUR_STEPS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720)
"""Spacing of time ticks, in hours: whole hours, half days, days, weeks."""


def _hours_axis(ax: Any) -> None:
    """Ticks on round hours, labelled in the planners' own notation: T+30h, T+2d."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    lo, hi = ax.get_xlim()
    step = next((h for h in HOUR_STEPS if (hi - lo) / h <= 8), HOUR_STEPS[-1])
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_time(round(x * 60))))
    ax.set_xlabel("time after T0")


def _finish(plt: Any, leaf: str, name: str, by: int | None, p_met: float | None,
            times: np.ndarray, shares: np.ndarray, path: Path) -> None:
    width = int(times[1] - times[0]) if len(times) > 1 else 1
    merge = max(1, -(-len(times) // MAX_BARS))
    pad = (-len(times)) % merge
    shares = np.concatenate([shares, np.zeros(pad)]).reshape(-1, merge).sum(axis=1)
    starts = times[::merge]
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    ax.bar(starts / 60, shares, width=merge * width / 60, align="edge", color="#4c72b0",
           label="share of samples")
    ax.set_ylabel("share of samples finishing in the bar")
    cdf = ax.twinx()
    cdf.step(np.append(starts, starts[-1] + merge * width) / 60,
             np.append(np.cumsum(shares), 1.0), where="pre", color="#222222", lw=1.2,
             label="finished by then")
    cdf.set_ylim(0, 1.02)
    cdf.set_ylabel("share finished by then")
    if by is not None:
        ax.axvline(by / 60, color="#c44e52", lw=2, ls="--")
        ax.annotate(f"deadline {format_time(by)}", (by / 60, 0.98),
                    xycoords=("data", "axes fraction"), ha="right", va="top", rotation=90,
                    color="#c44e52")
        ax.set_title(f"{name} in {leaf}: finish time; P(by {format_time(by)}) = {p_met:.1%}")
    else:
        ax.set_title(f"{name} in {leaf}: finish time")
    _hours_axis(ax)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _criticality(plt: Any, charts: Charts, path: Path) -> None:
    top = charts.criticality[:TOP_TASKS]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.32 * max(len(top), 1)), layout="constrained")
    names = [n for n, _ in top][::-1]
    values = [v for _, v in top][::-1]
    ax.barh(names, values, color="#dd8452")
    ax.set_xlim(0, 1)
    ax.set_xlabel("criticality: share of samples on the chain that decides an objective")
    more = len(charts.criticality) - len(top)
    ax.set_title(f"Most critical tasks in {charts.leaf}"
                 + (f" ({more} more in --json)" if more > 0 else ""))
    if not top:
        ax.text(0.5, 0.5, "no task you may see", ha="center", transform=ax.transAxes)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fan(plt: Any, leaf: str, resource: str, capacity: int, grid: np.ndarray,
         levels: np.ndarray, path: Path) -> None:
    hours = grid / 60
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    lo, q1, mid, q3, hi = levels
    ax.fill_between(hours, lo, hi, step="post", color="#55a868", alpha=0.25,
                    label=f"{FAN_QUANTILES[0]:.0%}–{FAN_QUANTILES[-1]:.0%} of samples")
    ax.fill_between(hours, q1, q3, step="post", color="#55a868", alpha=0.5,
                    label=f"{FAN_QUANTILES[1]:.0%}–{FAN_QUANTILES[-2]:.0%}")
    ax.step(hours, mid, where="post", color="#2d6a3e", lw=1.5, label="median")
    ax.axhline(capacity, color="#c44e52", lw=2, ls="--", label=f"capacity {capacity}")
    ax.set_ylim(0, max(int(hi.max()), capacity) + 1)
    ax.set_ylabel("units in use")
    ax.set_title(f"Load on {resource} in {leaf}")
    ax.legend(loc="upper right", fontsize="small")
    _hours_axis(ax)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(charts: Charts, folder: str | Path) -> list[Path]:
    """Write one leaf's PNGs into ``folder`` (created if need be); the paths written."""
    plt = _pyplot()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, by, p_met, times, shares in charts.objectives:
        path = out / f"{charts.leaf}--finish--{name.replace('/', '--')}.png"
        _finish(plt, charts.leaf, name, by, p_met, times, shares, path)
        written.append(path)
    path = out / f"{charts.leaf}--criticality.png"
    _criticality(plt, charts, path)
    written.append(path)
    for resource, capacity, grid, levels in charts.fans:
        path = out / f"{charts.leaf}--load--{resource}.png"
        _fan(plt, charts.leaf, resource, capacity, grid, levels, path)
        written.append(path)
    return written
