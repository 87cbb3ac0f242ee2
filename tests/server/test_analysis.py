"""Reads never write: analyses, pages and history are recorded only when they reveal, once."""

from __future__ import annotations

import re
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from jointplan.store.tables import AnalysisRecord, AuditEntry, Notification
from tests.conftest import EXAMPLES

from .conftest import PASSWORD, Server, start_server

LINK = re.compile(r'href="(/[^"#]*)')
PARTNERS = ("NOR", "SOU", "RRA")


@pytest.fixture
def server(database_url, tmp_path) -> Iterator[Server]:
    started = start_server(database_url, EXAMPLES / "northern-strait")
    yield started
    started.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _tables(server: Server) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """Every audit entry and notification, in order."""
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        entries = [(e.seq, e.action, e.subject, e.digest)
                   for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        notes = sorted((n.partner, n.text) for n in session.scalars(select(Notification)))
    return entries, notes


def _browser(server: Server, partner: str) -> Any:
    """A client with a browser session of the partner (signing in is a write: done first)."""
    from fastapi.testclient import TestClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(server.client.app, follow_redirects=False)  # type: ignore[attr-defined]
    answer = client.post("/auth/login", json={"username": server.usernames[partner],
                                               "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


def _crawl(server: Server, partner: str, browser: Any) -> int:
    """Every read route of the API and every page the partner can reach; how many answered."""
    client, headers = server.client, server.as_(partner)
    get = lambda path, **kw: client.get(path, headers=headers, **kw)  # type: ignore[attr-defined]  # noqa: E731
    count = 0
    for path in ("/api/me", "/api/workspace", "/api/plans", "/api/check", "/api/threads",
                 "/api/proposals", "/api/decisions", "/api/acknowledgements",
                 "/api/notifications", "/api/audit", "/api/plans/no-such-plan",
                 "/api/plans/no-such-plan/versions"):
        assert get(path).status_code < 500, path
        count += 1
    assert get("/api/simulate", params={"samples": 100, "seed": 1}).status_code < 500
    for plan in get("/api/plans").json():
        versions = get(f"/api/plans/{plan['id']}/versions")
        assert get(f"/api/plans/{plan['id']}").status_code == 200
        assert versions.status_code == 200
        ids = [v["version"] for v in versions.json()]
        assert get(f"/api/plans/{plan['id']}/diff",
                   params={"from": ids[0], "to": ids[-1]}).status_code == 200
        count += 3
    queue, seen = deque(["/"]), set()
    while queue:
        path = queue.popleft()
        if path in seen or path.startswith(("/static/", "/signout", "/api", "/auth")):
            continue
        seen.add(path)
        answer = browser.get(path)
        assert answer.status_code < 500, path
        queue.extend(LINK.findall(answer.text.replace("&amp;", "&")))
    assert len(seen) > 20
    return count + len(seen)


def test_reading_everything_as_every_partner_writes_only_first_sightings_then_nothing(server):
    browsers = {p: _browser(server, p) for p in PARTNERS}
    entries, notes = _tables(server)
    for p in PARTNERS:
        _crawl(server, p, browsers[p])
    first_entries, first_notes = _tables(server)
    # The first look at a result that shows hidden counterparts is recorded, once a partner.
    new = first_entries[len(entries):]
    assert first_entries[:len(entries)] == entries
    assert [a for _, a, _, _ in new] == ["analysis"] * len(new)
    assert len({s for _, _, s, _ in new}) == len(new) <= len(PARTNERS)
    for p in PARTNERS:
        _crawl(server, p, browsers[p])
    assert _tables(server) == (first_entries, first_notes)
    assert len(first_notes) >= len(notes)


def test_a_partner_without_hidden_counterparts_leaves_no_trace(server):
    """NOR is shown no hidden counterpart in the example: its analyses write nothing."""
    before = _tables(server)
    report = server.client.get("/api/check", headers=server.as_("NOR")).json()  # type: ignore[attr-defined]
    assert not any(t.get("hidden") for c in report["conflicts"] for t in c["tasks"])
    assert report["conflicts"]
    assert _tables(server) == before


def test_a_result_with_hidden_counterparts_is_recorded_once_and_its_owners_told_once(server):
    def check(partner: str) -> dict[str, Any]:
        answer = server.client.get("/api/check", headers=server.as_(partner))  # type: ignore[attr-defined]
        assert answer.status_code == 200
        return answer.json()

    shown = {p: {t["partner"] for c in check(p)["conflicts"] for t in c["tasks"]
                 if t.get("hidden") and t["partner"] != p} for p in PARTNERS}
    viewer = next(p for p in PARTNERS if shown[p])
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        records = list(session.scalars(select(AnalysisRecord)
                                       .where(AnalysisRecord.partner == viewer)))
    assert len(records) == 1
    after_first = _tables(server)
    for _ in range(3):
        check(viewer)
    assert _tables(server) == after_first
    entries, notes = after_first
    assert sum(1 for _, a, s, _ in entries if (a, s) == ("analysis", f"partner:{viewer}")) == 1
    for owner in shown[viewer]:
        # Told once per lasting conflict when the plans were stored, never by a read.
        told = [text for partner, text in notes if partner == owner and viewer in text]
        assert told and all(f"{viewer} is shown a conflict" in t for t in told), told
        assert not any("ran an analysis" in t for _, t in notes)


def test_a_new_conflict_is_a_new_result_and_tells_only_about_itself(server):
    """A later result with one more conflict is recorded again (an audit entry its owners
    may read); a read tells no one anything by notification."""
    from jointplan.server.analysis import exposed_conflicts

    hub = server.hub
    reports = {p: server.client.get("/api/check", headers=server.as_(p)).json()  # type: ignore[attr-defined]
               for p in PARTNERS}
    viewer = next(p for p in PARTNERS if exposed_conflicts(reports[p], p))
    owner, digests = next(iter(exposed_conflicts(reports[viewer], viewer).items()))
    # The same result shown again through the recording function writes nothing ...
    from jointplan.server.analysis import record_exposure

    with hub.db.read() as session:  # type: ignore[attr-defined]
        current = hub.current(session)  # type: ignore[attr-defined]
    actor = _actor(server, viewer)
    before = _tables(server)
    record_exposure(hub, actor, current, reports[viewer])  # type: ignore[arg-type]
    assert _tables(server) == before
    # ... one conflict more is a new result: recorded, and no notification is written.
    extra = dict(reports[viewer]["conflicts"][0])
    extra["window"] = [extra["window"][0], extra["window"][1] + 1]
    extra["tasks"] = [*extra["tasks"], {"partner": owner, "hidden": True}]
    grown = {**reports[viewer], "conflicts": [*reports[viewer]["conflicts"], extra]}
    hub.recorded.clear()  # type: ignore[attr-defined]
    record_exposure(hub, actor, current, grown)  # type: ignore[arg-type]
    entries, notes = _tables(server)
    assert [a for _, a, _, _ in entries[len(before[0]):]] == ["analysis"]
    assert notes == before[1]
    assert len(digests) >= 1


def _actor(server: Server, partner: str) -> Any:
    from jointplan.services.accounts import Actor
    from jointplan.store.tables import User

    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        user = session.scalar(select(User).where(User.username == server.usernames[partner]))
        return Actor(user.id, user.username, user.partner, user.role)


def test_signing_in_verifies_the_password_outside_the_write_lock(server, monkeypatch):
    """argon2 runs in a read; only the new session is written."""
    from jointplan.services import accounts

    hub = server.hub
    writing = {"now": False}
    real_write, real_verify = hub.db.write, accounts.verify_password  # type: ignore[attr-defined]

    class Watched:
        def __enter__(self) -> Any:
            writing["now"] = True
            self.inner = real_write()
            return self.inner.__enter__()

        def __exit__(self, *exc: Any) -> Any:
            writing["now"] = False
            return self.inner.__exit__(*exc)

    def verify(*args: Any, **kwargs: Any) -> Any:
        assert not writing["now"], "argon2 ran inside a write transaction"
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(hub.db, "write", Watched)  # type: ignore[attr-defined]
    monkeypatch.setattr(accounts, "verify_password", verify)
    db = hub.db  # type: ignore[attr-defined]
    assert accounts.sign_in_with(db, username=server.usernames["NOR"], password=PASSWORD)
    assert accounts.sign_in_with(db, username=server.usernames["NOR"],
                                 password="wrong password") is None
