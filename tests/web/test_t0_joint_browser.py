"""T0 by joint decision in a real browser, without typing an id: NOR's admin sets the
workspace to declare T0 by joint decision; NOR asks to declare unrest-aster; SOU opens the
request from its notifications and concurs; RRA, asked too, concurs from the Real time page;
then T0 is a date beside the T+ on each partner's pages. axe-core finds nothing on the pages
of the round. Its own live server, where NOR's planner is an admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from .conftest import prepare_database, serving, username
from .test_axe import axe_script, violations  # noqa: F401 - the fixture
from .test_browser import Visit, open_as  # noqa: F401 - the fixture, on this module's server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[str]:
    """The example on a fresh database, NOR's planner made an admin; uvicorn in a process."""
    from jointplan.server.hub import Hub
    from jointplan.store.tables import User

    folder = tmp_path_factory.mktemp("joint-t0")
    url = f"sqlite:///{folder / 'live.db'}"
    prepare_database(folder / "live.db")
    hub = Hub(url)
    with hub.db.write() as session:
        session.scalar(select(User).where(User.username == username("NOR"))).role = "admin"
    hub.db.engine.dispose()
    with serving(url, folder) as base:
        yield base


def with_axe(visit: Visit, script: str) -> Visit:
    """axe-core (the packaged script) put in every page the tab opens from now on (the
    pages' policy allows no inline script, so not added afterwards)."""
    visit.page.context.add_init_script(script)
    return visit


def no_violations(visit: Visit) -> None:
    """axe-core on the page as it stands, at 1280 and 390 px: nothing found."""
    for width in (1280, 390):
        visit.page.set_viewport_size({"width": width, "height": 900})
        found = violations(visit.page)
        assert found == [], f"{visit.page.url} at {width} px: {found}"
    visit.page.set_viewport_size({"width": 1280, "height": 900})


def strip(visit: Visit) -> str:
    return str(visit.page.locator(".t0-strip").first.inner_text())


def test_t0_declared_by_joint_decision_in_the_browser(open_as, axe_script):  # noqa: F811
    nor = with_axe(open_as("NOR"), axe_script)
    nor.go("/time")
    page: Any = nor.page
    assert "any planner" in page.locator("#t0-mode").inner_text()
    page.get_by_label("A joint decision of the partners that may see the scenario").check()
    nor.click(page.get_by_role("button", name="Save how T0 is declared"))
    assert page.url.endswith("/time?done=mode")
    assert "joint decision" in page.locator("#t0-mode").inner_text()

    # NOR asks: the form names the scenario by its title, the time as typed
    page.get_by_label("Top-level scenario").select_option("unrest-aster")
    page.get_by_label(re.compile("^T0, in your time zone")).fill("2026-11-20T08:00Z")
    page.get_by_label("Reason (recorded in the audit log)").fill("riots in Aster")
    nor.click(page.get_by_role("button", name="Ask to declare at this time"))
    assert page.url.endswith("/time?done=asked")
    requests = page.locator("section[aria-labelledby='requests-h']")
    assert "Declare unrest-aster with T0 at 2026-11-20T08:00:00Z" in requests.inner_text()
    assert "open" in requests.inner_text()
    no_violations(nor)
    nor.snap("t0-joint-asked")
    assert strip(nor).startswith("No scenario declared")

    # SOU: from its notifications to the decision, and concurs
    sou = with_axe(open_as("SOU"), axe_script)
    sou.go("/notifications")
    sou.click(sou.page.get_by_role("button", name=re.compile(
        "^NOR asks for your response: Declare unrest-aster")))
    assert "/decisions/" in sou.page.url
    assert "T0 changes for every partner asked once all of them concur" in \
        sou.page.locator("main").inner_text()
    no_violations(sou)
    sou.page.get_by_label("Concur", exact=True).check()
    sou.click(sou.page.get_by_role("button", name="Record the response"))
    assert strip(sou).startswith("No scenario declared")  # RRA is asked too

    # RRA: every partner may see the scenario (scenarios are joint), so it is asked as well
    rra = open_as("RRA")
    rra.go("/time")
    rra.click(rra.page.get_by_role("link", name=re.compile("^Declare unrest-aster")))
    rra.page.get_by_label("Concur", exact=True).check()
    rra.click(rra.page.get_by_role("button", name="Record the response"))
    assert "Accepted by every partner asked" in rra.page.locator("#outcome").inner_text()

    # T0 is a date, beside every T+, on each partner's pages
    for visit in (nor, sou, rra):
        visit.go("/")
        assert "T0 of unrest-aster: 2026-11-20 08:00 UTC" in strip(visit)
    sou.go("/plans/sou-aster")
    assert "T+6h (2026-11-20 14:00 UTC)" in sou.page.locator("main").inner_text()
    no_violations(sou)
    nor.go("/time")
    declared = nor.page.locator("section[aria-labelledby='declared-h']").inner_text()
    assert "by joint decision" in declared and "unrest-aster" in declared
    assert "accepted" in nor.page.locator("section[aria-labelledby='requests-h']").inner_text()
    no_violations(nor)
    nor.snap("t0-joint-declared")
