"""Answers kept across stored states equal answers made afresh.

The server keeps what a stored state's plans decide (`Hub.kept`, keyed by
`Current.plans_key`: what the plans say, not their version ids) and writes
large answers from kept parts (`api.typed.kept_json`, `json_with`). These
tests hold every such answer, after each kind of write, to the answer of a
second server on the same database that has kept nothing, and to the plain
serialisation of the same value through its declared model.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from jointplan.api.reports import CheckOut, PlanView, WorkspaceView
from jointplan.server import plans
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

from .test_analysis import _actor

EXAMPLE = EXAMPLES / "northern-strait"
PARTNERS = ("NOR", "SOU", "RRA")
NOR_PLAN = (EXAMPLE / "nor-evacuation.yaml").read_text(encoding="utf-8")
READS = ("/api/workspace", "/api/plans", "/api/check", "/api/export")


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    running = start_server(database_url, EXAMPLE)
    yield running
    running.hub.db.engine.dispose()  # type: ignore[attr-defined]


@contextmanager
def _fresh(server: Server) -> Iterator[Any]:
    """A client of a second server on the same database, with nothing kept."""
    from fastapi.testclient import TestClient

    from jointplan.api import create_app
    from jointplan.server.hub import Hub

    hub = Hub(server.hub.db.url, migrate=False)  # type: ignore[attr-defined]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client = TestClient(create_app(hub))
        yield client
    finally:
        hub.db.engine.dispose()


def _answers(client: Any, server: Server) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for partner in PARTNERS:
        headers = server.as_(partner)
        paths = list(READS)
        view = client.get("/api/workspace", headers=headers).json()
        for plan in view["plans"]:
            paths += [f"/api/plans/{plan['id']}", f"/api/plans/{plan['id']}/versions"]
        for path in paths:
            r = client.get(path, headers=headers)
            assert r.status_code == 200, (partner, path, r.text)
            out[(partner, path)] = (r.json(), r.headers.get("etag"))
    return out


def _same_as_fresh(server: Server) -> dict[tuple[str, str], Any]:
    kept = _answers(server.client, server)
    with _fresh(server) as client:
        fresh = _answers(client, server)
    assert kept.keys() == fresh.keys()
    for key in kept:
        assert kept[key] == fresh[key], key
    return kept


def _status(server: Server, status: str) -> None:
    r = server.client.post("/api/plans/nor-evacuation/status",  # type: ignore[attr-defined]
                           headers=server.as_("NOR"), json={"status": status, "reason": "t"})
    assert r.status_code == 201, r.text


def test_kept_answers_equal_a_fresh_servers_after_every_kind_of_write(server: Server) -> None:
    hub: Any = server.hub
    before = _same_as_fresh(server)
    with hub.db.read() as session:
        key = hub.current(session).plans_key

    _status(server, "approved")  # a new version that says the same: the plans key stays
    after_status = _same_as_fresh(server)
    with hub.db.read() as session:
        assert hub.current(session).plans_key == key
    nor = ("NOR", "/api/plans/nor-evacuation")
    assert before[nor][0]["status"] == "draft" and after_status[nor][0]["status"] == "approved"
    versions = ("NOR", "/api/plans/nor-evacuation/versions")
    assert len(after_status[versions][0]) == len(before[versions][0]) + 1

    r = server.client.post("/api/observations", headers=server.as_("SOU"),  # type: ignore[attr-defined]
                           json={"indicator": "war-risk-premium", "seen": False})
    assert r.status_code == 201, r.text
    after_obs = _same_as_fresh(server)
    sou = ("SOU", "/api/check")
    assert after_obs[sou][0]["likelihood"] != after_status[sou][0]["likelihood"]
    assert after_obs[sou][0]["conflicts"] == after_status[sou][0]["conflicts"]

    edited = NOR_PLAN.replace("start: T+12h", "start: T+14h", 1)
    assert edited != NOR_PLAN
    r = server.client.post("/api/import", headers=server.as_("NOR"),  # type: ignore[attr-defined]
                           json={"files": {"nor-evacuation.yaml": edited}, "reason": "t"})
    assert r.status_code == 201, r.text
    after_edit = _same_as_fresh(server)
    with hub.db.read() as session:
        assert hub.current(session).plans_key != key
    assert after_edit[nor] != after_obs[nor]

    _status(server, "draft")
    _same_as_fresh(server)


def test_written_answers_equal_their_models_plain_serialisation(server: Server) -> None:
    """`json_with` and `kept_json` write what FastAPI would write from the same value."""
    hub: Any = server.hub
    for partner in PARTNERS:
        actor = _actor(server, partner)
        with hub.db.read() as session:
            view = plans.workspace_view(hub, session, actor)
        plain = WorkspaceView.model_validate(view).model_dump(mode="json", by_alias=True,
                                                              exclude_unset=True)
        assert server.client.get("/api/workspace", headers=server.as_(partner)).json() == plain
        for plan in view["plans"]:
            got = server.client.get(f"/api/plans/{plan['id']}", headers=server.as_(partner))
            assert got.json() == PlanView.model_validate(plan).model_dump(
                mode="json", by_alias=True, exclude_unset=True)
        from jointplan.server import analysis, t0

        report = analysis.check_for(hub, actor)
        with hub.db.read() as session:
            report["declarations"] = t0.declarations(hub, session, actor)
        plain = CheckOut.model_validate(report).model_dump(mode="json", by_alias=True,
                                                           exclude_unset=True)
        assert server.client.get("/api/check", headers=server.as_(partner)).json() == plain


def test_a_status_or_an_observation_cuts_no_plan_again(server: Server, monkeypatch) -> None:
    """What the plans decide is kept by what they say: writes that change no plan
    (a status, an observation) make no partner's view, check or export again."""
    from jointplan.sharing.findings import FindingCut

    for path in READS:  # every partner's answers made once
        for partner in PARTNERS:
            assert server.client.get(path, headers=server.as_(partner)).status_code == 200
    made: list[str] = []
    view_for, check = plans.view_for, FindingCut.check
    monkeypatch.setattr(plans, "view_for", lambda *a, **k: made.append("view") or view_for(
        *a, **k))
    monkeypatch.setattr(FindingCut, "check", lambda *a, **k: made.append("check") or check(
        *a, **k))
    _status(server, "approved")
    r = server.client.post("/api/observations", headers=server.as_("SOU"),  # type: ignore[attr-defined]
                           json={"indicator": "war-risk-premium", "seen": False})
    assert r.status_code == 201, r.text
    for path in READS:
        for partner in PARTNERS:
            assert server.client.get(path, headers=server.as_(partner)).status_code == 200
    assert made == []
    edited = NOR_PLAN.replace("start: T+12h", "start: T+14h", 1)
    r = server.client.post("/api/import", headers=server.as_("NOR"),  # type: ignore[attr-defined]
                           json={"files": {"nor-evacuation.yaml": edited}, "reason": "t"})
    assert r.status_code == 201, r.text
    assert server.client.get("/api/workspace", headers=server.as_("SOU")).status_code == 200
    assert made == ["view"]  # a plan that says something new: cut again


