"""Spreadsheets in: a plan's tasks from a CSV file or an XLSX sheet, into a plan file.

The first row names the columns (``spreadsheet.TASK_COLUMNS``; ``id``,
``title``, ``start`` and ``duration`` are required, the rest optional, in any
order). Where a ``plan`` column is present only the rows of the plan being
imported are read, so a task list exported from jointplan comes back in as it
went out. Each problem is reported as ``sheet!cell: message``; the plan file is
checked with the rest of the workspace, and problems found there are told at
the cell of the row and column they come from.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files.sheets import Sheet, cell_text, column_letter, read_sheet
from ..model import TimecodeError, parse_duration, parse_time
from . import FormatError
from .spreadsheet import PLAN_COLUMNS, TASK_COLUMNS

Doc = dict[str, Any]
REQUIRED = ("id", "title", "start", "duration")
_USE = re.compile(r"\s*([a-z0-9][a-z0-9-]*)\s*=\s*(\d+)\s*")




@dataclass
class ImportedTasks:
    tasks: list[Doc]
    cells: list[dict[str, str]] = field(default_factory=list)
    """For each task, field -> the cell it came from (``tasks!C4``)."""


def read_csv(path: Path) -> Sheet:
    """A CSV file as one sheet named after the file (UTF-8, a BOM allowed)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise FormatError([f"{path}: cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise FormatError([f"{path}: not UTF-8 text; save the sheet as CSV UTF-8"]) from None
    return Sheet(path.stem, [row for row in csv.reader(io.StringIO(text))])


def read_xlsx(path: Path, sheet: str = "tasks") -> Sheet:
    """One sheet of a workbook (by default ``tasks``, else the only sheet)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise FormatError([f"{path}: cannot read the file: {exc.strerror}"]) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise FormatError([f"{path}: not an XLSX workbook ({type(exc).__name__})"]) from None
    try:
        found = read_sheet(book, sheet)
        if isinstance(found, str):
            raise FormatError([f"{path}: {found}"])
        return found
    finally:
        book.close()


def _cell_order(problem: str) -> tuple[int, int, str]:
    match = re.match(r"[^!]*!([A-Z]+)(\d+):", problem)
    if match is None:
        return (0, 0, problem)
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return (int(match.group(2)), col, problem)



def read_tasks(sheet: Sheet, plan_id: str, owner: str) -> ImportedTasks:
    """The tasks of ``plan_id`` in the sheet, or FormatError listing every bad cell."""
    problems: list[str] = []
    if not sheet.rows:
        raise FormatError([f"{sheet.name}!A1: the sheet is empty; the first row names the "
                           "columns (" + ", ".join(REQUIRED) + ", ...)"])
    columns: dict[str, int] = {}
    for i, head in enumerate(sheet.rows[0]):
        name = cell_text(head).lower()
        cell = f"{sheet.name}!{column_letter(i)}1"
        if not name:
            continue
        if name not in TASK_COLUMNS and name not in PLAN_COLUMNS:
            problems.append(f"{cell}: unknown column {name!r}; columns are "
                            + ", ".join((*PLAN_COLUMNS, *TASK_COLUMNS)))
        elif name in columns:
            problems.append(f"{cell}: the column {name!r} is also "
                            f"{column_letter(columns[name])}1")
        else:
            columns[name] = i
    for name in REQUIRED:
        if name not in columns:
            problems.append(f"{sheet.name}!A1: no column named {name!r}; the first row names "
                            "the columns, and id, title, start and duration are required")
    if problems:
        raise FormatError(problems)
    out = ImportedTasks([])
    for r, row in enumerate(sheet.rows[1:], start=2):
        values = {name: cell_text(row[i]) if i < len(row) else "" for name, i in columns.items()}
        if not any(values.values()):
            continue  # blank rows separate groups in many sheets
        if "plan" in values and values["plan"] != plan_id:
            continue
        at = {name: f"{sheet.name}!{column_letter(i)}{r}" for name, i in columns.items()}
        if values.get("partner", owner) not in ("", owner):
            problems.append(f"{at['partner']}: the row is {values['partner']}'s, but the plan "
                            f"{plan_id} is {owner}'s")
            continue
        task = _task(values, at, problems)
        if task is not None:
            out.tasks.append(task)
            out.cells.append(at)
    if problems:
        raise FormatError(sorted(problems, key=_cell_order))
    if not out.tasks:
        where = f" with {plan_id!r} in the plan column" if "plan" in columns else ""
        raise FormatError([f"{sheet.name}!A2: no task rows{where}"])
    return out


def _task(v: dict[str, str], at: dict[str, str], problems: list[str]) -> Doc | None:
    before = len(problems)
    withheld = [x.strip() for x in v.get("withheld", "").split(",") if x.strip()]
    task: Doc = {}

    def need(name: str) -> str:
        if not v.get(name) and name not in withheld:
            problems.append(f"{at[name]}: {name} is required")
        return v.get(name, "")

    def check(name: str, parse: Any, value: str, hint: str) -> str:
        try:
            parse(value)
        except TimecodeError as exc:
            problems.append(f"{at[name]}: {exc}{hint}")
        return value

    task["id"] = need("id")
    if v.get("title") or "title" not in withheld:
        task["title"] = need("title")
    if v.get("start") or "start" not in withheld:
        task["start"] = check("start", parse_time, need("start"), "")
    if v.get("duration") or "duration" not in withheld:
        likely = check("duration", parse_duration, need("duration"), "")
        low, high = v.get("duration_min", ""), v.get("duration_max", "")
        if low or high:
            for name, value in (("duration_min", low), ("duration_max", high)):
                if not value:
                    problems.append(f"{at.get(name, at['duration'])}: a three-point duration "
                                    "gives duration, duration_min and duration_max")
                else:
                    check(name, parse_duration, value, "")
            task["duration"] = {"likely": likely, "min": low, "max": high}
        else:
            task["duration"] = likely
    flex = v.get("flex_from", ""), v.get("flex_to", "")
    if any(flex):
        for name, value in zip(("flex_from", "flex_to"), flex, strict=True):
            if not value:
                given = "flex_from" if name == "flex_to" else "flex_to"
                problems.append(f"{at.get(name, at[given])}: flex gives flex_from and flex_to")
            else:
                check(name, parse_time, value, "")
        task["flex"] = list(flex)
    if v.get("after"):
        task["after"] = [x.strip() for x in v["after"].split(",") if x.strip()]
    if v.get("uses"):
        uses = {}
        for part in v["uses"].split(","):
            match = _USE.fullmatch(part)
            if match is None:
                problems.append(f"{at['uses']}: {part.strip()!r} is not RESOURCE=QUANTITY; "
                                "write it like berth-aster=1, apron=2")
            else:
                uses[match.group(1)] = int(match.group(2))
        task["uses"] = uses
    for name in ("area", "commitment", "phase", "unit"):
        if v.get(name):
            task[name] = v[name]
    if v.get("exclusive"):
        flag = v["exclusive"].lower()
        if flag not in ("true", "false"):
            problems.append(f"{at['exclusive']}: exclusive is true or false, "
                            f"not {v['exclusive']!r}")
        task["exclusive"] = flag == "true"
    if v.get("serves"):
        task["serves"] = [x.strip() for x in v["serves"].split(",") if x.strip()]
    if v.get("share"):
        share = [x.strip() for x in v["share"].split(",") if x.strip()]
        task["share"] = "all" if share == ["all"] else share
    if v.get("withhold"):
        withhold = {}
        for part in v["withhold"].split(";"):
            name, colon, who = part.partition(":")
            if not colon or not name.strip() or not who.split():
                problems.append(f"{at['withhold']}: {part.strip()!r} is not FIELD: PARTNERS; "
                                "write it like uses: SOU RRA; area: RRA")
            else:
                withhold[name.strip()] = who.split()
        task["withhold"] = withhold
    if withheld:
        task["withheld"] = withheld
    return task if len(problems) == before else None

def import_plan(folder: Path, sheet: Sheet, *, plan_id: str, owner: str,
                title: str | None = None, scenarios: tuple[str, ...] = (),
                output: Path | None = None) -> Path:
    """Write the plan ``plan_id`` with the sheet's tasks into the folder (or ``output``).

    An existing plan file of that id keeps everything but its tasks (``title`` and
    ``scenarios`` replace its own when given). The workspace with the new plan is
    checked as ``check`` checks it; on any problem nothing is written and
    FormatError lists each one, at its cell where it comes from one.
    """
    from .planfile import check_in, emit, find_plan, write

    imported = read_tasks(sheet, plan_id, owner)
    existing_path, existing = find_plan(folder, plan_id)
    if existing is not None and existing.get("owner") != owner:
        raise FormatError([f"{existing_path}: the plan {plan_id} is "
                           f"{existing.get('owner')}'s, not {owner}'s"])
    doc: Doc = existing or {"jointplan": 1, "kind": "plan", "id": plan_id, "owner": owner}
    if title:
        doc["title"] = title
    if scenarios:
        doc["scenarios"] = list(scenarios)
    missing = [f"give --{option}" for option, key in (("title", "title"),
                                                      ("scenario", "scenarios"))
               if key not in doc]
    if missing:
        raise FormatError([f"the new plan {plan_id} needs a title and scenarios: "
                           + " and ".join(missing)])
    doc = {k: v for k, v in doc.items() if k != "tasks"} | {"tasks": imported.tasks}
    target = output or existing_path or folder / f"{plan_id}.yaml"
    text, first = emit(doc, "tasks", target.suffix)
    problems = check_in(folder, text, target.name, existing_path)
    if problems:
        lines = text.splitlines()
        raise FormatError([_at_cell(p, target.name, lines, first, imported)
                           for p in problems])
    write(target, text)
    return target


def _at_cell(problem: Any, name: str, lines: list[str], first: int,
             imported: ImportedTasks) -> str:
    if problem.file != name:
        return str(problem)
    index = problem.line - first
    if not 0 <= index < len(imported.tasks):
        return f"the plan file: {problem.message}"
    line, cells = lines[problem.line - 1], imported.cells[index]
    keys = [(m.start(), m.group(1)) for m in re.finditer(r'"([a-z_]+)": ', line)
            if m.group(1) in TASK_COLUMNS or m.group(1) == "flex"]
    key = max((k for k in keys if k[0] <= problem.column - 1), default=(0, "id"))[1]
    cell = cells.get(key) or cells.get(f"{key}_from") or cells["id"]
    return f"{cell}: {problem.message}"
