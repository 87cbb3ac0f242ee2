"""Pages over workspaces made for the case: withheld fields, generated titles, chart ids."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jointplan.api.deps import SESSION_COOKIE
from tests.server.conftest import PASSWORD, Server, fresh_database, start_server
from tests.server.test_share_changes import folder_with, plan, task


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*plans: dict[str, Any]) -> Server:
        server = start_server(fresh_database("sqlite", tmp_path),
                              folder_with(tmp_path / "ws", *plans))
        started.append(server)
        return server

    yield start
    for server in started:
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]


def browser(server: Server, partner: str) -> Any:
    """A client signed in as the partner's planner, with its CSRF token."""
    from fastapi.testclient import TestClient

    from jointplan.services.accounts import sign_in

    with server.hub.db.write() as session:  # type: ignore[attr-defined]
        found = sign_in(session, username=server.usernames[partner], password=PASSWORD)
    assert found is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(server.client.app, follow_redirects=False)  # type: ignore[attr-defined]
    client.cookies.set(SESSION_COOKIE, found[1])
    return client


def test_the_risk_panel_shows_an_objective_whose_deadline_is_withheld(serve: Any) -> None:
    server = serve(plan("aaa-open", "all", [task("a1", serves=["o1"])],
                        objectives=[{"id": "o1", "title": "Done", "by": "T+10h",
                                     "withhold": {"by": ["BBB"]}}]))
    part = browser(server, "BBB").get("/plans/aaa-open/risk",
                                      params={"scenario": "baseline", "samples": "50"})
    assert part.status_code == 200, part.text
    assert "o1" in part.text and "withheld" in part.text and "T+10h" not in part.text


def test_a_page_read_twice_is_the_same_whatever_was_drawn_for_others_between(
        serve: Any) -> None:
    """Chart ids come from the page itself, not from a counter of every chart drawn."""
    server = serve(plan("aaa-open", "all", [task("a1", uses={"berth": 1})]),
                   plan("bbb-own", ["BBB"], [task("b1", uses={"berth": 1})]))
    aaa, bbb = browser(server, "AAA"), browser(server, "BBB")
    first = aaa.get("/plans/aaa-open").text
    assert "<svg" in first
    for _ in range(3):
        assert "<svg" in bbb.get("/plans/bbb-own").text
    again = aaa.get("/plans/aaa-open").text
    ids = re.compile(r'id="(chart[^"]*)"')
    assert ids.findall(first) and ids.findall(first) == ids.findall(again)
    assert len(set(ids.findall(first))) == len(ids.findall(first))


def _start_thread_from(client: Any, page: str, share: list[str]) -> str:
    """Submit the thread form of a page as it comes prefilled; the thread's address."""
    html = client.get(page).text
    form = re.search(r'<form method="post" action="/threads".*?</form>', html, re.S).group(0)
    data: dict[str, Any] = {n: v for n, v in re.findall(
        r'<input[^>]*type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    title = re.search(r'name="title"[^>]*?(?:value="([^"]*)")?>', form)
    data.update({"title": title.group(1) or "" if title else "", "text": "hello",
                 "share": share})
    answer = client.post("/threads", data=data)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"].split("?")[0])


def test_a_thread_started_from_a_plan_page_names_no_plan_a_reader_may_not_see(
        serve: Any) -> None:
    server = serve(plan("aaa-secret", ["BBB"], [task("a1")]))
    bbb, ccc = browser(server, "BBB"), browser(server, "CCC")
    path = _start_thread_from(bbb, "/plans/aaa-secret", ["AAA", "CCC"])
    for page in (path, "/threads"):
        text = ccc.get(page).text
        assert "aaa-secret" not in text, text
    api = server.client.get("/api/threads", headers=server.as_("CCC")).text
    assert "aaa-secret" not in api
    # Where every reader sees the plan, the title may name it.
    named = _start_thread_from(bbb, "/plans/aaa-secret", ["AAA"])
    assert "About aaa-secret" in browser(server, "AAA").get(named).text
