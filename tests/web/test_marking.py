"""The marking banner: every page carries, top and bottom, the most restrictive TLP of
what it shows."""

from __future__ import annotations

import re

import pytest

BANNER = re.compile(r'<p class="marking-banner [^"]*" data-tlp="([^"]+)"><strong>TLP:([A-Z+]+)')


def _banners(text: str) -> list[str]:
    found = BANNER.findall(text)
    assert all(tlp.upper() == shown for tlp, shown in found)
    # one at the top (in the banner landmark) and one at the bottom (in the footer)
    assert len(found) == 2, found
    assert text.index("marking-banner") < text.index("<main")
    assert text.rindex("marking-banner") > text.index("</main>")
    return [tlp for tlp, _ in found]


@pytest.mark.parametrize(("partner", "path", "tlp"), [
    ("NOR", "/", "amber+strict"),            # NOR's own nor-shipping is amber+strict
    ("NOR", "/plans/rra-relief", "clear"),   # one plan: its own marking
    ("NOR", "/plans/nor-evacuation", "amber"),
    ("SOU", "/plans/sou-port", "green"),
    ("NOR", "/scenarios", "amber+strict"),
])
def test_pages_carry_the_most_restrictive_marking_top_and_bottom(pages, partner, path, tlp):
    answer = pages.client(partner).get(path)
    assert answer.status_code == 200
    assert _banners(answer.text) == [tlp, tlp]


def test_a_partner_that_sees_less_is_marked_by_what_it_sees(pages):
    from jointplan.services.workspaces import load_checked
    from jointplan.sharing.view import view_for
    from tests.conftest import EXAMPLES

    ws = load_checked(EXAMPLES / "northern-strait").workspace
    ranks = ["clear", "green", "amber", "amber+strict", "red"]
    for partner in ("NOR", "SOU", "RRA"):
        seen = {p["id"] for p in view_for(ws, partner)["plans"]}
        strict_seen = any(ws.plan(pid).tlp.value == "amber+strict" for pid in seen)
        got = _banners(pages.client(partner).get("/").text)[0]
        assert (got == "amber+strict") == strict_seen, partner
        assert ranks.index(got) >= ranks.index("amber")  # every partner sees an amber plan


def test_pages_without_partner_data_are_marked_clear(pages):
    assert _banners(pages.client().get("/signin").text) == ["clear", "clear"]
    missing = pages.client("SOU").get("/plans/no-such-plan")
    assert missing.status_code == 404 and _banners(missing.text) == ["clear", "clear"]
