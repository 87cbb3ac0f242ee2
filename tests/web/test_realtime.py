"""Real dates on the pages: declaring a scenario, the user's zone, calendar addresses."""

from __future__ import annotations

import html
import re

from jointplan.server.t0 import local_iso

from .conftest import csrf_of
from .test_pages import private  # noqa: F401  (a fixture)


def _declare(client, scenario: str, t0: str, **extra: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client.get("/time").text)
    return client.post("/time/declare", data={"csrf": csrf, "scenario": scenario, "t0": t0,
                                              "reason": "ordered", **extra})


def test_without_a_declaration_pages_show_t_plus_only(pages):
    text = pages.client("SOU").get("/plans/sou-aster").text
    assert "No scenario declared" in text
    assert "T+6h" in text and "T+6h (" not in text


def test_a_declared_scenario_puts_real_dates_beside_t_plus_for_every_partner(pages):
    nor = pages.client("NOR")
    answer = _declare(nor, "unrest-aster", "2026-11-20T08:00Z")
    assert answer.status_code == 303 and answer.headers["location"] == "/time?done=declared"
    for partner in ("NOR", "SOU", "RRA"):
        page = pages.client(partner).get("/").text
        assert "T0 of <strong>unrest-aster</strong>" in page
        assert "2026-11-20 08:00 UTC" in page
    # SOU's plan runs under unrest-aster: T+6h is 14:00 UTC that day
    text = pages.client("SOU").get("/plans/sou-aster").text
    assert "T+6h (2026-11-20 14:00 UTC)" in text
    # a plan under other scenarios is timed from their T0, not this one
    other = pages.client("NOR").get("/plans/nor-shipping").text
    assert "(2026-11-2" not in re.sub(r'<p class="t0-strip">.*?</p>', "", other, flags=re.S)


def test_each_user_sees_dates_in_their_own_zone_with_the_zone(pages):
    sou = pages.client("SOU")
    _declare(pages.client("NOR"), "unrest-aster", "2026-11-20T08:00Z")
    csrf = csrf_of(sou.get("/time").text)
    assert sou.post("/time/zone", data={"csrf": csrf, "timezone": "Europe/Oslo"}
                    ).status_code == 303
    text = sou.get("/plans/sou-aster").text
    assert "T+6h (2026-11-20 15:00 CET)" in text
    assert "T+6h (2026-11-20 14:00 UTC)" in pages.client("NOR").get("/plans/sou-aster").text
    # the audit on the dashboard is shown in the same zone, naming it
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d CET</time>",
                     sou.get("/").text)


def test_a_bad_time_is_shown_at_its_field_and_the_form_is_kept(pages):
    nor = pages.client("NOR")
    answer = _declare(nor, "unrest-aster", "next tuesday")
    assert answer.status_code == 422
    assert 'id="t0-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="next tuesday"' in answer.text
    # a time without a zone is read in the user's zone (UTC by default)
    assert _declare(nor, "unrest-aster", "2026-11-20T08:00").status_code == 303
    assert "2026-11-20 08:00 UTC" in nor.get("/").text


def test_withdrawing_asks_for_confirmation_and_is_recorded(pages):
    nor = pages.client("NOR")
    _declare(nor, "unrest-aster", "2026-11-20T08:00Z")
    csrf = csrf_of(nor.get("/time").text)
    refused = nor.post("/time/undeclare", data={"csrf": csrf, "scenario": "unrest-aster"})
    assert refused.status_code == 422 and "Tick the box to confirm" in refused.text
    assert "T0 of <strong>unrest-aster</strong>" in nor.get("/").text
    done = nor.post("/time/undeclare", data={"csrf": csrf, "scenario": "unrest-aster",
                                             "confirm": "yes"})
    assert done.status_code == 303
    assert "No scenario declared" in pages.client("SOU").get("/").text


