"""Spreadsheets in: a plan's tasks from CSV or XLSX, every problem at its cell, all or nothing."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import Workbook

from jointplan.formats import FormatError
from jointplan.formats.spreadsheet import task_rows, to_csv, to_xlsx
from jointplan.formats.spreadsheet_import import (
    Sheet,
    column_letter,
    import_plan,
    read_csv,
    read_tasks,
    read_xlsx,
)
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from tests.conftest import JOINT, write_workspace
from tests.formats.conftest import EXAMPLE

SPREADSHEET_PLAN = """\
id,title,start,duration,duration_min,duration_max,after,uses,area,exclusive,commitment,unit
load,Load the relief convoy,T+1h,3h,2h,5h,,dock=1,,,committed,Depot team
drive,Drive to the zone,T+4h,6h,,,load,,zone,true,planned,
unload,Unload at the zone,T+10h,2h,,,drive,dock=1,zone,false,intent,Depot team
"""


@pytest.fixture
def folder(tmp_path):
    return write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT})


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_a_spreadsheet_plan_imported_checked_and_exported_gives_the_same_tasks(folder, tmp_path):
    source = tmp_path / "convoy.csv"
    source.write_text(SPREADSHEET_PLAN)
    written = import_plan(folder, read_csv(source), plan_id="aaa-convoy", owner="AAA",
                          title="Relief convoy", scenarios=("s1",))
    assert written == folder / "aaa-convoy.yaml"
    ws = load_checked(folder).workspace  # checked as `check` checks it
    assert [t.id for t in ws.plan("aaa-convoy").tasks] == ["load", "drive", "unload"]
    rows = task_rows(export_view(ws, "AAA"))
    head = rows[0]
    exported = [{c: str(v) for c, v in zip(head, r, strict=True) if v != ""} for r in rows[1:]]
    lines = SPREADSHEET_PLAN.splitlines()
    names = lines[0].split(",")
    given = [{c: v for c, v in zip(names, line.split(","), strict=True) if v}
             for line in lines[1:]]
    for mine in exported:
        assert mine.pop("plan") == "aaa-convoy" and mine.pop("partner") == "AAA"
        assert mine.pop("tlp") == "amber"
        if mine.get("exclusive") == "false":  # written out whether given or not
            del mine["exclusive"]
    for mine in given:
        if mine.get("exclusive") == "false":
            del mine["exclusive"]
    assert exported == given


@pytest.mark.parametrize("partner", ["NOR", "SOU", "RRA"])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_exported_task_list_comes_back_in_as_the_same_tasks(tmp_path, partner, kind):
    folder = tmp_path / "ws"
    shutil.copytree(EXAMPLE, folder)
    ws = load_checked(folder).workspace
    ev = export_view(ws, partner)
    path = tmp_path / f"tasks.{kind}"
    if kind == "csv":
        path.write_text(to_csv(task_rows(ev)))
    else:
        path.write_bytes(to_xlsx(ev))
    sheet = read_csv(path) if kind == "csv" else read_xlsx(path)
    for plan in ws.plans:
        if plan.owner == partner and plan.tasks:
            import_plan(folder, sheet, plan_id=plan.id, owner=partner)
            again = load_checked(folder).workspace
            assert again.plan(plan.id) == plan


def test_problems_are_told_at_their_cells_and_nothing_is_written(folder, tmp_path):
    source = tmp_path / "convoy.csv"
    source.write_text("id,title,start,duration,exclusive,uses,flex_from\n"
                      "a,A,30h,1h,yes,dock=one,T+1h\n"
                      ",B,T+1h,6,,,\n")
    with pytest.raises(FormatError) as exc:
        import_plan(folder, read_csv(source), plan_id="aaa-convoy", owner="AAA",
                    title="Convoy", scenarios=("s1",))
    assert exc.value.problems == [
        "convoy!C2: '30h' is not a time; write it like T+30h, T+1d6h, T-2d or T+90m",
        "convoy!E2: exclusive is true or false, not 'yes'",
        "convoy!F2: 'dock=one' is not RESOURCE=QUANTITY; write it like berth-aster=1, apron=2",
        "convoy!G2: flex gives flex_from and flex_to",
        "convoy!A3: id is required",
        "convoy!D3: '6' is not a duration; write it like 90m, 6h, 2d or 1d12h",
    ]
    assert not (folder / "aaa-convoy.yaml").exists()


def test_workspace_problems_are_told_at_the_cell_they_come_from(folder, tmp_path):
    source = tmp_path / "convoy.csv"
    source.write_text("id,title,start,duration,uses,area\n"
                      "a,A,T+1h,1h,dock=1,zone\n"
                      "b,B,T+2h,1h,crane=1,nowhere\n")
    with pytest.raises(FormatError) as exc:
        import_plan(folder, read_csv(source), plan_id="aaa-convoy", owner="AAA",
                    title="Convoy", scenarios=("s1",))
    cells = sorted(p.split(":", 1)[0] for p in exc.value.problems)
    assert cells == ["convoy!E3", "convoy!F3"], exc.value.problems
    assert not (folder / "aaa-convoy.yaml").exists()


def test_the_header_is_checked():
    sheet = Sheet("tasks", [["id", "title", "begin", "id"], ["a", "A", "T+1h", "a"]])
    with pytest.raises(FormatError) as exc:
        read_tasks(sheet, "aaa-x", "AAA")
    assert exc.value.problems[0].startswith("tasks!C1: unknown column 'begin'")
    assert exc.value.problems[1] == "tasks!D1: the column 'id' is also A1"
    assert any("no column named 'start'" in p for p in exc.value.problems)


def test_an_xlsx_sheet_with_typed_cells_is_read(folder, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "tasks"
    sheet.append(["id", "title", "start", "duration", "exclusive", "uses"])
    sheet.append(["a", "A", "T+1h", "2h", True, "dock=1"])
    sheet.append(["b", "B", "T+3h", 2, False, None])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    with pytest.raises(FormatError) as exc:
        import_plan(folder, read_xlsx(path), plan_id="aaa-x", owner="AAA", title="X",
                    scenarios=("s1",))
    assert exc.value.problems == [
        "tasks!D3: '2' is not a duration; write it like 90m, 6h, 2d or 1d12h"]


def test_a_row_of_another_partner_is_refused(folder, tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("plan,partner,id,title,start,duration\naaa-x,BBB,a,A,T+1h,1h\n")
    with pytest.raises(FormatError, match=r"t!B2: the row is BBB's"):
        import_plan(folder, read_csv(source), plan_id="aaa-x", owner="AAA", title="X",
                    scenarios=("s1",))


def test_a_new_plan_needs_a_title_and_scenarios(folder, tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("id,title,start,duration\na,A,T+1h,1h\n")
    with pytest.raises(FormatError, match="give --title and give --scenario"):
        import_plan(folder, read_csv(source), plan_id="aaa-x", owner="AAA")


def test_a_plan_kept_as_json_stays_json(folder, tmp_path):
    (folder / "aaa-json.json").write_text(
        '{"jointplan": 1, "kind": "plan", "id": "aaa-json", "owner": "AAA", '
        '"title": "Kept as JSON", "scenarios": ["s2"], "tasks": []}')
    source = tmp_path / "t.csv"
    source.write_text("id,title,start,duration\na,A,T+1h,1h\nb,B,T+2h,30m\n")
    written = import_plan(folder, read_csv(source), plan_id="aaa-json", owner="AAA")
    assert written == folder / "aaa-json.json"
    plan = load_checked(folder).workspace.plan("aaa-json")
    assert plan.title == "Kept as JSON" and [t.id for t in plan.tasks] == ["a", "b"]
