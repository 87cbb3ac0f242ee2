"""Drills run on the server: the clock, deliveries, the players' view and the gate.

Canaries sit in every inject's text and every expectation: a player must never
receive another partner's inject, an inject not yet delivered, or any
expectation, on any route; a partner taking no part gets the 404 of a missing
exercise.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jointplan.server import exercises
from jointplan.store.audit import verify
from jointplan.store.tables import AuditEntry, DrillDelivery, DrillExercise
from tests.conftest import write_workspace
from tests.drill.conftest import AAA_PLAN, BBB_PLAN, CALM_PLAN, WORKSPACE
from tests.server.conftest import database_url, start_server  # noqa: F401 - a fixture

HEAD = """\
jointplan: 1
kind: exercise
id: live
title: A live drill
scenario: storm-long
start: 2026-12-03T08:00Z
participants:
  - {partner: AAA, role: player}
  - {partner: BBB, role: player}
  - {partner: CCC, role: controller}
injects:
"""


def generated(seed: int) -> tuple[str, dict[str, list[str]], list[str]]:
    """An exercise with a canary in every inject and expectation; the canaries per
    receiving partner, and those of the expectations."""
    rng = random.Random(seed)
    text, canaries, expectations = HEAD, {"AAA": [], "BBB": []}, []
    for n in range(rng.randint(3, 7)):
        to = rng.choice([["AAA"], ["BBB"], ["AAA", "BBB"]])
        canary = f"CANARY-{seed}-{n}-{'-'.join(to)}"
        for p in to:
            canaries[p].append(canary)
        exp_id = f"ex-canary-{seed}-{n}"
        expectations.append(exp_id)
        partner = rng.choice(["AAA", "BBB"])
        task = "aaa-plan/a1" if partner == "AAA" else "bbb-plan/b1"
        text += (f"  - id: inj-{n}\n    at: T+{rng.randint(0, 120)}m\n    to: [{', '.join(to)}]\n"
                 f"    from: Control {canary}\n    channel: message\n    text: {canary}\n"
                 f"    expect:\n      - {{id: {exp_id}, partner: {partner}, task: {task}, "
                 f"by: T+{rng.randint(0, 200)}m}}\n")
    return text, canaries, expectations


@pytest.fixture
def server(database_url, tmp_path):  # noqa: F811 - the imported fixture
    folder = write_workspace(tmp_path / "ws", {"workspace.yaml": WORKSPACE,
                                               "aaa-plan.yaml": AAA_PLAN,
                                               "bbb-plan.yaml": BBB_PLAN,
                                               "bbb-calm.yaml": CALM_PLAN})
    s = start_server(database_url, folder)
    yield s
    s.hub.db.engine.dispose()


def _start(server, text: str) -> str:
    c = server.client
    made = c.post("/api/exercises", json={"text": text}, headers=server.as_("CCC"))
    assert made.status_code == 201, made.text
    eid = made.json()["id"]
    assert c.post(f"/api/exercises/{eid}/control", json={"action": "start"},
                  headers=server.as_("CCC")).status_code == 200
    return eid


def _shift(server, eid: str, minutes: float) -> None:
    """Move the exercise's clock back ``minutes`` of real time (as if that much had passed)."""
    with server.hub.db.write() as session:
        row = session.get(DrillExercise, eid)
        row.anchor_wall = row.anchor_wall - timedelta(minutes=minutes)


def test_players_receive_only_their_own_delivered_injects_and_no_expectation(server):
    for seed in (1, 2, 3):  # three generated exercises on one server
        _check_leaks(server, seed)


