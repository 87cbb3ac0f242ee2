"""Private deconfliction: hidden collisions found on both sides, nothing else crosses.

NOR and SOU each add an unreleased task (shared with nobody) that uses Port
Aster's berths at the same time; together they need more than its capacity.
The run goes in-process through the same answering functions the API routes
call, and every message either node receives is captured: it must hold no
canary of a hidden item, while both nodes learn the collision at bucket
resolution and log the run.
"""

from __future__ import annotations

import json
import random
from typing import Any

import private_set_intersection.python as psi_lib
import pytest
from sqlalchemy import func, select

from jointplan.server.federation import deconflict, psi
from jointplan.server.federation.keys import NodeError
from jointplan.server.federation.tokens import tokens
from jointplan.services.workspaces import load_checked
from jointplan.store import audit
from jointplan.store.tables import AuditEntry, Notification, PlanVersion, PrivateRun
from tests.conftest import EXAMPLES
from tests.federation.nodes import Node, exchange_all, make_nodes

EXAMPLE = EXAMPLES / "northern-strait"


def _hide(node: Node, plan_id: str, task: dict[str, Any]) -> None:
    """Add a task shared with nobody to the node's own plan (a new version)."""
    with node.hub.db.write() as s:
        row = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                       .order_by(PlanVersion.number.desc()))
        doc = {**row.doc, "tasks": [*row.doc.get("tasks", []), task]}
        s.add(PlanVersion(plan_id=plan_id, owner=row.owner, number=row.number + 1, doc=doc,
                          author="operator", reason="a hidden task"))
        audit.append(s, action="plan.version", subject=f"plan:{plan_id}", user_id=None,
                     partner=None, owners=[row.owner])


def _task(canary: str, uses: int, start: str = "T+1d", area: str | None = None) -> dict:
    out = {"id": f"{canary}-id", "title": f"{canary} title", "start": start,
           "duration": "6h", "uses": {"berth-aster": uses}, "unit": f"{canary} unit",
           "share": []}
    if area:
        out.update(area=area, exclusive=True)
    return out


class Wire:
    """In-process transport that keeps the text of every message each side receives."""

    def __init__(self, answering: Node) -> None:
        self.answering = answering
        self.received: list[str] = []  # by the answering node, then by the asking node

    def __call__(self, path: str, envelope: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(envelope)
        self.received.append(text)
        handler = {"/node/psi": deconflict.answer_psi,
                   "/node/psi/refine": deconflict.answer_refine,
                   "/node/psi/result": deconflict.answer_result}[path]
        answer = handler(self.answering.hub, json.loads(text))
        self.received.append(json.dumps(answer))
        return json.loads(json.dumps(answer))


@pytest.fixture
def nodes(tmp_path) -> dict[str, Node]:
    nodes = make_nodes(EXAMPLE, tmp_path)
    exchange_all(nodes, rounds=1)
    return nodes


def _offer_all(node: Node, plan: str) -> None:
    with node.hub.db.write() as s:
        psi.set_offer(s, plan, "", True)


def test_a_hidden_collision_is_found_on_both_sides_and_no_canary_crosses(nodes):
    nor, sou = nodes["NOR"], nodes["SOU"]
    # berth-aster has capacity 4: 3 + 2 overflow by 1 in unrest-aster around T+1d–T+1d6h
    _hide(nor, "nor-evacuation", _task("canary-nor-hidden", 3, area="port-aster"))
    _hide(sou, "sou-aster", _task("canary-sou-hidden", 2, area="port-aster"))
    _hide(sou, "sou-aster", {**_task("canary-sou-unoffered", 4, start="T+3d"), "id": "x2"})
    _offer_all(nor, "nor-evacuation")
    _offer_all(sou, "sou-aster")
    with sou.hub.db.write() as s:
        psi.set_offer(s, "sou-aster", "x2", False)  # this one stays out
    wire = Wire(sou)
    found = deconflict.run(nor.hub, "SOU", wire)
    capacity = [c for c in found if c.kind == "capacity"]
    assert [(c.place, c.start, c.end, c.overflow) for c in capacity] == [
        ("berth-aster", 1440, 1800, 1)]
    assert {c.scenario for c in found} == {"unrest-aster"}
    assert any(c.kind == "area" for c in found)  # both exclusive on port-aster
    # nothing of a hidden item in any message either node received
    transcript = "\n".join(wire.received)
    for canary in ("canary", "nor-evacuation", "sou-aster", "-id"):
        assert canary not in transcript
    # both nodes logged the run with the same collisions, and told their owners
    for node, peer in ((nor, "SOU"), (sou, "NOR")):
        with node.hub.db.read() as s:
            runs = list(s.scalars(select(PrivateRun).where(PrivateRun.peer == peer)))
            told = [n.text for n in s.scalars(select(Notification))
                    if n.partner == node.partner and "collision with" in n.text]
            logged = [e for e in s.scalars(select(AuditEntry))
                      if e.action == "node.psi.run"]
        assert [r.collisions for r in runs] == [[c.as_json() for c in found]]
        assert any(f"a collision with {peer} on berth-aster around T+1d–T+1d6h" in t
                   for t in told), told
        assert logged and all("canary" not in json.dumps(e.detail) for e in logged)


def test_nothing_offered_nothing_found_and_runs_are_limited_in_rate(nodes):
    nor, sou = nodes["NOR"], nodes["SOU"]
    _hide(nor, "nor-evacuation", _task("canary-a", 3))
    _hide(sou, "sou-aster", _task("canary-b", 2))
    _offer_all(nor, "nor-evacuation")  # SOU offers nothing
    for _ in range(psi.RUNS_PER_HOUR):
        assert deconflict.run(nor.hub, "SOU", Wire(sou)) == []
    with pytest.raises(NodeError, match="at most 6"):
        deconflict.run(nor.hub, "SOU", Wire(sou))


def test_capacity_tokens_meet_exactly_when_the_loads_exceed_capacity():
    ws = load_checked(EXAMPLE).workspace
    plan = next(p for p in ws.plans if p.id == "nor-evacuation")
    from dataclasses import replace

    from jointplan.model import Duration

    def task(n: int):
        return replace(plan.tasks[0], uses={"berth-aster": n}, start=0,
                       duration=Duration(300, 300, 300), area=None)

    for a in range(0, 5):
        for b in range(0, 5):
            low = tokens(ws, [(plan, task(a))], "NOR", "SOU")
            high = tokens(ws, [(plan, task(b))], "SOU", "NOR")
            both = psi.intersect_plain(sorted(low), sorted(high))
            assert len(both) == max(0, a + b - 4), (a, b)


# -- coarse then fine --------------------------------------------------------------------


def _replace_hidden(node: Node, plan_id: str, tasks: list[dict[str, Any]]) -> None:
    """The plan as first imported, and ``tasks`` shared with nobody (a new version)."""
    with node.hub.db.write() as s:
        rows = list(s.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                              .order_by(PlanVersion.number)))
        first, last = rows[0], rows[-1]
        doc = {**first.doc, "tasks": [*first.doc.get("tasks", []), *tasks]}
        s.add(PlanVersion(plan_id=plan_id, owner=last.owner, number=last.number + 1, doc=doc,
                          author="operator", reason="hidden tasks"))
        audit.append(s, action="plan.version", subject=f"plan:{plan_id}", user_id=None,
                     partner=None, owners=[last.owner])
        for run in s.scalars(select(PrivateRun)):  # each draw a fresh hour of runs
            s.delete(run)


