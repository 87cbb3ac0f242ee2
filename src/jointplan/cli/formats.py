"""`export` and `import`: the formats partners already use, always through the sharing gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml

from ..formats import FormatError
from ..model import Workspace
from ..sharing.handling import ExportView, export_view
from .output import EXIT_INVALID, load_as, usage

export_app = typer.Typer(
    help="Write what one partner may see as GeoJSON, a spreadsheet, a calendar or STIX 2.1. "
         "Objects the partner received marked red are left out (it may view them, not "
         "export them); the export's TLP is the most restrictive of what it holds.",
    no_args_is_help=True)
import_app = typer.Typer(
    help="Read areas, a plan's tasks or STIX sightings from other tools; every problem is "
         "located and nothing is written unless all is well.",
    no_args_is_help=True)

Folder = Annotated[Path, typer.Argument(help="The workspace folder.", show_default=False)]
Source = Annotated[Path, typer.Argument(help="The file to import.", show_default=False)]
As = Annotated[str, typer.Option("--as", help="The partner whose view is exported.",
                                 show_default=False)]
Owner = Annotated[str, typer.Option("--as", help="The partner importing (the owner of what "
                                    "is written).", show_default=False)]
Output = Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file "
                                             "instead of standard output.")]
Step = Annotated[str | None, typer.Option("--step", help="Matrix column width, a duration "
                                          "(6h); by default at most 48 columns.")]


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")


def _problems(exc: FormatError) -> NoReturn:
    for problem in exc.problems:
        sys.stderr.write(f"{problem}\n")
    raise typer.Exit(EXIT_INVALID)


def _view(folder: Path, partner: str) -> tuple[ExportView, Workspace]:
    loaded = load_as(folder, partner)
    ev = export_view(loaded.workspace, partner)
    for reason in ev.left_out:
        sys.stderr.write(f"left out: {reason}\n")
    sys.stderr.write(f"TLP:{ev.tlp.value.upper()}\n")
    return ev, loaded.workspace


def _emit(data: str | bytes, output: Path | None) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(raw)


@export_app.command("geojson")
def export_geojson(folder: Folder, as_: As, output: Output = None) -> None:
    """Areas and the partner's located tasks as a GeoJSON FeatureCollection."""
    from ..formats.geojson import dumps
    from ..formats.geojson import export_geojson as build

    ev, _ = _view(folder, as_)
    _emit(dumps(build(ev)), output)


@export_app.command("xlsx")
def export_xlsx(folder: Folder, as_: As, output: Output = None, step: Step = None) -> None:
    """The partner's task list and synchronisation matrix as an XLSX workbook."""
    from ..formats.spreadsheet import to_xlsx

    ev, _ = _view(folder, as_)
    try:
        _emit(to_xlsx(ev, step), output)
    except ValueError as exc:
        usage(str(exc))


@export_app.command("csv")
def export_csv(folder: Folder, as_: As, output: Output = None, step: Step = None,
               sheet: Annotated[str, typer.Option("--sheet", help="tasks or matrix.")] = "tasks",
               ) -> None:
    """The partner's task list (or, with --sheet matrix, the synchronisation matrix) as CSV."""
    from ..formats.spreadsheet import matrix_rows, task_rows, to_csv

    if sheet not in ("tasks", "matrix"):
        usage(f"--sheet must be tasks or matrix, not {sheet!r}")
    ev, _ = _view(folder, as_)
    try:
        rows = task_rows(ev) if sheet == "tasks" else matrix_rows(ev, step)
    except ValueError as exc:
        usage(str(exc))
    _emit(to_csv(rows), output)


@export_app.command("ical")
def export_ical(folder: Folder, as_: As, output: Output = None,
                t0: Annotated[list[str] | None, typer.Option(
                    "--t0", help="SCENARIO=ISO: when a top-level scenario is (or would be) "
                    "declared, e.g. unrest-aster=2026-11-20T08:00Z; repeat for several.")] = None,
                ) -> None:
    """The partner's timeline as iCalendar: its tasks, and what others expect from it or
    offer it, at real dates from each scenario's T0. Exit 2 without a T0."""
    from ..formats.ical import parse_t0, timeline, to_ics

    ev, ws = _view(folder, as_)
    try:
        entries = timeline(ev, ws, parse_t0(t0 or [], ws))
    except FormatError as exc:
        _problems(exc)
    _emit(to_ics(ev, entries), output)


