"""A calendar feed is polled often: its use is audited once per distinct calendar served,
and a poll that gets the same calendar writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jointplan.store.tables import AuditEntry
from tests.formats.conftest import EXAMPLE
from tests.server.conftest import start_server


@pytest.fixture
def server(database_url):
    server = start_server(database_url, EXAMPLE)
    yield server
    server.hub.db.engine.dispose()


def _uses(server) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    with server.hub.db.read() as session:
        return [e.detail for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "calendar.use")
            .order_by(AuditEntry.seq))]


def _entries(server) -> int:  # type: ignore[no-untyped-def]
    with server.hub.db.read() as session:
        return int(session.scalar(select(func.count(AuditEntry.seq))) or 0)


def test_polls_of_the_same_calendar_are_audited_once_and_a_change_again(server):
    c = server.client
    c.post("/api/t0", headers=server.as_("NOR"),
           json={"scenario": "unrest-aster", "t0": "2026-11-20T08:00Z"})
    feed = c.post("/api/calendar-feeds", headers=server.as_("SOU"), json={"name": "desk"}).json()
    path = "/calendar/" + feed["url"].rsplit("/calendar/", 1)[1]
    first = c.get(path)
    assert first.status_code == 200
    assert len(_uses(server)) == 1
    before = _entries(server)
    second = c.get(path)
    # the same calendar: nothing written, and the very same bytes (stamp included)
    assert second.status_code == 200 and second.content == first.content
    assert _entries(server) == before
    assert len(_uses(server)) == 1
    # what the feed shows changes: the next poll is audited once more
    c.post("/api/t0", headers=server.as_("NOR"),
           json={"scenario": "strait-closure", "t0": "2026-12-01T00:00Z"})
    third = c.get(path)
    assert third.status_code == 200 and third.content != first.content
    uses = _uses(server)
    assert len(uses) == 2 and uses[0]["sha256"] != uses[1]["sha256"]
    assert uses[1]["events"] > uses[0]["events"]  # type: ignore[operator]
    c.get(path)
    assert len(_uses(server)) == 2


def test_two_feeds_are_audited_each_for_itself(server):
    c = server.client
    paths = []
    for name in ("desk", "phone"):
        feed = c.post("/api/calendar-feeds", headers=server.as_("SOU"),
                      json={"name": name}).json()
        paths.append("/calendar/" + feed["url"].rsplit("/calendar/", 1)[1])
    for path in paths + paths:
        assert c.get(path).status_code == 200
    assert len(_uses(server)) == 2
