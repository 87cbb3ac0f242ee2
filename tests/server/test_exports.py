"""Exports for the signed-in partner: the CLI's bytes from the stored workspace, audited."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from jointplan.formats.geojson import dumps, export_geojson
from jointplan.formats.spreadsheet import matrix_rows, task_rows, to_csv
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from tests.formats.conftest import EXAMPLE
from tests.server.conftest import start_server


@pytest.fixture
def server(database_url):
    server = start_server(database_url, EXAMPLE)
    yield server
    server.hub.db.engine.dispose()


def test_each_export_is_the_partners_view_as_the_cli_makes_it(server):
    ws = load_checked(EXAMPLE).workspace
    for partner in ("NOR", "SOU", "RRA"):
        ev = export_view(ws, partner)
        auth = server.as_(partner)
        r = server.client.get("/api/exports/geojson", headers=auth)
        assert r.status_code == 200 and r.headers["x-tlp"] == ev.tlp.value.upper()
        assert r.headers["content-type"] == "application/geo+json"
        assert r.content == dumps(export_geojson(ev)).encode()
        r = server.client.get("/api/exports/csv", headers=auth)
        assert r.text == to_csv(task_rows(ev))
        r = server.client.get("/api/exports/csv", headers=auth,
                              params={"sheet": "matrix", "step": "1d"})
        assert r.text == to_csv(matrix_rows(ev, "1d"))
        r = server.client.get("/api/exports/xlsx", headers=auth)
        assert load_workbook(io.BytesIO(r.content)).sheetnames == ["tasks", "matrix"]
        assert "attachment" in r.headers["content-disposition"]
        r = server.client.get("/api/exports/stix", headers=auth)
        assert json.loads(r.content)["type"] == "bundle"
        r = server.client.get("/api/exports/ical", headers=auth,
                              params={"t0": "unrest-aster=2026-11-20T08:00Z"})
        assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR")


def test_every_export_is_audited_for_its_partner_only(server):
    server.client.get("/api/exports/stix", headers=server.as_("SOU"))
    mine = server.client.get("/api/audit", headers=server.as_("SOU")).json()
    assert any(e["action"] == "export" and e.get("detail", {}).get("format") == "stix"
               for e in mine), mine
    theirs = server.client.get("/api/audit", headers=server.as_("NOR")).json()
    assert not any(e["action"] == "export" for e in theirs)


def test_bad_parameters_name_the_field(server):
    auth = server.as_("NOR")
    r = server.client.get("/api/exports/ical", headers=auth)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "t0"]
    assert "cannot place events without a T0" in r.json()["detail"][0]["msg"]
    r = server.client.get("/api/exports/csv", headers=auth, params={"sheet": "matrix",
                                                                    "step": "soon"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "step"]
    r = server.client.get("/api/exports/pdf", headers=auth)
    assert (r.status_code, r.content) == (404, b'{"detail":"not found"}')
    assert server.client.get("/api/exports/stix").status_code == 401
