"""In a real browser: a refused form comes back with each problem next to its field, what
was typed kept, and nothing stored — for answering a proposal, responding to and closing a
decision, correcting and retracting an observation, a conflict's or gap's status, a
proposed provision, and the thread form of a conflict or gap page."""

from __future__ import annotations

import re
from typing import Any

from .test_browser import open_as  # noqa: F401  (the signed-in tab fixture)


def at_field(page: Any, ident: str) -> str:
    """The message shown at control `ident`, asserting the control is marked invalid (or,
    for a group, described by the message)."""
    control = page.locator(f"#{ident}")
    assert control.count() == 1, f"no control {ident}"
    described = (control.get_attribute("aria-describedby") or "").split()
    assert f"{ident}-error" in described, f"{ident} is not described by its message"
    if control.evaluate("e => e.tagName") != "FIELDSET":
        assert control.get_attribute("aria-invalid") == "true"
    message = page.locator(f"#{ident}-error")
    assert message.is_visible()
    # next to its field: the message follows the control in the same form
    assert control.evaluate("(c, m) => c.closest('form') === m.closest('form') && "
                            "!!(c.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING"
                            " || c.contains(m))", message.element_handle())
    return str(message.inner_text())


def unmarked(page: Any, ident: str) -> None:
    assert page.locator(f"#{ident}").get_attribute("aria-invalid") is None
    assert page.locator(f"#{ident}-error").count() == 0


def unconfirmed_then_blank(visit: Any, text: str, box: str, button: str, typed: str) -> str:
    """A final step sent with `typed` in `text` but `box` unticked, then ticked with only
    blanks typed: each time the form comes back with the problem at its field. Returns
    the second message."""
    page = visit.page
    page.fill(f"#{text}", typed)
    visit.click(page.get_by_role("button", name=button))
    assert "Tick the box" in at_field(page, box)
    unmarked(page, text)
    assert page.locator(f"#{text}").input_value() == typed
    page.fill(f"#{text}", "   ")
    page.check(f"#{box}")
    visit.click(page.get_by_role("button", name=button))
    return at_field(page, text)


def refused(visit: Any, name: str) -> None:
    """The refused form's page: no axe-core violation at either width; screenshots."""
    from axe_playwright_python.base import AXE_SCRIPT

    for width in (1280, 390):
        visit.page.set_viewport_size({"width": width, "height": 900})
        visit.page.evaluate(AXE_SCRIPT)
        result = visit.page.evaluate("axe.run({resultTypes: ['violations']})")
        assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
                ] == [], f"{name} at {width} px"
    visit.snap(name)


def _send_proposal(open_as):  # type: ignore[no-untyped-def]  # noqa: F811
    sou = open_as("SOU")
    sou.go("/proposals/new?plan=nor-evacuation&task=ferry-run")
    sou.page.fill("#n-start", "T+1d")
    sou.page.fill("#n-reason", "The quay is closed until then.")
    sou.click(sou.page.get_by_role("button", name="Preview the effect"))
    sou.click(sou.page.get_by_role("button", name="Send the proposal"))
    return sou.page.url.split("?")[0].replace(sou.base, "")


def test_declining_a_proposal_asks_for_the_box_and_a_reason_at_their_fields(open_as):  # noqa: F811
    path = _send_proposal(open_as)
    nor = open_as("NOR")
    page = nor.page
    nor.go(path)
    assert "reason" in unconfirmed_then_blank(nor, "decline-reason", "decline-confirm",
                                              "Decline", "The tide does not allow it.")
    assert "open" in page.locator(".facts").inner_text()
    refused(nor, "proposal-decline-refused")
    nor.go(path)
    assert "open" in page.locator(".facts").inner_text()  # nothing was stored
    page.fill("#decline-reason", "The tide does not allow it.")
    page.check("#decline-confirm")
    nor.click(page.get_by_role("button", name="Decline"))
    assert "declined" in page.locator(".facts").inner_text()


def test_a_decision_response_and_close_show_problems_at_their_fields(open_as):  # noqa: F811
    nor = open_as("NOR")
    nor.go("/decisions")
    nor.page.fill("#d-title", "Apron lights")
    nor.page.fill("#d-text", "Test the apron lights before T+20h?")
    nor.page.get_by_label("SOU").check()
    nor.click(nor.page.get_by_role("button", name="Open the decision"))
    path = nor.page.url.split("?")[0].replace(nor.base, "")

    sou = open_as("SOU")
    sou.go(path)
    sou.page.get_by_role("radio", name="Non-concur").check()
    sou.click(sou.page.get_by_role("button", name="Record the response"))
    assert "note" in at_field(sou.page, "r-note")
    # the stance chosen is kept
    assert sou.page.get_by_role("radio", name="Non-concur").is_checked()
    assert "no answer yet" in sou.page.locator("#responses").inner_text()
    refused(sou, "decision-response-refused")

    page = nor.page
    nor.go(path)
    assert "outcome" in unconfirmed_then_blank(nor, "c-outcome", "c-confirm",
                                               "Record the outcome and close",
                                               "Lights tested at T+18h.")
    nor.go(path)
    assert "open" in page.locator(".facts").inner_text()  # nothing was stored
    assert page.locator("#outcome").count() == 0


