"""Resolutions on the server: preview the solver's moves, confirm them as proposals, answer.

Every test runs on SQLite and on PostgreSQL. The example's apron conflict in
unrest-aster is resolved by moving NOR's charter flights; a small generated
workspace has a move of a task the asking partner may not see, with canaries
in every name either partner keeps from the other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server
from tests.server.test_route_matrix import cheap_passwords

EXAMPLE = EXAMPLES / "northern-strait"


@pytest.fixture
def serve(database_url):  # type: ignore[no-untyped-def]
    """Start a server on the test's database; its connections are closed afterwards."""
    made: list[Server] = []

    def start(folder: Path, **kwargs) -> Server:  # type: ignore[no-untyped-def]
        with cheap_passwords():
            made.append(start_server(database_url, folder, **kwargs))
        return made[-1]

    yield start
    for server in made:
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]


def conflict_on(s: Server, partner: str, resource: str) -> str:
    found = [c["id"] for c in s.client.get("/api/conflicts", headers=s.as_(partner)).json()
             if c["present"] and c["entries"][0].get("resource") == resource]
    assert len(found) == 1
    return found[0]


def present(s: Server, partner: str) -> set[str]:
    return {c["id"] for c in s.client.get("/api/conflicts", headers=s.as_(partner)).json()
            if c["present"]}


# -- the example: SOU resolves the apron conflict, NOR accepts -------------------------------


def test_a_partner_previews_confirms_and_the_owner_accepts(serve):
    s = serve(EXAMPLE)
    c = s.client
    apron = conflict_on(s, "SOU", "apron-aster")
    r = c.post("/api/deconflict", json={"conflict": apron}, headers=s.as_("SOU"))
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["scenario"] == "unrest-aster" and preview["as"] == "SOU"
    assert preview["moves"] == [{"partner": "NOR", "plan": "nor-evacuation",
                                 "task": "charter-flights", "from": 2160, "to": 3600}]
    assert preview["focus"] == {"id": apron, "resolved": True}
    assert apron in [x["conflict"] for x in preview["resolves"]]
    assert all(e["resource"] != "apron-aster" for e in preview["remaining"] if "resource" in e)
    # The same question answers the same preview: the token names the answer.
    assert c.post("/api/deconflict", json={"scenario": "unrest-aster", "conflict": apron},
                  headers=s.as_("SOU")).json()["preview"] == preview["preview"]

    made = c.post("/api/resolutions", json={"preview": preview["preview"],
                                            "reason": "free the apron"}, headers=s.as_("SOU"))
    assert made.status_code == 201, made.text
    resolution = made.json()
    assert resolution["partner"] == "SOU" and resolution["about"] == {"kind": "conflict",
                                                                      "ref": apron}
    [proposal] = resolution["proposals"]
    assert (proposal["partner"], proposal["task"], proposal["to"], proposal["status"],
            proposal["draft"]) == ("NOR", "charter-flights", 3600, "open", False)

    # The owner reads the whole resolution as it may, and the proposal for its task.
    theirs = c.get(f"/api/resolutions/{resolution['id']}", headers=s.as_("NOR")).json()
    assert theirs["resolution"]["as"] == "NOR" and theirs["partner"] == "SOU"
    assert [p["id"] for p in theirs["proposals"]] == [proposal["id"]]
    filed = c.get(f"/api/proposals/{proposal['id']}", headers=s.as_("NOR")).json()
    assert filed["partner"] == "SOU" and filed["change"] == {
        "kind": "move-start", "task": "charter-flights", "start": "T+2d12h"}
    assert filed["about"] == {"kind": "conflict", "ref": apron}
    assert any(resolution["id"] in n["text"] and n["text"].startswith("SOU proposes")
               for n in c.get("/api/notifications", headers=s.as_("NOR")).json())
    # A partner with no move in it answers as for nothing at all.
    other = c.get(f"/api/resolutions/{resolution['id']}", headers=s.as_("RRA"))
    nothing = c.get("/api/resolutions/" + "x" * len(resolution["id"]), headers=s.as_("RRA"))
    assert (other.status_code, other.content) == (nothing.status_code, nothing.content) == (
        404, b'{"detail":"not found"}')
    assert [x["id"] for x in c.get("/api/resolutions", headers=s.as_("RRA")).json()] == []

    accepted = c.post(f"/api/proposals/{proposal['id']}/accept", json={},
                      headers=s.as_("NOR"))
    assert accepted.status_code == 200, accepted.text
    assert apron not in present(s, "SOU") and apron not in present(s, "NOR")
    again = c.get(f"/api/resolutions/{resolution['id']}", headers=s.as_("SOU")).json()
    assert again["proposals"][0]["status"] == "accepted"


