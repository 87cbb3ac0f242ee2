"""Shares change: a partner narrowing or widening a share never locks anyone out.

Three partners, AAA, BBB and CCC. Each test drives the server through the API
only, on SQLite and on PostgreSQL, and checks that a reference whose owner can
no longer see its target lapses (treated as absent, never an error, its owner
told) and revives when the target is visible again; that an import is judged
only against what the importer sees; and that no answer names a hidden id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.server.conftest import Server, fresh_database, start_server

PARTNERS = ("AAA", "BBB", "CCC")
WORKSPACE = {
    "jointplan": 1, "kind": "workspace", "id": "three-ways", "title": "Three partners",
    "partners": [{"code": c, "name": f"Partner {c}"} for c in PARTNERS],
    "areas": [], "resources": [{"id": "berth", "name": "Berths", "capacity": 1}],
    "scenarios": [{"id": "baseline", "title": "Baseline", "prior": 1.0}],
}


def plan(pid: str, share: Any, tasks: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    owner = pid.split("-")[0].upper()
    doc: dict[str, Any] = {"jointplan": 1, "kind": "plan", "id": pid, "owner": owner,
                           "title": f"Plan {pid}", "scenarios": ["baseline"]}
    if share is not None:
        doc["share"] = share
    doc["tasks"] = tasks
    doc.update(more)
    return doc


def task(tid: str, *after: str, start: str = "T+0h", **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tid, "title": f"Task {tid}", "start": start,
                           "duration": "1h"}
    if after:
        out["after"] = list(after)
    out.update(more)
    return out


def folder_with(tmp: Path, *plans: dict[str, Any]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "workspace.yaml").write_text(yaml.safe_dump(WORKSPACE, sort_keys=False))
    for doc in plans:
        (tmp / f"{doc['id']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return tmp


def put(server: Server, partner: str, doc: dict[str, Any]) -> Any:
    return server.client.post("/api/import", headers=server.as_(partner),
                              json={"files": {f"{doc['id']}.json": json.dumps(doc)},
                                    "reason": "test"})


def reads(server: Server, partner: str) -> dict[str, Any]:
    """Every read route that builds the workspace, as one partner: path -> response."""
    out = {}
    for path in ("/api/workspace", "/api/plans", "/api/check", "/api/export",
                 "/api/simulate?scenario=baseline&samples=20&seed=1", "/api/notifications"):
        out[path] = server.client.get(path, headers=server.as_(partner))
    return out


def notes(server: Server, partner: str) -> list[str]:
    answer = server.client.get("/api/notifications", headers=server.as_(partner))
    assert answer.status_code == 200, answer.text
    return [n["text"] for n in answer.json()]


@pytest.fixture(params=["sqlite", "postgresql"])
def serve(request: Any, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server on a fresh database of each kind with the plans given."""
    started: list[Server] = []

    def start(*plans: dict[str, Any]) -> Server:
        url = fresh_database(request.param, tmp_path)
        server = start_server(url, folder_with(tmp_path / "ws", *plans))
        started.append(server)
        return server

    yield start
    for server in started:
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]


