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
from typing import Any

import pytest
from sqlalchemy import select

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
