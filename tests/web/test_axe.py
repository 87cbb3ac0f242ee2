"""axe-core on every page each partner can reach, at 1280 and 390 px: 0 violations.

The pages are found, not listed: from each partner's dashboard the test follows
every link within the site (breadth first, a few pages of each kind, so pages
added later are covered by the same crawl), and adds the error page. axe-core
comes inside `axe-playwright-python` (its `axe.min.js`): nothing is fetched.
Screenshots of every page at both widths go to test-artifacts/axe/ (not
committed).
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import PARTNERS, PASSWORD, ROOT, username

WIDTHS = (1280, 390)
SHOTS = ROOT / "test-artifacts" / "axe"
PER_KIND = 6
"""Pages of one kind (the same path shape and query keys) visited per partner."""
SECTIONS = "[...document.querySelectorAll('main h2')].map(h => h.id || h.tagName).join(',')"
"""Which sections a page has: of the pages of one kind, each mix of sections is checked."""
ERROR_PAGES = ("/plans/no-such-plan", "/no-such-page")
SKIP = re.compile(r"^/(static|api|docs|openapi\.json|signout|signin)(/|$|\?)"
                  r"|\.(yaml|ics|pdf|xlsx|csv|json|geojson)(\?|$)")
"""Not pages: the API, assets and files to download (a version's YAML, a report's PDF)."""


def kind_of(url: str) -> str:
    """`/conflicts/ID?x=1` → `/conflicts/*?x`: pages drawn by one template are one kind."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    shape = "/" + "/".join(segments[:1] + ["*"] * len(segments[1:]))
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return shape + ("?" + "&".join(keys) if keys else "")


def test_kind_of_groups_pages_by_shape():
    assert kind_of("/conflicts/abc") == kind_of("/conflicts/def") == "/conflicts/*"
    assert kind_of("/plans/p?preview=SOU") == "/plans/*?preview"
    assert kind_of("/plans") != kind_of("/plans/p") != kind_of("/plans?scenario=x")


def crawl(page: Any, base: str, check: Any, limit: int = 150) -> list[str]:
    """The pages reachable from the dashboard within the site.

    Up to PER_KIND pages of each kind are visited; `check(path)` runs on the first
    of each kind with a given set of sections (a capacity conflict has a load chart,
    an area conflict has not, ...), before the page's links are read.
    """
    seen: set[str] = set()
    kinds: dict[str, int] = {}
    shapes: set[str] = set()
    queue, checked = deque(["/"]), []
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        kind = kind_of(path)
        if kinds.get(kind, 0) >= PER_KIND:
            continue
        answer = page.goto(base + path)
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        kinds[kind] = kinds.get(kind, 0) + 1
        shape = kind + "|" + page.evaluate(SECTIONS)
        if shape not in shapes:
            shapes.add(shape)
            checked.append(path)
            check(path)
        hrefs = page.eval_on_selector_all(
            "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            if href.startswith(base):
                href = href[len(base):]
            target = href.split("#")[0]
            if target.startswith("/") and not target.startswith("//") \
                    and not SKIP.match(target) and target not in seen:
                queue.append(target)
    return checked


def violations(page: Any) -> list[tuple[str, str]]:
    result = page.evaluate("axe.run({resultTypes: ['violations']})")
    return [(v["id"], " ".join(str(t) for t in node["target"]))
            for v in result["violations"] for node in v["nodes"]]


@pytest.fixture(scope="module")
def axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    assert AXE_SCRIPT.startswith("/*! axe v4.")
    return str(AXE_SCRIPT)


@pytest.mark.parametrize("partner", PARTNERS)
def test_every_page_has_no_axe_violation(browser, live_server, axe_script, partner):
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # axe-core from the package, put in every page before the page's own scripts.
    context.add_init_script(axe_script)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(live_server)
                or r.url.startswith("data:") else outside.append(r.url))
        page.goto(live_server + "/signin")
        page.fill("#username", username(partner))
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        SHOTS.mkdir(parents=True, exist_ok=True)
        found: dict[str, list[str]] = {}

        def check(path: str) -> None:
            slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "dashboard"
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for rule, target in violations(page):
                    found.setdefault(f"{rule} @{width}", []).append(f"{path}: {target}")
                page.screenshot(path=str(SHOTS / f"{partner}-{slug}-{width}.png"),
                                full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})

        pages = crawl(page, live_server, check)
        kinds = {kind_of(p) for p in pages}
        # The crawl reached the kinds of page a partner works with.
        assert {"/", "/plans", "/plans/*", "/scenarios", "/conflicts/*"} <= kinds, kinds
        for path in ERROR_PAGES:
            answer = page.goto(live_server + path)
            assert answer is not None and answer.status == 404, path
            assert answer.headers.get("content-type", "").startswith("text/html"), path
            check(path)
        assert outside == []
        summary = {rule: (len(where), where[:5]) for rule, where in sorted(found.items())}
        print(f"{partner}: {len(pages) + len(ERROR_PAGES)} pages in "
              f"{time.monotonic() - started:.1f} s; violations: {summary}")
        assert found == {}, summary
    finally:
        context.close()