def test_narrowing_a_share_lapses_the_reference_that_depended_on_it(serve: Any) -> None:
    """The probe's case: AAA narrows; BBB's hidden reference lapses; nobody is locked out."""
    server = serve(plan("aaa-open", "all", [task("a1")]),
                   plan("bbb-hide", ["CCC"], [task("b1", "aaa-open/a1")]))
    answer = put(server, "AAA", plan("aaa-open", ["CCC"], [task("a1")]))
    assert answer.status_code == 201, answer.text
    for partner in PARTNERS:
        for path, res in reads(server, partner).items():
            assert res.status_code == 200, (partner, path, res.text)
            if partner == "AAA":
                assert "bbb-hide" not in res.text and "b1" not in res.text, (path, res.text)
    # BBB no longer waits for a1 in what anyone sees, and BBB is told, naming only its own.
    bbb = server.client.get("/api/plans/bbb-hide", headers=server.as_("BBB")).json()
    assert "after" not in bbb["tasks"][0]
    told = [n for n in notes(server, "BBB") if "aaa-open/a1" in n]
    assert told and all("bbb-hide" in n and "b1" in n for n in told), notes(server, "BBB")
    assert not [n for n in notes(server, "AAA") if "bbb" in n]
    # Both can still write: AAA undoes its change, BBB drops the dependency.
    assert put(server, "AAA", plan("aaa-open", "all", [task("a1")])).status_code == 201
    revived = server.client.get("/api/plans/bbb-hide", headers=server.as_("BBB")).json()
    assert revived["tasks"][0]["after"] == ["aaa-open/a1"]
    assert put(server, "AAA", plan("aaa-open", ["CCC"], [task("a1")])).status_code == 201
    assert put(server, "BBB", plan("bbb-hide", ["CCC"], [task("b1")])).status_code == 201
    assert put(server, "BBB", plan("bbb-hide", ["CCC"], [task("b2")])).status_code == 201


def test_a_reference_to_a_hidden_task_reads_like_one_to_nothing(serve: Any) -> None:
    server = serve(plan("aaa-open", "all", [task("a1")]),
                   plan("bbb-hide", ["CCC"], [task("b1"), task("b2")]))
    answers = {}
    for ref in ("bbb-hide/b1", "bbb-hide/b9"):
        res = put(server, "AAA", plan("aaa-open", "all", [task("a1", ref)]))
        assert res.status_code == 422, res.text
        answers[ref] = res.text.replace(ref, "REF")
    assert answers["bbb-hide/b1"] == answers["bbb-hide/b9"]
    assert "no such task" in answers["bbb-hide/b1"]


def test_a_cycle_through_a_hidden_task_is_accepted_and_broken(serve: Any) -> None:
    """AAA closes a cycle through CCC's task it may not see: no word of it; BBB and CCC told."""
    server = serve(plan("aaa-open", "all", [task("a1")]),
                   plan("bbb-mid", "all", [task("b1", "ccc-hide/c1")]),
                   plan("ccc-hide", ["BBB"], [task("c1", "aaa-open/a1")]))
    before = {p: notes(server, p) for p in PARTNERS}
    res = put(server, "AAA", plan("aaa-open", "all", [task("a1", "bbb-mid/b1")]))
    assert res.status_code == 201, res.text
    assert "ccc" not in res.text and "cycle" not in res.text
    for partner in PARTNERS:
        for path, answer in reads(server, partner).items():
            assert answer.status_code == 200, (partner, path, answer.text)
            if partner == "AAA":
                assert "ccc-hide" not in answer.text and "c1" not in answer.text, path
    # AAA's own edge stands; the two edges AAA could not see lapsed, and their owners know.
    aaa = server.client.get("/api/plans/aaa-open", headers=server.as_("AAA")).json()
    assert aaa["tasks"][0]["after"] == ["bbb-mid/b1"]
    bbb = server.client.get("/api/plans/bbb-mid", headers=server.as_("BBB")).json()
    ccc = server.client.get("/api/plans/ccc-hide", headers=server.as_("CCC")).json()
    assert "after" not in bbb["tasks"][0] and "after" not in ccc["tasks"][0]
    assert any("bbb-mid" in n and "ccc-hide/c1" in n for n in notes(server, "BBB"))
    assert any("ccc-hide" in n and "aaa-open/a1" in n for n in notes(server, "CCC"))
    assert notes(server, "AAA") == before["AAA"]
    # When AAA drops its edge, theirs hold again.
    assert put(server, "AAA", plan("aaa-open", "all", [task("a1")])).status_code == 201
    bbb = server.client.get("/api/plans/bbb-mid", headers=server.as_("BBB")).json()
    ccc = server.client.get("/api/plans/ccc-hide", headers=server.as_("CCC")).json()
    assert bbb["tasks"][0]["after"] == ["ccc-hide/c1"]
    assert ccc["tasks"][0]["after"] == ["aaa-open/a1"]


