"""The pages in a real browser (Chromium through Playwright) against a live server.

Each test signs partners in through the form, captures every response the
browser receives, and writes screenshots of the pages at 1280 and 390 px to
test-artifacts/web/ (not committed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from .conftest import ARTIFACTS, PARTNERS, PASSWORD, leaks, username

WIDTHS = (1280, 390)


@dataclass
class Visit:
    """One partner's browser tab, with every response body it has received."""

    partner: str
    page: Any
    base: str
    responses: list[Any] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)
    read: int = 0

    def drain(self) -> None:
        """Read the bodies of the responses received since the last call."""
        for response in self.responses[self.read:]:
            if not 300 <= response.status < 400:
                self.bodies[f"{len(self.bodies)} {response.url}"] = response.text()
        self.read = len(self.responses)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        self.drain()

    def click(self, locator: Any) -> None:
        with self.page.expect_navigation():
            locator.click()
        self.page.wait_for_load_state("load")
        self.drain()

    def links(self, prefix: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(
            f"main a[href^='{prefix}']", "els => els.map(e => e.getAttribute('href'))")
        return list(dict.fromkeys(h.split("#")[0] for h in hrefs))

    def snap(self, name: str) -> None:
        """Screenshots at both widths; the page may not scroll sideways at either."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.wait_for_timeout(50)
            overflow = self.page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide at {width} px"
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def open_as(browser, live_server) -> Iterator[Any]:
    contexts = []

    def sign_in(partner: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        visit = Visit(partner, page, live_server)
        page.on("response", lambda response: visit.responses.append(response))
        visit.go("/")  # sends the browser to the sign-in form
        assert "/signin" in page.url
        page.fill("#username", username(partner))
        page.fill("#password", PASSWORD)
        visit.click(page.get_by_role("button", name="Sign in"))
        assert page.url == live_server + "/"
        return visit

    yield sign_in
    for context in contexts:
        context.close()


@pytest.mark.parametrize("partner", PARTNERS)
def test_each_partner_receives_only_its_own_view(open_as, partner):
    """No response the browser receives holds anything hidden from the partner."""
    visit = open_as(partner)
    shots = partner == "RRA"  # the partner that sees the least
    if shots:
        visit.snap("dashboard")
    for path in visit.links("/conflicts/") + visit.links("/gaps/"):
        visit.go(path)
    for path in ("/scenarios", "/threads", "/proposals", "/proposals/new", "/decisions",
                 "/plans", "/plans?group=phase&scenario=closure-long"):
        visit.go(path)
        if shots and "?" not in path:
            visit.snap(path.strip("/").replace("/", "-"))
    for path in visit.links("/plans/"):
        visit.go(path)
        if visit.page.locator("#preview").count():
            for other in PARTNERS:
                if other != partner:
                    visit.go(f"{path}?preview={other}")
    assert len(visit.bodies) > 20
    found = {url: leaks(body, partner) for url, body in visit.bodies.items()}
    assert {url: texts for url, texts in found.items() if texts} == {}
    everything = "".join(visit.bodies.values())
    assert "Ferry evacuation from Port Aster" in everything  # shared with all three


def test_the_owner_previews_a_partner_with_withheld_fields_marked(open_as):
    visit = open_as("NOR")
    visit.go("/plans/nor-evacuation")
    visit.snap("plan")
    visit.click(visit.page.get_by_role("link", name="As RRA"))
    panel = visit.page.locator(".preview-panel")
    assert panel.locator(".badge.withheld").count() >= 3
    assert "RRA does not receive this item" in panel.inner_text()
    visit.snap("plan-preview")


def test_the_conflict_page_draws_the_load_chart_and_the_map(open_as):
    visit = open_as("RRA")
    visit.click(visit.page.locator("main a[href^='/conflicts/']", has_text="apron-aster")
                .first)
    page = visit.page
    chart = page.locator("svg.load-chart")
    assert chart.get_attribute("role") == "img"
    assert chart.locator("title").count() >= 1
    assert chart.locator("path.load").count() == 1
    assert chart.locator("line.capacity").count() == 1
    assert chart.locator("line.demand").count() == 1
    assert page.locator("text=SOU: hidden").count() >= 1
    page.wait_for_selector("#conflict-map.leaflet-container path.leaflet-interactive")
    assert page.locator("#conflict-map path.leaflet-interactive").count() >= 1
    assert page.locator(".leaflet-tile").count() == 0  # no basemap
    assert all(r.url.startswith(visit.base) for r in visit.responses)  # nothing from outside
    visit.snap("conflict")
    gap = open_as("NOR")
    gap.click(gap.page.locator("main a[href^='/gaps/']").first)
    gap.snap("gap")


def test_posting_an_observation_moves_the_likelihood_bars(open_as):
    """The report is confirmed on a page showing its effect; then the bars move."""
    visit = open_as("NOR")
    visit.go("/scenarios")
    page = visit.page
    bar = page.locator("#scn-unrest-aster > .scenario .bar-fill")
    before = float(bar.get_attribute("width"))
    page.select_option("#indicator", "registration-surge")
    page.get_by_label("Not seen").check()
    visit.click(page.get_by_role("button", name="Check the effect"))
    assert "What it does to the likelihoods" in page.locator("main").inner_text()
    visit.snap("observation-confirm")
    visit.go("/scenarios")  # backing out stores nothing
    assert float(page.locator("#scn-unrest-aster > .scenario .bar-fill")
                 .get_attribute("width")) == before
    page.select_option("#indicator", "registration-surge")
    page.get_by_label("Not seen").check()
    visit.click(page.get_by_role("button", name="Check the effect"))
    visit.click(page.get_by_role("button", name="Report it"))
    assert "/scenarios?done=observed" in page.url
    after = float(page.locator("#scn-unrest-aster > .scenario .bar-fill").get_attribute("width"))
    assert after < before
    assert page.locator("#observations tbody tr", has_text="registration-surge").count() == 2
    visit.snap("scenarios")
    # Corrected afterwards: recorded, and shown in its history.
    visit.click(page.locator("#observations a", has_text="current").first)
    page.get_by_label("Seen", exact=True).check()
    page.fill("#c-reason", "Misread the register")
    visit.click(page.get_by_role("button", name="Record the correction"))
    visit.go("/scenarios")
    assert page.locator("#observations tr.amended").count() == 1
    visit.click(page.locator("#observations a", has_text="corrected").first)
    assert "Misread the register" in page.locator("main").inner_text()
    visit.snap("observation")


def test_a_proposal_accepted_by_the_owner_is_a_new_plan_version(open_as):
    sou = open_as("SOU")
    sou.click(sou.page.locator("main a[href^='/conflicts/']", has_text="aster-quay").first)
    page = sou.page
    sou.click(page.get_by_role("link", name="Propose a change to Ferry evacuation"))
    assert "from T+1d to T+1d16h" in page.locator("main").inner_text()  # its flex, shown
    sou.snap("proposal-new")
    page.fill("#n-start", "T+1d")
    page.fill("#n-reason", "The quay is closed to the public until then.")
    sou.click(page.get_by_role("button", name="Preview the effect"))
    assert "What it would do if accepted now" in page.locator("main").inner_text()
    sou.snap("proposal-preview")
    sou.click(page.get_by_role("button", name="Send the proposal"))
    assert re.search(r"/proposals/[\w-]+\?done=proposed$", page.url)
    assert "open" in page.locator(".facts").inner_text()

    nor = open_as("NOR")
    assert int(nor.page.locator("#notifications-link .unread-count").inner_text()
               .split()[0]) >= 1
    nor.click(nor.page.locator("main a[href^='/proposals/']", has_text="SOU proposes").first)
    assert "as NOR sees it" in nor.page.locator("main").inner_text()
    nor.snap("proposal")
    nor.page.fill("#accept-reason", "Agreed with the harbour master")
    nor.click(nor.page.get_by_role("button", name=re.compile("^Accept")))
    assert "Accept this proposal?" in nor.page.locator("main").inner_text()  # asked again
    nor.snap("proposal-confirm")
    nor.click(nor.page.get_by_role("button", name="Yes, accept"))
    assert "/plans/nor-evacuation" in nor.page.url
    history = nor.page.locator("#history tbody tr")
    assert history.count() == 2
    assert re.search(r"accepted proposal \S+ from SOU: Agreed with the harbour master",
                     history.first.inner_text())
    assert nor.page.locator("#task-ferry-run td").nth(3).inner_text() == "T+1d"
    assert "+  start: T+1d" in nor.page.locator("pre.diff ins").all_inner_texts()

    sou.go("/plans/nor-evacuation")
    assert sou.page.locator("#history tbody tr").count() == 2
    sou.go("/proposals")
    assert "accepted" in sou.page.locator("main").inner_text()
    sou.snap("proposals")
    sou.go("/notifications")
    assert "NOR accepted your proposal" in sou.page.locator("main").inner_text()
    sou.snap("notifications")


def test_signing_in_by_keyboard_alone(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        visit = Visit("NOR", page, live_server)
        visit.go("/signin")
        visit.snap("signin")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.focus("#username")
        page.keyboard.type(username("NOR"))
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == live_server + "/"
        assert page.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == \
            "Dashboard"
    finally:
        context.close()


def test_threads_and_decisions(open_as):
    nor = open_as("NOR")
    page = nor.page
    nor.go("/threads")
    page.select_option("#t-kind", "scenario")
    page.fill("#t-ref", "unrest-aster")
    page.fill("#t-title", "Evacuation timing")
    page.fill("#t-text", "Shall we align the ferry and the charter flights?")
    page.get_by_label("SOU").check()
    nor.click(page.get_by_role("button", name="Start the thread"))
    thread_url = page.url.split("?")[0]
    nor.snap("thread")

    nor.go("/decisions")
    page.fill("#d-title", "Remote apron")
    page.fill("#d-text", "Open the remote apron at T+20h instead of T+24h.")
    page.get_by_label("SOU").check()
    page.get_by_label("RRA").check()
    nor.click(page.get_by_role("button", name="Open the decision"))
    decision_url = page.url.split("?")[0]

    sou = open_as("SOU")
    sou.go(thread_url.replace(sou.base, ""))
    sou.page.fill("#reply-text", "Yes: T+30h for the ferry.")
    sou.click(sou.page.get_by_role("button", name="Post"))
    assert "Yes: T+30h for the ferry." in sou.page.locator("#messages").inner_text()
    sou.go(decision_url.replace(sou.base, ""))
    sou.page.get_by_label("Concur with a reservation").check()
    sou.page.fill("#r-note", "Only once the apron lights are tested.")
    sou.click(sou.page.get_by_role("button", name="Record the response"))
    assert "reservation" in sou.page.locator("#responses").inner_text()
    assert sou.page.locator("#r-note").count() == 0  # answered: the form gives way
    sou.snap("decision")
    sou.go("/decisions")
    sou.snap("decisions")
    nor.go(decision_url.replace(nor.base, ""))
    page.fill("#c-outcome", "Opened at T+20h; lights tested first.")
    page.check("#c-confirm")
    nor.click(page.get_by_role("button", name="Record the outcome and close"))
    assert "Opened at T+20h; lights tested first." in page.locator("#outcome").inner_text()
    sou.go(decision_url.replace(sou.base, ""))
    assert "closed" in sou.page.locator(".facts").inner_text()

    rra = open_as("RRA")
    rra.go(thread_url.replace(rra.base, ""))
    assert "Not found" in rra.page.locator("h1").inner_text()  # not shared with RRA
    rra.snap("not-found")
