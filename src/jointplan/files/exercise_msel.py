"""Injects from a Master Scenario Events List: a CSV file or an XLSX sheet, one row per inject.

The first row names the columns, in any order: ``id``, ``to``, ``from``,
``channel`` and ``text`` are required; ``at``, ``when``, ``delay`` and
``expect`` are optional. ``to`` lists partner codes separated by commas or
spaces; ``when`` is ``missed EXPECTATION`` or ``met EXPECTATION``; ``expect``
lists expectations separated by ``;``, each ``ID PARTNER PLAN/TASK BY
[OBJECTIVE]``. Every problem names its cell: ``sheet!C4: message``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ..model import TimecodeError, parse_duration, parse_time
from ..model.exercise import CHANNELS, DrillExpectation, Inject, Trigger
from .build import Locator
from .fields import CODE, SLUG
from .problems import Problem
from .sheets import Sheet, cell_text, column_letter, read_sheet

COLUMNS = ("id", "at", "when", "delay", "to", "from", "channel", "text", "expect")
REQUIRED = ("id", "to", "from", "channel", "text")
_SLUG = re.compile(SLUG)
_CODE = re.compile(CODE)
_TASKREF = re.compile(r"[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*")



class SheetError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(f"{p.file}: {p.message}" for p in problems))
        self.problems = problems


def cell_problem(sheet: str, col: int, row: int, message: str) -> Problem:
    """A problem located at a cell (``col`` from 0, ``row`` from 1): ``sheet!C4``."""
    return Problem(f"{sheet}!{column_letter(col)}{row}", 0, 0, message)



def read_msel_file(path: Path, sheet: str = "injects") -> Sheet:
    """The MSEL in ``path``: CSV (named after the file) or an XLSX sheet (``injects``)."""
    name = path.stem
    try:
        if path.suffix.lower() == ".csv":
            text = path.read_bytes().decode("utf-8-sig")
            return Sheet(name, [list(r) for r in csv.reader(io.StringIO(text))])
        if path.suffix.lower() != ".xlsx":
            raise SheetError([Problem(str(path), 0, 0, "an MSEL is a .csv or .xlsx file")])
        from openpyxl import load_workbook
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise SheetError([Problem(str(path), 0, 0, f"cannot read the file: {exc.strerror}")]
                         ) from None
    except UnicodeDecodeError:
        raise SheetError([Problem(str(path), 0, 0, "not UTF-8 text; save the sheet as CSV "
                                  "UTF-8")]) from None
    except SheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise SheetError([Problem(str(path), 0, 0, "not an XLSX workbook "
                                  f"({type(exc).__name__})")]) from None
    try:
        found = read_sheet(book, sheet)
        if isinstance(found, str):
            raise SheetError([Problem(str(path), 0, 0, found)])
        return found
    finally:
        book.close()



def injects_from_sheet(sheet: Sheet, loc: Locator, problems: list[Problem]) -> list[Inject]:
    """The injects of the sheet; each bad cell's problem is added to ``problems``."""
    if not sheet.rows:
        problems.append(cell_problem(sheet.name, 0, 1, "the sheet is empty; the first row "
                                     "names the columns (" + ", ".join(REQUIRED) + ", ...)"))
        return []
    columns: dict[str, int] = {}
    for i, head in enumerate(sheet.rows[0]):
        name = cell_text(head).lower()
        if not name:
            continue
        if name not in COLUMNS:
            problems.append(cell_problem(sheet.name, i, 1, f"unknown column {name!r}; the "
                                         "columns are " + ", ".join(COLUMNS)))
        elif name in columns:
            problems.append(cell_problem(sheet.name, i, 1, f"the column {name!r} is repeated"))
        else:
            columns[name] = i
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(cell_problem(sheet.name, 0, 1, "missing columns: " + ", ".join(missing)))
        return []
    out = []
    for number, row in enumerate(sheet.rows[1:], start=2):
        if all(cell_text(v) == "" for v in row):
            continue
        inject = _row(sheet.name, number, row, columns, loc, problems)
        if inject is not None:
            out.append(inject)
    return out


