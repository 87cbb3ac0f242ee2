"""Idempotency-Key on writes, on SQLite and PostgreSQL: a retry is answered, never doubled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from jointplan.store.tables import IdempotentResponse, ObservationRow, Thread
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"
OBSERVATION = {"indicator": "registration-surge", "seen": True, "at": "2026-03-01T08:00:00Z"}


@pytest.fixture
def server(database_url) -> Iterator[Server]:
    started = start_server(database_url, EXAMPLE)
    yield started
    started.client.close()  # type: ignore[attr-defined]
    started.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _count(server: Server, table: type) -> int:
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_retried_write_with_the_same_key_is_answered_again_and_stored_once(server):
    before = _count(server, ObservationRow)
    headers = {**server.as_("NOR"), "Idempotency-Key": "obs-1"}
    first = server.client.post("/api/observations", json=OBSERVATION, headers=headers)
    again = server.client.post("/api/observations", json=OBSERVATION, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    assert _count(server, ObservationRow) == before + 1


def test_writes_without_a_key_or_with_new_keys_are_each_stored(server):
    before = _count(server, ObservationRow)
    for headers in ({}, {}, {"Idempotency-Key": "a"}, {"Idempotency-Key": "b"}):
        r = server.client.post("/api/observations", json=OBSERVATION,
                               headers={**server.as_("NOR"), **headers})
        assert r.status_code == 201, r.text
    assert _count(server, ObservationRow) == before + 4


def test_keys_belong_to_one_user(server):
    before = _count(server, ObservationRow)
    body = {**OBSERVATION, "indicator": "war-risk-premium"}
    for partner in ("NOR", "SOU"):
        r = server.client.post("/api/observations", json=body,
                               headers={**server.as_(partner), "Idempotency-Key": "same"})
        assert r.status_code == 201, r.text
        assert "idempotency-replayed" not in r.headers
    assert _count(server, ObservationRow) == before + 2


def test_a_key_reused_for_another_request_is_refused_naming_the_header(server):
    headers = {**server.as_("NOR"), "Idempotency-Key": "k"}
    assert server.client.post("/api/observations", json=OBSERVATION,
                              headers=headers).status_code == 201
    before = _count(server, ObservationRow)
    other = server.client.post("/api/observations", json={**OBSERVATION, "seen": False},
                               headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert _count(server, ObservationRow) == before


def test_a_refused_write_stores_no_answer_and_its_retry_is_tried_again(server):
    headers = {**server.as_("NOR"), "Idempotency-Key": "bad-then-good"}
    bad = server.client.post("/api/observations", json={**OBSERVATION, "indicator": "nope"},
                             headers=headers)
    assert bad.status_code == 422
    assert _count(server, IdempotentResponse) == 0
    retry = server.client.post("/api/observations", json={**OBSERVATION, "indicator": "nope"},
                               headers=headers)
    assert retry.status_code == 422 and "idempotency-replayed" not in retry.headers


def test_a_malformed_key_is_refused(server):
    r = server.client.post("/api/observations", json=OBSERVATION,
                           headers={**server.as_("NOR"), "Idempotency-Key": "x" * 129})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "idempotency-key"]


def test_a_204_answer_is_replayed_too(server):
    path = "/api/expectations/nor-shipping/crew-welfare/acknowledge"
    headers = {**server.as_("RRA"), "Idempotency-Key": "ack"}
    first = server.client.post(path, headers=headers)
    again = server.client.post(path, headers=headers)
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotency-replayed"] == "true"


def test_concurrent_retries_of_one_write_store_it_once(server):
    before = _count(server, Thread)
    body = {"subject": {"kind": "scenario", "ref": "baseline"}, "title": "Buses",
            "text": "Where do they stop?", "share": ["SOU"]}
    headers = {**server.as_("RRA"), "Idempotency-Key": "thread-once"}
    answers: list[int] = []
    ids: list[str] = []

    def post() -> None:
        r = server.client.post("/api/threads", json=body, headers=headers)
        answers.append(r.status_code)
        ids.append(r.json()["id"])

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * 6
    assert len(set(ids)) == 1
    assert _count(server, Thread) == before + 1
