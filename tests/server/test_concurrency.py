"""Optimistic concurrency over the API: a plan write names the version it was made from;
a stale one gets 409 with what changed, and nothing is stored. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from jointplan.store.tables import PlanVersion, Proposal
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"
NOR_EVACUATION = (EXAMPLE / "nor-evacuation.yaml").read_text()


@pytest.fixture
def server(database_url) -> Server:
    s = start_server(database_url, EXAMPLE)
    yield s
    s.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _versions(server: Server, plan_id: str) -> int:
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(PlanVersion)
                                  .where(PlanVersion.plan_id == plan_id)) or 0)


def _etag(server: Server, partner: str, plan_id: str) -> str:
    answer = server.client.get(f"/api/plans/{plan_id}",  # type: ignore[attr-defined]
                               headers=server.as_(partner))
    assert answer.status_code == 200, answer.text
    return str(answer.headers["ETag"])


def _status(server: Server, headers: dict[str, str], **body: Any) -> Any:
    return server.client.post("/api/plans/nor-evacuation/status",  # type: ignore[attr-defined]
                              headers={**server.as_("NOR"), **headers},
                              json={"status": "approved", "reason": "r", **body})


def test_the_owner_gets_the_stored_versions_etag_and_others_a_digest_of_their_view(server):
    owner = _etag(server, "NOR", "nor-evacuation")
    assert owner.startswith('"') and not owner.startswith("W/")
    other = _etag(server, "SOU", "nor-evacuation")
    assert other.startswith('W/"') and owner.strip('"') not in other
    assert _etag(server, "SOU", "nor-evacuation") == other  # stable while nothing changes


def test_a_write_from_the_current_version_is_stored_and_answers_the_new_etag(server):
    tag = _etag(server, "NOR", "nor-evacuation")
    answer = _status(server, {"If-Match": tag})
    assert answer.status_code == 201, answer.text
    assert answer.headers["ETag"] == f'"{answer.json()["version"]}"'
    assert _etag(server, "NOR", "nor-evacuation") == answer.headers["ETag"]
    again = _status(server, {}, base_version=answer.json()["version"], status="draft")
    assert again.status_code == 201, again.text


def test_a_stale_write_gets_409_with_the_versions_since_and_stores_nothing(server):
    stale = _etag(server, "NOR", "nor-evacuation")
    first = _status(server, {"If-Match": stale}, reason="first edit")
    assert first.status_code == 201
    before = _versions(server, "nor-evacuation")
    for headers, body in (({"If-Match": stale}, {}),
                          ({}, {"base_version": stale.strip('"')})):
        answer = _status(server, headers, reason="second edit", **body)
        assert answer.status_code == 409, answer.text
        got = answer.json()
        assert got["current"] == first.json()["version"]
        assert [v["version"] for v in got["since"]] == [first.json()["version"]]
        assert got["since"][0]["reason"] == "first edit"
        assert "nothing was stored" in got["detail"]
        assert answer.headers["ETag"] == f'"{got["current"]}"'
    assert _versions(server, "nor-evacuation") == before


def test_an_import_names_its_base_by_if_match_or_base_versions(server):
    c, nor = server.client, server.as_("NOR")
    files = {"nor-evacuation.yaml": NOR_EVACUATION}
    stale = _etag(server, "NOR", "nor-evacuation")
    ok = c.post("/api/import", headers={**nor, "If-Match": stale}, json={"files": files})
    assert ok.status_code == 201, ok.text
    before = _versions(server, "nor-evacuation")
    refused = c.post("/api/import", headers={**nor, "If-Match": stale}, json={"files": files})
    assert refused.status_code == 409 and refused.json()["since"]
    refused = c.post("/api/import", headers=nor, json={
        "files": files, "base_versions": {"nor-evacuation": stale.strip('"')}})
    assert refused.status_code == 409
    assert _versions(server, "nor-evacuation") == before
    current = ok.json()["versions"][0]
    again = c.post("/api/import", headers=nor, json={
        "files": files, "base_versions": {"nor-evacuation": current}})
    assert again.status_code == 201, again.text


def test_a_base_must_name_a_plan_of_the_import_and_if_match_one_plan(server):
    c, nor = server.client, server.as_("NOR")
    both = {"nor-evacuation.yaml": NOR_EVACUATION,
            "nor-shipping.yaml": (EXAMPLE / "nor-shipping.yaml").read_text()}
    tag = _etag(server, "NOR", "nor-evacuation")
    answer = c.post("/api/import", headers={**nor, "If-Match": tag}, json={"files": both})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["header", "If-Match"]
    answer = c.post("/api/import", headers=nor, json={
        "files": {"nor-evacuation.yaml": NOR_EVACUATION},
        "base_versions": {"nor-shipping": tag.strip('"')}})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "base_versions"]
    weak = _status(server, {"If-Match": 'W/"x"'})
    assert weak.status_code == 422 and weak.json()["detail"][0]["loc"] == ["header", "If-Match"]


def test_another_partners_write_is_refused_before_its_base_is_looked_at(server):
    answer = server.client.post("/api/plans/nor-evacuation/status", headers={
        **server.as_("SOU"), "If-Match": '"not-a-version"'},
        json={"status": "approved", "reason": "r"})
    assert answer.status_code == 403  # not 409: a partner learns nothing of versions


def _propose(server: Server, start: str) -> str:
    answer = server.client.post("/api/proposals", headers=server.as_("SOU"), json={
        "plan": "nor-evacuation", "reason": "tide",
        "change": {"kind": "move-start", "task": "ferry-run", "start": start}})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_a_stale_proposal_that_still_applies_is_accepted_on_the_current_version(server):
    proposal = _propose(server, "T+26h")
    assert _status(server, {}).status_code == 201  # the plan moves on: the base is stale
    answer = server.client.post(f"/api/proposals/{proposal}/accept",
                                headers=server.as_("NOR"), json={})
    assert answer.status_code == 200, answer.text
    plan = server.client.get("/api/plans/nor-evacuation", headers=server.as_("NOR")).json()
    task = next(t for t in plan["tasks"] if t["id"] == "ferry-run")
    assert task["start"] == "T+1d2h" and plan["status"] == "approved"  # both changes kept


def test_a_stale_proposal_that_no_longer_applies_gets_409_and_stays_open(server):
    proposal = _propose(server, "T+26h")
    narrowed = _replace(NOR_EVACUATION, "flex: [T+24h, T+40h]", "flex: [T+28h, T+40h]")
    stored = server.client.post("/api/import", headers=server.as_("NOR"),
                                json={"files": {"nor-evacuation.yaml": narrowed}})
    assert stored.status_code == 201, stored.text
    before = _versions(server, "nor-evacuation")
    answer = server.client.post(f"/api/proposals/{proposal}/accept",
                                headers=server.as_("NOR"), json={})
    assert answer.status_code == 409, answer.text
    assert "no longer applies" in answer.json()["detail"]
    assert "flex" in answer.json()["detail"]
    assert [v["version"] for v in answer.json()["since"]] == stored.json()["versions"]
    assert _versions(server, "nor-evacuation") == before
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        assert session.get(Proposal, proposal).status == "open"
