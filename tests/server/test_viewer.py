"""A `viewer` never writes: every write route, in the API and in the pages, refuses it.

An object the viewer's partner may see answers 403 with the gate's reason
(the refusal is about the viewer's own role, so it tells nothing); one it may
not see answers exactly like an id that names nothing. Nothing is stored
either way. A test fails when the app has a write route this file does not
list.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from jointplan.caller import SESSION_COOKIE
from jointplan.services import accounts
from jointplan.store.tables import (
    Acknowledgement,
    AuditEntry,
    Decision,
    Message,
    ObservationRow,
    PlanVersion,
    Proposal,
    Response,
    Thread,
)
from tests.conftest import EXAMPLES
from tests.server.conftest import PASSWORD, Server, fresh_database, start_server

EXAMPLE = EXAMPLES / "northern-strait"
MISSING = "AAAAAAAAAAAAAAAA"
SOU_PORT = (EXAMPLE / "sou-port.yaml").read_text()
UNGATED = {"/auth/login", "/auth/logout", "/signin", "/signout", "/node/releases", "/node/psi",
           "/node/psi/refine", "/node/psi/result"}
"""Posts that are not writes of the workspace: signing in and out, and what peer nodes ask
(authenticated by a node's signature, never by a person's sign-in: tests/federation/)."""


@dataclass(frozen=True)
class WriteRoute:
    """A write route; ``target`` names the object kind in its path, if any."""

    path: str
    target: str | None
    body: dict[str, Any]
    form: bool = False


ROUTES = [
    WriteRoute("/api/import", None, {"files": {"sou-port.yaml": SOU_PORT}}),
    WriteRoute("/api/plans/{plan}/status", "plan", {"status": "approved", "reason": "r"}),
    WriteRoute("/api/observations", None, {"indicator": "war-risk-premium", "seen": True}),
    WriteRoute("/api/threads", None, {"subject": {"kind": "scenario", "ref": "baseline"},
                                      "title": "t", "text": "x", "share": ["NOR"]}),
    WriteRoute("/api/threads/{thread}/messages", "thread", {"text": "x"}),
    WriteRoute("/api/proposals", None, {"plan": "nor-evacuation", "reason": "r", "change": {
        "kind": "move-start", "task": "ferry-run", "start": "T+1d"}}),
    WriteRoute("/api/proposals/{proposal}/accept", "proposal", {}),
    WriteRoute("/api/proposals/{proposal}/decline", "proposal", {"reason": "no"}),
    WriteRoute("/api/decisions", None, {"text": "Agree", "partners": ["NOR", "SOU"]}),
    WriteRoute("/api/decisions/{decision}/responses", "decision", {"stance": "concur"}),
    WriteRoute("/api/expectations/{expectation}/acknowledge", "expectation", {}),
    WriteRoute("/scenarios/observations", None, {"indicator": "war-risk-premium",
                                                 "seen": "yes"}, form=True),
    WriteRoute("/plans/{plan}/status", "plan", {"status": "approved", "reason": "r"},
               form=True),
    WriteRoute("/plans/{plan}/tasks", "plan", {"task": "laid-up-ships", "start": "T+0h",
                                               "duration": "5d"}, form=True),
    WriteRoute("/plans/{plan}/upload", "plan", {}, form=True),
    WriteRoute("/plans/{expectation}/acknowledge", "expectation", {}, form=True),
    WriteRoute("/threads", None, {"kind": "scenario", "ref": "baseline", "title": "t",
                                  "text": "x"}, form=True),
    WriteRoute("/threads/{thread}/messages", "thread", {"text": "x"}, form=True),
    WriteRoute("/proposals", None, {"target": "nor-evacuation/ferry-run", "kind": "move-start",
                                    "start": "T+1d", "reason": "r"}, form=True),
    WriteRoute("/proposals/{proposal}/accept", "proposal", {}, form=True),
    WriteRoute("/proposals/{proposal}/decline", "proposal", {"reason": "no"}, form=True),
    WriteRoute("/decisions", None, {"text": "Agree", "partners": "NOR"}, form=True),
    WriteRoute("/decisions/{decision}/responses", "decision", {"stance": "concur"},
               form=True),
    WriteRoute("/api/proposals/{sent}/withdraw", "sent", {}),
    WriteRoute("/proposals/{sent}/withdraw", "sent", {"confirm": "yes"}, form=True),
    WriteRoute("/proposals/{sent}/withdraw", "sent", {}, form=True),
    WriteRoute("/api/decisions/{opened}/close", "opened", {"outcome": "o"}),
    WriteRoute("/decisions/{opened}/close", "opened", {"outcome": "o"}, form=True),
    WriteRoute("/api/observations/{observation}/correct", "observation",
               {"seen": False, "reason": "r"}),
    WriteRoute("/api/observations/{observation}/retract", "observation", {"reason": "r"}),
    WriteRoute("/scenarios/observations/{observation}/correct", "observation",
               {"seen": "no", "reason": "r"}, form=True),
    WriteRoute("/scenarios/observations/{observation}/retract", "observation",
               {"reason": "r"}, form=True),
]
IDS = [("form " if r.form else "api ") + r.path for r in ROUTES]


@dataclass
class World:
    server: Server
    token: str
    """The SOU viewer's API token."""
    session: str
    csrf: str
    seen: dict[str, str]
    """An object of each kind SOU may see."""
    hidden: dict[str, str]
    """An object of each kind SOU may not see."""

    def post(self, route: WriteRoute, ref: str | None) -> Any:
        from fastapi.testclient import TestClient

        path = route.path
        if route.target is not None:
            path = path.replace("{" + route.target + "}", str(ref))
        if not route.form:
            return self.server.client.post(path, json=route.body, headers={
                "Authorization": f"Bearer {self.token}"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client = TestClient(self.server.client.app, follow_redirects=False)
        client.cookies.set(SESSION_COOKIE, self.session)
        files = ({"file": ("sou-port.yaml", SOU_PORT.encode(), "text/yaml")}
                 if path.endswith("/upload") else None)
        return client.post(path, data={"csrf": self.csrf, **route.body}, files=files)

    def counts(self) -> tuple[int, ...]:
        hub = self.server.hub
        with hub.db.read() as session:  # type: ignore[attr-defined]
            return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in (
                AuditEntry, PlanVersion, ObservationRow, Thread, Message, Proposal, Decision,
                Response, Acknowledgement))


def _created(server: Server, partner: str, path: str, body: dict[str, Any]) -> str:
    r = server.client.post(path, headers=server.as_(partner), json=body)  # type: ignore[attr-defined]
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory) -> Iterator[World]:
    server = start_server(fresh_database(request.param, tmp_path_factory.mktemp("viewer")),
                          EXAMPLE)
    hub = server.hub
    with hub.db.write() as session:  # type: ignore[attr-defined]
        accounts.add_user(session, username="sou-viewer", partner="SOU", role="viewer",
                          password=PASSWORD, partners=("NOR", "SOU", "RRA"))
        token = accounts.create_token(session, username="sou-viewer", name="tests")[1]
        found = accounts.sign_in(session, username="sou-viewer", password=PASSWORD)
        assert found is not None
    scenario = {"kind": "scenario", "ref": "baseline"}
    seen = {
        "plan": "sou-port",
        "thread": _created(server, "NOR", "/api/threads", {
            "subject": scenario, "title": "t", "text": "x", "share": ["SOU"]}),
        "proposal": _created(server, "NOR", "/api/proposals", {
            "plan": "sou-port", "reason": "r", "change": {
                "kind": "set-quantity", "task": "laid-up-ships", "resource": "berth-aster",
                "quantity": 2}}),
        "decision": _created(server, "NOR", "/api/decisions", {
            "text": "Agree", "partners": ["NOR", "SOU"]}),
        "expectation": "nor-evacuation/expectations/ferry-berth",
        # Made by SOU's planner: its viewer is refused for its role, not its partner.
        "sent": _created(server, "SOU", "/api/proposals", {
            "plan": "nor-evacuation", "reason": "r", "change": {
                "kind": "move-start", "task": "ferry-run", "start": "T+1d"}}),
        "opened": _created(server, "SOU", "/api/decisions", {
            "text": "Agree", "partners": ["NOR", "SOU"]}),
        "observation": _created(server, "SOU", "/api/observations", {
            "indicator": "war-risk-premium", "seen": True}),
    }
    hidden = {
        "plan": "nor-shipping",
        "thread": _created(server, "NOR", "/api/threads", {
            "subject": scenario, "title": "t", "text": "x", "share": ["RRA"]}),
        "proposal": _created(server, "NOR", "/api/proposals", {
            "plan": "rra-relief", "reason": "r", "change": {
                "kind": "add-provision", "provision": {
                    "id": "p", "what": "x", "window": ["T+0h", "T+1h"],
                    "answers": "nor-shipping/" + _an_expectation_of_nor_from_rra()}}}),
        "decision": _created(server, "NOR", "/api/decisions", {
            "text": "Agree", "partners": ["NOR", "RRA"]}),
        "expectation": "nor-shipping/expectations/" + _an_expectation_of_nor_from_rra(),
        "observation": _created(server, "NOR", "/api/observations", {
            "indicator": "registration-surge", "seen": True}),
    }
    hidden["sent"], hidden["opened"] = hidden["proposal"], hidden["decision"]
    yield World(server, token, found[1], found[2], seen, hidden)
    hub.db.engine.dispose()  # type: ignore[attr-defined]


