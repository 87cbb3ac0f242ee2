"""Analysis limits per user and per partner, counted in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from jointplan.server.hub import Hub
from jointplan.server.ratelimits import WINDOW, RateLimited, RateLimits, take_slot
from jointplan.store.db import COUNTERS_SUFFIX, counters_url
from tests.conftest import EXAMPLES
from tests.server.conftest import start_server

EXAMPLE = EXAMPLES / "northern-strait"
T0 = 1_800_000_000.0  # the start of a window: 1_800_000_000 is a multiple of 60


@pytest.fixture
def hubs(database_url):
    """Two hubs on one database: two server processes, as far as counting goes."""
    made = [Hub(database_url), Hub(database_url, migrate=False)]
    yield made
    for hub in made:
        hub.db.dispose()


def _take(hub: Hub, limits: RateLimits, user: str, partner: str, at: float = T0) -> None:
    take_slot(hub.db, limits, user_id=user, partner=partner, clock=at)


def test_a_user_may_run_its_limit_and_no_more_however_many_processes(hubs):
    limits = RateLimits(per_user=4, per_partner=100)
    for i in range(4):
        _take(hubs[i % 2], limits, "u1", "NOR")
    with pytest.raises(RateLimited) as refused:
        _take(hubs[0], limits, "u1", "NOR", T0 + 20)
    assert refused.value.retry_after == WINDOW - 20
    with pytest.raises(RateLimited):
        _take(hubs[1], limits, "u1", "NOR", T0 + 20)


def test_one_users_limit_leaves_the_others_of_its_partner_untouched(hubs):
    limits = RateLimits(per_user=2, per_partner=100)
    for _ in range(2):
        _take(hubs[0], limits, "u1", "NOR")
    with pytest.raises(RateLimited):
        _take(hubs[0], limits, "u1", "NOR")
    for _ in range(2):
        _take(hubs[1], limits, "u2", "NOR")


def test_a_partner_as_a_whole_is_limited_and_refusals_are_not_counted(hubs):
    limits = RateLimits(per_user=3, per_partner=5)
    for user in ("a", "a", "a", "b", "b"):
        _take(hubs[0], limits, user, "SOU")
    with pytest.raises(RateLimited, match="per partner"):
        _take(hubs[1], limits, "c", "SOU")
    # c's refused request was not counted against c, nor was a's against the partner:
    with pytest.raises(RateLimited, match="per user"):
        _take(hubs[0], limits, "a", "SOU")
    _take(hubs[0], limits, "c", "SOU", T0 + WINDOW)  # a new window
    _take(hubs[0], limits, "c", "SOU", T0 + WINDOW)
    _take(hubs[0], limits, "c", "SOU", T0 + WINDOW)
    with pytest.raises(RateLimited, match="per user"):
        _take(hubs[0], limits, "c", "SOU", T0 + WINDOW)


def test_a_new_window_starts_afresh_and_old_counts_are_dropped(hubs):
    from sqlalchemy import func, select

    from jointplan.store.tables import RateCounter

    limits = RateLimits(per_user=1, per_partner=10)
    _take(hubs[0], limits, "u1", "RRA", T0)
    with pytest.raises(RateLimited):
        _take(hubs[0], limits, "u1", "RRA", T0 + WINDOW - 1)
    _take(hubs[1], limits, "u1", "RRA", T0 + WINDOW)
    with hubs[0].db.counts() as session:
        assert session.scalar(select(func.count()).select_from(RateCounter)) == 2


def test_a_count_never_waits_for_a_plan_write(hubs):
    """An analysis counts itself while another process holds the write turn (SQLite's
    one writer, PostgreSQL's advisory lock): the count does not wait for it."""
    limits = RateLimits(per_user=2, per_partner=10)
    with hubs[0].db.write() as session:
        session.execute(text("SELECT 1"))  # the turn is taken (BEGIN IMMEDIATE on SQLite)
        started = time.perf_counter()
        _take(hubs[1], limits, "u1", "NOR")
        _take(hubs[1], limits, "u1", "NOR")
        with pytest.raises(RateLimited):
            _take(hubs[1], limits, "u1", "NOR")
        assert time.perf_counter() - started < 2  # the busy wait would be 10 s, then fail
    _take(hubs[0], limits, "u2", "NOR")


def test_on_sqlite_the_counts_live_in_a_file_of_their_own_beside_the_main_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'main.db'}"
    assert counters_url(url) == f"sqlite:///{tmp_path / 'main.db'}{COUNTERS_SUFFIX}"
    assert counters_url("sqlite://") is None and counters_url("sqlite:///:memory:") is None
    assert counters_url("postgresql+psycopg://u@h/db") is None
    first, second = Hub(url), Hub(url, migrate=False)
    try:
        limits = RateLimits(per_user=1, per_partner=10)
        _take(first, limits, "u1", "NOR")
        assert (tmp_path / f"main.db{COUNTERS_SUFFIX}").is_file()
        with pytest.raises(RateLimited):  # another process opening the same file shares it
            _take(second, limits, "u1", "NOR")
    finally:
        first.db.dispose()
        second.db.dispose()
    # A restart forgets nothing: the count is in the file.
    again = Hub(url, migrate=False)
    try:
        with pytest.raises(RateLimited):
            _take(again, limits, "u1", "NOR")
    finally:
        again.db.dispose()


def test_the_api_answers_429_with_retry_after_once_the_user_is_over(database_url):
    server = start_server(database_url, EXAMPLE, analyses_per_minute=3)
    try:
        for _ in range(3):
            assert server.client.get("/api/check", headers=server.as_("NOR")).status_code == 200
        refused = server.client.get("/api/check", headers=server.as_("NOR"))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
        assert "per user" in refused.json()["detail"]
        # Another partner's user is not refused, nor the same user's plain reads.
        assert server.client.get("/api/check", headers=server.as_("SOU")).status_code == 200
        assert server.client.get("/api/plans", headers=server.as_("NOR")).status_code == 200
    finally:
        server.client.close()  # type: ignore[attr-defined]
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]
