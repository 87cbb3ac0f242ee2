"""The issue's done-when in a real browser: the example drill run end to end.

`jointplan serve` (with its delivery loop) on the example; SOU controls, NOR and
RRA play, each in their own Chromium context signed in through the form. The
controller starts the exercise at x1440 (a day a minute): the first inject
reaches both players, the reminder fires for NOR only when the crisis cell is
missed, the evaluator rates, the after-action report's PDF is produced and its
pages rendered to PNG and read for the title and ratings, and an improvement
item becomes a proposal that NOR accepts.
"""

from __future__ import annotations

import pypdfium2
import pytest
from sqlalchemy import select

from jointplan.server import exercises
from jointplan.server.hub import Hub
from jointplan.services.accounts import actor_for_session
from jointplan.store.tables import PlanVersion
from tests.conftest import EXAMPLES
from tests.server.serving import serving

from .conftest import ARTIFACTS, PASSWORD, prepare_database, username

EXERCISE = EXAMPLES / "drills" / "aster-drill-1.yaml"


@pytest.fixture
def drill_server(tmp_path):
    db = tmp_path / "drill.db"
    sessions = prepare_database(db)
    hub = Hub(f"sqlite:///{db}", migrate=False)
    with hub.db.read() as session:
        found = actor_for_session(session, sessions["SOU"])
    assert found is not None
    exercise_id = exercises.create(hub, found[0], EXERCISE.name, EXERCISE.read_text())
    hub.db.engine.dispose()
    with serving(f"sqlite:///{db}", tmp_path / "server.log") as (_, base):
        yield base, exercise_id, f"sqlite:///{db}"


def test_the_example_drill_end_to_end_in_the_browser(browser, drill_server):
    base, eid, url = drill_server
    pages = {}
    contexts = []
    for partner in ("SOU", "NOR", "RRA"):
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(base + "/signin")
        page.fill("#username", username(partner))
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        pages[partner] = page
    try:
        sou, nor, rra = pages["SOU"], pages["NOR"], pages["RRA"]
        for page in (sou, nor, rra):
            page.goto(f"{base}/exercises/{eid}")
            assert page.get_by_text("EXERCISE EXERCISE EXERCISE").first.is_visible()
        sou.fill("#speed", "1440")
        with sou.expect_navigation():
            sou.get_by_role("button", name="Set speed", exact=True).click()
        with sou.expect_navigation():
            sou.get_by_role("button", name="Start", exact=True).click()
        # Delivered by the server's loop; the players' pages poll their feed.
        nor.get_by_text("Curfew declared").wait_for()
        rra.get_by_text("Curfew declared").wait_for()
        # NOR does nothing: ex-cell (by T+2h) is missed, the reminder comes at T+2h30m.
        nor.get_by_text("Where is the crisis cell?").wait_for()
        rra.get_by_text("Several hundred people").wait_for()  # T+3h, after the reminder
        assert nor.get_by_text("Several hundred people").count() == 0
        assert rra.get_by_text("Where is the crisis cell?").count() == 0
        for page in (nor, rra):
            assert "ex-cell" not in page.content() and "Expectations" not in page.content()
        nor.fill("#action-text", "Crisis cell activated at last")
        nor.fill("#task", "nor-evacuation/crisis-cell")
        with nor.expect_navigation():
            nor.get_by_role("button", name="Log", exact=True).click()
        with sou.expect_navigation():  # not confirmed: asked, and the exercise runs on
            sou.get_by_role("button", name="End", exact=True).click()
        assert "Tick the box" in sou.locator("#end-confirm-error").inner_text()
        assert sou.locator("#end-confirm").get_attribute("aria-invalid") == "true"
        sou.check("#end-confirm")
        with sou.expect_navigation():
            sou.get_by_role("button", name="End", exact=True).click()
        assert sou.locator("#end-confirm").count() == 0  # ended: nothing left to end
        sou.goto(f"{base}/exercises/{eid}/report")
        sou.select_option("#rate-target", "expectation:ex-cell")
        sou.select_option("#rate-rating", "M")
        sou.fill("#rate-notes", "The cell came up only after the reminder")
        with sou.expect_navigation():
            sou.get_by_role("button", name="Rate", exact=True).click()
        sou.fill("#item-title", "Ferry to sail earlier")
        sou.select_option("#item-owner", "NOR")
        sou.fill("#item-due", "2027-01-31")
        with sou.expect_navigation():
            sou.get_by_role("button", name="Add", exact=True).click()
        assert "M performed with major challenges" in sou.content()
        with sou.expect_download() as download:
            sou.get_by_role("link", name="The report as PDF").click()
        pdf = download.value.path().read_bytes()
        document = pypdfium2.PdfDocument(pdf)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        text = ""
        for n, page in enumerate(document):
            image = page.render(scale=1.5).to_pil()
            image.save(ARTIFACTS / f"drill-aar-{n + 1}.png")
            assert image.convert("L").getextrema()[0] < 128  # there is ink on the page
            text += page.get_textpage().get_text_range()
        flat = " ".join(text.split())
        assert "After-action report: Aster unrest" in flat
        assert "performed with major challenges" in flat and "EXERCISE EXERCISE EXERCISE" in flat
        sou.fill("[id^=prop-plan-]", "nor-evacuation")
        sou.fill("[id^=prop-task-]", "ferry-run")
        sou.fill("[id^=prop-start-]", "T+26h")
        with sou.expect_navigation():
            sou.get_by_role("button", name="Propose", exact=True).click()
        proposal = sou.get_by_role("link", name="proposal", exact=True).get_attribute("href")
        nor.goto(base + proposal)
        with nor.expect_navigation():
            nor.get_by_role("button", name="Accept (a new version of nor-evacuation)").click()
        assert "Accept this proposal?" in nor.locator("main").inner_text()  # asked again
        with nor.expect_navigation():
            nor.get_by_role("button", name="Yes, accept").click()
        hub = Hub(url, migrate=False)
        try:
            with hub.db.read() as session:
                newest = session.scalars(select(PlanVersion).where(
                    PlanVersion.plan_id == "nor-evacuation").order_by(
                    PlanVersion.number.desc())).first()
        finally:
            hub.db.engine.dispose()
        assert next(t for t in newest.doc["tasks"] if t["id"] == "ferry-run")["start"] == \
            "T+1d2h"
    finally:
        for context in contexts:
            context.close()