def test_a_kept_answer_is_made_once_however_many_ask_at_once(tmp_path) -> None:
    import threading
    import time

    from jointplan.server.hub import Hub

    hub = Hub(f"sqlite:///{tmp_path / 'kept.db'}")
    try:
        made: list[int] = []
        release = threading.Event()

        def build() -> object:
            made.append(1)
            release.wait(5)
            return object()

        got: list[object] = []
        askers = [threading.Thread(target=lambda: got.append(hub.kept(("test", 1), build)))
                  for _ in range(8)]
        for asker in askers:
            asker.start()
        time.sleep(0.2)  # every asker is waiting for the first
        release.set()
        for asker in askers:
            asker.join(10)
        assert len(made) == 1 and len(got) == 8 and all(g is got[0] for g in got)
        assert hub.kept(("test", 2), build) is not got[0] and len(made) == 2
    finally:
        hub.db.engine.dispose()


def test_a_read_asks_the_stored_state_once(server: Server, monkeypatch) -> None:
    """Every use case a read calls answers from one state: the heads are asked once a read
    session (a write session asks each time, as it may change them)."""
    from jointplan.server.hub import Hub

    asked: list[int] = []
    heads = Hub.heads
    monkeypatch.setattr(Hub, "heads", lambda self, session: asked.append(1) or heads(
        self, session))
    for path in ("/api/plans/nor-evacuation", "/api/plans/nor-evacuation/versions",
                 "/api/workspace", "/api/export"):
        asked.clear()
        assert server.client.get(path, headers=server.as_("SOU")).status_code == 200
        assert len(asked) == 1, path
    hub: Any = server.hub
    with hub.db.write() as session:
        asked.clear()
        hub.current(session)
        hub.current(session)
        assert len(asked) == 2