def test_a_move_of_ones_own_task_is_a_draft_it_applies(serve):
    s = serve(EXAMPLE)
    c = s.client
    apron = conflict_on(s, "NOR", "apron-aster")
    preview = c.post("/api/deconflict", json={"conflict": apron}, headers=s.as_("NOR")).json()
    made = c.post("/api/resolutions", json={"preview": preview["preview"], "reason": "mine"},
                  headers=s.as_("NOR")).json()
    [draft] = made["proposals"]
    assert draft["draft"] is True and draft["partner"] == "NOR"
    assert c.get(f"/api/proposals/{draft['id']}", headers=s.as_("SOU")).status_code == 404
    assert c.post(f"/api/proposals/{draft['id']}/accept", json={},
                  headers=s.as_("NOR")).status_code == 200
    assert apron not in present(s, "NOR")


def _edit(s: Server, partner: str, name: str, old: str, new: str) -> None:
    text = (EXAMPLE / name).read_text(encoding="utf-8")
    assert old in text
    r = s.client.post("/api/import", json={"files": {name: text.replace(old, new)}},
                      headers=s.as_(partner))
    assert r.status_code == 201, r.text


def test_a_changed_state_is_refused_with_what_changed(serve):
    s = serve(EXAMPLE)
    c = s.client
    apron = conflict_on(s, "SOU", "apron-aster")
    preview = c.post("/api/deconflict", json={"conflict": apron}, headers=s.as_("SOU")).json()
    # NOR starts its charter flights two hours later: the moves are no longer those shown.
    _edit(s, "NOR", "nor-evacuation.yaml", "start: T+36h\n", "start: T+38h\n")
    r = c.post("/api/resolutions", json={"preview": preview["preview"], "reason": "x"},
               headers=s.as_("SOU"))
    assert r.status_code == 409, r.text
    assert r.json()["changed"] == ["nor-evacuation"]
    assert r.json()["preview"] and r.json()["preview"] != preview["preview"]
    assert c.get("/api/resolutions", headers=s.as_("SOU")).json() == []
    assert c.get("/api/proposals", headers=s.as_("SOU")).json() == []
    # The new preview confirms.
    r = c.post("/api/resolutions", json={"preview": r.json()["preview"], "reason": "x"},
               headers=s.as_("SOU"))
    assert r.status_code == 201, r.text


def test_a_proposal_is_checked_again_when_answered(serve):
    s = serve(EXAMPLE)
    c = s.client
    apron = conflict_on(s, "SOU", "apron-aster")
    preview = c.post("/api/deconflict", json={"conflict": apron}, headers=s.as_("SOU")).json()
    made = c.post("/api/resolutions", json={"preview": preview["preview"], "reason": "x"},
                  headers=s.as_("SOU")).json()
    pid = made["proposals"][0]["id"]
    # NOR narrows the flex back: the proposed start no longer fits the current version.
    _edit(s, "NOR", "nor-evacuation.yaml", "flex: [T+36h, T+60h]", "flex: [T+36h, T+48h]")
    r = c.post(f"/api/proposals/{pid}/accept", json={}, headers=s.as_("NOR"))
    assert r.status_code == 409, r.text
    assert "flex" in r.json()["detail"]
    assert c.get(f"/api/proposals/{pid}", headers=s.as_("NOR")).json()["status"] == "open"


