"""The owner's edits on the plan page: the stored document is what changes (every field
the form does not touch is kept), and an edit made from an older version is refused."""

from __future__ import annotations

import re

from jointplan.server.plans import stored_document
from jointplan.services.accounts import Actor
from tests.conftest import EXAMPLES

from .conftest import csrf_of
from .test_pages import actor, base_of, versions

EXTENDED = ((EXAMPLES / "northern-strait" / "nor-evacuation.yaml").read_text()
            .replace("owner: NOR\n", "owner: NOR\nx-source: exercise NORTHERN STRAIT 26\n", 1)
            .replace("  - id: ferry-run\n", "  - id: ferry-run\n    x-vessel-note: keep\n", 1))


def _stored(pages, who: Actor) -> dict:
    with pages.hub.db.read() as session:
        return stored_document(pages.hub, session, who, "nor-evacuation")[1]


def _upload(client, text: str):  # type: ignore[no-untyped-def]
    form = client.get("/plans/nor-evacuation").text
    return client.post("/plans/nor-evacuation/upload", data={
        "csrf": csrf_of(form), "base_version": base_of(form)},
        files={"file": ("nor-evacuation.yaml", text.encode(), "text/yaml")})


def _edit(client, form: str, start: str):  # type: ignore[no-untyped-def]
    return client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "ferry-run",
        "start": start, "duration": "6h", "min": "4h", "max": "12h", "reason": start})


def test_an_edit_keeps_every_field_it_does_not_touch(pages):
    client = pages.client("NOR")
    assert _upload(client, EXTENDED).status_code == 303
    nor = actor(pages, "NOR")
    before = _stored(pages, nor)
    # The owner's view leaves out an item's x- keys: an edit of the view would drop them.
    assert before["x-source"] and "x-vessel-note" not in client.get(
        "/api/plans/nor-evacuation").text
    answer = _edit(client, client.get("/plans/nor-evacuation?edit=ferry-run").text, "T+26h")
    assert answer.status_code == 303, answer.text
    after = _stored(pages, nor)
    task = next(t for t in after["tasks"] if t["id"] == "ferry-run")
    assert task["start"] == "T+1d2h" and task["x-vessel-note"] == "keep"
    old = next(t for t in before["tasks"] if t["id"] == "ferry-run")
    assert {k: v for k, v in task.items() if k != "start"} == \
        {k: v for k, v in old.items() if k != "start"}
    # Everything else, x- keys and three-point estimates included, is as stored.
    assert {**after, "tasks": None} == {**before, "tasks": None}
    assert [t for t in after["tasks"] if t["id"] != "ferry-run"] == \
        [t for t in before["tasks"] if t["id"] != "ferry-run"]
    other = next(t for t in after["tasks"] if t["id"] == "contact-nationals")
    assert other["duration"] == {"likely": "18h", "min": "10h", "max": "30h"}


def test_an_edit_made_from_an_older_version_is_refused_and_changes_nothing(pages):
    first, second = pages.client("NOR"), pages.client("NOR")
    form_a = first.get("/plans/nor-evacuation?edit=ferry-run").text
    form_b = second.get("/plans/nor-evacuation?edit=ferry-run").text
    assert _edit(second, form_b, "T+26h").status_code == 303  # B saves first
    stored = _stored(pages, actor(pages, "NOR"))
    answer = _edit(first, form_a, "T+34h")  # A's form shows the version before B's
    assert answer.status_code == 409
    assert "changed since you opened it" in answer.text and "nothing was stored" in answer.text
    assert _stored(pages, actor(pages, "NOR")) == stored
    assert versions(pages, "nor-evacuation") == 2
    # The page now carries the current version: the same change goes through.
    assert base_of(answer.text) != base_of(form_a)
    again = _edit(first, answer.text, "T+34h")
    assert again.status_code == 303, again.text


def test_a_stale_status_form_is_refused(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    data = {"csrf": csrf_of(form), "base_version": base_of(form), "reason": "r"}
    first = client.post("/plans/nor-evacuation/status", data={**data, "status": "approved"})
    assert first.status_code == 303
    second = client.post("/plans/nor-evacuation/status", data={**data, "status": "retired",
                                                                  "confirm": "yes"})
    assert second.status_code == 409 and versions(pages, "nor-evacuation") == 2
    missing = client.post("/plans/nor-evacuation/status", data={
        "csrf": data["csrf"], "status": "retired", "reason": "r", "confirm": "yes"})
    assert missing.status_code == 422
    assert re.search(r"does not say which version", missing.text)
