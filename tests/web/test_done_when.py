"""The issue's "Done when", walked end to end in a real browser by a planner of each example
partner, without typing an id (what is typed is times, quantities, reasons and messages):

- each sees real dates once a scenario is declared;
- each answers a proposal to its own plan after seeing its effect (SOU proposes to NOR,
  RRA to SOU, NOR to RRA, each from a shared conflict's page);
- each follows a discussion of a shared conflict with the other partner across a plan
  change (NOR and SOU on the ferry quay, RRA and SOU on the coastal corridor);
- each reads what changed between two versions of the plan it proposed to.

Its own live server: the walk changes the plans."""

from __future__ import annotations

import re

from .conftest import leaks
from .test_browser import Visit, open_as  # noqa: F401 - the fixture, on this module's server


def conflict(visit: Visit, name: str) -> None:
    """From the dashboard to the shared conflict whose link names ``name``."""
    visit.go("/")
    visit.click(visit.page.locator("main a[href^='/conflicts/']", has_text=name).first)


def propose(visit: Visit, conflict_name: str, task_title: str, reason: str) -> None:
    """From a conflict's page, a proposal for another partner's task: preview, then send."""
    conflict(visit, conflict_name)
    page = visit.page
    visit.click(page.get_by_role("link", name=f"Propose a change to {task_title}"))
    if page.locator("#n-start").count():
        page.locator("input[name=kind][value=move-start]").check()
        page.fill("#n-start", "T+1d")
    else:
        page.locator("input[name=kind][value=set-quantity]").check()
        now = int(re.search(r"\(now (\d+)\)",
                            page.locator("#n-res option:checked").inner_text()).group(1))
        page.fill("#n-qty", str(now - 1 if now > 1 else now + 1))
    page.fill("#n-reason", reason)
    visit.click(page.get_by_role("button", name="Preview the effect"))
    assert "What it would do if accepted now" in page.locator("main").inner_text()
    visit.click(page.get_by_role("button", name="Send the proposal"))
    assert re.search(r"/proposals/[\w-]+\?done=proposed$", page.url)


def answer(visit: Visit, proposer: str, reason: str) -> str:
    """The owner opens the proposal from its dashboard, reads its effect, accepts, confirms.
    Returns the plan page it lands on."""
    visit.go("/")
    page = visit.page
    visit.click(page.locator("main a[href^='/proposals/']", has_text=f"{proposer} proposes")
                .first)
    effect = page.locator("#effect-h")
    assert effect.count() == 1
    assert f"as {visit.partner} sees it" in effect.inner_text()  # seen before answering
    page.fill("#accept-reason", reason)
    visit.click(page.get_by_role("button", name=re.compile("^Accept")))
    assert "Accept this proposal?" in page.locator("main").inner_text()
    visit.click(page.get_by_role("button", name="Yes, accept"))
    assert "/plans/" in page.url
    return str(page.url)


def start_thread(visit: Visit, conflict_name: str, title: str, text: str, other: str) -> None:
    conflict(visit, conflict_name)
    section = visit.page.locator("section[aria-labelledby='threads-h']")
    section.get_by_label("Title").fill(title)
    section.get_by_label("First message").fill(text)
    section.get_by_label(other, exact=True).check()
    visit.click(section.get_by_role("button", name="Start the thread"))
    assert "/threads/" in visit.page.url


def reply_from_conflict(visit: Visit, conflict_name: str, title: str, text: str) -> None:
    conflict(visit, conflict_name)
    section = visit.page.locator("section[aria-labelledby='threads-h']")
    visit.click(section.get_by_role("link", name=title))
    reply(visit, text)


def reply(visit: Visit, text: str) -> None:
    visit.page.fill("#reply-text", text)
    visit.click(visit.page.get_by_role("button", name="Post"))
    assert text in visit.page.locator("#messages").inner_text()


def follow(visit: Visit, title: str) -> str:
    """The thread, from the Threads page: every message so far."""
    visit.go("/threads")
    visit.click(visit.page.locator("main").get_by_role("link", name=title).first)
    return str(visit.page.locator("#messages").inner_text())


