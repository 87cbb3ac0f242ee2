"""Robust edges in a real browser: Back restores what the URL names, and /docs works
offline from vendored files."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .test_browser import open_as  # noqa: F401  (the signed-in tab fixture)


def test_back_restores_the_matrix_scenario_the_url_names(open_as):  # noqa: F811
    visit = open_as("NOR")
    visit.go("/plans")
    select = visit.page.locator("#sync-scenario")
    first = select.input_value()
    options = select.locator("option").evaluate_all("els => els.map(e => e.value)")
    other = next(o for o in options if o != first)
    select.select_option(other)
    visit.click(visit.page.get_by_role("button", name="Show"))
    assert parse_qs(urlparse(visit.page.url).query)["scenario"] == [other]
    assert visit.page.locator("#sync-scenario").input_value() == other
    visit.page.go_back()
    visit.page.wait_for_load_state("load")
    # the page the URL names (no scenario: the first) and its dropdown agree
    assert "scenario" not in parse_qs(urlparse(visit.page.url).query)
    assert visit.page.locator("#sync-scenario").input_value() == first
    caption = visit.page.locator("figcaption").first.inner_text()
    title = visit.page.locator(f"#sync-scenario option[value='{first}']").inner_text()
    assert title in caption


def test_the_api_docs_render_without_internet(open_as):  # noqa: F811
    visit = open_as("SOU")
    outside: list[str] = []
    base = urlparse(visit.base).netloc

    def guard(route):  # type: ignore[no-untyped-def]
        if urlparse(route.request.url).netloc != base:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    visit.page.route("**/*", guard)
    try:
        visit.go("/docs")
        visit.page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
        assert "jointplan" in visit.page.locator(".swagger-ui .info .title").inner_text()
        assert visit.page.locator(".opblock").count() > 30  # every route is listed
    finally:
        visit.page.unroute("**/*")
    assert outside == [], f"/docs asked another host: {outside}"
