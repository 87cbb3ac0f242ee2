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


def test_the_collaboration_steps_show_no_canary_to_a_partner_outside_them(serve: Any) -> None:
    """Proposal previews, withdrawals, decisions with outcomes and notifications between AAA
    and BBB: CCC's pages hold none of their texts, and their pages answer CCC as missing.
    A hidden task of CCC's in a previewed conflict is named to BBB by partner only."""
    server = serve(plan("aaa-open", "all", [task("a1", uses={"berth": 1}, start="T+2h",
                                                 flex=["T+0h", "T+4h"])]),
                   plan("bbb-own", None, [task("b1", uses={"berth": 1}, start="T+0h")]),
                   plan("ccc-hidden", None, [task("c-hidden", uses={"berth": 1},
                                                  start="T+0h")]))
    aaa, bbb, ccc = (browser(server, p) for p in ("AAA", "BBB", "CCC"))
    csrf = {p: re.search(r'name="csrf" value="([^"]+)"', c.get("/plans").text).group(1)
            for p, c in (("AAA", aaa), ("BBB", bbb), ("CCC", ccc))}
    form = {"csrf": csrf["BBB"], "plan": "aaa-open", "task": "a1", "kind": "move-start",
            "start": "T+0h", "reason": "canary-proposal-reason"}
    preview = bbb.post("/proposals/preview", data=form)
    assert preview.status_code == 200, preview.text
    assert "CCC (hidden)" in preview.text
    assert "ccc-hidden" not in preview.text and "c-hidden" not in preview.text
    pid = bbb.post("/proposals", data=form).headers["location"].split("?")[0]
    bbb.post(f"{pid}/withdraw", data={"csrf": csrf["BBB"], "confirm": "yes"})
    did = aaa.post("/decisions", data={"csrf": csrf["AAA"], "title": "canary-decision-title",
                                       "text": "canary-decision-text", "partners": ["BBB"]}
                   ).headers["location"].split("?")[0]
    aaa.post(f"{did}/close", data={"csrf": csrf["AAA"], "outcome": "canary-outcome",
                                  "confirm": "yes"})
    assert "canary-outcome" in bbb.get(did).text
    assert "canary-decision-title" in bbb.get("/notifications").text
    for page in ("/notifications", "/proposals", "/decisions", "/proposals/new", "/",
                 "/scenarios"):
        text = ccc.get(page).text
        assert "canary-" not in text, (page, text[:2000])
    for path in (pid, did):
        fake = path[: -16] + "A" * 16
        hidden, missing = ccc.get(path), ccc.get(fake)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
    # CCC is told, once, that BBB is shown its task as a hidden counterpart (b1 and c1).
    assert "hidden counterparts" in ccc.get("/notifications").text


def test_a_new_conflict_is_told_to_the_partners_whose_items_are_in_it(serve: Any) -> None:
    from tests.server.test_share_changes import put

    server = serve(plan("aaa-open", "all", [task("a1", uses={"berth": 1}, start="T+2h")]),
                   plan("bbb-own", "all", [task("b1", uses={"berth": 1}, start="T+0h")]))

    def notes(partner: str) -> list[dict[str, Any]]:
        return [n for n in server.client.get("/api/notifications",
                                             headers=server.as_(partner)).json()
                if n["kind"] == "conflict"]

    assert all(notes(p) == [] for p in ("AAA", "BBB", "CCC"))  # the setup is no news
    moved = plan("aaa-open", "all", [task("a1", uses={"berth": 1}, start="T+0h")])
    assert put(server, "AAA", moved).status_code == 201
    for partner in ("AAA", "BBB"):
        told = notes(partner)
        assert len(told) == 1 and told[0]["link"].startswith("/conflicts/"), told
        assert browser(server, partner).get(told[0]["link"]).status_code == 200
    assert notes("CCC") == []  # shown the plans, but no item of its own in the conflict