def test_a_calendar_address_is_shown_once_and_works_until_revoked(pages):
    sou = pages.client("SOU")
    _declare(pages.client("NOR"), "unrest-aster", "2026-11-20T08:00Z")
    csrf = csrf_of(sou.get("/time").text)
    made = sou.post("/time/feeds", data={"csrf": csrf, "name": "desk"})
    assert made.status_code == 200
    url = html.unescape(re.search(r'<code id="new-feed">([^<]+)</code>', made.text).group(1))
    path = url.split("testserver", 1)[1]
    got = pages.client().get(path)
    assert got.status_code == 200 and b"BEGIN:VEVENT" in got.content
    assert url not in sou.get("/time").text  # shown only once
    feed_id = re.search(r'action="/time/feeds/([^/]+)/revoke"', sou.get("/time").text).group(1)
    # another partner's people cannot revoke it: it is missing to them
    nor = pages.client("NOR")
    assert nor.post(f"/time/feeds/{feed_id}/revoke",
                    data={"csrf": csrf_of(nor.get("/time").text)}).status_code == 404
    assert sou.post(f"/time/feeds/{feed_id}/revoke", data={"csrf": csrf,
                                                           "confirm": "yes"}).status_code == 303
    assert pages.client().get(path).status_code == 404


TIME = re.compile(r'<time datetime="([^"]+)">([^<]*)</time>')


def _in_zone(html: str, zone: str, label: str) -> int:
    """Every <time> of a page reads its instant in `zone`, named; how many there are."""
    found = TIME.findall(html)
    for instant, text in found:
        assert text == local_iso(instant, zone) and text.endswith(f" {label}"), (instant, text)
    return len(found)


def test_every_time_on_the_collaboration_pages_is_in_the_users_zone(pages, private):  # noqa: F811
    sou, nor = pages.client("SOU"), pages.client("NOR")
    for client in (sou, nor):
        csrf = csrf_of(client.get("/time").text)
        assert client.post("/time/zone", data={"csrf": csrf, "timezone": "Asia/Tokyo"}
                           ).status_code == 303
    for client, address, least in (
            (sou, f"/threads/{private['thread']}", 1),
            (nor, "/notifications", 1),
            (nor, f"/proposals/{private['proposal']}", 1),
            (sou, f"/decisions/{private['decision']}", 1),
            (nor, f"/scenarios/observations/{private['observation']}", 1),
            (nor, f"/conflicts/{private['conflict']}", 0)):
        # (a conflict's history is empty until its status changes)
        answer = client.get(address)
        assert answer.status_code == 200, address
        assert _in_zone(answer.text, "Asia/Tokyo", "JST") >= least, address


TICK_DATE = re.compile(r'<text [^>]*class="tick tick-date"[^>]*>([^<]+)</text>')


def test_chart_ticks_carry_the_real_date_in_the_users_zone_once_declared(pages):
    sou = pages.client("SOU")
    assert not TICK_DATE.findall(sou.get("/plans/sou-aster").text)
    assert not TICK_DATE.findall(sou.get("/plans?scenario=unrest-aster").text)
    assert _declare(pages.client("NOR"), "unrest-aster", "2026-11-20T08:00Z").status_code == 303
    csrf = csrf_of(sou.get("/time").text)
    assert sou.post("/time/zone", data={"csrf": csrf, "timezone": "Europe/Oslo"}
                    ).status_code == 303
    for address in ("/plans/sou-aster", "/plans?scenario=unrest-aster"):
        dates = TICK_DATE.findall(sou.get(address).text)
        # the first tick is T0 itself, in SOU's zone, named; every tick names it
        assert dates and dates[0] == "2026-11-20 09:00 CET", (address, dates)
        assert all(d.endswith((" CET", " CEST")) for d in dates)
    # NOR keeps UTC; a plan under another, undeclared, scenario has no dates on its ticks
    nor = pages.client("NOR")
    assert TICK_DATE.findall(nor.get("/plans/sou-aster").text)[0] == "2026-11-20 08:00 UTC"
    assert not TICK_DATE.findall(nor.get("/plans/nor-shipping").text)
    assert not TICK_DATE.findall(nor.get("/plans?scenario=closure-long").text)