def test_bad_requests_name_the_field(serve):
    s = serve(EXAMPLE, roles={"RRA": "viewer"})
    c = s.client

    def field(r) -> list:  # type: ignore[no-untyped-def]
        assert r.status_code == 422, r.text
        return r.json()["detail"][0]["loc"]

    assert field(c.post("/api/deconflict", json={"conflict": "x" * 16},
                        headers=s.as_("SOU"))) == ["body", "conflict"]
    assert field(c.post("/api/deconflict", json={"scenario": "strait-closure"},
                        headers=s.as_("SOU"))) == ["body", "scenario"]
    assert field(c.post("/api/deconflict", json={}, headers=s.as_("SOU"))) == ["body",
                                                                               "scenario"]
    assert field(c.post("/api/deconflict", json={"scenario": "baseline", "time_limit": 600},
                        headers=s.as_("SOU"))) == ["body", "time_limit"]
    assert field(c.post("/api/resolutions", json={"preview": "not-a-token", "reason": "x"},
                        headers=s.as_("SOU"))) == ["body", "preview"]
    # Nothing to move in baseline: nothing to confirm.
    none = c.post("/api/deconflict", json={"scenario": "baseline"}, headers=s.as_("SOU"))
    assert none.status_code == 200 and none.json()["moves"] == []
    assert field(c.post("/api/resolutions", json={"preview": none.json()["preview"],
                                                  "reason": "x"},
                        headers=s.as_("SOU"))) == ["body", "preview"]
    # A viewer previews (a read) but never confirms.
    seen = c.post("/api/deconflict", json={"scenario": "unrest-aster"}, headers=s.as_("RRA"))
    assert seen.status_code == 200
    refused = c.post("/api/resolutions", json={"preview": seen.json()["preview"],
                                               "reason": "x"}, headers=s.as_("RRA"))
    assert refused.status_code == 403


def test_previews_count_against_the_limits_and_are_audited_once(serve):
    s = serve(EXAMPLE, analyses_per_minute=3)
    c = s.client
    body = {"scenario": "unrest-aster"}
    token = c.post("/api/deconflict", json=body, headers=s.as_("SOU")).json()["preview"]
    assert c.post("/api/deconflict", json=body, headers=s.as_("SOU")).status_code == 200
    entries = [e for e in c.get("/api/audit", headers=s.as_("SOU")).json()
               if e["action"] == "deconflict.preview"]
    assert len(entries) == 1 and entries[0]["detail"]["scenario"] == "unrest-aster"
    # NOR's beds show to SOU as a hidden counterpart: NOR reads the entry too.
    assert [e["partner"] for e in c.get("/api/audit", headers=s.as_("NOR")).json()
            if e["action"] == "deconflict.preview"] == ["SOU"]
    # A bad request is refused before it is counted.
    assert c.post("/api/deconflict", json={**body, "time_limit": 0},
                  headers=s.as_("SOU")).status_code == 422
    assert c.post("/api/deconflict", json=body, headers=s.as_("SOU")).status_code == 200
    limited = c.post("/api/deconflict", json=body, headers=s.as_("SOU"))
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    # Confirming computes again, so it is counted too: refused, nothing stored.
    refused = c.post("/api/resolutions", json={"preview": token, "reason": "x"},
                     headers=s.as_("SOU"))
    assert refused.status_code == 429
    assert c.get("/api/resolutions", headers=s.as_("SOU")).json() == []
    # Another partner has its own count.
    assert c.post("/api/deconflict", json=body, headers=s.as_("NOR")).status_code == 200


# -- a move of a task the asking partner may not see -------------------------------------------