def _check_leaks(server, seed: int) -> None:
    text, canaries, expectations = generated(seed)
    eid = _start(server, text)
    c = server.client
    _shift(server, eid, 60)  # half the injects (T+0..T+120m) are due
    exercises.deliver_due(server.hub)
    with server.hub.db.read() as session:
        ex = exercises.exercise_of(session.get(DrillExercise, eid))
    delivered = {i.id for i in ex.injects if i.at is not None and i.at <= 60}
    assert c.post(f"/api/exercises/{eid}/actions", json={"text": "done", "task": "aaa-plan/a1"},
                  headers=server.as_("AAA")).status_code == 201
    for partner in ("AAA", "BBB"):
        mine = [i for i in ex.injects if partner in i.to]
        bodies = [c.get(f"/api/exercises/{eid}", headers=server.as_(partner)).text,
                  c.get("/api/exercises", headers=server.as_(partner)).text,
                  c.post(f"/api/exercises/{eid}/control", json={"action": "pause"},
                         headers=server.as_(partner)).text,
                  c.post(f"/api/exercises/{eid}/injects", json={
                      "to": [partner], "from": "x", "channel": "call", "text": "x"},
                      headers=server.as_(partner)).text]
        feed = json.loads(bodies[0])
        assert feed["banner"] == "EXERCISE EXERCISE EXERCISE"
        assert sorted(d["text"] for d in feed["deliveries"]) == sorted(
            i.text for i in mine if i.id in delivered)
        assert "schedule" not in feed and "expectations" not in feed
        others = [x for p, found in canaries.items() if p != partner for x in found
                  if x not in canaries[partner]]
        undelivered = [i.text for i in mine if i.id not in delivered]
        for body in bodies:
            for secret in [*others, *undelivered, *expectations, "by: T+", "expect"]:
                assert secret not in body, (partner, secret)
        if partner == "BBB":
            assert "aaa-plan/a1" not in bodies[0]  # another player's actions are not shown
    control = c.get(f"/api/exercises/{eid}", headers=server.as_("CCC")).json()
    assert sorted(e["id"] for e in control["expectations"]) == sorted(expectations)
    assert len(control["deliveries"]) == sum(len(i.to) for i in ex.injects if i.id in delivered)
    c.post(f"/api/exercises/{eid}/control", json={"action": "end"}, headers=server.as_("CCC"))


def test_a_partner_taking_no_part_finds_no_exercise(server):
    eid = _start(server, generated(4)[0])
    c = server.client
    hidden = c.get(f"/api/exercises/{eid}", headers=server.as_("DDD"))
    missing = c.get("/api/exercises/nosuchexercise", headers=server.as_("DDD"))
    assert hidden.status_code == missing.status_code == 404 and hidden.text == missing.text
    assert c.get("/api/exercises", headers=server.as_("DDD")).json() == []
    for path, body in ((f"/api/exercises/{eid}/actions", {"text": "x"}),
                       (f"/api/exercises/{eid}/control", {"action": "pause"})):
        assert c.post(path, json=body, headers=server.as_("DDD")).text == c.post(
            path.replace(eid, "nosuchexercise"), json=body, headers=server.as_("DDD")).text


def test_an_exercise_naming_what_a_controller_may_not_see_is_refused_like_a_missing_name(server):
    text = generated(5)[0].replace("aaa-plan/a1", "aaa-plan/secret")
    refused = server.client.post("/api/exercises", json={"text": text},
                                 headers=server.as_("CCC"))
    assert refused.status_code == 422
    assert "no task 'aaa-plan/secret'" in refused.text
    assert server.client.post("/api/exercises", json={"text": generated(5)[0]},
                              headers=server.as_("AAA")).status_code == 403


