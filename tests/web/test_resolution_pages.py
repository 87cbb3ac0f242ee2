"""Resolution pages over plain HTTP: what each partner of the example is shown, what answers
as missing, and what a changed state or a bad form answers."""

from __future__ import annotations

import re

from tests.conftest import EXAMPLES

from .conftest import csrf_of, leaks


def _conflicts(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["id"] for c in client.get("/api/conflicts").json() if c["present"]]


def _confirm(client, conflict: str, reason: str = "Free the apron"):  # type: ignore[no-untyped-def]
    preview = client.get(f"/conflicts/{conflict}/resolution")
    assert preview.status_code == 200, preview.text
    token = re.search(r'name="preview" value="([^"]+)"', preview.text).group(1)
    return client.post("/resolutions", data={"csrf": csrf_of(preview.text), "preview": token,
                                             "conflict": conflict, "reason": reason})


def test_every_partner_previews_every_conflict_it_is_shown_and_no_more(pages):
    shown: dict[str, set[str]] = {}
    for partner in ("NOR", "SOU", "RRA"):
        client = pages.client(partner)
        shown[partner] = set(_conflicts(client))
        for conflict in shown[partner]:
            page = client.get(f"/conflicts/{conflict}")
            assert 'action="/conflicts/' + conflict + '/resolution"' in page.text
            preview = client.get(f"/conflicts/{conflict}/resolution")
            assert preview.status_code == 200, preview.text
            assert leaks(preview.text, partner) == []
    for partner, ids in shown.items():
        client = pages.client(partner)
        missing = client.get("/conflicts/" + "x" * 16 + "/resolution")
        for other in set().union(*shown.values()) - ids:
            hidden = client.get(f"/conflicts/{other}/resolution")
            assert (hidden.status_code, hidden.text) == (404, missing.text)


def test_a_resolution_page_is_its_partners_alone(pages):
    sou = pages.client("SOU")
    apron = next(c["id"] for c in sou.get("/api/conflicts").json()
                 if c["entries"][0].get("resource") == "apron-aster")
    made = _confirm(sou, apron)
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    page = sou.get(made.headers["location"])
    assert "Resolution confirmed" in page.text and "Proposal to NOR" in page.text
    for partner in ("SOU", "NOR"):
        body = pages.client(partner).get(path)
        assert body.status_code == 200 and leaks(body.text, partner) == []
    rra = pages.client("RRA")
    assert rra.get(path).text == rra.get("/resolutions/" + "x" * (len(path) - 13)).text
    assert rra.get(path).status_code == 404


def test_a_form_without_its_csrf_token_stores_nothing(pages):
    sou = pages.client("SOU")
    apron = next(c["id"] for c in sou.get("/api/conflicts").json()
                 if c["entries"][0].get("resource") == "apron-aster")
    preview = sou.get(f"/conflicts/{apron}/resolution")
    token = re.search(r'name="preview" value="([^"]+)"', preview.text).group(1)
    refused = sou.post("/resolutions", data={"preview": token, "conflict": apron,
                                             "reason": "x"})
    assert refused.status_code == 403
    assert sou.get("/api/resolutions").json() == []


def test_a_changed_state_shows_the_new_preview(pages):
    sou, nor = pages.client("SOU"), pages.client("NOR")
    apron = next(c["id"] for c in sou.get("/api/conflicts").json()
                 if c["entries"][0].get("resource") == "apron-aster")
    preview = sou.get(f"/conflicts/{apron}/resolution")
    token = re.search(r'name="preview" value="([^"]+)"', preview.text).group(1)
    # NOR starts its charter flights two hours later: the moves shown no longer hold.
    text = (EXAMPLES / "northern-strait" / "nor-evacuation.yaml").read_text(encoding="utf-8")
    assert "start: T+36h\n" in text
    imported = nor.post("/api/import", json={"files": {
        "nor-evacuation.yaml": text.replace("start: T+36h\n", "start: T+38h\n")}},
        headers={"X-CSRF-Token": csrf_of(nor.get("/plans").text)})
    assert imported.status_code == 201, imported.text
    stale = sou.post("/resolutions", data={"csrf": csrf_of(preview.text), "preview": token,
                                           "conflict": apron, "reason": "x"})
    assert stale.status_code == 409
    assert "nor-evacuation" in stale.text and "The preview below is the new one" in stale.text
    fresh = re.search(r'name="preview" value="([^"]+)"', stale.text).group(1)
    assert fresh != token
    assert sou.get("/api/resolutions").json() == []


def test_a_conflict_resolved_meanwhile_answers_as_missing(pages):
    sou, nor = pages.client("SOU"), pages.client("NOR")
    apron = next(c["id"] for c in sou.get("/api/conflicts").json()
                 if c["entries"][0].get("resource") == "apron-aster")
    preview = sou.get(f"/conflicts/{apron}/resolution")
    token = re.search(r'name="preview" value="([^"]+)"', preview.text).group(1)
    # NOR confirms its own resolution first and applies the draft: the apron is freed.
    draft = _confirm(nor, apron)
    assert draft.status_code == 303
    [mine] = nor.get("/api/proposals").json()
    page = nor.get(f"/proposals/{mine['id']}")
    assert nor.post(f"/proposals/{mine['id']}/accept",
                    data={"csrf": csrf_of(page.text), "confirm": "yes"}).status_code == 303
    stale = sou.post("/resolutions", data={"csrf": csrf_of(preview.text), "preview": token,
                                           "conflict": apron, "reason": "x"})
    assert stale.status_code == 404
    assert sou.get("/api/resolutions").json() == []


def test_an_empty_reason_is_asked_for_again(pages):
    sou = pages.client("SOU")
    apron = next(c["id"] for c in sou.get("/api/conflicts").json()
                 if c["entries"][0].get("resource") == "apron-aster")
    answer = _confirm(sou, apron, reason=" ")
    assert answer.status_code == 422
    assert "reason: say why" in answer.text and 'name="preview"' in answer.text
