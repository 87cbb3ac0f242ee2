"""`serve --sync-every`: a serving node pulls its peers' releases by itself.

RRA's node serves with `--sync-every 1` beside NOR's node; a change NOR makes
reaches RRA with no `node sync`. A peer that cannot be reached, and one that
refuses, are a line each in the log: the loop goes on and nothing changes.
The turn to pull is kept in the database, so several processes pull once.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from jointplan.server.federation import keys
from jointplan.server.federation.keys import NodeError
from jointplan.server.federation.sync import pull_due
from jointplan.sharing.view import view_for
from jointplan.store import audit
from jointplan.store.tables import NodePeer, PlanVersion
from tests.conftest import EXAMPLES
from tests.federation.nodes import Node, make_nodes
from tests.federation.test_releases import _state
from tests.server.serving import free_port, serving

EXAMPLE = EXAMPLES / "northern-strait"


def _title(node: Node, plan: str) -> str | None:
    with node.hub.db.read() as s:
        ws = node.hub.current(s).workspace
    found = [p for p in view_for(ws, node.partner)["plans"] if p["id"] == plan]
    return found[0]["title"] if found else None


def _retitle(node: Node, plan: str, title: str) -> None:
    with node.hub.db.write() as s:
        row = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan)
                       .order_by(PlanVersion.number.desc()))
        s.add(PlanVersion(plan_id=plan, owner=row.owner, number=row.number + 1,
                          doc={**row.doc, "title": title}, author="operator", reason="retitled"))
        audit.append(s, action="plan.version", subject=f"plan:{plan}", user_id=None,
                     partner=None, owners=[row.owner])


def _wait(what, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (found := what()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)
    return found


def test_several_processes_pull_a_peer_once_per_period_and_an_unreachable_one_is_logged(
        tmp_path, caplog):
    nodes = make_nodes(EXAMPLE, tmp_path, urls={
        "SOU": f"http://127.0.0.1:{free_port()}", "NOR": f"http://127.0.0.1:{free_port()}"})
    rra = nodes["RRA"]
    before = _state(rra)
    first = pull_due(rra.hub, 60, clock=600.0, timeout=2)
    assert set(first) == {"NOR", "SOU"} and all(isinstance(e, NodeError)
                                                for e in first.values())
    assert "node sync from SOU:" in caplog.text and "cannot reach SOU's node" in caplog.text
    # another process (another hub on the same database) in the same minute: not again
    other = type(rra.hub)(rra.hub.db.url)
    assert pull_due(other, 60, clock=659.0, timeout=2) == {}
    assert set(pull_due(other, 60, clock=660.0, timeout=2)) == {"NOR", "SOU"}
    assert _state(rra) == before  # refusals change nothing


def test_a_serving_node_pulls_a_change_without_node_sync(tmp_path):
    nodes = make_nodes(EXAMPLE, tmp_path / "n")
    nor, rra = nodes["NOR"], nodes["RRA"]
    with serving(nor.hub.db.url, tmp_path / "nor.log") as (_, nor_url):
        with rra.hub.db.write() as s:
            s.get(NodePeer, "NOR").url = nor_url
            s.get(NodePeer, "SOU").url = f"http://127.0.0.1:{free_port()}"  # nothing there
        log = tmp_path / "rra.log"
        with serving(rra.hub.db.url, log, "--sync-every", "1") as (rra_proc, _):
            original = _wait(lambda: _title(rra, "nor-evacuation"))
            _retitle(nor, "nor-evacuation", "Evacuation, as NOR now calls it")
            _wait(lambda: _title(rra, "nor-evacuation") == "Evacuation, as NOR now calls it")
            assert original != "Evacuation, as NOR now calls it"
            assert "node sync from SOU:" in log.read_text()  # logged, and the loop goes on
            # NOR stops trusting RRA: RRA's pulls are refused, logged, and change nothing
            with nor.hub.db.write() as s:
                keys.revoke_peer(s, partner="RRA")
            _retitle(nor, "nor-evacuation", "A title RRA does not get")
            _wait(lambda: "revoked key of RRA" in log.read_text())
            before = _state(rra)
            time.sleep(1.5)
            assert _state(rra) == before and rra_proc.poll() is None
            assert _title(rra, "nor-evacuation") == "Evacuation, as NOR now calls it"
