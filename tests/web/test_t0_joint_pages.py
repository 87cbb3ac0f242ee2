"""The Real time page where the workspace declares T0 by joint decision: an admin sets the
mode there; a planner's declaration asks the partners; T0 appears once all concur."""

from __future__ import annotations

import re

from sqlalchemy import select

from jointplan.server import t0
from jointplan.store.tables import User

from .conftest import csrf_of, username


def _role(pages, partner: str, role: str) -> None:
    with pages.hub.db.write() as session:
        session.scalar(select(User).where(User.username == username(partner))).role = role


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf": csrf_of(client.get("/time").text), **data})


def test_only_an_admin_is_offered_the_mode_and_may_set_it(pages):
    nor = pages.client("NOR")
    text = nor.get("/time").text
    assert 'id="t0-mode">By <strong>any planner</strong>' in text
    assert 'action="/time/mode"' not in text
    assert _post(nor, "/time/mode", mode="joint").status_code == 403
    _role(pages, "NOR", "admin")
    assert 'action="/time/mode"' in nor.get("/time").text
    bad = _post(nor, "/time/mode", mode="sometimes")
    assert bad.status_code == 422 and 'id="mode-error"' in bad.text
    done = _post(nor, "/time/mode", mode="joint")
    assert done.status_code == 303 and done.headers["location"] == "/time?done=mode"
    for partner in ("NOR", "SOU", "RRA"):
        assert 'id="t0-mode">By <strong>joint decision</strong>' in \
            pages.client(partner).get("/time").text
    with pages.hub.db.read() as session:
        assert t0.mode_of(session)["mode"] == "joint"


def test_a_declaration_asks_the_partners_and_t0_waits_for_all_of_them(pages):
    t0.set_mode(pages.hub, None, "joint")
    nor, sou, rra = (pages.client(p) for p in ("NOR", "SOU", "RRA"))
    form = nor.get("/time").text
    assert "Ask the partners to declare a scenario" in form
    asked = _post(nor, "/time/declare", scenario="unrest-aster", t0="2026-11-20T08:00Z",
                  reason="riots")
    assert asked.status_code == 303 and asked.headers["location"] == "/time?done=asked"
    assert "No scenario declared" in nor.get("/").text
    # SOU finds the request on the Real time page and answers on the decision's page
    page = sou.get("/time").text
    link = re.search(r'<a href="(/decisions/[^"]+)">Declare unrest-aster with T0 at '
                     r'2026-11-20T08:00:00Z</a>', page)
    assert link, page
    assert "NOR of NOR, RRA, SOU" in page
    decision = link.group(1)
    for client in (sou, rra):
        csrf = csrf_of(client.get(decision).text)
        answer = client.post(decision + "/responses", data={"csrf": csrf, "stance": "concur"})
        assert answer.status_code == 303, answer.text
        declared = "T0 of <strong>unrest-aster</strong>" in nor.get("/").text
        assert declared == (client is rra)  # only once every partner asked concurs
    for client in (nor, sou, rra):
        assert "2026-11-20 08:00 UTC" in client.get("/").text
        assert "by joint decision" in client.get("/time").text
    assert "T+6h (2026-11-20 14:00 UTC)" in sou.get("/plans/sou-aster").text
    assert "Accepted by every partner asked" in nor.get(decision).text


def test_withdrawing_in_joint_mode_asks_too(pages):
    nor = pages.client("NOR")
    assert _post(nor, "/time/declare", scenario="unrest-aster",
                 t0="2026-11-20T08:00Z").status_code == 303
    t0.set_mode(pages.hub, None, "joint")
    assert "Ask to withdraw" in nor.get("/time").text
    asked = _post(nor, "/time/undeclare", scenario="unrest-aster", confirm="yes")
    assert asked.status_code == 303 and asked.headers["location"] == "/time?done=asked"
    assert "T0 of <strong>unrest-aster</strong>" in nor.get("/").text  # still declared
    assert "Withdraw the T0 of unrest-aster" in pages.client("RRA").get("/time").text