def _random_tasks(rng: random.Random, who: str, n: int) -> list[dict[str, Any]]:
    areas = ("port-aster", "aster-quay", "aster-old-town", "shelter-site")
    out = []
    for i in range(n):
        task: dict[str, Any] = {
            "id": f"canary-{who}-{i}", "title": f"canary {who} {i}",
            "start": f"T+{rng.randrange(0, 4 * 24 * 60)}m",
            "duration": f"{rng.choice((30, 60, 300, 360, 720, 1500))}m",
            "uses": {rng.choice(("berth-aster", "apron-aster", "corridor-slots")):
                     rng.randint(1, 3)},
            "unit": f"canary {who} unit", "share": []}
        if rng.random() < 0.4:
            task.update(area=rng.choice(areas), exclusive=rng.random() < 0.5)
        out.append(task)
    return out


def _fine_only(nor: Node, sou: Node) -> list[psi.Collision]:
    """What fine buckets alone find: the plain intersection of both nodes' fine tokens."""
    with nor.hub.db.read() as s:
        mine = psi.node_tokens(nor.hub, s, "SOU")
    with sou.hub.db.read() as s:
        theirs = psi.node_tokens(sou.hub, s, "NOR")
    return psi.collisions([mine[t] for t in sorted(set(mine) & set(theirs))])


def test_coarse_then_fine_finds_the_collisions_of_fine_buckets_alone(nodes):
    """On generated hidden uses, the nodes' run (a coarse pass, then a fine one where coarse
    buckets met) finds exactly the collisions fine buckets alone find, on both sides, and
    no canary crosses."""
    nor, sou = nodes["NOR"], nodes["SOU"]
    _offer_all(nor, "nor-evacuation")
    _offer_all(sou, "sou-aster")
    refined = collided = 0
    for seed in range(6):
        rng = random.Random(seed)
        _replace_hidden(nor, "nor-evacuation", _random_tasks(rng, "nor", rng.randint(1, 12)))
        _replace_hidden(sou, "sou-aster", _random_tasks(rng, "sou", rng.randint(1, 12)))
        expected = _fine_only(nor, sou)
        wire = Wire(sou)
        found = deconflict.run(nor.hub, "SOU", wire)
        assert found == expected, seed
        refined += any('"met"' in m for m in wire.received)
        collided += bool(expected)
        with sou.hub.db.read() as s:
            (answered,) = s.scalars(select(PrivateRun).where(PrivateRun.peer == "NOR"))
        assert (answered.role, answered.collisions) == (
            "answered", [c.as_json() for c in expected]), seed
        assert "canary" not in "\n".join(wire.received)
    assert refined and collided  # the draws did meet, and did collide


