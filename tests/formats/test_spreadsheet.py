"""Spreadsheets out: task lists and the synchronisation matrix as the partner may see them."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from openpyxl import load_workbook

from jointplan.formats.spreadsheet import (
    PLAN_COLUMNS,
    TASK_COLUMNS,
    matrix_rows,
    task_cells,
    task_rows,
    to_csv,
    to_xlsx,
)
from jointplan.model import format_time, parse_time
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.formats.conftest import CANARY_SETTINGS, assert_no_canary_leaks, example
from tests.strategies import workspaces


def _xlsx_rows(data: bytes, sheet: str) -> list[list[str]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [["" if v is None else str(v) for v in row]
            for row in book[sheet].iter_rows(values_only=True)]
    book.close()
    return rows


@pytest.mark.parametrize("partner", ["NOR", "SOU", "RRA"])
def test_the_task_list_read_back_is_the_partners_tasks(partner):
    ws = example()
    ev = export_view(ws, partner)
    view = view_for(ws, partner)
    want = [[p["id"], p["owner"], p.get("tlp", ""),
             *(str(task_cells(t).get(c, "")) for c in TASK_COLUMNS)]
            for p in view["plans"] for t in p.get("tasks", [])]
    assert want
    from_csv = list(csv.reader(io.StringIO(to_csv(task_rows(ev)))))
    assert from_csv[0] == [*PLAN_COLUMNS, *TASK_COLUMNS]
    assert from_csv[1:] == want
    assert _xlsx_rows(to_xlsx(ev), "tasks") == from_csv


def test_a_withheld_field_is_a_blank_cell_named_in_withheld():
    rows = task_rows(export_view(example(), "SOU"))
    head = rows[0]
    care = next(r for r in rows if r[3] == "casualty-care")
    assert care[head.index("uses")] == "" and care[head.index("withheld")] == "uses"
    assert care[head.index("share")] == "" and care[head.index("withhold")] == ""


def test_the_matrix_places_each_task_in_the_steps_it_is_under_way():
    ev = export_view(example(), "NOR")
    rows = matrix_rows(ev, "6h")
    head = rows[0]
    starts = [parse_time(t["start"]) for p in ev.view["plans"] for t in p.get("tasks", [])]
    assert head[:4] == ["plan", "partner", "tlp", "scenarios"]
    assert head[4] == format_time(min(starts))
    row = next(r for r in rows if r[0] == "nor-evacuation")
    # crisis-cell runs T+0h–T+2h: in the T+0h column only
    col = head.index("T+0h")
    assert "Activate the consular crisis cell" in row[col].split("\n")
    assert "Activate the consular crisis cell" not in row[col + 1].split("\n")
    assert _xlsx_rows(to_xlsx(ev, "6h"), "matrix") == [[str(c) for c in r] for r in rows]


def test_the_workbook_names_the_most_restrictive_tlp():
    ev = export_view(example(), "RRA")
    book = load_workbook(io.BytesIO(to_xlsx(ev)))
    assert book.properties.subject == f"TLP:{ev.tlp.value.upper()}"


def test_a_step_too_fine_is_refused():
    with pytest.raises(ValueError, match="longer --step"):
        matrix_rows(export_view(example(), "NOR"), "1m")


def _all_text(ws, partner, step=None):
    ev = export_view(ws, partner)
    text = to_csv(task_rows(ev)) + to_csv(matrix_rows(ev, step))
    data = to_xlsx(ev, step)
    for sheet in ("tasks", "matrix"):
        text += "\n".join("\t".join(r) for r in _xlsx_rows(data, sheet))
    return text


@CANARY_SETTINGS
@given(workspaces())
def test_no_spreadsheet_holds_anything_the_partner_may_not_see(generated):
    assert_no_canary_leaks(generated, _all_text, "spreadsheet")