@export_app.command("stix")
def export_stix(folder: Folder, as_: As, output: Output = None) -> None:
    """The partner's indicators and observations as a STIX 2.1 bundle with TLP 2.0 markings."""
    from ..formats.stix import dumps
    from ..formats.stix import export_stix as build

    ev, ws = _view(folder, as_)
    _emit(dumps(build(ev, ws)), output)


@import_app.command("geojson")
def import_geojson(source: Source, output: Output = None) -> None:
    """Areas from a GeoJSON FeatureCollection (properties id and name), printed as the
    `areas:` list of workspace.yaml. Exit 2 with every problem located."""
    from ..formats.geojson import import_areas

    try:
        areas = import_areas(source)
    except FormatError as exc:
        _problems(exc)
    _emit(yaml.safe_dump({"areas": areas}, sort_keys=False, allow_unicode=True,
                         default_flow_style=None, width=100), output)


def _tasks(folder: Path, source: Path, kind: str, as_: str, plan: str, title: str | None,
           scenario: list[str] | None, output: Path | None, sheet: str = "tasks") -> None:
    from ..formats.spreadsheet_import import import_plan, read_csv, read_xlsx

    load_as(folder, as_)
    try:
        rows = read_csv(source) if kind == "csv" else read_xlsx(source, sheet)
        written = import_plan(folder, rows, plan_id=plan, owner=as_, title=title,
                              scenarios=tuple(scenario or ()), output=output)
    except FormatError as exc:
        _problems(exc)
    sys.stderr.write(f"wrote {written}\n")


Plan = Annotated[str, typer.Option("--plan", help="The plan's id.", show_default=False)]
Title = Annotated[str | None, typer.Option("--title", help="The plan's title (a new plan "
                                           "needs one).")]
Scenario = Annotated[list[str] | None, typer.Option("--scenario", help="A scenario the plan "
                                                    "is for; repeat for several (a new plan "
                                                    "needs one).")]


@import_app.command("csv")
def import_csv(folder: Folder, source: Source, as_: Owner, plan: Plan, title: Title = None,
               scenario: Scenario = None, output: Output = None) -> None:
    """A plan's tasks from CSV into the plan file (FOLDER/PLAN.yaml, or the plan's own file,
    or -o). The header names the columns; each problem is `sheet!cell: message`; exit 2."""
    _tasks(folder, source, "csv", as_, plan, title, scenario, output)


@import_app.command("xlsx")
def import_xlsx(folder: Folder, source: Source, as_: Owner, plan: Plan, title: Title = None,
                scenario: Scenario = None, output: Output = None,
                sheet: Annotated[str, typer.Option("--sheet", help="The sheet to read.")]
                = "tasks") -> None:
    """A plan's tasks from an XLSX sheet into the plan file, as `import csv` does."""
    _tasks(folder, source, "xlsx", as_, plan, title, scenario, output, sheet)


@import_app.command("stix")
def import_stix(folder: Folder, source: Source, as_: Owner, output: Output = None,
                share: Annotated[str | None, typer.Option(
                    "--share", help="all, or partner codes separated by commas: who may see "
                    "green and clear sightings; amber, amber+strict, red and unmarked ones "
                    "stay the importer's alone.")] = None) -> None:
    """A partner's STIX 2.1 sightings as its observations, added to
    FOLDER/CODE-stix-observations.yaml (or -o). All or nothing; exit 2 naming the object
    and property of every problem."""
    from ..formats.stix_import import import_observations

    load_as(folder, as_)
    shared: list[str] | str | None = None
    if share is not None:
        shared = "all" if share == "all" else [c.strip() for c in share.split(",") if c.strip()]
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        usage(f"cannot read {source}: {exc}")
    try:
        written, added = import_observations(folder, text, str(source), partner=as_,
                                             share=shared, output=output)
    except FormatError as exc:
        _problems(exc)
    sys.stderr.write(f"added {added} observations to {written}\n")