HIDDEN = {
    "workspace.yaml": """
jointplan: 1
kind: workspace
id: hidden-moves
title: Hidden moves
partners:
  - {code: AAA, name: Alpha}
  - {code: BBB, name: Bravo}
resources:
  - {id: crane, name: Harbour crane, capacity: 1}
scenarios:
  - {id: storm, title: Storm, prior: 0.5}
  - {id: quake, title: Quake, prior: 0.5}
""",
    # AAA keeps this plan to itself: its id, task ids and titles are canaries for BBB.
    "aaa-canary-plan.yaml": """
jointplan: 1
kind: plan
id: aaa-canary-plan
owner: AAA
title: Alpha canary plan title
scenarios: [storm, quake]
tasks:
  - {id: canary-hidden-lift, title: Alpha canary lift title, start: T+10h, duration: 5h,
     flex: [T+0h, T+40h], uses: {crane: 1}}
  - {id: canary-fixed-lift, title: Alpha canary fixed title, start: T+50h, duration: 2h,
     uses: {crane: 1}, commitment: committed}
""",
    "bbb-open.yaml": """
jointplan: 1
kind: plan
id: bbb-open
owner: BBB
title: Bravo open plan
scenarios: [storm]
share: [AAA]
tasks:
  - {id: unload, title: Unload the relief ship, start: T+8h, duration: 4h,
     uses: {crane: 1}, commitment: committed}
""",
    "bbb-quake.yaml": """
jointplan: 1
kind: plan
id: bbb-quake
owner: BBB
title: Bravo quake plan
scenarios: [quake]
share: [AAA]
tasks:
  - {id: rubble, title: Lift rubble, start: T+15h, duration: 1h, uses: {crane: 1},
     commitment: committed}
""",
    # BBB keeps this one to itself: canaries for AAA.
    "bbb-canary-plan.yaml": """
jointplan: 1
kind: plan
id: bbb-canary-plan
owner: BBB
title: Bravo canary plan title
scenarios: [storm]
tasks:
  - {id: canary-bravo-lift, title: Bravo canary lift title, start: T+50h, duration: 2h,
     uses: {crane: 1}, commitment: committed}
""",
}
CANARIES = {"BBB": ("aaa-canary-plan", "canary-hidden-lift", "canary-fixed-lift",
                    "Alpha canary"),
            "AAA": ("bbb-canary-plan", "canary-bravo-lift", "Bravo canary")}


@pytest.fixture
def hidden(serve, tmp_path) -> Server:
    folder = tmp_path / "hidden"
    folder.mkdir()
    for name, text in HIDDEN.items():
        (folder / name).write_text(text.lstrip(), encoding="utf-8")
    return serve(folder)


def _clean(s: Server, partner: str, r) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code < 500, r.text
    for canary in CANARIES[partner]:
        assert canary not in r.text, f"{partner} is shown {canary!r}: {r.text[:2000]}"
    return r.json() if r.content else {}


def _everything(s: Server, partner: str) -> None:
    """Every read that could tell a partner of the resolution, checked for canaries."""
    for path in ("/api/proposals", "/api/resolutions", "/api/conflicts", "/api/audit",
                 "/api/notifications", "/api/check"):
        _clean(s, partner, s.client.get(path, headers=s.as_(partner)))
    for conflict in s.client.get("/api/conflicts", headers=s.as_(partner)).json():
        _clean(s, partner, s.client.get(f"/api/conflicts/{conflict['id']}",
                                        headers=s.as_(partner)))


