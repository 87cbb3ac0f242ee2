"""T0 by joint decision: the workspace setting, requests put to a decision, and the
declarations `GET /api/check` carries."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.server import t0
from tests.formats.conftest import EXAMPLE
from tests.server.conftest import start_server

NOT_FOUND = b'{"detail":"not found"}'
ALL = ["NOR", "RRA", "SOU"]


@pytest.fixture
def server(database_url):
    server = start_server(database_url, EXAMPLE, roles={"NOR": "admin"})
    yield server
    server.hub.db.engine.dispose()


def _joint(server) -> None:
    r = server.client.put("/api/workspace/t0-mode", headers=server.as_("NOR"),
                          json={"mode": "joint"})
    assert r.status_code == 200, r.text


def _respond(server, partner: str, decision: str, stance: str = "concur", note: str = ""):
    return server.client.post(f"/api/decisions/{decision}/responses",
                              headers=server.as_(partner), json={"stance": stance, "note": note})


def _declared(server, partner: str) -> list[tuple[str, str]]:
    got = server.client.get("/api/t0", headers=server.as_(partner))
    return [(d["scenario"], d["t0"]) for d in got.json()]


def test_the_mode_is_planner_by_default_and_only_an_admin_changes_it_audited(server):
    c = server.client
    for partner in ALL:
        assert c.get("/api/workspace/t0-mode", headers=server.as_(partner)).json() == {
            "mode": "planner", "changed": None}
    r = c.put("/api/workspace/t0-mode", headers=server.as_("SOU"), json={"mode": "joint"})
    assert r.status_code == 403 and "admin" in r.text
    r = c.put("/api/workspace/t0-mode", headers=server.as_("NOR"), json={"mode": "together"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "mode"]
    assert c.get("/api/workspace/t0-mode", headers=server.as_("SOU")).json()["mode"] == "planner"
    _joint(server)
    for partner in ALL:
        assert c.get("/api/workspace/t0-mode", headers=server.as_(partner)).json()["mode"] == \
            "joint"
        entries = [e for e in c.get("/api/audit", headers=server.as_(partner)).json()
                   if e["action"] == "t0.mode"]
        assert len(entries) == 1 and entries[0]["subject"] == "workspace:t0-mode"
        # the detail is the admin's partner's only
        assert entries[0]["detail"] == ({"mode": "joint", "was": "planner"}
                                        if partner == "NOR" else {})


def test_in_joint_mode_a_planner_asks_and_t0_waits_for_every_partner(server):
    c = server.client
    _joint(server)
    # declaring or withdrawing directly is refused, saying how to ask
    r = c.post("/api/t0", headers=server.as_("SOU"),
               json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
    assert r.status_code == 403 and "/api/t0/requests" in r.text
    assert _declared(server, "SOU") == []
    r = c.post("/api/t0/requests", headers=server.as_("SOU"),
               json={"scenario": "unrest-aster", "t0": "2026-11-20T09:00+01:00",
                     "reason": "riots reported", "deadline": "2026-11-20T12:00Z"})
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["action"], req["scenario"], req["t0"], req["status"], req["asked"],
            req["concurred"], req["partner"], req["by"]) == (
        "declare", "unrest-aster", "2026-11-20T08:00:00Z", "open", ALL, ["SOU"], "SOU",
        "sou-planner")
    decision = req["id"]
    # every partner asked sees the decision and is told; T0 is not declared yet
    for partner in ALL:
        d = c.get(f"/api/decisions/{decision}", headers=server.as_(partner)).json()
        assert d["partners"] == ALL and d["status"] == "open"
        assert d["deadline"] == "2026-11-20T12:00:00Z"
        assert [q["id"] for q in c.get("/api/t0/requests",
                                        headers=server.as_(partner)).json()] == [decision]
        if partner != "SOU":
            notes = c.get("/api/notifications", headers=server.as_(partner)).json()
            assert any(f"/decisions/{decision}" == n["link"] for n in notes), partner
    assert _respond(server, "NOR", decision).status_code == 200
    r = _respond(server, "RRA", decision, "non-concur", "too early")
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert _declared(server, "NOR") == []
    assert c.get("/api/check", headers=server.as_("NOR")).json()["declarations"] == []
    # RRA changes its mind: every partner asked concurs, and T0 is declared for each
    r = _respond(server, "RRA", decision)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert "Accepted by every partner asked" in r.json()["outcome"]
    for partner in ALL:
        assert _declared(server, partner) == [("unrest-aster", "2026-11-20T08:00:00Z")]
        got = c.get("/api/t0", headers=server.as_(partner)).json()[0]
        assert (got["partner"], got["by"], got["decision"]) == ("SOU", "sou-planner", decision)
        check = c.get("/api/check", headers=server.as_(partner)).json()
        assert [(d["scenario"], d["t0"], d["decision"]) for d in check["declarations"]] == [
            ("unrest-aster", "2026-11-20T08:00:00Z", decision)]
        audit = [e for e in c.get("/api/audit", headers=server.as_(partner)).json()
                 if e["action"] == "t0.declare"]
        assert len(audit) == 1 and audit[0]["subject"] == "scenario:unrest-aster"
    assert c.get("/api/t0/requests", headers=server.as_("NOR")).json()[0]["status"] == \
        "accepted"
    # closed: a later response is refused, nothing changes
    assert _respond(server, "NOR", decision, "non-concur", "late").status_code == 422


def test_withdrawing_is_asked_too_and_a_closed_request_changes_nothing(server):
    c = server.client
    assert c.post("/api/t0", headers=server.as_("SOU"),
                  json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"}
                  ).status_code == 201
    _joint(server)
    assert c.delete("/api/t0/unrest-aster", headers=server.as_("SOU")).status_code == 403
    # nothing declared to withdraw answers as missing, like an unknown scenario
    r = c.post("/api/t0/requests", headers=server.as_("NOR"),
               json={"action": "undeclare", "scenario": "strait-closure"})
    assert (r.status_code, r.content) == (404, NOT_FOUND)
    r = c.post("/api/t0/requests", headers=server.as_("NOR"),
               json={"scenario": "strait-closure-x", "t0": "2026-11-20T08:00Z"})
    assert (r.status_code, r.content) == (404, NOT_FOUND)
    r = c.post("/api/t0/requests", headers=server.as_("NOR"),
               json={"scenario": "closure-long", "t0": "2026-11-20T08:00Z"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "scenario"]
    r = c.post("/api/t0/requests", headers=server.as_("NOR"),
               json={"scenario": "baseline", "t0": "2026-11-20T08:00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "t0"]
    # a request its opener closes before all concur leaves T0 as it is
    first = c.post("/api/t0/requests", headers=server.as_("NOR"),
                   json={"action": "undeclare", "scenario": "unrest-aster"}).json()
    assert first["status"] == "open" and first["t0"] is None
    assert _respond(server, "SOU", first["id"]).status_code == 200
    closed = c.post(f"/api/decisions/{first['id']}/close", headers=server.as_("NOR"),
                    json={"outcome": "dropped"})
    assert closed.status_code == 200, closed.text
    assert c.get("/api/t0/requests", headers=server.as_("SOU")).json()[0]["status"] == \
        "not accepted"
    assert _respond(server, "RRA", first["id"]).status_code == 422
    assert _declared(server, "RRA") == [("unrest-aster", "2026-11-20T08:00:00Z")]
    # asked again, all concur: withdrawn for every partner, recorded, never deleted
    second = c.post("/api/t0/requests", headers=server.as_("NOR"),
                    json={"action": "undeclare", "scenario": "unrest-aster",
                          "reason": "calm again"}).json()
    for partner in ("SOU", "RRA"):
        assert _respond(server, partner, second["id"]).status_code == 200
    for partner in ALL:
        assert _declared(server, partner) == []
        actions = [e["action"] for e in c.get("/api/audit", headers=server.as_(partner)).json()]
        assert actions.count("t0.undeclare") == 1 and actions.count("t0.declare") == 1


def test_in_planner_mode_requests_are_refused_and_a_viewer_never_asks(database_url):
    server = start_server(database_url, EXAMPLE, roles={"RRA": "viewer", "NOR": "admin"})
    try:
        c = server.client
        r = c.post("/api/t0/requests", headers=server.as_("SOU"),
                   json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
        assert r.status_code == 403 and "/api/t0" in r.text
        _joint(server)
        r = c.post("/api/t0/requests", headers=server.as_("RRA"),
                   json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
        assert r.status_code == 403
        assert c.put("/api/workspace/t0-mode", headers=server.as_("RRA"),
                     json={"mode": "planner"}).status_code == 403
        # a viewer is asked (its partner sees the scenario) but only a writer answers
        req = c.post("/api/t0/requests", headers=server.as_("SOU"),
                     json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"}).json()
        assert "RRA" in req["asked"]
        assert _respond(server, "RRA", req["id"]).status_code == 403
        assert _declared(server, "RRA") == []
    finally:
        server.hub.db.engine.dispose()


def test_the_operator_shows_and_sets_the_mode_through_the_same_use_case(database_url):
    server = start_server(database_url, EXAMPLE)
    try:
        runner = CliRunner()
        env = {"JOINTPLAN_DATABASE_URL": database_url}
        shown = runner.invoke(app, ["settings", "t0-mode"], env=env)
        assert shown.exit_code == 0 and shown.output == "t0-mode: planner (default)\n"
        bad = runner.invoke(app, ["settings", "t0-mode", "sometimes"], env=env)
        assert bad.exit_code == 2 and "mode" in bad.output
        done = runner.invoke(app, ["settings", "t0-mode", "joint"], env=env)
        assert done.exit_code == 0, done.output
        with server.hub.db.read() as session:
            assert t0.mode_of(session)["mode"] == "joint"
        got = server.client.get("/api/workspace/t0-mode", headers=server.as_("SOU")).json()
        assert got["mode"] == "joint" and got["changed"]
        entry = [e for e in server.client.get("/api/audit", headers=server.as_("SOU")).json()
                 if e["action"] == "t0.mode"]
        assert len(entry) == 1 and entry[0]["user"] is None and entry[0]["partner"] is None
        shown = runner.invoke(app, ["settings", "t0-mode"], env=env)
        assert shown.output.startswith("t0-mode: joint (set ")
    finally:
        server.hub.db.engine.dispose()
