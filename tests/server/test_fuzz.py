"""schemathesis over the OpenAPI schema, as two partners, on SQLite and PostgreSQL.

Every operation is fuzzed with valid and invalid requests (bounded and
derandomized), also with real ids in its path so that fuzzing reaches past
the 404s: none may answer a server error, and every answer whose status the
schema declares must match it. Separately, every operation under /api called
without a valid token answers 401: no route ignores authentication.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from jointplan.api import create_app
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, fresh_database, start_server

EXAMPLE = EXAMPLES / "northern-strait"
PARTNERS = ("NOR", "SOU")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Examples per operation, spread over its strategies; PostgreSQL runs fewer.
BUDGET = {"sqlite": 20, "postgresql": 8}
# Signing in hashes a password on purpose (argon2): a few examples say enough.
SLOW = {("POST", "/auth/login"): 4}

# The operations, read from the app's own schema (building it touches no database).
SCHEMA = create_app(None).openapi()  # type: ignore[arg-type]
OPERATIONS = [(method.upper(), path) for path, item in SCHEMA["paths"].items() for method in item]
API = [(m, p) for m, p in OPERATIONS if p.startswith("/api/")]

# Imports that fail in each way the API reports, and one that succeeds (for NOR): each
# answer must match the schema too.
IMPORTS = [
    {"files": {"nor-shipping.yaml": (EXAMPLE / "nor-shipping.yaml").read_text()}},
    {"files": {"nor-broken.yaml": "jointplan: 1\nkind: plan\nid: [unclosed\n"}},
    {"files": {"nor-x.yaml": "jointplan: 1\nkind: plan\nid: nor-x\nowner: SOU\ntitle: X\n"
                             "scenarios: [baseline]\n"}},
    {"files": {"../escape.yaml": "x: 1"}},
    {"files": {"obs.yaml": "jointplan: 1\nkind: observations\nobservations:\n"
                           "  - {indicator: nowhere, at: 2026-01-01T00:00Z, seen: true}\n"}},
]


@dataclass
class Fuzzed:
    kind: str
    server: Server
    schema: Any
    paths: dict[str, dict[str, str]]
    """Real path parameters per path template."""
    queries: dict[str, dict[str, str]]
    revoked: str
    """The secret of a revoked token."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request, tmp_path_factory) -> Iterator[Fuzzed]:
    """One server per database for the whole module, with one object of each kind."""
    url = fresh_database(request.param, tmp_path_factory.mktemp("fuzz"))
    server = start_server(url, EXAMPLE)
    schema = schemathesis.openapi.from_asgi("/openapi.json", server.client.app)
    paths, queries = _real_ids(server)
    yield Fuzzed(request.param, server, schema, paths, queries, _revoked_token(server))
    server.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _real_ids(server: Server) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    c, nor = server.client, server.as_("NOR")

    def created(path: str, body: dict[str, Any]) -> str:
        response = c.post(path, headers=nor, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    thread = created("/api/threads", {"subject": {"kind": "scenario", "ref": "baseline"},
                                      "title": "fuzz", "text": "hello", "share": ["SOU"]})
    decision = created("/api/decisions", {"text": "Open the corridor",
                                          "partners": ["NOR", "SOU"]})
    proposal = created("/api/proposals", {"plan": "sou-port", "reason": "fuzz", "change": {
        "kind": "set-quantity", "task": "laid-up-ships", "resource": "berth-aster",
        "quantity": 2}})
    observation = created("/api/observations", {"indicator": "registration-surge",
                                                "seen": True})
    status = c.post("/api/plans/nor-evacuation/status", headers=nor,
                    json={"status": "approved", "reason": "fuzz"})
    assert status.status_code == 201, status.text
    collection = c.get("/api/taxii2/root/collections/", headers=nor).json()[
        "collections"][0]["id"]
    versions = [v["version"] for v in
                c.get("/api/plans/nor-evacuation/versions", headers=nor).json()]
    conflict = c.get("/api/conflicts", headers=nor).json()[0]["id"]
    preview = c.post("/api/deconflict", headers=nor, json={"scenario": "unrest-aster"}).json()
    resolution = created("/api/resolutions", {"preview": preview["preview"], "reason": "fuzz"})
    gap = c.get("/api/gaps", headers=nor).json()[0]["id"]
    feed = created("/api/calendar-feeds", {"name": "fuzz"})
    declared = c.post("/api/t0", headers=nor, json={"scenario": "baseline",
                                                     "t0": "2026-11-20T08:00Z"})
    assert declared.status_code == 201, declared.text
    paths = {
        "/api/plans/{plan_id}": {"plan_id": "nor-evacuation"},
        "/api/plans/{plan_id}/versions": {"plan_id": "nor-evacuation"},
        "/api/plans/{plan_id}/diff": {"plan_id": "nor-evacuation"},
        "/api/plans/{plan_id}/status": {"plan_id": "nor-evacuation"},
        "/api/threads/{thread_id}": {"thread_id": thread},
        "/api/threads/{thread_id}/messages": {"thread_id": thread},
        "/api/proposals/{proposal_id}": {"proposal_id": proposal},
        "/api/proposals/{proposal_id}/accept": {"proposal_id": proposal},
        "/api/proposals/{proposal_id}/decline": {"proposal_id": proposal},
        "/api/decisions/{decision_id}": {"decision_id": decision},
        "/api/decisions/{decision_id}/responses": {"decision_id": decision},
        "/api/decisions/{decision_id}/close": {"decision_id": decision},
        "/api/proposals/{proposal_id}/effect": {"proposal_id": proposal},
        "/api/proposals/{proposal_id}/withdraw": {"proposal_id": proposal},
        "/api/observations/{observation_id}/correct": {"observation_id": observation},
        "/api/observations/{observation_id}/retract": {"observation_id": observation},
        "/api/expectations/{plan_id}/{expectation_id}/acknowledge": {
            "plan_id": "nor-evacuation", "expectation_id": "ferry-berth"},
        "/api/exports/{kind}": {"kind": "stix"},
        "/api/taxii2/root/collections/{collection_id}/": {"collection_id": collection},
        "/api/taxii2/root/collections/{collection_id}/objects/": {"collection_id": collection},
        "/api/conflicts/{conflict_id}": {"conflict_id": conflict},
        "/api/conflicts/{conflict_id}/status": {"conflict_id": conflict},
        "/api/gaps/{gap_id}": {"gap_id": gap},
        "/api/gaps/{gap_id}/status": {"gap_id": gap},
        "/api/resolutions/{resolution_id}": {"resolution_id": resolution},
        "/api/t0/{scenario}": {"scenario": "baseline"},
        "/api/calendar-feeds/{feed_id}": {"feed_id": feed},
    }
    sou = server.as_("SOU")
    drill = c.post("/api/exercises", headers=sou, json={
        "text": (EXAMPLES / "drills" / "aster-drill-1.yaml").read_text()})
    assert drill.status_code == 201, drill.text
    exercise = drill.json()["id"]
    item = c.post(f"/api/exercises/{exercise}/items", headers=sou, json={
        "kind": "improvement", "title": "fuzz", "owner": "NOR", "due": "2027-01-31"})
    assert item.status_code == 201, item.text
    for suffix in ("", "/control", "/injects", "/actions", "/report", "/ratings", "/items"):
        paths[f"/api/exercises/{{exercise_id}}{suffix}"] = {"exercise_id": exercise}
    for suffix in ("status", "proposal"):
        paths[f"/api/exercises/{{exercise_id}}/items/{{item_id}}/{suffix}"] = {
            "exercise_id": exercise, "item_id": item.json()["id"]}
    queries = {"/api/plans/{plan_id}/diff": {"from": versions[0], "to": versions[-1]}}
    return paths, queries


def test_every_operation_with_a_path_parameter_is_given_real_ids(fuzzed):
    assert {p for _, p in OPERATIONS if "{" in p} <= set(fuzzed.paths)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_a_server_error_or_breaks_its_schema(fuzzed, method, path):
    operation = fuzzed.schema[path][method]
    strategies = [operation.as_strategy(generation_mode=mode)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if path in fuzzed.paths:
        strategies.append(operation.as_strategy(path_parameters=fuzzed.paths[path],
                                                query=fuzzed.queries.get(path)))
    if path == "/api/import":
        for body in IMPORTS:
            for partner in PARTNERS:
                operation.Case(body=body, headers=fuzzed.server.as_(partner)) \
                    .call_and_validate(checks=CHECKS)
    examples = SLOW.get((method, path), BUDGET[fuzzed.kind])

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=st.one_of(strategies), partner=st.sampled_from(PARTNERS))
    def fuzz(case, partner):
        # Always a valid token: requests without one are the test below.
        case.headers = {**(case.headers or {}), **fuzzed.server.as_(partner)}
        case.call_and_validate(checks=CHECKS)

    fuzz()


def test_every_api_operation_declares_its_bearer_token():
    for method, path in API:
        assert SCHEMA["paths"][path][method.lower()].get("security") == [{"HTTPBearer": []}], \
            f"{method} {path} does not declare the bearer token"


@pytest.mark.parametrize(("method", "path"), API, ids=[f"{m} {p}" for m, p in API])
def test_every_api_operation_without_a_valid_token_answers_401(fuzzed, method, path):
    """No token, a made-up one, a revoked one, another scheme: 401, and nothing written."""
    hub = fuzzed.server.hub
    url = path.format(**fuzzed.paths.get(path, {}))
    query = fuzzed.queries.get(path)
    body: dict[str, Any] | None = {} if method == "POST" else None
    with hub.db.read() as session:  # type: ignore[attr-defined]
        head = hub.head(session)  # type: ignore[attr-defined]
    for headers in ({}, {"Authorization": "Bearer jp_not-a-token"},
                    {"Authorization": f"Bearer {fuzzed.revoked}"},
                    {"Authorization": "Basic eDp5"}):
        response = fuzzed.server.client.request(method, url, params=query, json=body,
                                                headers=headers)
        assert response.status_code == 401, (method, url, headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
    with hub.db.read() as session:  # type: ignore[attr-defined]
        assert hub.head(session) == head  # type: ignore[attr-defined]


def _revoked_token(server: Server) -> str:
    from jointplan.services.accounts import create_token, revoke_token

    with server.hub.db.write() as session:  # type: ignore[attr-defined]
        token_id, secret = create_token(session, username=server.usernames["NOR"], name="old")
        revoke_token(session, token_id=token_id)
    return secret