def test_correcting_and_retracting_an_observation_show_problems_at_their_fields(open_as):  # noqa: F811
    nor = open_as("NOR")
    page = nor.page
    nor.go("/scenarios")
    page.select_option("#indicator", "registration-surge")
    page.get_by_label("Seen", exact=True).check()
    nor.click(page.get_by_role("button", name="Check the effect"))
    nor.click(page.get_by_role("button", name="Report it"))
    nor.click(page.locator("#observations a", has_text="current").first)
    path = page.url.replace(nor.base, "")
    page.fill("#c-at", "yesterday")
    page.fill("#c-reason", "Reported a day late")
    nor.click(page.get_by_role("button", name="Record the correction"))
    assert at_field(page, "c-at")
    assert page.locator("#c-at").input_value() == "yesterday"
    assert page.locator("#c-reason").input_value() == "Reported a day late"
    assert page.locator("#x-reason").input_value() == ""  # the other form is not filled
    refused(nor, "observation-correct-refused")

    page.fill("#x-reason", "Double count")
    nor.click(page.get_by_role("button", name="Retract the observation"))
    assert "Tick the box" in at_field(page, "x-confirm")
    assert page.locator("#x-reason").input_value() == "Double count"
    nor.go(path)
    assert "current" in page.locator(".facts").inner_text()  # neither was stored
    assert "not corrected or retracted" in page.locator("main").inner_text()
    page.fill("#x-reason", "Double count")
    page.check("#x-confirm")
    nor.click(page.get_by_role("button", name="Retract the observation"))
    assert "retracted" in page.locator(".facts").inner_text()


def _first(visit: Any, prefix: str) -> str:
    return str(visit.links(prefix)[0])


def test_a_status_and_a_thread_on_a_conflict_or_gap_page_keep_what_was_typed(open_as):  # noqa: F811
    nor = open_as("NOR")
    page = nor.page
    nor.go("/")
    for family in ("conflict", "gap"):
        nor.go("/")
        path = _first(nor, f"/{family}s/")
        nor.go(path)
        before = page.locator("#status-h").inner_text()
        page.select_option("#finding-status", "acknowledged")
        page.fill("#finding-reason", "  ")
        nor.click(page.get_by_role("button", name="Change the status"))
        assert "why" in at_field(page, "finding-reason").lower()
        assert page.locator("#finding-status").input_value() == "acknowledged"
        unmarked(page, "finding-status")
        refused(nor, f"{family}-status-refused")

        page.fill(f"#thread-title-{family}", "Who moves first?")
        page.fill(f"#thread-text-{family}", "   ")
        page.locator(f"#thread-form-{family}").get_by_label("SOU").check()
        nor.click(page.get_by_role("button", name="Start the thread"))
        # the same page once more, its form kept, the problem at the message
        assert page.locator("#status-h").count() == 1
        assert "text" in at_field(page, f"thread-text-{family}")
        assert page.locator(f"#thread-title-{family}").input_value() == "Who moves first?"
        assert page.locator(f"#thread-form-{family}").get_by_label("SOU").is_checked()
        refused(nor, f"{family}-thread-refused")
        nor.go(path)
        assert page.locator("#status-h").inner_text() == before  # nothing was stored
        assert "Who moves first?" not in page.locator("main").inner_text()
    nor.go("/threads")
    assert "Who moves first?" not in page.locator("main").inner_text()


def test_a_proposed_provision_shows_each_problem_at_its_field(open_as):  # noqa: F811
    nor = open_as("NOR")
    page = nor.page
    nor.go("/proposals")
    sent_before = [h for h in nor.links("/proposals/") if h != "/proposals/new"]
    found = None
    nor.go("/")
    for gap in nor.links("/gaps/"):
        nor.go(gap)
        link = page.get_by_role("link", name=re.compile("^Propose a provision to"))
        if link.count():
            found = link
            break
    assert found is not None, "no gap NOR may answer with a provision"
    nor.click(found)
    page.fill("#g-id", "Bad Name")
    page.fill("#g-start", "soon")
    page.fill("#g-end", "T+1h")
    page.fill("#g-reason", "Crews need it")
    page.evaluate("document.querySelector('#g-id').removeAttribute('pattern')")
    nor.click(page.get_by_role("button", name="Preview the effect"))
    assert "lowercase" in at_field(page, "g-id")
    assert "not a time" in at_field(page, "g-start")
    unmarked(page, "g-end")
    unmarked(page, "g-what")
    assert page.locator("#g-start").input_value() == "soon"
    assert page.locator("#g-id").input_value() == "Bad Name"
    assert page.locator("#g-reason").input_value() == "Crews need it"
    refused(nor, "provision-refused")
    page.fill("#g-id", "answer-crews")
    page.fill("#g-start", "T+2h")
    nor.click(page.get_by_role("button", name="Preview the effect"))
    assert "end after it starts" in at_field(page, "g-end")
    unmarked(page, "g-start")
    nor.go("/proposals")
    assert [h for h in nor.links("/proposals/") if h != "/proposals/new"] == sent_before