def _row(sheet: str, number: int, row: list[Any], columns: dict[str, int], loc: Locator,
         problems: list[Problem]) -> Inject | None:
    before = len(problems)

    def cell(name: str) -> str:
        i = columns.get(name)
        return cell_text(row[i]) if i is not None and i < len(row) else ""

    def bad(name: str, message: str) -> None:
        problems.append(cell_problem(sheet, columns[name], number, message))

    def where(name: str) -> tuple[str, int, int]:
        return (f"{sheet}!{column_letter(columns[name])}{number}", 0, 0)

    iid = cell("id")
    if not _SLUG.fullmatch(iid):
        bad("id", f"an inject id is lowercase letters, digits and hyphens; got {iid!r}")
    at: int | None = None
    when: Trigger | None = None
    if cell("at") and cell("when"):
        bad("when", "give `at` or `when`, not both")
    elif cell("at"):
        try:
            at = parse_time(cell("at"))
            if at < 0:
                bad("at", f"must be at or after T+0h; got {cell('at')}")
        except TimecodeError as exc:
            bad("at", str(exc))
    elif cell("when"):
        parts = cell("when").split()
        if len(parts) != 2 or parts[0] not in ("missed", "met") or not _SLUG.fullmatch(parts[1]):
            bad("when", f"write `missed EXPECTATION` or `met EXPECTATION`; got {cell('when')!r}")
        else:
            when = Trigger(parts[1], parts[0] == "met")
            loc.places[("when", iid)] = where("when")
    else:
        bad("id", f"inject {iid!r} needs `at` (a time) or `when` (a condition)")
    delay = 0
    if cell("delay"):
        if when is None and not cell("when"):
            bad("delay", "`delay` is only for a conditional inject (with `when`)")
        else:
            try:
                delay = parse_duration(cell("delay"))
            except TimecodeError as exc:
                bad("delay", str(exc))
    to = [c for c in re.split(r"[,\s]+", cell("to")) if c]
    if not to:
        bad("to", "name at least one player")
    for code in to:
        if not _CODE.fullmatch(code):
            bad("to", f"{code!r} is not a partner code of 2-8 capital letters")
    if len(set(to)) != len(to):
        bad("to", "a partner is named twice")
    for code in to:
        loc.places[("to", iid, code)] = where("to")
    for name in ("from", "text"):
        if not cell(name):
            bad(name, f"`{name}` is required")
    if cell("channel") not in CHANNELS:
        bad("channel", "must be one of " + ", ".join(CHANNELS) + f"; got {cell('channel')!r}")
    expect = []
    for part in [p.strip() for p in cell("expect").split(";") if p.strip()]:
        words = part.split()
        if (len(words) not in (4, 5) or not _SLUG.fullmatch(words[0])
                or not _CODE.fullmatch(words[1]) or not _TASKREF.fullmatch(words[2])
                or (len(words) == 5 and not _SLUG.fullmatch(words[4]))):
            bad("expect", f"an expectation is `ID PARTNER PLAN/TASK BY [OBJECTIVE]`; got {part!r}")
            continue
        try:
            by = parse_time(words[3])
        except TimecodeError as exc:
            bad("expect", str(exc))
            continue
        if by < 0:
            bad("expect", f"`by` must be at or after T+0h; got {words[3]}")
            continue
        eid = words[0]
        expect.append(DrillExpectation(eid, words[1], words[2], by,
                                       words[4] if len(words) == 5 else None))
        for key in ("expectation", "expectation-partner", "expectation-task",
                    "expectation-objective"):
            loc.places[(key, eid)] = where("expect")
    if len(problems) > before:
        return None
    loc.places[("inject", iid)] = where("id")
    return Inject(iid, tuple(to), cell("from"), cell("channel"), cell("text"), at, when, delay,
                  tuple(expect))
