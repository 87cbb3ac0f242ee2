"""Reading aids: tables that sort and filter, timelines with a legend and deadlines where
they belong, a map that says whose area is whose and marks the overlap, gaps quantified,
priors on the likelihoods' scale, a risk panel in titles, a preview set apart."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from jointplan.model import parse_duration, parse_time
from jointplan.web.render import GAP_KINDS
from jointplan.web.shape import _shortfall
from jointplan.web.svg import WIDTH, lanes, wrap
from tests.conftest import EXAMPLES

from .conftest import PASSWORD, username


def _workspace() -> Any:
    from jointplan.files import load_workspace

    return load_workspace(EXAMPLES / "northern-strait").workspace


def _text(body: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# -- pure layout helpers -----------------------------------------------------------------


def test_wrap_keeps_every_character_and_no_line_is_too_long():
    text = "Berth Norland-flag ships waiting out the closure of an extraordinarily-long-word"
    lines = wrap(text, 20)
    assert all(len(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_lanes_never_put_two_meeting_labels_in_one_lane():
    spans = [(0, 100), (50, 150), (90, 200), (160, 220), (300, 310)]
    got = lanes(spans, gap=8)
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans[:i]):
            if got[i] == got[j]:
                assert c >= b + 8 or a >= d + 8
    assert got[-1] == 0  # a label with room in the first lane goes there


def test_shortfall_finds_the_first_stretch_and_its_worst_moment():
    # 300 wanted over [0, 100); 300 given over [0, 40), 150 over [40, 80), 100 over [80, 100)
    spans = [(0, 40, 300), (40, 80, 150), (80, 100, 100)]
    assert _shortfall(300, spans, 0, 100) == (40, 100, 200)
    assert _shortfall(100, spans, 0, 100) is None


# -- what the pages say (plain HTTP) --------------------------------------------------


def _svg(body: str, cls: str) -> str:
    return re.search(rf'<svg [^>]*class="chart {cls}".*?</svg>', body, re.S).group(0)


def _scale(svg: str) -> Any:
    """Minutes at an x of a timeline, from its own tick labels and gridlines."""
    ticks = [(float(x), parse_time(label)) for x, label in re.findall(
        r'<text x="([\d.]+)" y="14" class="tick" text-anchor="middle">([^<]+)</text>', svg)]
    assert len(ticks) >= 2
    (x0, m0), (x1, m1) = ticks[0], ticks[-1]
    return lambda x: m0 + (x - x0) * (m1 - m0) / (x1 - x0)


def test_deadline_diamonds_sit_at_their_objectives_times(pages):
    """Each diamond of the synchronisation matrix is at its objective's `by`, read back
    through the chart's own axis, for every objective NOR may see in the scenario."""
    from jointplan.sharing.view import view_for

    ws = _workspace()
    leaf = "closure-long"
    path = set(ws.path(leaf))
    expected = sorted(
        (f"{p['owner']}: {o['title']}", parse_time(o["by"]))
        for p in view_for(ws, "NOR")["plans"] if "owner" in p and set(p["scenarios"]) & path
        for o in p.get("objectives", []) if "by" in o)
    assert len(expected) >= 3
    body = pages.client("NOR").get("/plans", params={"scenario": leaf}).text
    svg = _svg(body, "timeline")
    at = _scale(svg)
    marks = re.findall(r'<path class="deadline-mark" data-at="-?\d+" d="M([\d.]+),[\d.]+[^"]*">'
                       r"<title>([^<]+)</title>", svg)
    got = sorted((html.unescape(label).rsplit(" (", 1)[0], at(float(x))) for x, label in marks)
    assert [name for name, _ in got] == [name for name, _ in expected]
    for (_, minutes), (_, by) in zip(got, expected, strict=True):
        assert abs(minutes - by) < 20, (minutes, by)  # within a pixel and a half
    # Each deadline's dashed line runs through its diamond.
    for x, _ in marks:
        assert f'class="deadline" x1="{x}" x2="{x}"' in svg


def test_timelines_have_a_legend_of_what_they_draw(pages):
    body = pages.client("NOR").get("/plans", params={"scenario": "unrest-aster"}).text
    svg = _svg(body, "timeline")
    legend = re.search(r'<ul class="legend".*?</ul>', body, re.S).group(0)
    for kind in set(re.findall(r'<rect class="bar ([a-z ]+)"', svg)):
        assert f"swatch-{kind.replace(' ', '-')}" in legend, kind
    assert "swatch-deadline" in legend and "deadline" in _text(legend)
    # Row labels are never cut: every task title NOR sees is in the chart whole.
    texts = _text(svg)
    assert "…" not in texts
    assert "Contact every registered national by phone and text" in texts


def test_the_matrix_scenario_is_in_the_address(pages):
    client = pages.client("SOU")
    for leaf in ("closure-short", "unrest-aster"):
        body = client.get("/plans", params={"scenario": leaf}).text
        assert re.search(rf'<option value="{leaf}" selected>', body)
        assert 'autocomplete="off"' in body  # Back shows the address's choice, not a stale one