def test_the_clock_pause_speed_conditional_and_by_hand_injects_each_audited(server):
    text = HEAD + """\
  - id: first
    at: T+0h
    to: [AAA]
    from: Control
    channel: message
    text: Go.
    expect:
      - {id: ex-go, partner: AAA, task: aaa-plan/a1, by: T+30m}
  - id: reminder
    when: {expectation: ex-go, missed: true}
    delay: 10m
    to: [AAA, BBB]
    from: Control
    channel: call
    text: Where are you?
"""
    eid = _start(server, text)
    c, hub = server.client, server.hub
    assert exercises.deliver_due(hub) == 1  # first, at T+0h
    assert exercises.deliver_due(hub) == 0  # never twice
    _shift(server, eid, 39)
    assert exercises.deliver_due(hub) == 0  # reminder is due at T+40m
    assert c.post(f"/api/exercises/{eid}/control", json={"action": "pause"},
                  headers=server.as_("CCC")).json()["state"] == "paused"
    _shift(server, eid, 600)  # paused: the clock stands still
    assert exercises.deliver_due(hub) == 0
    c.post(f"/api/exercises/{eid}/control", json={"action": "resume"}, headers=server.as_("CCC"))
    summary = c.post(f"/api/exercises/{eid}/control", json={"action": "speed", "speed": 60},
                     headers=server.as_("CCC")).json()
    assert summary["speed"] == 60 and 39 <= summary["clock"] <= 40
    _shift(server, eid, 1 / 30)  # two real seconds at x60: two exercise minutes
    assert exercises.deliver_due(hub) == 2  # the missed expectation's reminder, to both
    hand = c.post(f"/api/exercises/{eid}/injects", json={
        "to": ["BBB"], "from": "Control", "channel": "media", "text": "By hand."},
        headers=server.as_("CCC"))
    assert hand.status_code == 201
    feed = c.get(f"/api/exercises/{eid}", headers=server.as_("BBB")).json()
    assert [d["text"] for d in feed["deliveries"]] == ["Where are you?", "By hand."]
    assert c.post(f"/api/exercises/{eid}/control", json={"action": "end"},
                  headers=server.as_("CCC")).json()["state"] == "ended"
    with hub.db.read() as session:
        rows = session.scalar(select(func.count()).select_from(DrillDelivery))
        audited = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("drill.%"))).all()
        assert not verify(session)
    assert rows == 4 and audited.count("drill.deliver") == 4
    aaa = c.get(f"/api/exercises/{eid}/report", headers=server.as_("AAA")).json()
    bbb = c.get(f"/api/exercises/{eid}/report", headers=server.as_("BBB")).json()
    assert [e["id"] for e in aaa["expectations"]] == ["ex-go"] and aaa["partner"] == "AAA"
    assert bbb["expectations"] == [] and {d["partner"] for d in bbb["deliveries"]} == {"BBB"}
    assert aaa["expectations"][0]["result"] == "missed"
    rating = {"kind": "expectation", "target": "ex-go", "rating": "U", "notes": "never done"}
    assert c.post(f"/api/exercises/{eid}/ratings", json=rating,
                  headers=server.as_("AAA")).status_code == 403
    assert c.post(f"/api/exercises/{eid}/ratings", json=rating,
                  headers=server.as_("CCC")).status_code == 201
    item = c.post(f"/api/exercises/{eid}/items", json={
        "kind": "improvement", "title": "Drill the first step", "owner": "AAA",
        "due": "2027-01-31"}, headers=server.as_("CCC"))
    assert item.status_code == 201
    assert c.post(f"/api/exercises/{eid}/items/{item.json()['id']}/status",
                  json={"status": "done"}, headers=server.as_("AAA")).status_code == 200
    assert c.post(f"/api/exercises/{eid}/items/{item.json()['id']}/status",
                  json={"status": "open"}, headers=server.as_("BBB")).status_code == 404
    aaa = c.get(f"/api/exercises/{eid}/report", headers=server.as_("AAA")).json()
    assert (aaa["expectations"][0]["rating"], aaa["expectations"][0]["notes"]) == (
        "U", "never done")
    assert [(i["title"], i["status"]) for i in aaa["improvements"]] == [
        ("Drill the first step", "done")]
    assert c.get(f"/api/exercises/{eid}/report", headers=server.as_("BBB")).json()[
        "improvements"] == []
    assert {"drill.create", "drill.start", "drill.pause", "drill.resume", "drill.speed",
            "drill.action", "drill.end"} - set(audited) == {"drill.action"}