def test_a_cycle_the_importer_sees_whole_is_refused_naming_it(serve: Any) -> None:
    server = serve(plan("aaa-open", "all", [task("a1")]),
                   plan("bbb-mid", "all", [task("b1", "aaa-open/a1")]))
    res = put(server, "AAA", plan("aaa-open", "all", [task("a1", "bbb-mid/b1")]))
    assert res.status_code == 422, res.text
    problem = res.json()["problems"][0]
    assert problem["file"] == "aaa-open.json"
    assert problem["message"].startswith(
        "dependency cycle: aaa-open/a1 after bbb-mid/b1 after aaa-open/a1;")


def test_a_provision_answering_a_removed_expectation_lapses(serve: Any) -> None:
    expects = [{"id": "need", "from": "BBB", "what": "help", "window": ["T+0h", "T+2h"]}]
    provides = [{"id": "give", "to": "AAA", "what": "help", "window": ["T+0h", "T+2h"],
                 "answers": "aaa-open/need"}]
    server = serve(plan("aaa-open", "all", [task("a1")], expects=expects),
                   plan("bbb-give", "all", [task("b1")], provides=provides))
    assert put(server, "AAA", plan("aaa-open", "all", [task("a1")])).status_code == 201
    for partner in PARTNERS:
        for path, res in reads(server, partner).items():
            assert res.status_code == 200, (partner, path, res.text)
    bbb = server.client.get("/api/plans/bbb-give", headers=server.as_("BBB")).json()
    assert "answers" not in bbb["provides"][0]
    assert any("give" in n and "aaa-open/need" in n for n in notes(server, "BBB"))
    # BBB re-imports its plan as it wrote it: the lapsed reference is no error.
    again = plan("bbb-give", "all", [task("b1")], provides=provides)
    assert put(server, "BBB", again).status_code == 201


# -- any partner narrowing or widening any share, in any order -----------------------

# Ids that are no substring of one another, so a hidden one is found wherever it is named.
INITIAL = {
    "AAA": plan("aaa-pl", "all", [task("tk-aaa-1"), task("tk-aaa-2", "tk-aaa-1")]),
    "BBB": plan("bbb-pl", "all", [task("tk-bbb-1", "aaa-pl/tk-aaa-1"),
                                  task("tk-bbb-2", "ccc-pl/tk-ccc-1")]),
    "CCC": plan("ccc-pl", "all", [task("tk-ccc-1", "aaa-pl/tk-aaa-2"),
                                  task("tk-ccc-2", "bbb-pl/tk-bbb-1")]),
}
LINK = "ccc-pl/tk-ccc-2"
"""AAA's `tk-aaa-1` after this closes a cycle through BBB's and CCC's tasks."""
SHARES: list[Any] = [None, "all", *[[p] for p in PARTNERS], ["AAA", "BBB"], ["BBB", "CCC"],
                     ["AAA", "CCC"]]
EXAMPLES = int(os.environ.get("JOINTPLAN_SHARE_EXAMPLES", "6"))

Step = tuple[str, Any, Any, bool]
"""A partner re-imports its plan with a plan share, a share for its first task, and
(for AAA) whether its first task waits for ``LINK``."""


def _doc(partner: str, step: Step | None) -> dict[str, Any]:
    doc = json.loads(json.dumps(INITIAL[partner]))
    if step is None:
        return doc
    _, share, task_share, link = step
    if share is None:
        doc.pop("share", None)
    else:
        doc["share"] = share
    if task_share is not None:
        doc["tasks"][0]["share"] = task_share
    if link and partner == "AAA":
        doc["tasks"][0]["after"] = [LINK]
    return doc


def _sees(partner: str, doc: dict[str, Any], item: dict[str, Any] | None = None) -> bool:
    """The format's rule, written again here: owner, or in the plan's (and item's) share."""
    if doc["owner"] == partner:
        return True
    for share in (doc.get("share"), (item or {}).get("share", "all")):
        if share is None or (share != "all" and partner not in share):
            return False
    return True


