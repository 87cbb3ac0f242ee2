"""A database that is down or hung: 503 with Retry-After within bounded time, then recovery.

PostgreSQL is reached through a proxy the test cuts (connections refused),
hangs (connections accepted and never answered) and restores; SQLite is held
locked by another writer. The same server, never restarted, must answer
again once the database is back, and say each failure in one log line.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine

from jointplan.api.faults import RETRY_AFTER, UNAVAILABLE
from jointplan.store.db import counters_url
from tests.conftest import EXAMPLES
from tests.server.conftest import PASSWORD, Server, fresh_database, start_server
from tests.server.proxy import Proxy

EXAMPLE = EXAMPLES / "northern-strait"
BOUND = 6.0  # seconds: timeouts of 1 s (connect, statement) plus slack for a busy machine
OBSERVATION = {"indicator": "registration-surge", "seen": True}


def _timed(call):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def _assert_unavailable(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    for call in (lambda: server.client.get("/api/check", headers=server.as_("NOR")),
                 lambda: server.client.post("/api/observations", json=OBSERVATION,
                                            headers=server.as_("NOR"))):
        response, took = _timed(call)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER)
        assert response.json() == UNAVAILABLE
        assert took < BOUND, f"took {took:.1f} s"
    lines = [r for r in caplog.records if r.name == "jointplan.server"]
    assert len(lines) == 2
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert all("database unavailable" in r.getMessage() for r in lines)


def _assert_serving(server: Server) -> None:
    deadline = time.monotonic() + BOUND
    while True:
        r = server.client.get("/api/check", headers=server.as_("NOR"))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    posted = server.client.post("/api/observations", json=OBSERVATION, headers=server.as_("NOR"))
    assert posted.status_code == 201, posted.text


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setenv("JOINTPLAN_DB_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("JOINTPLAN_DB_STATEMENT_TIMEOUT", "1")


def test_postgres_cut_then_hung_answers_503_in_bounded_time_and_recovers(
        tmp_path, short_timeouts, caplog):
    url = fresh_database("postgresql", tmp_path)
    start_server(url, EXAMPLE).hub.db.engine.dispose()  # type: ignore[attr-defined]
    parts = urlsplit(url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    server = _reuse(proxied, url)
    try:
        _assert_serving(server)
        proxy.cut()
        _assert_unavailable(server, caplog)
        proxy.restore()
        _assert_serving(server)
        proxy.hang()
        _assert_unavailable(server, caplog)
        proxy.restore()
        _assert_serving(server)
    finally:
        server.client.close()  # type: ignore[attr-defined]
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]
        proxy.close()


def _reuse(proxied: str, direct: str) -> Server:
    """A server on the proxied URL, for the workspace and users already stored directly."""
    import warnings

    from fastapi.testclient import TestClient

    from jointplan.api import create_app
    from jointplan.server.hub import Hub
    from jointplan.services.accounts import create_token

    hub = Hub(proxied, analyses_per_minute=10_000)
    tokens = {}
    with hub.db.write() as session:
        for code in ("NOR", "SOU", "RRA"):
            tokens[code] = create_token(session, username=f"{code.lower()}-planner",
                                        name="faults")[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(hub))
    return Server(hub, client, tokens, {})


def _signed_in(server: Server, partner: str):  # type: ignore[no-untyped-def]
    """A client of the pages with a browser session of the partner's planner."""
    import warnings

    from fastapi.testclient import TestClient

    from jointplan.api.deps import SESSION_COOKIE
    from jointplan.services.accounts import sign_in

    with server.hub.db.write() as session:  # type: ignore[attr-defined]
        found = sign_in(session, username=f"{partner.lower()}-planner", password=PASSWORD)
    assert found is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(server.client.app, cookies={SESSION_COOKIE: found[1]})  # type: ignore[attr-defined]
    return client


def test_sqlite_held_locked_answers_writes_503_in_bounded_time_and_recovers(
        tmp_path, short_timeouts, caplog):
    url = fresh_database("sqlite", tmp_path)
    server = start_server(url, EXAMPLE)
    other = create_engine(url, connect_args={"isolation_level": None})
    counters = create_engine(str(counters_url(url)), connect_args={"isolation_level": None})
    browser = _signed_in(server, "NOR")
    try:
        _assert_serving(server)
        with other.connect() as conn:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")  # another process holds the file
            caplog.clear()
            response, took = _timed(lambda: server.client.post(
                "/api/observations", json=OBSERVATION, headers=server.as_("NOR")))
            assert response.status_code == 503 and took < BOUND
            assert response.headers["retry-after"] == str(RETRY_AFTER)
            assert response.json() == UNAVAILABLE
            lines = [r for r in caplog.records if r.name == "jointplan.server"]
            assert len(lines) == 1 and lines[0].exc_info is None
            # A page only reads the main file, and counts its analysis in the counters
            # file beside it: the held writer does not hold it up.
            page, took = _timed(lambda: browser.get("/"))
            assert page.status_code == 200 and took < BOUND
            with counters.connect() as held:
                held.exec_driver_sql("BEGIN EXCLUSIVE")  # the counters' writer held too
                # The page answers in HTML: its analysis cannot be counted.
                page, took = _timed(lambda: browser.get("/"))
                assert page.status_code == 503 and took < BOUND
                assert page.headers["retry-after"] == str(RETRY_AFTER)
                assert "Try again shortly" in page.text and "Traceback" not in page.text
                held.exec_driver_sql("ROLLBACK")
            conn.exec_driver_sql("ROLLBACK")
        assert browser.get("/").status_code == 200
        _assert_serving(server)
    finally:
        other.dispose()
        counters.dispose()
        browser.close()
        server.client.close()  # type: ignore[attr-defined]
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]
