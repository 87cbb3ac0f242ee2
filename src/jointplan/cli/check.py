"""`check`, `validate`, `view` and `schema`: the commands on a folder of files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from ..files import InvalidWorkspace
from ..files.exercise import exercise_schema
from ..files.fields import json_schema
from ..model import format_time
from ..services.check import check_report
from ..services.drill import schedule_schema
from ..services.workspaces import load_checked
from ..sharing.deconflict_schema import deconflict_schema
from ..sharing.view import view_for
from .output import invalid, load_as, print_json, usage

Folder = Annotated[Path, typer.Argument(help="The workspace folder (YAML or JSON files).",
                                        show_default=False)]
As = Annotated[str | None, typer.Option("--as", help="Partner code: see the workspace as "
                                        "that partner would. Without it, everything.")]
Json = Annotated[bool, typer.Option("--json", help="Print the contract's JSON instead of "
                                    "tables.")]
T0 = Annotated[list[str] | None, typer.Option(
    "--t0", help="SCENARIO=ISO: the moment a top-level scenario is (or would be) declared; "
    "the tables show real dates (UTC) beside T+. Repeat for several scenarios.")]


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("validate")(validate)
    app.command("view")(view)
    app.command("schema")(schema)


def check(folder: Folder, as_: As = None, as_json: Json = False, t0: T0 = None) -> None:
    """Find conflicts and gaps, coverage and likelihoods, as one partner may see them.

    Exit status 0 when the workspace was analysed (whatever it found), 2 when
    it is invalid: every problem is printed as FILE:LINE:COLUMN: message.
    """
    try:
        report = check_report(folder, as_)
    except InvalidWorkspace as exc:
        invalid(exc, as_json)
    except ValueError as exc:
        usage(str(exc), as_json)
    if as_json:
        print_json(report)
    else:
        _tables(report, *real_time(folder, t0))


def real_time(folder: Path, values: list[str] | None) -> tuple[dict[str, Any], Any]:
    """``--t0`` read against the folder's workspace; exit 2 naming the problem."""
    from ..formats import FormatError
    from ..formats.ical import t0_option

    try:
        return t0_option(folder, values)
    except FormatError as exc:
        usage("; ".join(exc.problems))


def tops_of(ws: Any, scenarios: list[str]) -> set[str]:
    return {ws.path(s)[-1] for s in scenarios}


def validate(folder: Folder) -> None:
    """Check a workspace folder's files and report every problem, without analysing."""
    try:
        loaded = load_checked(folder)
    except InvalidWorkspace as exc:
        invalid(exc, False)
    ws = loaded.workspace
    tasks = sum(len(p.tasks) for p in ws.plans)
    typer.echo(f"{ws.id}: valid ({len(ws.partners)} partners, {len(ws.plans)} plans, "
               f"{tasks} tasks, {len(ws.observations)} observations)")


def view(folder: Folder,
         as_: Annotated[str, typer.Option("--as", help="Partner code to preview as.",
                                          show_default=False)],
         fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml") -> None:
    """Print the workspace exactly as a partner would receive it.

    Objects the partner may not see are left out; withheld fields are absent
    and named under `withheld`. Use it to preview what you release.
    """
    if fmt not in ("yaml", "json"):
        usage(f"--format must be yaml or json, not {fmt!r}")
    loaded = load_as(folder, as_)
    doc = view_for(loaded.workspace, as_)
    if fmt == "json":
        print_json(doc)
    else:
        sys.stdout.write(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                   width=100))


class _Dumper(yaml.SafeDumper):
    """Lists of plain values (coordinates, shares, windows) on one line, as people write them."""


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(x, dict | list) for x in data) or all(
        isinstance(x, list) and all(not isinstance(y, dict | list) for y in x) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)


def schema(
    of: Annotated[str, typer.Argument(help="plan: the files' format; exercise: an exercise "
                                      "file's; deconflict, drill-schedule: what "
                                      "`deconflict --json`, `drill schedule --json` print.")
                  ] = "plan",
) -> None:
    """Print a JSON Schema: the format's (for editors and other tools) or an output's."""
    schemas = {"plan": json_schema, "exercise": exercise_schema,
               "deconflict": deconflict_schema, "drill-schedule": schedule_schema}
    if of not in schemas:
        usage(f"schema: say plan, exercise, deconflict or drill-schedule, not {of!r}")
    doc = schemas[of]()
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


# -- tables ------------------------------------------------------------------


def _window(w: list[int], t0s: dict[str, Any] | None = None, tops: set[str] | None = None
            ) -> str:
    from ..formats.ical import real_dates

    if not t0s:
        return f"{format_time(w[0])} – {format_time(w[1])}"
    return (f"{format_time(w[0])}{real_dates(t0s, w[0], tops)} – "
            f"{format_time(w[1])}{real_dates(t0s, w[1], tops)}")


def _who(items: list[dict[str, Any]]) -> str:
    out = []
    for it in items:
        if it.get("hidden"):
            out.append(f"{it['partner']}: hidden")
        else:
            name = it.get("task") or it.get("provision")
            extra = f" ({it['commitment']})" if "commitment" in it else ""
            out.append(f"{it['partner']} {it['plan']}/{name}{extra}")
    return "\n".join(out)


def _table(*columns: str, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _tables(report: dict[str, Any], t0s: dict[str, Any] | None = None, ws: Any = None
            ) -> None:
    console = Console(highlight=False, width=max(Console().width, 120))
    who = report["as"] or "the custodian (every file)"
    console.print(f"[bold]{report['workspace']}[/bold] as seen by [bold]{who}[/bold]")
    groups: dict[tuple[str, ...], dict[str, list[Any]]] = {}
    for c in report["conflicts"]:
        groups.setdefault(tuple(c["scenarios"]), {"c": [], "g": []})["c"].append(c)
    for g in report["gaps"]:
        groups.setdefault(tuple(g["scenarios"]), {"c": [], "g": []})["g"].append(g)
    leaves = list(report["coverage"])
    for scenarios in sorted(groups, key=lambda s: [leaves.index(x) for x in s]):
        found = groups[scenarios]
        console.print(f"\n[bold]Scenario {', '.join(scenarios)}[/bold]")
        tops = tops_of(ws, list(scenarios)) if ws is not None else None
        if found["c"]:
            t = _table("kind", "resource / areas", "window", "demand", "items",
                       title="Conflicts")
            for c in found["c"]:
                what = c.get("resource") or ", ".join(c["areas"])
                demand = f"{c['demand']} > {c['capacity']}" if c["kind"] == "capacity" else ""
                t.add_row(c["kind"], what, _window(c["window"], t0s, tops), demand,
                          _who(c["tasks"]))
            console.print(t)
        if found["g"]:
            t = _table("kind", "expectation", "from", "window", "provisions", title="Gaps")
            for g in found["g"]:
                t.add_row(g["kind"], g["expectation"], g["from"], _window(g["window"], t0s, tops),
                          "\n".join(g["provisions"]) or "none")
            console.print(t)
    if not groups:
        console.print("\nNo conflicts or gaps.")
    partners = list(next(iter(report["coverage"].values()), {}))
    t = _table("leaf scenario", *partners, title="\nCoverage (plans you may see)")
    for leaf, counts in report["coverage"].items():
        t.add_row(leaf, *(str(counts[p]) if counts[p] else "–" for p in partners))
    console.print(t)
    t = _table("scenario", "likelihood", title="\nLikelihood (from observations you may see)")
    for sid, p in report["likelihood"].items():
        t.add_row(sid, "–" if p is None else f"{p:.3f}")
    console.print(t)