def _an_expectation_of_nor_from_rra() -> str:
    text = (EXAMPLE / "nor-shipping.yaml").read_text()
    match = re.search(r"- id: ([a-z0-9-]+)\n(?:    .*\n)*?    from: RRA", text)
    assert match is not None
    return match.group(1)


def _concrete(route: WriteRoute, ref: str) -> tuple[WriteRoute, str]:
    """API acknowledgements name PLAN/EXPECTATION; the page's path has /expectations/."""
    if route.target == "expectation" and not route.form:
        return route, ref.replace("/expectations/", "/")
    return route, ref


def test_every_write_route_is_listed(world: World) -> None:
    app = world.server.client.app  # type: ignore[attr-defined]
    posts = {r.path for r in app.routes if "POST" in getattr(r, "methods", set())}
    listed = {re.sub(r"\{[a-z]+\}", "{}", r.path) for r in ROUTES}
    listed |= {"/plans/{}/expectations/{}/acknowledge", "/api/expectations/{}/{}/acknowledge",
               "/proposals/{}/{}"}
    unlisted = {re.sub(r"\{[a-z_]+\}", "{}", p) for p in posts} - listed - UNGATED
    assert not unlisted, f"write routes not in the viewer matrix: {sorted(unlisted)}"


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_a_viewer_is_refused_every_write(world: World, route: WriteRoute) -> None:
    before = world.counts()
    ref = world.seen.get(route.target or "", "")
    route, ref = _concrete(route, ref)
    answer = world.post(route, ref)
    assert answer.status_code == 403, answer.text
    assert "viewer reads and never writes" in answer.text
    assert world.counts() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r.target is not None],
                         ids=[i for r, i in zip(ROUTES, IDS, strict=True)
                              if r.target is not None])
def test_a_hidden_object_still_answers_as_missing_to_a_viewer(world: World,
                                                             route: WriteRoute) -> None:
    before = world.counts()
    hidden = world.hidden[route.target or ""]
    missing = re.sub(r"[^/]+$", MISSING, hidden) if "/" in hidden else MISSING
    route_h, hidden = _concrete(route, hidden)
    _, missing = _concrete(route, missing)
    a, b = world.post(route_h, hidden), world.post(route_h, missing)
    assert (a.status_code, a.text) == (b.status_code, b.text)
    assert a.status_code == 404
    assert world.counts() == before
