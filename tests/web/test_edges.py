"""Robust edges over plain HTTP: HTML error pages for the pages' addresses (the same 404 for
hidden and missing), confirmation before retiring, errors at their fields."""

from __future__ import annotations

import re

from .conftest import csrf_of
from .test_pages import base_of, versions


def _is_page(text: str) -> None:
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="en">' in text and re.search(r"<title>[^<]+ · jointplan</title>", text)
    assert '<main id="main"' in text and "<header" in text and "<footer" in text


def test_unknown_addresses_and_hidden_objects_answer_the_same_html_404(pages):
    sou = pages.client("SOU")
    unknown = sou.get("/no/such/page")
    hidden = sou.get("/plans/nor-shipping")
    missing = sou.get("/plans/no-such-plan")
    assert unknown.status_code == hidden.status_code == missing.status_code == 404
    _is_page(unknown.text)
    assert unknown.text == hidden.text == missing.text
    # the API keeps answering JSON
    assert sou.get("/api/nothing-here").json() == {"detail": "not found"}


def test_reloading_a_forms_post_address_is_an_html_405(pages):
    answer = pages.client("NOR").get("/plans/nor-evacuation/status")
    assert answer.status_code == 405 and "POST" in answer.headers["allow"]
    _is_page(answer.text)
    assert "Not available at this address" in answer.text


def test_a_bug_in_a_page_is_an_html_500_without_a_trace(pages, monkeypatch):
    from fastapi.testclient import TestClient

    from jointplan.web import pages as page_module

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(page_module.analysis, "check_for", broken)
    client = TestClient(pages.app, raise_server_exceptions=False)
    client.cookies.set("jointplan_session", pages.sessions["NOR"])
    answer = client.get("/")
    assert answer.status_code == 500
    _is_page(answer.text)
    assert "secret internals" not in answer.text and "Traceback" not in answer.text


def test_retiring_asks_for_confirmation_and_keeps_the_form(pages):
    nor = pages.client("NOR")
    form = nor.get("/plans/nor-evacuation").text
    data = {"csrf": csrf_of(form), "base_version": base_of(form), "status": "retired",
            "reason": "exercise over"}
    asked = nor.post("/plans/nor-evacuation/status", data=data)
    assert asked.status_code == 422 and versions(pages, "nor-evacuation") == 1
    assert 'id="status-confirm-error"' in asked.text
    assert 'value="exercise over"' in asked.text and "<option selected>retired" in asked.text
    done = nor.post("/plans/nor-evacuation/status", data={**data, "confirm": "yes"})
    assert done.status_code == 303 and versions(pages, "nor-evacuation") == 2


def test_a_missing_reason_is_shown_at_its_field(pages):
    nor = pages.client("NOR")
    form = nor.get("/plans/nor-evacuation").text
    answer = nor.post("/plans/nor-evacuation/status", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "status": "approved",
        "reason": ""})
    assert answer.status_code == 422
    assert re.search(r'id="status-reason"[^>]*aria-invalid="true"', answer.text)
    assert 'id="status-reason-error"' in answer.text


def test_the_api_docs_are_served_from_vendored_files(pages):
    client = pages.client()
    docs = client.get("/docs").text
    assert "cdn" not in docs.lower() and "https://" not in docs
    for path in re.findall(r"""(?:src|href)=['"](/docs-assets/[^'"]+)""", docs):
        assert client.get(path).status_code == 200, path
    assert "/docs-assets/swagger-ui-bundle.js" in docs
    redoc = client.get("/redoc").text
    assert "https://" not in redoc and "/docs-assets/redoc.standalone.js" in redoc
