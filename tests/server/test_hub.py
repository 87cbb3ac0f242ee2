"""One model per stored state: built once, shared by every partner, changed piece by piece."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jointplan.server import hub as hub_module
from tests.conftest import EXAMPLES

from .conftest import Server, start_server

PARTNERS = ("NOR", "SOU", "RRA")


@pytest.fixture
def server(database_url) -> Iterator[Server]:
    started = start_server(database_url, EXAMPLES / "northern-strait")
    yield started
    started.hub.db.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def analyses(monkeypatch) -> list[int]:
    """Counts full analyses (one entry per run)."""
    runs: list[int] = []
    real = hub_module.analyse

    def counted(ws: Any) -> Any:
        runs.append(1)
        return real(ws)

    monkeypatch.setattr(hub_module, "analyse", counted)
    return runs


def _checks(server: Server) -> dict[str, Any]:
    out = {}
    for p in PARTNERS:
        answer = server.client.get("/api/check", headers=server.as_(p))  # type: ignore[attr-defined]
        assert answer.status_code == 200, answer.text
        out[p] = answer.json()
        # The route adds the declared T0s (none here) to the analysis it cuts.
        assert out[p].pop("declarations") == []
    return out


def _fresh(server: Server) -> dict[str, Any]:
    """The same answers from a hub that has never built anything (the reference)."""
    from jointplan.server.analysis import check_for
    from jointplan.server.hub import Hub

    from .test_analysis import _actor

    other = Hub(server.hub.db.url, migrate=False)  # type: ignore[attr-defined]
    try:
        return {p: check_for(other, _actor(server, p)) for p in PARTNERS}
    finally:
        other.db.engine.dispose()


def test_every_partner_is_cut_from_one_model_and_one_analysis(server, analyses):
    hub = server.hub
    builds = hub.builds  # type: ignore[attr-defined]
    _checks(server)
    _checks(server)
    assert hub.builds - builds <= 1  # type: ignore[attr-defined]
    # The import that stored the plans analysed them once; every answer is cut from that.
    assert len(analyses) == 0
    assert _checks(server) == _fresh(server)


def test_an_observation_rereads_only_the_observations_and_keeps_the_analysis(server, analyses,
                                                                           monkeypatch):
    from jointplan.server import assemble

    hub = server.hub
    before = _checks(server)
    reads = hub.pieces.reads  # type: ignore[attr-defined]
    read_source, names = assemble.read_source, []
    monkeypatch.setattr(assemble, "read_source", lambda name, data: names.append(name) or
                        read_source(name, data))
    answer = server.client.post("/api/observations", headers=server.as_("NOR"), json={  # type: ignore[attr-defined]
        "indicator": "registration-surge", "seen": False, "at": "2026-11-22T10:00Z"})
    assert answer.status_code < 300, answer.text
    after = _checks(server)
    # The new observation checked in the write, then the observations read for the model;
    # neither the joint part nor any plan is read again.
    assert names == [assemble.STORED_OBSERVATIONS] * 2
    assert hub.pieces.reads - reads == 0  # type: ignore[attr-defined]
    assert len(analyses) == 0  # the plans' analysis stands
    assert after["NOR"]["likelihood"] != before["NOR"]["likelihood"]
    assert after == _fresh(server)


def test_a_plan_version_rereads_that_plan_alone_and_every_partner_sees_it(server, analyses,
                                                                        monkeypatch):
    from jointplan.server import assemble

    _checks(server)
    read_source, names = assemble.read_source, []

    def counted(name: str, data: bytes) -> Any:
        names.append(name)
        return read_source(name, data)

    monkeypatch.setattr(assemble, "read_source", counted)
    text = (EXAMPLES / "northern-strait" / "sou-port.yaml").read_text()
    changed = text.replace("title: ", "title: Renamed ", 1)
    assert changed != text
    answer = server.client.post("/api/import", headers=server.as_("SOU"), json={  # type: ignore[attr-defined]
        "files": {"sou-port.yaml": changed}, "reason": "renamed"})
    assert answer.status_code == 201, answer.text
    after = _checks(server)
    # The new version of sou-port is parsed once in all — the import's check reads the
    # upload, and lends that read to the model (which reads each plan without its
    # references) — and no stored plan is read again. The import also reads the joint
    # file and the observations as the importer sees them (indicators it may not see left
    # out), which are not the stored ones.
    assert [n for n in names if n != assemble.JOINT_FILE
            and n != assemble.STORED_OBSERVATIONS] == ["sou-port.yaml"]
    assert len(names) <= 3
    # One analysis of the new plans: made in the write (for lasting conflicts), reused after.
    assert len(analyses) == 1
    assert after == _fresh(server)


def test_many_requests_after_a_write_build_the_model_once(server):
    hub = server.hub
    answer = server.client.post("/api/observations", headers=server.as_("SOU"), json={  # type: ignore[attr-defined]
        "indicator": "war-risk-premium", "seen": True, "at": "2026-11-22T11:00Z"})
    assert answer.status_code < 300, answer.text
    builds = hub.builds  # type: ignore[attr-defined]
    start = threading.Barrier(8)
    models: list[Any] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            start.wait()
            with hub.db.read() as session:  # type: ignore[attr-defined]
                models.append(hub.current(session))  # type: ignore[attr-defined]
                models[-1].analysis()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert hub.builds - builds == 1  # type: ignore[attr-defined]
    assert len({id(m) for m in models}) == 1
