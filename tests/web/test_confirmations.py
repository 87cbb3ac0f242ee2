"""Irreversible steps ask for an *I confirm* box: without it nothing is stored and the form
comes back with the box marked; who may not take the step is told so (403), and an object
the partner may not see stays missing (404), whether the box is ticked or not."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from jointplan.store.tables import CalendarFeed

from .conftest import csrf_of
from .test_field_errors import marked, propose_move


def test_revoking_a_calendar_address_asks_first(pages):
    sou = pages.client("SOU")
    csrf = csrf_of(sou.get("/time").text)
    made = sou.post("/time/feeds", data={"csrf": csrf, "name": "desk"})
    url = html.unescape(re.search(r'<code id="new-feed">([^<]+)</code>', made.text).group(1))
    path = url.split("testserver", 1)[1]
    feed_id = re.search(r'action="/time/feeds/([^/]+)/revoke"', sou.get("/time").text).group(1)
    asked = sou.post(f"/time/feeds/{feed_id}/revoke", data={"csrf": csrf})
    assert asked.status_code == 422
    assert "Tick the box" in marked(asked.text, f"revoke-{feed_id}")
    assert pages.client().get(path).status_code == 200  # still works
    with pages.hub.db.read() as session:
        assert session.scalar(select(CalendarFeed.revoked)) is None
    # another partner's people: missing, ticked or not
    nor = pages.client("NOR")
    nor_csrf = csrf_of(nor.get("/time").text)
    for data in ({"csrf": nor_csrf}, {"csrf": nor_csrf, "confirm": "yes"}):
        assert nor.post(f"/time/feeds/{feed_id}/revoke", data=data).status_code == 404
    done = sou.post(f"/time/feeds/{feed_id}/revoke", data={"csrf": csrf, "confirm": "yes"})
    assert done.status_code == 303
    assert pages.client().get(path).status_code == 404


def test_who_may_not_take_a_final_step_is_refused_before_being_asked(pages):
    sou = pages.client("SOU")
    sent = propose_move(sou, "/proposals", "T+1d", "the quay")
    assert sent.status_code == 303
    form = sou.get("/proposals").text
    path = sent.headers["location"].split("?")[0]
    # the sender may not decline its own proposal: 403, not the confirmation
    refused = sou.post(f"{path}/decline", data={"csrf": csrf_of(form), "reason": "no"})
    assert refused.status_code == 403
    nor = pages.client("NOR")
    nor_csrf = csrf_of(nor.get(path).text)
    nor.post("/decisions", data={"csrf": nor_csrf, "title": "Apron", "text": "Open it?",
                                 "partners": ["SOU"]})
    decision = re.search(r'href="(/decisions/[^"?]+)"', nor.get("/decisions").text).group(1)
    # only the opening partner closes: SOU is refused, ticked or not
    for data in ({"outcome": "x"}, {"outcome": "x", "confirm": "yes"}):
        answer = sou.post(f"{decision}/close", data={"csrf": csrf_of(form), **data})
        assert answer.status_code == 403
    assert "closed" not in nor.get(decision).text.split("<main", 1)[1].split("Responses")[0]