def test_the_refine_pass_is_part_of_the_run_once_and_sized_by_the_buckets_that_met(nodes):
    nor, sou = nodes["NOR"], nodes["SOU"]
    _hide(nor, "nor-evacuation", _task("canary-a", 3))
    _offer_all(nor, "nor-evacuation")
    _offer_all(sou, "sou-aster")
    sizes = []
    for load in (2, 3, 4):  # SOU's load in the bucket: the refine answer's size stays
        _replace_hidden(sou, "sou-aster", [_task("canary-b", load)])
        wire = Wire(sou)
        found = deconflict.run(nor.hub, "SOU", wire)
        assert [c.overflow for c in found] == [3 + load - 4]
        messages = [json.loads(m) for m in wire.received]
        refine_answer = messages[3]  # request 1, answer 1, refine request, refine answer
        setup = psi.unb64(refine_answer["setup"], "setup")
        parsed = psi_lib.ServerSetup()
        parsed.ParseFromString(setup)
        sizes.append(len(parsed.raw.encrypted_elements))
        assert messages[-1] == {"run": messages[1]["run"]}  # the result says only "logged"
        with sou.hub.db.read() as s:  # the answering node logged what the asker sent
            started = [e.detail for e in s.scalars(select(AuditEntry))
                       if e.action == "node.psi.run" and e.detail.get("role") == "coarse"]
        with nor.hub.db.read() as s:
            sent = len(psi.hidden(nor.hub, s, "SOU").coarse(asking=True))
        assert started[-1]["asker_tokens"] == sent  # one coarse token a day and place
    assert sizes == [4 * 4] * 3  # one day of berth-aster (capacity 4): 4 buckets x 4
    # the run counted once; its refine pass cannot be asked again, nor with a wrong size
    with sou.hub.db.read() as s:
        assert s.scalar(select(func.count()).select_from(PrivateRun)) == 1  # the last run
    run_id = messages[1]["run"]
    from jointplan.server.federation.sync import signed_request

    again = signed_request(nor.hub, "SOU", {"run": run_id, "met": [], "request": ""})
    with pytest.raises(NodeError, match="no such private deconfliction run"):
        deconflict.answer_refine(sou.hub, again)
    started = deconflict.answer_psi(sou.hub, signed_request(
        nor.hub, "SOU", {"request": psi.b64(psi.Asker(["x"]).request())}))
    wrong = signed_request(nor.hub, "SOU", {
        "run": started["run"], "met": [["capacity", "unrest-aster", "berth-aster", 1440]],
        "request": psi.b64(psi.Asker(["only one"]).request())})
    with pytest.raises(NodeError, match="holds 1 tokens; the buckets that met take 16"):
        deconflict.answer_refine(sou.hub, wrong)


def test_a_claimed_collision_tells_the_asker_nothing(nodes):
    """The answering node's reply to a result is the same whether or not it has hidden uses
    where a (made-up) collision is claimed."""
    nor, sou = nodes["NOR"], nodes["SOU"]
    _hide(sou, "sou-aster", _task("canary-b", 2))
    _offer_all(sou, "sou-aster")
    from jointplan.server.federation.sync import signed_request

    replies = []
    for start in (1440, 4320):  # SOU has a hidden use at T+1d, none at T+3d
        started = deconflict.answer_psi(sou.hub, signed_request(
            nor.hub, "SOU", {"request": psi.b64(psi.Asker(["x"]).request())}))
        claim = {"kind": "capacity", "scenario": "unrest-aster", "place": "berth-aster",
                 "start": start, "end": start + 360, "overflow": 1}
        reply = deconflict.answer_result(sou.hub, signed_request(
            nor.hub, "SOU", {"run": started["run"], "collisions": [claim]}))
        replies.append(set(reply))
    assert replies == [{"run"}, {"run"}]


def test_a_three_way_overflow_where_every_pair_fits_is_not_seen():
    """What docs/federation.md says pairwise intersection cannot see: loads 2 + 2 + 2 on a
    resource of capacity 5 overflow, yet no pair of nodes' tokens meet."""
    from dataclasses import replace

    from jointplan.model import Duration, Resource

    ws = load_checked(EXAMPLE).workspace
    ws = replace(ws, resources=(Resource("berth-x", "Berth X", 5),), _index={})
    plan = next(p for p in ws.plans if p.id == "nor-evacuation")
    task = replace(plan.tasks[0], uses={"berth-x": 2}, start=0,
                   duration=Duration(300, 300, 300), area=None)
    partners = ("NOR", "RRA", "SOU")
    for me in partners:
        for peer in partners:
            if me < peer:
                mine = tokens(ws, [(plan, task)], me, peer)
                theirs = tokens(ws, [(plan, task)], peer, me)
                assert psi.intersect_plain(sorted(mine), sorted(theirs)) == []
