"""`simulate`: Monte Carlo risk of the plans, as one partner may see it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..files import InvalidWorkspace
from ..model import format_time
from ..services.plots import require_matplotlib, write_plots
from ..services.simulate import DEFAULT_SAMPLES, DEFAULT_SEED, Run, simulate_workspace
from .check import T0, real_time, tops_of
from .output import invalid, usage

LONG_RUN = 50_000_000
"""Task-samples from which a progress bar is shown (about a second of work)."""
TABLE_TASKS = 20
"""Tasks listed in the table, most critical first; --json lists them all."""


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    folder: Annotated[Path, typer.Argument(help="The workspace folder (YAML or JSON files).",
                                           show_default=False)],
    as_: Annotated[str | None, typer.Option(
        "--as", help="Partner code: the figures as that partner may see them. Without it, "
        "everything.")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="The leaf scenario to simulate. Without it, every leaf in which "
        "one of your plans (any plan, without --as) is active.")] = None,
    samples: Annotated[int, typer.Option("--samples", min=1,
                                         help="Number of samples.")] = DEFAULT_SAMPLES,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed: the same seed "
                                      "gives the same figures.")] = DEFAULT_SEED,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Run on a local Dask cluster of this many processes.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Run on an existing Dask cluster: its scheduler's address, "
        "like tcp://10.0.0.5:8786.")] = None,
    plots: Annotated[Path | None, typer.Option(
        "--plots", help="Write PNG plots into this folder.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the contract's JSON, one object per line and leaf.")] = False,
    t0: T0 = None,
) -> None:
    """Simulate the plans: how likely each objective is met in time, which tasks drive
    the risk, how likely each shared resource is overrun.

    Durations are Beta-PERT from three-point estimates; a task starts when its
    predecessors (in any plan) have finished, if that is after its planned start.
    Figures are cut to what the partner may see; hidden tasks still count.
    Exit status 0 when simulated, 2 when the workspace or an option is invalid.
    """
    if workers is not None and scheduler is not None:
        usage("give --workers (a local cluster) or --scheduler (an existing one), not both",
              as_json)
    err = Console(stderr=True, highlight=False)
    bar = _ProgressBar(err) if err.is_terminal else None
    try:
        if plots is not None:
            require_matplotlib()
        runs = simulate_workspace(folder, as_, scenario, samples=samples, seed=seed,
                                  workers=workers, scheduler=scheduler,
                                  charts=plots is not None,
                                  progress=bar.update if bar else None)
    except InvalidWorkspace as exc:
        invalid(exc, as_json)
    except ValueError as exc:
        usage(str(exc), as_json)
    finally:
        if bar:
            bar.stop()
    written: list[Path] = []
    if plots is not None:
        try:
            for run in runs:
                assert run.charts is not None
                written.extend(write_plots(run.charts, plots))
        except OSError as exc:
            usage(f"cannot write plots into {plots}: {exc}", as_json)
    if as_json:
        for run in runs:
            sys.stdout.write(json.dumps(run.report, ensure_ascii=False) + "\n")
    else:
        t0s, ws = real_time(folder, t0)
        _tables(runs, t0s, ws)
    if written:
        err.print(f"wrote {len(written)} plot{'s' if len(written) > 1 else ''} into {plots}")


class _ProgressBar:
    """A rich progress bar on standard error, shown only for long runs."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("simulating {task.description}"), BarColumn(),
                                 TextColumn("{task.completed:,}/{task.total:,} samples"),
                                 TimeRemainingColumn(), console=console, transient=True)
        self.tasks: dict[str, TaskID] = {}
        self.started = False

    def update(self, leaf: str, done: int, total: int, tasks: int) -> None:
        if total * max(tasks, 1) < LONG_RUN:
            return
        if not self.started:
            self.progress.start()
            self.started = True
        if leaf not in self.tasks:
            self.tasks[leaf] = self.progress.add_task(leaf, total=total)
        self.progress.update(self.tasks[leaf], completed=done)

    def stop(self) -> None:
        if self.started:
            self.progress.stop()


def _when(minutes: float | None, t0s: dict[str, Any] | None = None,
          tops: set[str] | None = None) -> str:
    from ..formats.ical import real_dates

    if minutes is None:
        return "–"
    return format_time(round(minutes)) + (real_dates(t0s, minutes, tops) if t0s else "")


def _share(p: float | None) -> str:
    return "–" if p is None else f"{p:.1%}"


def _table(*columns: str, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _tables(runs: list[Run], t0s: dict[str, Any] | None = None, ws: Any = None) -> None:
    console = Console(highlight=False, width=max(Console().width, 120))
    for run in runs:
        r: dict[str, Any] = run.report
        tops = tops_of(ws, [r["scenario"]]) if ws is not None else None

        def when(minutes: float | None) -> str:
            return _when(minutes, t0s, tops)  # noqa: B023 - used within this iteration
        who = r["as"] or "the custodian (every file)"
        console.print(f"\n[bold]{r['workspace']}[/bold], scenario [bold]{r['scenario']}"
                      f"[/bold], as seen by [bold]{who}[/bold]: {r['samples']:,} samples, "
                      f"seed {r['seed']}")
        t = _table("objective", "by", "P(met)", "mean finish", "p50", "p90",
                   title="Objectives")
        for o in r["objectives"]:
            f = o["finish"] or {}
            t.add_row(f"{o['plan']}/{o['objective']}", when(o.get("by")),
                      _share(o.get("p_met")), when(f.get("mean")), when(f.get("p50")),
                      when(f.get("p90")))
        console.print(t if r["objectives"] else "No objective you may see.")
        tasks = sorted(r["tasks"], key=lambda x: (-x["criticality"], x["partner"], x["plan"],
                                                  x["task"]))
        t = _table("task", "partner", "criticality", "P(flex breach)", "mean finish", "p90",
                   title=f"Most critical tasks ({min(len(tasks), TABLE_TASKS)} of "
                   f"{len(tasks)} you may see)")
        for x in tasks[:TABLE_TASKS]:
            t.add_row(f"{x['plan']}/{x['task']}", x["partner"], _share(x["criticality"]),
                      _share(x.get("p_flex_breach")), when(x["finish"]["mean"]),
                      when(x["finish"]["p90"]))
        console.print(t if tasks else "No task you may see.")
        t = _table("resource", "P(over capacity)", "expected overrun", title="Resources"
                   + ("" if r["as"] is None else " your items use (excess while they do)"))
        for x in r["resources"]:
            t.add_row(x["resource"], _share(x["p_over"]), f"{x['expected_overrun']:.2f}")
        console.print(t if r["resources"] else "No resource your items use.")
