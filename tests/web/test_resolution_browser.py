"""The issue's done-when in a real browser: in the example, SOU asks for a resolution of the
apron conflict, previews it, confirms; NOR accepts the proposal for its charter flights; the
conflict is gone from both dashboards. Its own live server: the test changes the plans."""

from __future__ import annotations

import re

from .conftest import leaks
from .test_browser import Visit, open_as  # noqa: F401 - the fixture, for this module's server


def apron_links(visit: Visit) -> int:
    visit.go("/")
    return int(visit.page.locator("main a[href^='/conflicts/']", has_text="apron-aster").count())


def test_a_partner_resolves_a_conflict_end_to_end(open_as):  # noqa: F811
    sou = open_as("SOU")
    assert apron_links(sou) == 1
    sou.click(sou.page.locator("main a[href^='/conflicts/']", has_text="apron-aster").first)
    sou.click(sou.page.get_by_role("button", name="Propose a resolution"))
    page = sou.page
    assert re.search(r"/conflicts/[\w-]+/resolution\??$", page.url)
    moves = page.locator("#moves-h + .table-wrap table")
    row = moves.locator("tbody tr")
    assert row.count() == 1
    cells = row.first.locator("td").all_inner_texts()
    assert cells[0] == "NOR" and "nor-evacuation/charter-flights" in cells[1]
    assert cells[2:5] == ["T+1d12h", "T+2d12h", "+1d"]
    assert moves.locator("th[scope='col']").count() == 5
    assert "resolved by these moves" in page.locator(".facts").inner_text()
    assert "apron-aster" in page.locator("section[aria-labelledby='resolves-h']").inner_text()
    assert "other scenario" in page.locator("section[aria-labelledby='elsewhere-h']").inner_text()
    sou.snap("resolution-preview")
    page.get_by_label("Why (sent with each proposal)").fill("Free the apron for the airlift")
    sou.click(page.get_by_role("button", name="Confirm and send the proposals"))
    assert re.search(r"/resolutions/[\w-]+\?done=resolution$", page.url)
    resolution = page.url.split("?")[0]
    assert "Resolution confirmed" in page.locator("main").inner_text()
    link = page.get_by_role("link", name="Proposal to NOR")
    assert link.count() == 1
    assert "open" in page.locator("#proposals-h + .table-wrap tbody tr").first.inner_text()
    sou.snap("resolution")

    nor = open_as("NOR")
    nor.page.goto(resolution)
    nor.drain()
    assert "asked for by sou" in " ".join(nor.page.locator(".facts").inner_text().lower().split())
    nor.click(nor.page.get_by_role("link", name="Proposal to NOR"))
    assert "Free the apron for the airlift" in nor.page.locator("main").inner_text()
    nor.click(nor.page.get_by_role("button", name=re.compile("^Accept")))
    assert "Accept this proposal?" in nor.page.locator("main").inner_text()  # asked again
    nor.click(nor.page.get_by_role("button", name="Yes, accept"))
    assert "/plans/nor-evacuation" in nor.page.url

    assert apron_links(nor) == 0
    assert apron_links(sou) == 0
    sou.go(resolution.removeprefix(sou.base))
    assert "accepted" in sou.page.locator("#proposals-h + .table-wrap tbody tr").first.inner_text()
    for visit in (sou, nor):
        found = {url: leaks(body, visit.partner) for url, body in visit.bodies.items()}
        assert {url: texts for url, texts in found.items() if texts} == {}
