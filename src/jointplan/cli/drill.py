"""`drill check` and `drill schedule`: an exercise file against its workspace."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ..files import InvalidWorkspace
from ..files.exercise import problem_text
from ..model import format_time
from ..services.drill import Schedule, load_actions, load_drill
from .output import EXIT_INVALID, print_json

drill_app = typer.Typer(
    help="Exercise a scenario together: check an exercise file and print its schedule.",
    no_args_is_help=True)

ExerciseFile = Annotated[Path, typer.Argument(help="The exercise file (kind: exercise).",
                                              show_default=False)]
Folder = Annotated[Path, typer.Argument(help="The workspace folder the exercise runs on.",
                                        show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(drill_app, name="drill")


def _invalid(exc: InvalidWorkspace, as_json: bool) -> NoReturn:
    for p in exc.problems:
        sys.stderr.write(problem_text(p) + "\n")
    if as_json:
        print_json({"problems": [p.as_json() for p in exc.problems]})
    raise typer.Exit(EXIT_INVALID)


@drill_app.command("check")
def check(exercise: ExerciseFile, folder: Folder) -> None:
    """Check an exercise file against its workspace, through the sharing gate.

    Exit status 0 when valid, 2 otherwise: every problem is printed as
    FILE:LINE:COLUMN: message (sheet!cell: message for a spreadsheet of injects).
    """
    try:
        checked = load_drill(exercise, folder)
    except InvalidWorkspace as exc:
        _invalid(exc, False)
    ex = checked.exercise
    typer.echo(f"{ex.id}: valid ({len(ex.participants)} participants, {len(ex.injects)} "
               f"injects, {len(ex.expectations())} expectations)")


@drill_app.command("schedule")
def schedule(
    exercise: ExerciseFile, folder: Folder,
    actions: Annotated[Path | None, typer.Option(
        "--actions", help="A YAML list of {partner, task, at}: the players' actions. "
        "Without it, none.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the schedule's JSON "
                                          "(`jointplan schema drill-schedule`).")] = False,
) -> None:
    """Print the exercise's deterministic timeline, for the control cell.

    Conditional injects resolve against the actions log. Exit status 0, or 2
    with every problem as FILE:LINE:COLUMN: message (LOG:LINE:COLUMN for the log).
    """
    try:
        checked = load_drill(exercise, folder)
        log = load_actions(checked, actions)
    except InvalidWorkspace as exc:
        _invalid(exc, as_json)
    report = Schedule(checked.exercise, log).as_json()
    if as_json:
        print_json(report)
        return
    for d in report["deliveries"]:
        typer.echo(f"{format_time(d['at']):>10}  {d['inject']}  -> {d['partner']}")
    for e in report["expectations"]:
        late = f" by {e['late_by']}m" if e["late_by"] is not None else ""
        typer.echo(f"{e['id']} ({e['partner']}): {e['result'] or 'no result'}{late}")
