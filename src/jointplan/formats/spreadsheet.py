"""Spreadsheets out: a partner's task lists and synchronisation matrix as XLSX and CSV.

The ``tasks`` sheet has one row per task in the partner's export view, one
column per task field (``TASK_COLUMNS``), each cell written as the plan format
writes the field; a field kept from the partner is a blank cell and is named in
the ``withheld`` column. ``share`` and ``withhold`` are filled for the
partner's own plans only (``SOU, RRA``; ``uses: SOU RRA; area: RRA``). The
``matrix`` sheet is the synchronisation matrix: one row per plan, one column
per time step from the earliest start to the latest end, each cell naming the
plan's tasks under way in that step. Every row carries its plan's ``tlp``; the
workbook's subject is the most restrictive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from ..model import format_duration, format_time, parse_duration, parse_time
from ..sharing.handling import ExportView

Doc = dict[str, Any]
Row = list[Any]

PLAN_COLUMNS = ("plan", "partner", "tlp")
TASK_COLUMNS = ("id", "title", "start", "duration", "duration_min", "duration_max",
                "flex_from", "flex_to", "after", "uses", "area", "exclusive", "commitment",
                "serves", "phase", "unit", "share", "withhold", "withheld")
"""The columns of a task list, after ``PLAN_COLUMNS``; the import reads the same names."""

LISTS = ("after", "serves", "withheld")


def task_cells(task: Doc) -> dict[str, Any]:
    """A task as the plan format writes it, one cell per column (absent fields blank)."""
    cells: dict[str, Any] = {k: task[k] for k in ("id", "title", "start", "area",
                                                   "commitment", "phase", "unit")
                             if k in task}
    duration = task.get("duration")
    if isinstance(duration, dict):
        cells.update(duration=duration["likely"], duration_min=duration["min"],
                     duration_max=duration["max"])
    elif duration is not None:
        cells["duration"] = duration
    if "flex" in task:
        cells["flex_from"], cells["flex_to"] = task["flex"]
    for key in LISTS:
        if task.get(key):
            cells[key] = ", ".join(task[key])
    if "uses" in task:
        cells["uses"] = ", ".join(f"{r}={q}" for r, q in task["uses"].items())
    if "exclusive" in task:
        cells["exclusive"] = "true" if task["exclusive"] else "false"
    if "share" in task:  # the owner's own plans only: no one else receives share or withhold
        cells["share"] = task["share"] if task["share"] == "all" else ", ".join(task["share"])
    if "withhold" in task:
        cells["withhold"] = "; ".join(f"{f}: {' '.join(who)}"
                                      for f, who in task["withhold"].items())
    return cells


def task_rows(ev: ExportView) -> list[Row]:
    """The task list: a header row, then one row per task of the export view."""
    rows: list[Row] = [[*PLAN_COLUMNS, *TASK_COLUMNS]]
    for plan in ev.view["plans"]:
        for task in plan.get("tasks", []):
            cells = task_cells(task)
            rows.append([plan["id"], plan["owner"], ev.plan_tlp[plan["id"]].value,
                         *(cells.get(c, "") for c in TASK_COLUMNS)])
    return rows


def _auto_step(span: int) -> int:
    for step in (60, 360, 1440):
        if span <= step * 48:
            return step
    return 7 * 1440


def matrix_rows(ev: ExportView, step: str | None = None) -> list[Row]:
    """The synchronisation matrix: one row per plan, one column per time step.

    A task is placed only when the partner may see its start and duration; a
    cell names the tasks under way in its step (titles, or ids where the title
    is withheld). ``step`` is a duration (``6h``); by default one that gives at
    most 48 columns among 1h, 6h, 1d and 7d.
    """
    placed: list[tuple[Doc, list[tuple[int, int, str]]]] = []
    for plan in ev.view["plans"]:
        spans = []
        for task in plan.get("tasks", []):
            if "start" not in task or "duration" not in task:
                continue
            d = task["duration"]
            start = parse_time(task["start"])
            end = start + parse_duration(d["likely"] if isinstance(d, dict) else d)
            spans.append((start, end, task.get("title", task["id"])))
        if spans:
            placed.append((plan, spans))
    every = [s for _, spans in placed for s in spans]
    if not every:
        return [[*PLAN_COLUMNS, "scenarios"]]
    first = min(s for s, _, _ in every)
    last = max(max(e, s + 1) for s, e, _ in every)
    width = parse_duration(step) if step else _auto_step(last - first)
    if width <= 0:
        raise ValueError("the matrix step must be longer than 0m")
    edges = list(range(first, last, width))
    if len(edges) > 2000:
        raise ValueError(f"a step of {format_duration(width)} makes {len(edges)} columns; "
                         "give a longer --step")
    rows: list[Row] = [[*PLAN_COLUMNS, "scenarios", *(format_time(t) for t in edges)]]
    for plan, spans in placed:
        row: Row = [plan["id"], plan["owner"], ev.plan_tlp[plan["id"]].value,
                    ", ".join(plan.get("scenarios", []))]
        for t in edges:
            names = [title for s, e, title in spans
                     if s < t + width and (e > t if e > s else t <= s < t + width)]
            row.append("\n".join(names))
        rows.append(row)
    return rows


def to_csv(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def to_xlsx(ev: ExportView, step: str | None = None) -> bytes:
    """The workbook: ``tasks`` and ``matrix`` sheets; its subject names the TLP."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "tasks"
    for row in task_rows(ev):
        sheet.append(row)
    matrix = book.create_sheet("matrix")
    for row in matrix_rows(ev, step):
        matrix.append(row)
    for ws in (sheet, matrix):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    for row in matrix.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.title = f"{ev.view['id']} as {ev.partner}"
    book.properties.subject = f"TLP:{ev.tlp.value.upper()}"
    book.properties.creator = "jointplan"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
