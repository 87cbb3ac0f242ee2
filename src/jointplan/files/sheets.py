"""Cells of a spreadsheet, shared by every reader of sheets (task lists, MSELs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Sheet:
    """Rows of cells read from one sheet, with its name for messages."""

    name: str
    rows: list[list[Any]]


def column_letter(index: int) -> str:
    """``0 -> A``, ``26 -> AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as text: empty for none, ``true``/``false``, whole floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_sheet(book: Any, name: str) -> Sheet | str:
    """The sheet ``name`` of an open workbook (or its only sheet) with every row's values;
    a message saying which sheets there are when it has no such sheet and several."""
    if name in book.sheetnames:
        ws = book[name]
    elif len(book.sheetnames) == 1:
        ws = book[book.sheetnames[0]]
    else:
        return f"no sheet named {name!r}; sheets are " + ", ".join(book.sheetnames)
    return Sheet(ws.title, [list(r) for r in ws.iter_rows(values_only=True)])
