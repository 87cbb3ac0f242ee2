"""`deconflict`: the least disruptive start moves that remove a leaf's conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..analysis.deconflict import DEFAULT_TIME_LIMIT, Options
from ..files import InvalidWorkspace
from ..model import format_time
from ..services.deconflict import deconflict_report
from .output import invalid, print_json, usage


def register(app: typer.Typer) -> None:
    app.command("deconflict")(deconflict)


def deconflict(
    folder: Annotated[Path, typer.Argument(help="The workspace folder (YAML or JSON files).",
                                           show_default=False)],
    scenario: Annotated[str, typer.Option("--scenario", help="The leaf scenario to "
                                          "deconflict.", show_default=False)],
    as_: Annotated[str | None, typer.Option(
        "--as", help="Partner code: the proposal as that partner may see it. Without it, "
        "everything.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON documented in "
                                          "docs/format.md instead of tables.")] = False,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.01, help="Solver budget in deterministic seconds (the same "
        "budget gives the same answer on any machine).")] = DEFAULT_TIME_LIMIT,
    objective: Annotated[str, typer.Option(
        "--objective", help="overload (least overload, then fewest moves) or makespan "
        "(least overload, then the earliest finish, then fewest moves).")] = "overload",
) -> None:
    """Propose the least disruptive moves of task starts, within their flex, that remove
    the conflicts of one leaf scenario.

    Committed tasks, tasks without flex and provisions stay; every dependency
    and objective deadline holds. The objective, in order: least overload, fewest
    tasks moved, fewest minutes moved. Exit status 0 when solved (whatever it
    found), 2 when the workspace or an option is invalid.
    """
    if objective not in ("overload", "makespan"):
        usage(f"--objective must be overload or makespan, not {objective!r}", as_json)
    options = Options(objective="makespan" if objective == "makespan" else "overload",
                      time_limit=time_limit)
    try:
        report = deconflict_report(folder, as_, scenario, options)
    except InvalidWorkspace as exc:
        invalid(exc, as_json)
    except ValueError as exc:
        usage(str(exc), as_json)
    if as_json:
        print_json(report)
    else:
        _tables(report)


def _tables(report: dict[str, Any]) -> None:
    console = Console(highlight=False, width=max(Console().width, 120))
    who = report["as"] or "the custodian (every file)"
    console.print(f"[bold]{report['workspace']}[/bold], scenario [bold]{report['scenario']}"
                  f"[/bold], as seen by [bold]{who}[/bold]: {report['status']}")
    if report["moves"]:
        table = Table(title="Moves", title_justify="left")
        for name in ("partner", "task", "from", "to", "by"):
            table.add_column(name)
        for m in report["moves"]:
            shift = m["to"] - m["from"]
            table.add_row(m["partner"], f"{m['plan']}/{m['task']}", format_time(m["from"]),
                          format_time(m["to"]), ("+" if shift > 0 else "−") +
                          format_time(abs(shift)).removeprefix("T+"))
        console.print(table)
    else:
        console.print("No moves of tasks you may see.")
    if report["hidden_moves"]:
        console.print("Moves of tasks you may not see, by " + ", ".join(report["hidden_moves"]))
    cost = report["cost"]
    moved = cost["moved_tasks"]
    console.print(f"Overload left: {cost['overload']} (quantity × minutes; proven least: "
                  f"{report['bound']}); {moved} task{'' if moved == 1 else 's'} moved by "
                  f"{cost['moved_minutes']} minutes in all.")
    if "makespan" in report:
        console.print(f"Latest finish: {format_time(report['makespan'])}")
    for title, entries in (("Remaining conflicts", report["remaining"]),
                           ("Conflicts the moves add elsewhere", report["elsewhere"])):
        if not entries:
            continue
        table = Table(title=title, title_justify="left")
        for name in ("kind", "resource / areas", "window", "items", "why"):
            table.add_column(name, overflow="fold")
        whys = report["why"] if title.startswith("Remaining") else [[] for _ in entries]
        for c, why in zip(entries, whys, strict=True):
            what = c.get("resource") or ", ".join(c["areas"])
            table.add_row(c["kind"], what, f"{format_time(c['window'][0])} – "
                          f"{format_time(c['window'][1])}", _names(c["tasks"]),
                          "\n".join(f"{r['kind']}: {_names(r['items'], ', ')}" for r in why))
        console.print(table)


def _names(items: list[dict[str, Any]], sep: str = "\n") -> str:
    out = []
    for it in items:
        if it.get("hidden"):
            out.append(f"{it['partner']}: hidden")
        else:
            name = it.get("task") or it.get("provision") or it.get("objective")
            out.append(f"{it['partner']} {it['plan']}/{name}")
    return sep.join(out)
