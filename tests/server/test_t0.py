"""Declared T0s and calendar feeds on the server: the gate decides, the audit records,
and a feed shows its partner's timeline and nothing else."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from jointplan.formats.ical import timeline
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.formats.conftest import EXAMPLE
from tests.server.conftest import start_server


@pytest.fixture
def server(database_url):
    server = start_server(database_url, EXAMPLE, roles={"RRA": "viewer"})
    yield server
    server.hub.db.engine.dispose()


def _events(content: bytes) -> dict[str, dict[str, object]]:
    cal = Calendar.from_ical(content)
    return {str(e["uid"]): {"start": e.decoded("dtstart"), "summary": str(e["summary"]),
                            "description": str(e["description"])}
            for e in cal.walk("VEVENT")}


def test_a_planner_declares_and_every_partner_sees_it_audited(server):
    c = server.client
    r = c.post("/api/t0", headers=server.as_("NOR"),
               json={"scenario": "unrest-aster", "t0": "2026-11-20T09:00+01:00",
                     "reason": "evacuation ordered"})
    assert r.status_code == 201, r.text
    assert r.json() == {"scenario": "unrest-aster", "t0": "2026-11-20T08:00:00Z",
                        "partner": "NOR", "by": "nor-planner", "reason": "evacuation ordered",
                        "declared": r.json()["declared"], "decision": None}
    for partner in ("NOR", "SOU", "RRA"):
        got = c.get("/api/t0", headers=server.as_(partner)).json()
        assert [(d["scenario"], d["t0"]) for d in got] == [("unrest-aster",
                                                            "2026-11-20T08:00:00Z")]
        audit = c.get("/api/audit", headers=server.as_(partner)).json()
        assert any(e["action"] == "t0.declare" for e in audit), partner
    # a viewer may not declare nor withdraw; a scenario below a top one is refused by name
    r = c.post("/api/t0", headers=server.as_("RRA"),
               json={"scenario": "baseline", "t0": "2026-11-20T08:00Z"})
    assert r.status_code == 403
    assert c.delete("/api/t0/unrest-aster", headers=server.as_("RRA")).status_code == 403
    r = c.post("/api/t0", headers=server.as_("SOU"),
               json={"scenario": "closure-long", "t0": "2026-11-20T08:00Z"})
    assert r.status_code == 422 and "strait-closure" in r.text
    r = c.post("/api/t0", headers=server.as_("SOU"),
               json={"scenario": "baseline", "t0": "2026-11-20T08:00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "t0"]
    # an unknown scenario answers as missing
    r = c.post("/api/t0", headers=server.as_("SOU"),
               json={"scenario": "no-such-thing", "t0": "2026-11-20T08:00Z"})
    assert (r.status_code, r.json()) == (404, {"detail": "not found"})
    # undeclaring is recorded, and the declaration is gone for everyone
    assert c.delete("/api/t0/unrest-aster", headers=server.as_("SOU")).status_code == 204
    assert c.get("/api/t0", headers=server.as_("NOR")).json() == []
    audit = c.get("/api/audit", headers=server.as_("NOR")).json()
    assert any(e["action"] == "t0.undeclare" and e["partner"] == "SOU" for e in audit)
    assert c.delete("/api/t0/unrest-aster", headers=server.as_("SOU")).status_code == 404


def test_the_ical_export_uses_the_declared_t0(server):
    c = server.client
    c.post("/api/t0", headers=server.as_("SOU"),
           json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
    r = c.get("/api/exports/ical", headers=server.as_("SOU"))
    assert r.status_code == 200, r.text
    ws = load_checked(EXAMPLE).workspace
    want = timeline(export_view(ws, "SOU"), ws,
                    {"unrest-aster": datetime(2026, 11, 20, 8, tzinfo=UTC)})
    assert set(_events(r.content)) == {e.uid for e in want} and want


def test_a_calendar_feed_is_a_revocable_read_only_capability(server):
    c = server.client
    c.post("/api/t0", headers=server.as_("NOR"),
           json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
    c.post("/api/t0", headers=server.as_("NOR"),
           json={"scenario": "strait-closure", "t0": "2026-12-01T00:00Z"})
    r = c.post("/api/calendar-feeds", headers=server.as_("SOU"), json={"name": "desk"})
    assert r.status_code == 201, r.text
    feed = r.json()
    assert feed["url"].endswith(f"/calendar/{feed['secret']}.ics")
    path = "/calendar/" + feed["url"].rsplit("/calendar/", 1)[1]
    got = c.get(path)  # no Authorization header: calendar clients send none
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/calendar")
    events = _events(got.content)
    ws = load_checked(EXAMPLE).workspace
    t0s = {"unrest-aster": datetime(2026, 11, 20, 8, tzinfo=UTC),
           "strait-closure": datetime(2026, 12, 1, tzinfo=UTC)}
    want = {e.uid: e for e in timeline(export_view(ws, "SOU"), ws, t0s)}
    assert set(events) == set(want) and len(want) > 3
    for uid, e in events.items():
        assert e["start"] == want[uid].start
    # stable UIDs: fetched again, the same events
    assert set(_events(c.get(path).content)) == set(events)
    # canaries: no task of a plan SOU may not see appears, by id or by title
    seen = view_for(ws, "SOU")
    seen_tasks = {(p["id"], t["id"]) for p in seen["plans"] for t in p.get("tasks", [])}
    text = got.content.decode()
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    hidden = [(p.id, t) for p in ws.plans for t in p.tasks if (p.id, t.id) not in seen_tasks]
    assert hidden
    for pid, task in hidden:
        assert f"{pid}/{task.id}" not in unfolded
        assert task.title not in unfolded, task.title
    # the secret is no API token, and the API token is no feed
    assert c.get("/api/me", headers={"Authorization": f"Bearer {feed['secret']}"}
                 ).status_code == 401
    assert c.get(f"/calendar/{server.tokens['SOU']}.ics").status_code == 404
    # listed without the secret; another partner cannot revoke it (missing)
    listed = c.get("/api/calendar-feeds", headers=server.as_("SOU")).json()
    assert [f["id"] for f in listed] == [feed["id"]] and feed["secret"] not in str(listed)
    assert c.get("/api/calendar-feeds", headers=server.as_("NOR")).json() == []
    assert c.delete(f"/api/calendar-feeds/{feed['id']}",
                    headers=server.as_("NOR")).status_code == 404
    assert c.get(path).status_code == 200
    # revoked: the address answers exactly like an unknown one
    assert c.delete(f"/api/calendar-feeds/{feed['id']}",
                    headers=server.as_("SOU")).status_code == 204
    gone, unknown = c.get(path), c.get("/calendar/jpcal_" + "x" * 43 + ".ics")
    assert gone.status_code == unknown.status_code == 404 and gone.content == unknown.content
    actions = [e["action"] for e in c.get("/api/audit", headers=server.as_("SOU")).json()]
    assert {"calendar.create", "calendar.use", "calendar.revoke"} <= set(actions)
    assert "calendar.use" not in [e["action"] for e in
                                  c.get("/api/audit", headers=server.as_("NOR")).json()]


def test_the_time_zone_is_validated_and_kept_per_user(server):
    c = server.client
    r = c.put("/api/me/timezone", headers=server.as_("NOR"), json={"timezone": "Mars/Olympus"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "timezone"]
    r = c.put("/api/me/timezone", headers=server.as_("NOR"), json={"timezone": "Europe/Oslo"})
    assert r.json() == {"timezone": "Europe/Oslo"}