def changes(visit: Visit, plan: str) -> str:
    """From the Plans page to the plan, and its table of what changed between the last two
    versions (shown when there are two)."""
    visit.go("/plans")
    visit.click(visit.page.locator(f"main a[href='/plans/{plan}']").first)
    table = visit.page.locator("table.changes")
    assert table.count() == 1, f"{visit.partner} reads no changes on {plan}"
    return str(table.inner_text())


def test_each_partner_walks_the_done_when_end_to_end(open_as):  # noqa: F811
    nor, sou, rra = open_as("NOR"), open_as("SOU"), open_as("RRA")

    # Real dates: NOR declares unrest-aster; each partner reads dates beside T+
    nor.go("/time")
    nor.page.get_by_label("Top-level scenario").select_option("unrest-aster")
    nor.page.get_by_label(re.compile("^T0, in your time zone")).fill("2026-11-20T08:00Z")
    nor.page.get_by_label("Reason (recorded in the audit log)").fill("riots in Aster")
    nor.click(nor.page.get_by_role("button", name="Declare at this time"))
    for visit in (nor, sou, rra):
        visit.go("/")
        assert "T0 of unrest-aster: 2026-11-20 08:00 UTC" in \
            visit.page.locator(".t0-strip").first.inner_text()
        conflict(visit, "apron-aster")  # every partner is shown the apron conflict
        assert re.search(r"T\+1d\d*h?\S* \(2026-11-2\d \d\d:\d\d UTC\)",
                         visit.page.locator("main").inner_text()), visit.partner

    # Discussions of shared conflicts, begun before the plans change
    start_thread(nor, "aster-quay", "Quay timing", "Can the perimeter wait for the ferry?",
                 "SOU")
    reply_from_conflict(sou, "aster-quay", "Quay timing", "Only if the ferry leaves by T+1d.")
    start_thread(rra, "corridor-slots", "Corridor slots", "Our convoys need two more slots.",
                 "SOU")
    reply_from_conflict(sou, "corridor-slots", "Corridor slots", "We can run fewer fuel "
                        "convoys.")

    # Proposals, each answered by the owner after seeing its effect: three plan changes
    propose(sou, "aster-quay", "Ferry evacuation from Port Aster", "The quay is ours later.")
    propose(rra, "corridor-slots", "Fuel convoys along the coastal corridor to the islands",
            "Leave a slot for relief.")
    propose(nor, "apron-aster", "Relief staff rotation flight, inbound", "Apron is full.")
    answer(nor, "SOU", "Agreed: the ferry leaves at T+1d")
    answer(sou, "RRA", "One fuel convoy fewer")
    answer(rra, "NOR", "A smaller rotation")

    # ... and the discussions followed across the change, by both partners of each
    assert "Only if the ferry leaves by T+1d." in follow(nor, "Quay timing")
    reply(nor, "Done: the ferry now leaves at T+1d.")
    assert "Done: the ferry now leaves at T+1d." in follow(sou, "Quay timing")
    assert "We can run fewer fuel convoys." in follow(rra, "Corridor slots")
    reply(rra, "Thanks: one slot freed.")
    assert "Thanks: one slot freed." in follow(sou, "Corridor slots")
    assert rra.page.locator("#messages").count() == 1
    follow(rra, "Corridor slots")
    assert "Quay timing" not in rra.page.locator("main").inner_text()  # not shared with RRA

    # What changed between two versions, each on the plan it proposed to
    moved = changes(sou, "nor-evacuation")
    assert "ferry-run" in moved and "start" in moved and "-6h" in moved, moved
    fewer = changes(rra, "sou-port")
    assert "fuel-convoys" in fewer and "uses" in fewer, fewer
    smaller = changes(nor, "rra-shelter")
    assert "rotation-in" in smaller and "uses" in smaller, smaller
    for visit in (nor, sou, rra):
        found = [t for body in visit.bodies.values() for t in leaks(body, visit.partner)]
        assert found == [], f"{visit.partner} was shown {found}"