def _dashboard_link(body: str, text: str) -> str:
    for href, inner in re.findall(r'<a href="(/(?:conflicts|gaps)/[^"]+)">(.*?)</a>', body, re.S):
        if text in _text(inner):
            return href
    raise AssertionError(f"no link with {text!r}")


def test_the_map_says_whose_area_is_whose_and_draws_the_overlap(pages):
    from shapely.geometry import shape

    ws = _workspace()
    client = pages.client("NOR")
    page = client.get(_dashboard_link(client.get("/").text, "aster-quay, port-aster")).text
    data = json.loads(html.unescape(re.search(
        r'<script type="application/json" id="conflict-areas">(.*?)</script>', page,
        re.S).group(1)))
    features = {f["properties"]["id"]: f for f in data["features"]}
    assert features["aster-quay"]["properties"]["partners"] == ["SOU"]
    assert features["port-aster"]["properties"]["partners"] == ["NOR"]
    assert features["aster-quay"]["properties"]["colour"] != \
        features["port-aster"]["properties"]["colour"]
    areas = {a.id: a for a in ws.areas}
    quay = shape(json.loads(json.dumps(areas["aster-quay"].geometry)))
    port = shape(json.loads(json.dumps(areas["port-aster"].geometry)))
    overlap = shape(features["overlap"]["geometry"])
    assert overlap.symmetric_difference(quay.intersection(port)).area < 1e-12
    legend = _text(re.search(r'<ul class="legend map-legend".*?</ul>', page, re.S).group(0))
    assert "SOU : Aster ferry quay" in legend and "NOR : Port Aster" in legend
    assert "Overlap" in legend


def test_the_map_never_attributes_a_hidden_counterparts_area(pages):
    client = pages.client("RRA")
    page = client.get(_dashboard_link(client.get("/").text, "old-town-square")).text
    legend = _text(re.search(r'<ul class="legend map-legend".*?</ul>', page, re.S).group(0))
    assert "RRA : Market square" in legend
    assert "NOR" not in legend  # the hidden counterpart is not named on the map
    assert "somewhere within this area" in legend


def test_gaps_say_by_how_much_and_from_when(pages):
    client = pages.client("NOR")
    dashboard = _text(client.get("/").text)
    # nor-evacuation/shelter-places wants 300 places from T+12h to T+3d; RRA offers 300
    # until T+1d12h and 150 after (rra-shelter.yaml): 150 short from T+1d12h.
    assert "150 short of 300 Emergency shelter places in Aster from T+1d12h until T+3d." \
        in dashboard
    assert "nothing is provided from T+1d to T+1d6h" in dashboard  # the late ferry berth
    gap = _text(client.get(_dashboard_link(client.get("/").text,
                                           "nor-evacuation/shelter-places")).text)
    assert "150 short of 300" in gap


def test_a_provision_ending_before_its_window_does_not_read_as_good_news(pages):
    for partner in ("NOR", "RRA"):
        body = _text(pages.client(partner).get("/").text)
        assert not re.search(r"\bEarly\b", body)
        assert f"{GAP_KINDS['early']}: rra-relief/relief-berth-needed" in body
        assert "1d before the need ends at T+5d" in body


def test_priors_are_on_the_likelihoods_scale(pages):
    """The prior shown is what the likelihood would be with no observation at all."""
    from jointplan.analysis.likelihood import likelihoods

    ws = _workspace()
    expected = likelihoods(ws, [])
    body = pages.client("SOU").get("/scenarios").text
    for sid, value in expected.items():
        block = re.search(rf'<li id="scn-{sid}">.*?<span class="prior">(.*?)</span>\s*<svg',
                          body, re.S)
        assert block is not None, sid
        assert f"prior {100 * value:.1f} %" in _text(block.group(1)), sid
    child = next(s for s in ws.scenarios if s.parent)
    assert f"({100 * child.prior:.1f} % of its parent)" in _text(body)


