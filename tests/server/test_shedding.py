"""Load shedding: at most N requests in flight, a short wait, then 503 with Retry-After."""

from __future__ import annotations

import asyncio

import httpx

from jointplan.api.shedding import RETRY_AFTER, LoadShedder, Shedding


async def _slow(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(0.2)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _statuses(shedder: LoadShedder, n: int, path: str = "/api/check") -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=shedder)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(await asyncio.gather(*(client.get(path) for _ in range(n))))

    return asyncio.run(run())


def test_beyond_the_requests_in_flight_and_a_short_wait_the_rest_are_shed_with_retry_after():
    shedder = LoadShedder(_slow, Shedding(max_in_flight=2, queue_wait=0.05, max_waiting=10))
    answers = _statuses(shedder, 8)
    assert sorted(r.status_code for r in answers) == [200, 200] + [503] * 6
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["retry-after"] == str(RETRY_AFTER)
    assert busy.json() == {"detail": "the server is busy; try again shortly"}
    assert shedder.shed == 6


def test_a_request_that_waits_briefly_for_its_turn_is_served():
    shedder = LoadShedder(_slow, Shedding(max_in_flight=2, queue_wait=1.0, max_waiting=10))
    assert [r.status_code for r in _statuses(shedder, 6)] == [200] * 6


def test_no_more_than_max_waiting_wait_at_once():
    shedder = LoadShedder(_slow, Shedding(max_in_flight=1, queue_wait=5.0, max_waiting=2))
    assert sorted(r.status_code for r in _statuses(shedder, 6)) == [200] * 3 + [503] * 3


def test_the_server_recovers_by_itself_once_the_load_falls():
    shedder = LoadShedder(_slow, Shedding(max_in_flight=1, queue_wait=0.01, max_waiting=1))
    assert 503 in {r.status_code for r in _statuses(shedder, 5)}
    assert [r.status_code for r in _statuses(shedder, 1)] == [200]


def test_static_files_are_never_shed():
    shedder = LoadShedder(_slow, Shedding(max_in_flight=1, queue_wait=0.01, max_waiting=0))
    assert [r.status_code for r in _statuses(shedder, 4, "/static/app.css")] == [200] * 4