def _hidden(partner: str, docs: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for doc in docs.values():
        if not _sees(partner, doc):
            out.append(doc["id"])
        out += [t["id"] for t in doc["tasks"] if not _sees(partner, doc, t)]
    return out


def _no_hidden(partner: str, docs: dict[str, dict[str, Any]], text: str, where: str,
               wrote: str = "") -> None:
    """No id hidden from the partner in the text, but those it wrote itself (``wrote``)."""
    for secret in _hidden(partner, docs):
        if secret in wrote:
            continue
        assert secret not in text, f"{partner} {where} names hidden {secret!r}: {text[:500]}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: Any, tmp_path_factory: Any) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server with the three plans, and a signed-in browser per partner for the pages."""
    from tests.web.test_page_leaks import browser

    tmp = tmp_path_factory.mktemp("shares")
    server = start_server(fresh_database(request.param, tmp),
                          folder_with(tmp / "ws", *INITIAL.values()))
    yield server, {p: browser(server, p) for p in PARTNERS}
    server.hub.db.engine.dispose()  # type: ignore[attr-defined]


EVER: dict[int, dict[str, str]] = {}

steps = st.lists(st.tuples(st.sampled_from(PARTNERS), st.sampled_from(SHARES),
                           st.sampled_from([None, *SHARES[1:]]), st.booleans()),
                 min_size=1, max_size=4)


@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=steps)
def test_no_share_change_in_any_order_makes_the_server_refuse_another_partner(
        shared: tuple[Server, dict[str, Any]], steps: list[Step]) -> None:
    server, pages = shared
    for partner in PARTNERS:  # back to the start: everything shared, no cycle
        assert put(server, partner, _doc(partner, None)).status_code == 201
    docs = {p: _doc(p, None) for p in PARTNERS}
    # Everything each partner ever stored on this server: its own plan page shows its
    # versions' diffs, which name targets as it wrote them then (its own words).
    ever = EVER.setdefault(id(server), {p: json.dumps(INITIAL[p]) for p in PARTNERS})
    for p in PARTNERS:
        ever[p] += json.dumps(docs[p])
    for step in steps:
        actor = step[0]
        wanted = _doc(actor, step)
        answer = put(server, actor, wanted)
        # Only the actor's own change may be refused (a cycle it sees whole, or a new
        # reference to what it may not see); the refusal names nothing hidden from it.
        assert answer.status_code in (201, 422), answer.text
        if answer.status_code == 201:
            docs[actor] = wanted
            ever[actor] += json.dumps(wanted)
        _no_hidden(actor, docs, answer.text, "import answer", json.dumps(wanted))
        for partner in PARTNERS:
            for path, res in reads(server, partner).items():
                assert res.status_code == 200, (step, partner, path, res.text)
                if path != "/api/notifications":  # names targets as their owner wrote them
                    _no_hidden(partner, docs, res.text, path)
            own = f"/api/plans/{docs[partner]['id']}/versions"
            assert server.client.get(own, headers=server.as_(partner)).status_code == 200
            missing = server.client.get("/api/plans/zzz-pl", headers=server.as_(partner))
            for doc in docs.values():
                res = server.client.get(f"/api/plans/{doc['id']}", headers=server.as_(partner))
                if _sees(partner, doc):
                    assert res.status_code == 200, (step, partner, res.text)
                    _no_hidden(partner, docs, res.text, doc["id"])
                else:
                    assert (res.status_code, res.text) == (missing.status_code, missing.text)
            for page in ("/", "/plans", f"/plans/{docs[partner]['id']}"):
                res = pages[partner].get(page)
                assert res.status_code == 200, (step, partner, page, res.text)
                # The dashboard lists notifications, which name targets as their owner wrote.
                _no_hidden(partner, docs, res.text, page,
                           json.dumps(docs[partner]) if page == "/" else
                           ever[partner] if page.startswith("/plans/") else "")
            if partner != actor:
                again = put(server, partner, docs[partner])
                assert again.status_code == 201, (steps, partner, again.text)