def test_the_risk_panel_names_tasks_by_title_and_shows_no_breach_without_flex(pages):
    part = pages.client("NOR").get("/plans/nor-evacuation/risk",
                                   params={"scenario": "unrest-aster", "samples": "200"}).text
    rows = {_text(name).strip(): _text(cells) for name, cells in re.findall(
        r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', part, re.S)}
    crisis = next(v for k, v in rows.items() if k.startswith("Activate the consular crisis"))
    ferry = next(v for k, v in rows.items() if k.startswith("Ferry evacuation from Port"))
    assert "no flex" in crisis  # crisis-cell has no flex: nothing to breach
    assert "no flex" not in ferry and re.search(r"\d+\.\d %", ferry)  # ferry-run has flex
    assert "All registered nationals who wish to leave evacuated" in _text(part)


def test_the_preview_is_set_apart_from_the_owners_own_plan(pages):
    client = pages.client("NOR")
    previewed = client.get("/plans/nor-evacuation", params={"preview": "SOU"}).text
    panel = previewed.index('class="preview-panel"')
    divider = previewed.index('class="own-divider"')
    timeline = previewed.index('id="timeline-h"')
    assert panel < divider < timeline
    assert "Preview: what SOU receives" in previewed
    assert "your own plan, as NOR sees it" in _text(previewed[divider:timeline])
    assert 'class="own-divider"' not in client.get("/plans/nor-evacuation").text


# -- in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nor(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + "/signin")
    page.fill("#username", username("NOR"))
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    yield page, live_server
    context.close()


def test_labels_of_the_matrix_neither_overlap_nor_leave_the_chart(nor):
    page, base = nor
    page.goto(base + "/plans?scenario=closure-long")
    boxes = page.eval_on_selector_all(
        "svg.timeline text", "els => els.map(e => { const b = e.getBBox();"
        " return [e.getAttribute('class'), b.x, b.y, b.width, b.height]; })")
    assert boxes
    for _, x, _, w, _ in boxes:
        assert x >= -0.5 and x + w <= WIDTH + 0.5  # nothing cut at either edge
    deadlines = [b for b in boxes if b[0] == "deadline-label"]
    assert len(deadlines) >= 3
    for i, (_, x, y, w, h) in enumerate(deadlines):
        for _, x2, y2, w2, h2 in deadlines[:i]:
            apart = x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y
            assert apart, "two deadline labels overlap"
    for _, x, _, w, _ in (b for b in boxes if b[0] == "row-label"):
        assert x + w <= 270  # in the label column, clear of the bars


def test_back_shows_the_scenario_the_address_names(nor):
    page, base = nor
    page.goto(base + "/plans?scenario=closure-long")
    page.select_option("#sync-scenario", "unrest-aster")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "scenario=unrest-aster" in page.url
    assert page.input_value("#sync-scenario") == "unrest-aster"
    page.go_back()
    assert "scenario=closure-long" in page.url
    assert page.input_value("#sync-scenario") == "closure-long"
    assert "Closure lasts beyond 7 days" in page.inner_text(".chart-figure figcaption")


def test_a_table_sorts_by_keyboard_and_filters(nor):
    page, base = nor
    page.goto(base + "/plans/nor-evacuation")
    table = page.locator("section[aria-labelledby=tasks-h] table")
    head = table.locator("thead th", has_text="start")
    button = head.get_by_role("button")
    button.focus()
    page.keyboard.press("Enter")
    assert head.get_attribute("aria-sort") == "ascending"
    index = table.locator("thead th").all_inner_texts().index(head.inner_text())

    def starts() -> list[int]:
        cells = table.locator(f"tbody tr:not([hidden]) > :nth-child({index + 1})")
        return [parse_time(t.strip()) for t in cells.all_inner_texts()]

    assert starts() == sorted(starts()) and len(set(starts())) > 1
    page.keyboard.press("Space")
    assert head.get_attribute("aria-sort") == "descending"
    assert starts() == sorted(starts(), reverse=True)
    durations = table.locator("thead th", has_text="duration")
    durations.get_by_role("button").click()
    assert durations.get_attribute("aria-sort") == "ascending"
    assert head.get_attribute("aria-sort") is None  # one column sorts at a time
    column = table.locator("thead th").all_inner_texts().index(durations.inner_text()) + 1
    likely = [parse_duration(t.split()[0]) for t in table.locator(
        f"tbody tr > :nth-child({column})").all_inner_texts()]
    assert likely == sorted(likely) and len(set(likely)) > 1  # by value: 2h before 18h
    wrap = page.locator("section[aria-labelledby=tasks-h] .table-wrap")
    total = table.locator("tbody tr").count()
    assert total > 5
    box = page.get_by_label(f"Filter {wrap.get_attribute('aria-label')}")
    box.fill("ferry")
    shown = table.locator("tbody tr:not([hidden])")
    assert 1 <= shown.count() < total
    assert all("ferry" in t.lower() for t in shown.all_inner_texts())
    status = page.locator("section[aria-labelledby=tasks-h] .table-status")
    assert status.inner_text() == f"{shown.count()} of {total} rows shown."
    box.fill("")
    assert shown.count() == total


def test_the_map_draws_each_area_in_its_partners_colour_and_the_overlap(nor):
    page, base = nor
    page.goto(base + "/")
    page.locator("main a[href^='/conflicts/']", has_text="aster-quay").first.click()
    page.wait_for_selector("#conflict-map[data-drawn=true]")
    paths = page.locator("#conflict-map path.leaflet-interactive")
    assert paths.count() == 3  # two areas and their overlap
    strokes = paths.evaluate_all("els => els.map(e => e.getAttribute('stroke'))")
    assert "#b42318" in strokes and len(set(strokes)) == 3


def test_tables_swapped_in_by_htmx_sort_too_and_pass_axe(nor):
    """The risk panel arrives by htmx: its tables are enhanced like the page's own."""
    from axe_playwright_python.base import AXE_SCRIPT

    page, base = nor
    page.goto(base + "/plans/nor-evacuation")
    page.select_option("#risk-scenario", "unrest-aster")
    page.fill("#risk-samples", "200")
    page.get_by_role("button", name="Simulate").click()
    heads = page.locator("#risk-result table thead th button.sort")
    heads.first.wait_for()
    assert heads.count() >= 5
    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("axe.run('#risk', {resultTypes: ['violations']})")
    assert [v["id"] for v in result["violations"]] == []