def test_a_hidden_task_is_moved_without_naming_it(hidden):
    s, c = hidden, hidden.client
    conflicts = c.get("/api/conflicts", headers=s.as_("BBB")).json()
    early = [x["id"] for x in conflicts if x["entries"][0]["window"] == [600, 720]]
    assert len(early) == 1, conflicts
    crane = early[0]
    preview = _clean(s, "BBB", c.post("/api/deconflict", json={"conflict": crane},
                                      headers=s.as_("BBB")))
    assert preview["moves"] == [] and preview["hidden_moves"] == ["AAA"]
    assert preview["focus"] == {"id": crane, "resolved": True}
    assert preview["cost"]["moved_tasks"] == 0
    # The move adds a conflict in quake, where the hidden task's plan is active too.
    assert [e["scenarios"] for e in preview["elsewhere"]] == [["quake"]]
    assert {"partner": "AAA", "hidden": True} in preview["elsewhere"][0]["tasks"]

    made = _clean(s, "BBB", c.post("/api/resolutions", json={
        "preview": preview["preview"], "reason": "please move your crane work"},
        headers=s.as_("BBB")))
    assert made["proposals"] == [] and made["resolution"]["hidden_moves"] == ["AAA"]
    _everything(s, "BBB")
    assert c.get("/api/proposals", headers=s.as_("BBB")).json() == []

    # AAA receives the proposal for its own task, the asking partner named.
    [filed] = _clean(s, "AAA", c.get("/api/proposals", headers=s.as_("AAA")))
    assert filed["plan"] == "aaa-canary-plan" and filed["change"]["task"] == "canary-hidden-lift"
    assert filed["reason"].startswith("BBB asks for this move in resolution " + made["id"])
    assert filed["about"] == {"kind": "conflict", "ref": crane}
    theirs = _clean(s, "AAA", c.get(f"/api/resolutions/{made['id']}", headers=s.as_("AAA")))
    assert theirs["partner"] == "BBB" and [p["id"] for p in theirs["proposals"]] == [filed["id"]]
    assert theirs["resolution"]["moves"] == [{"partner": "AAA", "plan": "aaa-canary-plan",
                                              "task": "canary-hidden-lift", "from": 600,
                                              "to": 720}]
    # BBB's own collision in storm is told to AAA with BBB hidden, never named.
    assert any({"partner": "BBB", "hidden": True} in e["tasks"]
               for e in theirs["resolution"]["remaining"])
    _everything(s, "AAA")

    assert c.post(f"/api/proposals/{filed['id']}/accept", json={},
                  headers=s.as_("AAA")).status_code == 200
    assert crane not in present(s, "BBB") and crane not in present(s, "AAA")
    _everything(s, "BBB")
    # What BBB reads of the resolution is what it was told when it confirmed.
    later = _clean(s, "BBB", c.get(f"/api/resolutions/{made['id']}", headers=s.as_("BBB")))
    assert later["resolution"] == made["resolution"] and later["proposals"] == []


def test_a_stale_hidden_proposal_is_checked_as_its_owner_sees_it(hidden, tmp_path):
    s, c = hidden, hidden.client
    conflicts = c.get("/api/conflicts", headers=s.as_("BBB")).json()
    crane = next(x["id"] for x in conflicts if x["entries"][0]["window"] == [600, 720])
    preview = c.post("/api/deconflict", json={"conflict": crane}, headers=s.as_("BBB")).json()
    made = c.post("/api/resolutions", json={"preview": preview["preview"], "reason": "x"},
                  headers=s.as_("BBB")).json()
    [filed] = c.get("/api/proposals", headers=s.as_("AAA")).json()
    # AAA changes the plan in a way that keeps the move valid: accepted on the new version.
    text = HIDDEN["aaa-canary-plan.yaml"].lstrip().replace("Alpha canary plan title",
                                                            "Alpha canary plan, renamed")
    r = c.post("/api/import", json={"files": {"aaa-canary-plan.yaml": text}},
               headers=s.as_("AAA"))
    assert r.status_code == 201, r.text
    r = c.post(f"/api/proposals/{filed['id']}/accept", json={}, headers=s.as_("AAA"))
    assert r.status_code == 200, r.text
    assert made["id"]
