"""`jointplan export` and `jointplan import` as a user meets them: files, exit codes, problems."""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from icalendar import Calendar
from openpyxl import load_workbook
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.services.workspaces import load_checked
from tests.formats.conftest import CANARY_SETTINGS, EXAMPLE
from tests.strategies import workspaces

runner = CliRunner()
T0 = "unrest-aster=2026-11-20T08:00Z"


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "ws")
    return tmp_path / "ws"


@pytest.mark.parametrize("kind", ["geojson", "xlsx", "csv", "ical", "stix"])
def test_every_export_writes_its_file_and_names_the_tlp(folder, tmp_path, kind):
    out = tmp_path / f"out.{kind}"
    extra = ["--t0", T0] if kind == "ical" else []
    result = runner.invoke(app, ["export", kind, str(folder), "--as", "SOU", "-o", str(out),
                                 *extra])
    assert result.exit_code == 0, result.output
    assert "TLP:AMBER" in result.stderr
    data = out.read_bytes()
    if kind == "geojson":
        assert json.loads(data)["type"] == "FeatureCollection"
    elif kind == "xlsx":
        assert load_workbook(io.BytesIO(data)).sheetnames == ["tasks", "matrix"]
    elif kind == "csv":
        assert data.decode().startswith("plan,partner,tlp,id,title")
    elif kind == "ical":
        assert Calendar.from_ical(data).walk("VEVENT")
    else:
        assert json.loads(data)["type"] == "bundle"


def test_an_export_goes_to_standard_output_without_o(folder):
    result = runner.invoke(app, ["export", "csv", str(folder), "--as", "NOR",
                                 "--sheet", "matrix", "--step", "1d"])
    assert result.exit_code == 0
    assert result.stdout.startswith("plan,partner,tlp,scenarios,")


def test_a_calendar_without_t0_exits_2_saying_why(folder):
    result = runner.invoke(app, ["export", "ical", str(folder), "--as", "NOR"])
    assert result.exit_code == 2
    assert "cannot place events without a T0" in result.stderr and result.stdout == ""


def test_a_partner_not_in_the_workspace_is_refused(folder):
    result = runner.invoke(app, ["export", "stix", str(folder), "--as", "XYZ"])
    assert result.exit_code == 2 and "XYZ is not a partner" in result.stderr


def test_red_objects_received_are_left_out_and_said_so(folder):
    plan = folder / "rra-relief.yaml"
    plan.write_text(re.sub(r"(?m)^tlp: .*$", "tlp: red", plan.read_text()))
    result = runner.invoke(app, ["export", "csv", str(folder), "--as", "SOU"])
    assert result.exit_code == 0
    assert "left out: rra-relief is marked red by RRA" in result.stderr
    assert "rra-relief" not in result.stdout
    own = runner.invoke(app, ["export", "csv", str(folder), "--as", "RRA"])
    assert "rra-relief" in own.stdout and "TLP:RED" in own.stderr


def test_a_task_list_exported_and_imported_gives_the_same_plan(folder, tmp_path):
    before = load_checked(folder).workspace.plan("nor-evacuation")
    out = tmp_path / "nor.xlsx"
    assert runner.invoke(app, ["export", "xlsx", str(folder), "--as", "NOR",
                               "-o", str(out)]).exit_code == 0
    result = runner.invoke(app, ["import", "xlsx", str(folder), str(out), "--as", "NOR",
                                 "--plan", "nor-evacuation"])
    assert result.exit_code == 0, result.output
    assert load_checked(folder).workspace.plan("nor-evacuation") == before


def test_import_problems_exit_2_at_their_cells_writing_nothing(folder, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text("id,title,start,duration\na,A,soon,1h\n")
    result = runner.invoke(app, ["import", "csv", str(folder), str(source), "--as", "NOR",
                                 "--plan", "nor-new", "--title", "New",
                                 "--scenario", "baseline"])
    assert result.exit_code == 2
    assert result.stderr.startswith("new!C2: 'soon' is not a time")
    assert not (folder / "nor-new.yaml").exists()


def test_import_geojson_prints_the_areas(tmp_path):
    source = tmp_path / "a.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "quay", "name": "Quay"},
         "geometry": {"type": "Polygon",
                      "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}]}))
    result = runner.invoke(app, ["import", "geojson", str(source)])
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["areas"][0]["id"] == "quay"
    source.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    result = runner.invoke(app, ["import", "geojson", str(source)])
    assert result.exit_code == 2 and "features[0] properties" in result.stderr


def test_stix_exported_and_imported_keeps_the_partners_observations(folder, tmp_path):
    out = tmp_path / "sou.json"
    assert runner.invoke(app, ["export", "stix", str(folder), "--as", "SOU",
                               "-o", str(out)]).exit_code == 0
    result = runner.invoke(app, ["import", "stix", str(folder), str(out), "--as", "SOU",
                                 "--share", "all"])
    assert result.exit_code == 0, result.output
    assert "observations to" in result.stderr
    load_checked(folder)
    broken = json.loads(out.read_text())
    sighting = next(o for o in broken["objects"] if o["type"] == "sighting")
    sighting["first_seen"] = sighting["last_seen"] = "someday"
    out.write_text(json.dumps(broken))
    result = runner.invoke(app, ["import", "stix", str(folder), str(out), "--as", "SOU"])
    assert result.exit_code == 2 and result.stderr.startswith(f"{sighting['id']}: ")


def _every_export(folder: Path, partner: str) -> str:
    texts = []
    for kind in ("geojson", "csv", "ical", "stix"):
        extra = ["--t0", "s0=2026-11-20T08:00Z"] if kind == "ical" else []
        result = runner.invoke(app, ["export", kind, str(folder), "--as", partner, *extra])
        assert result.exit_code == 0, result.output
        texts.append(re.sub(r"\r\n[ \t]", "", result.stdout) + result.stderr)
    matrix = runner.invoke(app, ["export", "csv", str(folder), "--as", partner,
                                 "--sheet", "matrix"])
    texts.append(matrix.stdout + matrix.stderr)
    return "\n".join(texts)


@settings(CANARY_SETTINGS, max_examples=10)
@given(workspaces())
def test_no_export_command_prints_anything_the_partner_may_not_see(generated):
    with tempfile.TemporaryDirectory(prefix="jointplan-cli-formats-") as tmp:
        folder = generated.write(Path(tmp) / "ws")
        for viewer in generated.partners:
            text = _every_export(folder, viewer)
            for canary in generated.forbidden(viewer):
                assert canary not in text, f"export as {viewer} leaks {canary!r}"
