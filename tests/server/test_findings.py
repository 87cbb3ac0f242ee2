"""Lasting conflicts and gaps: one id for every partner shown one, kept across plan versions,
with a status, its history and the threads about it; hidden == missing; nothing hidden named.

Runs on SQLite and PostgreSQL with the northern-strait example: NOR and SOU
share four conflicts, in three of which one of them sees the other's items
only as hidden counterparts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from jointplan.server.hub import Hub
from jointplan.server.plans import import_folder
from jointplan.store.tables import AuditEntry, Notification
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"
NOR_PLAN = (EXAMPLE / "nor-evacuation.yaml").read_text(encoding="utf-8")
CARE = "    start: T+12h\n    duration: 3d\n    uses: {beds-aster: 12}\n"
assert CARE in NOR_PLAN


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    running = start_server(database_url, EXAMPLE)
    yield running
    running.hub.db.engine.dispose()  # type: ignore[attr-defined]


def listed(server: Server, partner: str, family: str = "conflict") -> dict[str, dict]:
    r = server.client.get(f"/api/{family}s", headers=server.as_(partner))
    assert r.status_code == 200, r.text
    return {f["id"]: f for f in r.json()}


def one(server: Server, partner: str, finding_id: str, family: str = "conflict") -> dict:
    r = server.client.get(f"/api/{family}s/{finding_id}", headers=server.as_(partner))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def on_resource(server: Server, partner: str, resource: str) -> str:
    """The id of the conflict on ``resource`` the partner is shown."""
    return next(fid for fid, f in listed(server, partner).items()
                if f["entries"][0].get("resource") == resource)


def import_nor(server: Server, text: str) -> None:
    r = server.client.post("/api/import", headers=server.as_("NOR"),
                           json={"files": {"nor-evacuation.yaml": text}, "reason": "test"})
    assert r.status_code == 201, r.text


def start_thread(server: Server, partner: str, fid: str, share: list[str],
                 family: str = "conflict") -> str:
    r = server.client.post("/api/threads", headers=server.as_(partner), json={
        "subject": {"kind": family, "ref": fid}, "title": "Beds at Aster",
        "text": "Can we stagger the surge?", "share": share})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_every_partner_shown_a_conflict_gets_the_same_id(server: Server) -> None:
    nor, sou, rra = (listed(server, p) for p in ("NOR", "SOU", "RRA"))
    shared = set(nor) & set(sou)
    assert len(shared) == 4
    # The same conflict, cut differently: SOU sees NOR's casualty care only as hidden.
    beds = on_resource(server, "NOR", "beds-aster")
    assert beds == on_resource(server, "SOU", "beds-aster")
    assert {"partner": "NOR", "hidden": True} in sou[beds]["entries"][0]["tasks"]
    assert {"partner": "NOR", "hidden": True} not in nor[beds]["entries"][0]["tasks"]
    # RRA's cut of the apron conflict is two windows, still one conflict.
    apron = on_resource(server, "RRA", "apron-aster")
    assert apron in nor and apron in sou and len(rra[apron]["entries"]) == 2
    assert beds not in rra


def test_ids_are_random_not_derived_from_what_the_conflict_is_about(
        server: Server, tmp_path) -> None:
    other = start_server(f"sqlite:///{tmp_path / 'other.db'}", EXAMPLE)
    try:
        for family in ("conflict", "gap"):
            mine, theirs = listed(server, "NOR", family), listed(other, "NOR", family)
            assert len(mine) == len(theirs) > 0
            assert not set(mine) & set(theirs), "the same workspace gave the same ids twice"
            for fid in mine:
                assert re.fullmatch(r"[A-Za-z0-9_-]{16}", fid)
    finally:
        other.hub.db.engine.dispose()  # type: ignore[attr-defined]


def test_nors_thread_is_sous_thread_and_survives_a_plan_change(server: Server) -> None:
    beds = on_resource(server, "NOR", "beds-aster")
    thread = start_thread(server, "NOR", beds, ["SOU"])
    assert one(server, "SOU", beds)["threads"] == [thread]
    got = server.client.get(f"/api/threads/{thread}", headers=server.as_("SOU")).json()
    assert got["subject"] == {"kind": "conflict", "ref": beds}
    # NOR moves its casualty care by an hour: the conflict persists, and so does its id.
    import_nor(server, NOR_PLAN.replace(CARE, CARE.replace("T+12h", "T+13h")))
    for partner in ("NOR", "SOU"):
        found = one(server, partner, beds)
        assert found["present"] and found["threads"] == [thread]
        assert found["entries"][0]["window"][0] == 13 * 60
    assert beds == on_resource(server, "SOU", "beds-aster")


def test_a_plan_change_that_resolves_a_conflict_marks_it_resolved(server: Server) -> None:
    beds = on_resource(server, "NOR", "beds-aster")
    thread = start_thread(server, "SOU", beds, ["NOR"])
    import_nor(server, NOR_PLAN.replace(CARE, CARE.replace("beds-aster: 12", "beds-aster: 10")))
    for partner in ("NOR", "SOU"):
        found = one(server, partner, beds)
        assert (found["present"], found["status"]) == (False, "resolved")
        assert found["history"][-1] == {**found["history"][-1], "status": "resolved",
                                        "partner": None}
        assert found["threads"] == [thread]
        r = server.client.get(f"/api/threads/{thread}", headers=server.as_(partner))
        assert r.status_code == 200 and r.json()["subject"]["ref"] == beds
    check = server.client.get("/api/check", headers=server.as_("NOR")).json()
    assert not [c for c in check["conflicts"] if c.get("resource") == "beds-aster"]
    # Resolved is the analysis's word: a partner cannot change it.
    r = server.client.post(f"/api/conflicts/{beds}/status", headers=server.as_("NOR"),
                           json={"status": "acknowledged", "reason": "still worried"})
    assert r.status_code == 422
    # The old quantity again: the same conflict is found again and reopened.
    import_nor(server, NOR_PLAN)
    found = one(server, "SOU", beds)
    assert (found["present"], found["status"]) == (True, "open")
    assert [e["status"] for e in found["history"]] == ["open", "resolved", "open"]


def test_a_status_change_by_one_partner_is_what_the_other_sees(server: Server) -> None:
    beds = on_resource(server, "NOR", "beds-aster")
    r = server.client.post(f"/api/conflicts/{beds}/status", headers=server.as_("SOU"),
                           json={"status": "being-resolved", "reason": "we add 4 beds"})
    assert r.status_code == 200, r.text
    seen = one(server, "NOR", beds)
    assert seen["status"] == "being-resolved"
    assert seen["history"][-1]["partner"] == "SOU"
    assert seen["history"][-1]["reason"] == "we add 4 beds"
    assert one(server, "SOU", beds)["history"] == seen["history"]
    assert listed(server, "NOR")[beds]["status"] == "being-resolved"
    # A change that keeps the conflict keeps its status.
    import_nor(server, NOR_PLAN.replace(CARE, CARE.replace("T+12h", "T+13h")))
    assert one(server, "NOR", beds)["status"] == "being-resolved"


def test_a_partner_not_shown_a_conflict_is_told_nothing_of_it(server: Server) -> None:
    beds = on_resource(server, "NOR", "beds-aster")
    nothing = "A" * len(beds)
    for family in ("conflict", "gap"):
        for path in (f"/api/{family}s/{{}}", ):
            a = server.client.get(path.format(beds), headers=server.as_("RRA"))
            b = server.client.get(path.format(nothing), headers=server.as_("RRA"))
            assert (a.status_code, a.content) == (b.status_code, b.content) == (
                404, b'{"detail":"not found"}')
    body = {"status": "acknowledged", "reason": "probe"}
    a = server.client.post(f"/api/conflicts/{beds}/status", headers=server.as_("RRA"), json=body)
    b = server.client.post(f"/api/conflicts/{nothing}/status", headers=server.as_("RRA"),
                           json=body)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.status_code == 404

    def about(ref: str) -> tuple[int, str]:
        r = server.client.post("/api/threads", headers=server.as_("RRA"), json={
            "subject": {"kind": "conflict", "ref": ref}, "title": "t", "text": "x"})
        return r.status_code, r.text.replace(ref, "REF")

    assert about(beds) == about(nothing)
    assert about(beds)[0] == 422
    # A thread about it shared with RRA does not tell RRA which conflict it is about.
    thread = start_thread(server, "NOR", beds, ["SOU", "RRA"])
    got = server.client.get(f"/api/threads/{thread}", headers=server.as_("RRA")).json()
    assert got["subject"] == {"kind": "conflict", "hidden": True}
    assert beds not in server.client.get("/api/threads", headers=server.as_("RRA")).text


def test_no_hidden_item_is_named_in_what_a_partner_reads_of_conflicts(server: Server) -> None:
    def names(report: dict) -> set[str]:
        return {f"{t['plan']}/{t.get('task') or t.get('provision')}"
                for c in report["conflicts"] for t in c["tasks"] if not t.get("hidden")}

    everyone = set()
    for p in ("NOR", "SOU", "RRA"):
        everyone |= names(server.client.get("/api/check", headers=server.as_(p)).json())
    for p in ("NOR", "SOU", "RRA"):
        own = names(server.client.get("/api/check", headers=server.as_(p)).json())
        texts = [server.client.get(f"/api/{family}s", headers=server.as_(p)).text
                 for family in ("conflict", "gap")]
        for fid in listed(server, p):
            texts.append(json.dumps(one(server, p, fid)))
        text = "\n".join(texts)
        hidden = {name.split("/")[1] for name in everyone - own}
        assert hidden, f"the example hides nothing from {p}?"
        for name in hidden:
            assert f'"{name}"' not in text, f"{p} is told of {name}"


def test_a_proposal_and_a_decision_attach_to_the_conflict(server: Server) -> None:
    beds = on_resource(server, "SOU", "beds-aster")
    r = server.client.post("/api/decisions", headers=server.as_("SOU"), json={
        "text": "Share the beds", "partners": ["NOR", "RRA"],
        "about": {"kind": "conflict", "ref": beds}})
    assert r.status_code == 201, r.text
    decision = r.json()["id"]
    assert one(server, "NOR", beds)["decisions"] == [decision]
    rra = server.client.get(f"/api/decisions/{decision}", headers=server.as_("RRA")).json()
    assert rra["about"] == {"kind": "conflict", "hidden": True}
    quay = next(fid for fid, f in listed(server, "SOU").items()
                if "aster-quay" in f["entries"][0].get("areas", []))
    r = server.client.post("/api/proposals", headers=server.as_("SOU"), json={
        "plan": "nor-evacuation", "reason": "the quay is busy",
        "change": {"kind": "move-start", "task": "ferry-run", "start": "T+24h"},
        "about": {"kind": "conflict", "ref": quay}})
    assert r.status_code == 201, r.text
    proposal = r.json()["id"]
    assert one(server, "NOR", quay)["proposals"] == [proposal]
    got = server.client.get(f"/api/proposals/{proposal}", headers=server.as_("NOR")).json()
    assert got["about"] == {"kind": "conflict", "ref": quay}
    # Accepted, it moves the ferry earlier; the quay is still closed then: the same conflict.
    r = server.client.post(f"/api/proposals/{proposal}/accept", headers=server.as_("NOR"),
                           json={})
    assert r.status_code == 200, r.text
    found = one(server, "SOU", quay)
    assert (found["present"], found["proposals"]) == (True, [proposal])
    assert found["entries"][0]["window"] == [24 * 60, 30 * 60]


def test_reading_conflicts_writes_nothing(server: Server) -> None:
    def state() -> tuple[int, int]:
        with server.hub.db.read() as session:  # type: ignore[attr-defined]
            return (int(session.scalar(select(func.max(AuditEntry.seq))) or 0),
                    int(session.scalar(select(func.count(Notification.id))) or 0))

    before = state()
    for p in ("NOR", "SOU", "RRA"):
        for family in ("conflict", "gap"):
            for fid in listed(server, p, family):
                one(server, p, fid, family)
    assert state() == before


def test_the_owner_of_a_hidden_item_is_told_once_per_conflict_not_per_write(
        server: Server) -> None:
    def told(partner: str) -> list[str]:
        r = server.client.get("/api/notifications", headers=server.as_(partner))
        return [n["text"] for n in r.json() if "hidden counterparts" in n["text"]]

    # SOU is shown NOR's casualty care (beds) and shelter berths as hidden counterparts.
    first = told("NOR")
    assert sum("SOU is shown a conflict" in t for t in first) == 2
    import_nor(server, NOR_PLAN.replace(CARE, CARE.replace("T+12h", "T+13h")))
    for p in ("NOR", "SOU", "RRA"):
        listed(server, p)
    assert told("NOR") == first


def test_another_process_on_the_same_database_gives_the_same_ids(server: Server) -> None:
    from jointplan.server import findings
    from jointplan.services.accounts import actor_for_token

    other = Hub(server.hub.db.url, migrate=False)  # type: ignore[attr-defined]
    with other.db.read() as session:
        actor = actor_for_token(session, server.tokens["SOU"])
        assert actor is not None
        ids = {f["id"]: f["status"] for f in findings.list_findings(other, session, actor,
                                                                     "conflict")}
    assert ids == {fid: f["status"] for fid, f in listed(server, "SOU").items()}
    other.db.engine.dispose()


def test_an_operator_import_again_keeps_every_id(server: Server) -> None:
    before = {p: set(listed(server, p)) | set(listed(server, p, "gap"))
              for p in ("NOR", "SOU", "RRA")}
    import_folder(server.hub, EXAMPLE)  # type: ignore[arg-type]
    after = {p: set(listed(server, p)) | set(listed(server, p, "gap"))
             for p in ("NOR", "SOU", "RRA")}
    assert after == before


def test_to_a_partner_no_longer_shown_a_conflict_it_reads_as_resolved(server: Server) -> None:
    """RRA drops its flights from the apron; NOR and SOU still collide there, hidden from RRA.

    To RRA this must read exactly as a conflict that was resolved: were it told
    the conflict goes on, it would learn that the others' hidden use still collides.
    """
    apron = on_resource(server, "RRA", "apron-aster")
    shelter = (EXAMPLE / "rra-shelter.yaml").read_text(encoding="utf-8")
    assert shelter.count("    uses: {apron-aster: 1}\n") == 2
    r = server.client.post("/api/import", headers=server.as_("RRA"), json={
        "files": {"rra-shelter.yaml": shelter.replace("    uses: {apron-aster: 1}\n", "")}})
    assert r.status_code == 201, r.text
    rra = one(server, "RRA", apron)
    assert (rra["present"], rra["status"]) == (False, "resolved")
    assert [(e["status"], e["partner"], e["reason"]) for e in rra["history"]] == [
        ("open", None, "found by the analysis"),
        ("resolved", None, "no longer found by the analysis")]
    assert len(rra["entries"]) == 2  # what it was last shown
    nor = one(server, "NOR", apron)
    assert nor["present"] and [e["status"] for e in nor["history"]] == ["open"]
    # What NOR and SOU do next is theirs: RRA reads the same as before.
    r = server.client.post(f"/api/conflicts/{apron}/status", headers=server.as_("SOU"),
                           json={"status": "being-resolved", "reason": "one slot moves"})
    assert r.status_code == 200, r.text
    assert one(server, "RRA", apron) == rra
    assert "one slot moves" not in server.client.get(
        f"/api/conflicts/{apron}", headers=server.as_("RRA")).text
    r = server.client.post(f"/api/conflicts/{apron}/status", headers=server.as_("RRA"),
                           json={"status": "acknowledged", "reason": "x"})
    assert r.status_code == 422 and "resolved" in r.text
    # Its flights back: shown again, it reads "found again".
    r = server.client.post("/api/import", headers=server.as_("RRA"),
                           json={"files": {"rra-shelter.yaml": shelter}})
    assert r.status_code == 201, r.text
    again = one(server, "RRA", apron)
    assert again["present"] and again["history"][-1]["reason"] == "found again by the analysis"


def test_a_partner_shown_a_conflict_later_reads_its_history_from_then_on(
        server: Server) -> None:
    beds = on_resource(server, "NOR", "beds-aster")
    r = server.client.post(f"/api/conflicts/{beds}/status", headers=server.as_("SOU"),
                           json={"status": "acknowledged", "reason": "said before RRA came"})
    assert r.status_code == 200, r.text
    shelter = (EXAMPLE / "rra-shelter.yaml").read_text(encoding="utf-8")
    field_beds = ("  - id: field-beds\n    title: Beds for sick shelter residents\n"
                  "    start: T+1d\n    duration: 1d\n    uses: {beds-aster: 4}\n"
                  "    commitment: planned\n")
    r = server.client.post("/api/import", headers=server.as_("RRA"), json={
        "files": {"rra-shelter.yaml": shelter.replace("expects:\n", field_beds + "\nexpects:\n",
                                                      1)}})
    assert r.status_code == 201, r.text
    assert on_resource(server, "RRA", "beds-aster") == beds
    rra = one(server, "RRA", beds)
    assert rra["present"] and rra["status"] == "acknowledged"
    assert [e["reason"] for e in rra["history"]] == ["found by the analysis"]
    assert "said before RRA came" not in json.dumps(rra)
    assert [e["reason"] for e in one(server, "SOU", beds)["history"]] == [
        "found by the analysis", "said before RRA came"]
