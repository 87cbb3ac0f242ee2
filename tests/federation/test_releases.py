"""Signed releases between nodes: exactly what the gate releases, refused when wrong.

Three nodes are built from one workspace split by owner (tests/federation/nodes.py).
A bundle that is tampered with, replayed, rolled back, signed by an unknown,
rotated or revoked key, or that carries what its sender does not own is refused
with a message that says why, and the receiving node is left exactly as it was.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import func, select

from jointplan.server.federation import keys
from jointplan.server.federation.release import Refused
from jointplan.server.federation.sync import pull
from jointplan.services.workspaces import load_checked
from jointplan.sharing.view import view_for
from jointplan.store import audit
from jointplan.store.tables import AuditEntry, ObservationRow, PlanVersion
from tests.conftest import EXAMPLES
from tests.federation.nodes import Node, exchange_all, make_nodes
from tests.server.serving import serving
from tests.strategies import workspaces

EXAMPLE = EXAMPLES / "northern-strait"


def _state(node: Node) -> tuple[int, int, int]:
    with node.hub.db.read() as s:
        return (int(s.scalar(select(func.count()).select_from(PlanVersion)) or 0),
                int(s.scalar(select(func.count()).select_from(ObservationRow)) or 0),
                int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0))


def _plans(node: Node, viewer: str) -> dict[str, dict]:
    with node.hub.db.read() as s:
        ws = node.hub.current(s).workspace
    return {p["id"]: p for p in view_for(ws, viewer)["plans"]}


@pytest.fixture
def nodes(tmp_path) -> dict[str, Node]:
    return make_nodes(EXAMPLE, tmp_path)


def test_a_node_receives_exactly_the_plans_and_observations_the_gate_releases_to_it(nodes):
    central = load_checked(EXAMPLE).workspace
    exchange_all(nodes)
    for partner, node in nodes.items():
        expected = view_for(central, partner)
        got = _plans(node, partner)
        # every plan reads as the central server shows it to the partner, references to a
        # third partner's items included (blinded in transit, resolved on arrival)
        assert got == {p["id"]: p for p in expected["plans"]}
        with node.hub.db.read() as s:
            observations = view_for(node.hub.current(s).workspace, partner)["observations"]
        strip = [{k: v for k, v in o.items() if k != "share"} for o in observations]
        assert sorted(map(json.dumps, strip)) == sorted(
            json.dumps({k: v for k, v in o.items() if k != "share"})
            for o in expected["observations"])


def test_a_bundle_holds_nothing_of_another_partner_and_is_signed_whole(nodes):
    exchange_all(nodes)  # NOR now holds copies of theirs; 2 rounds: version 2 for SOU
    bundle = json.loads(nodes["NOR"].send("SOU"))
    assert {d["owner"] for d in bundle["files"].values() if d["kind"] == "plan"} == {"NOR"}
    assert all(o["by"] == "NOR" for d in bundle["files"].values()
               if d["kind"] == "observations" for o in d["observations"])
    assert "workspace.yaml" not in bundle["files"]
    assert bundle["from"] == "NOR" and bundle["to"] == "SOU" and bundle["version"] == 2
    assert bundle["key"] == nodes["NOR"].public and len(bundle["signature"]) == 128
    # unchanged files: the same signed bundle, not a new version
    assert json.loads(nodes["NOR"].send("SOU")) == bundle


def _refused(node: Node, data: bytes, words: str) -> None:
    before = _state(node)
    with pytest.raises(Refused) as exc:
        node.take(data)
    assert words in str(exc.value), str(exc.value)
    assert _state(node) == before


def _tampered(data: bytes, change) -> bytes:
    bundle = json.loads(data)
    change(bundle)
    return json.dumps(bundle).encode()


def test_tampered_replayed_and_foreign_bundles_are_refused_and_change_nothing(nodes):
    nor, sou = nodes["NOR"], nodes["SOU"]
    data = nor.send("SOU")

    def retitle(b):
        name = next(n for n, d in b["files"].items() if d["kind"] == "plan")
        b["files"][name]["title"] = "changed on the way"

    _refused(sou, _tampered(data, retitle), "bad signature")
    _refused(sou, _tampered(data, lambda b: b.update(version=99)), "bad signature")
    _refused(sou, b"{not json", "bundle.json:1:2: not a release bundle")
    _refused(nodes["RRA"], data, "addressed to SOU; this node is RRA")
    stranger = keys.SigningKey.generate()
    _refused(sou, _tampered(data, lambda b: b.update(key=stranger.verify_key.encode().hex())),
             "signed by an unknown key")
    assert "added" in sou.take(data).summary()
    _refused(sou, data, "replayed")


def test_a_rollback_to_an_older_version_is_refused(nodes, tmp_path):
    nor, sou = nodes["NOR"], nodes["SOU"]
    first = nor.send("SOU")
    # NOR withdraws its share of nor-evacuation with SOU: a new release, version 2
    with nor.hub.db.write() as s:
        row = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == "nor-evacuation")
                       .order_by(PlanVersion.number.desc()))
        doc = {**row.doc, "share": ["RRA"],
               "expects": [e for e in row.doc["expects"] if e["from"] != "SOU"]}
        s.add(PlanVersion(plan_id="nor-evacuation", owner="NOR", number=row.number + 1,
                          doc=doc, author="operator", reason="no longer shared with SOU"))
        audit.append(s, action="plan.version", subject="plan:nor-evacuation", user_id=None,
                     partner=None, owners=["NOR"])
    second = nor.send("SOU")
    assert json.loads(second)["version"] == 2
    sou.take(first)
    assert "nor-evacuation" in _plans(sou, "SOU")
    result = sou.take(second)
    assert result.withdrawn == ["nor-evacuation"]  # withdrawing a share removes the copy
    assert "nor-evacuation" not in _plans(sou, "SOU")
    _refused(sou, first, "rollback: version 1 is older than version 2")


def test_rotated_and_revoked_keys_are_refused(nodes, tmp_path):
    nor, sou = nodes["NOR"], nodes["SOU"]
    old = nor.send("SOU")
    with nor.hub.db.write() as s:
        _, new_public = keys.rotate(s)
    new = nor.send("SOU")  # files unchanged, but signed anew with the new key
    assert json.loads(new)["key"] == new_public
    _refused(sou, new, "signed by an unknown key")
    with sou.hub.db.write() as s:
        keys.rotate_peer(s, partner="NOR", public_key=new_public)
    _refused(sou, old, "a key NOR has rotated out")
    with sou.hub.db.write() as s:
        keys.revoke_peer(s, partner="NOR")
    _refused(sou, new, "signed by a revoked key of NOR")


def test_a_bundle_with_another_partners_plan_is_refused(nodes):
    """A sender may not pass on what it received: a forged but well-signed bundle."""
    nor, sou = nodes["NOR"], nodes["SOU"]
    bundle = json.loads(nor.send("SOU"))
    bundle["files"]["rra-x.yaml"] = {"jointplan": 1, "kind": "plan", "id": "rra-x",
                                     "owner": "RRA", "title": "t", "scenarios": ["baseline"]}
    bundle["version"] = 5
    body = {k: v for k, v in bundle.items() if k != "signature"}
    from jointplan.server.federation.release import canonical_bytes

    signing = keys.read_signing_key(nor.key_file)
    bundle["signature"] = signing.sign(canonical_bytes(body)).signature.hex()
    _refused(sou, json.dumps(bundle).encode(), "rra-x.yaml is not a plan or observations of NOR")


def test_sync_pulls_a_release_over_http_and_a_revoked_peer_is_refused(tmp_path):
    from jointplan.server.federation.keys import NodeError
    from jointplan.store.tables import NodePeer

    nodes = make_nodes(EXAMPLE, tmp_path / "n")
    rra = nodes["RRA"]
    with serving(nodes["NOR"].hub.db.url, tmp_path / "serve.log") as (_, nor_url):
        with rra.hub.db.write() as s:
            s.get(NodePeer, "NOR").url = nor_url
        assert "added nor-evacuation, nor-shipping" in pull(rra.hub, "NOR").summary()
        assert "up to date" in pull(rra.hub, "NOR").summary()
        central = load_checked(EXAMPLE).workspace
        got = _plans(rra, "RRA")
        assert {k for k in got if k.startswith("nor-")} == {
            p["id"] for p in view_for(central, "RRA")["plans"] if p["id"].startswith("nor-")}
        # NOR no longer trusts RRA's key: its node answers 403 and RRA's changes nothing
        with nodes["NOR"].hub.db.write() as s:
            keys.revoke_peer(s, partner="RRA")
        before = _state(rra)
        with pytest.raises(NodeError, match="answered 403.*revoked key of RRA"):
            pull(rra.hub, "NOR")
        assert _state(rra) == before


@settings(max_examples=3, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(generated=workspaces())
def test_no_bundle_carries_a_canary_its_receiver_may_not_see(tmp_path_factory, generated):
    tmp = tmp_path_factory.mktemp("gen")
    folder = generated.write(tmp / "central")
    nodes = make_nodes(folder, tmp)
    for sender in nodes.values():
        for receiver in nodes.values():
            if receiver is sender:
                continue
            text = sender.send(receiver.partner).decode()
            leaked = [c for c in generated.forbidden(receiver.partner) if c in text]
            assert leaked == [], (sender.partner, receiver.partner, leaked)


def test_a_received_copy_is_read_only_on_the_receiving_node(nodes):
    """NOR's people cannot write SOU's plan on NOR's node: only its owner writes a plan."""
    import yaml

    from jointplan.files import InvalidWorkspace
    from jointplan.server.assemble import Source
    from jointplan.server.plans import import_files
    from jointplan.services.accounts import Actor

    nor = nodes["NOR"]
    nor.take(nodes["SOU"].send("NOR"))
    copy = _plans(nor, "NOR")["sou-port"]
    doc = {"jointplan": 1, "kind": "plan", **copy, "title": "rewritten by NOR"}
    before = _state(nor)
    with pytest.raises(InvalidWorkspace, match="owner: NOR"):
        import_files(nor.hub, Actor("u", "nor-planner", "NOR", "planner"),
                     [Source("sou-port.yaml", yaml.safe_dump(doc).encode())], reason="edit")
    assert _state(nor) == before and _plans(nor, "NOR")["sou-port"] == copy


def test_a_reference_to_a_third_partners_item_holds_whichever_release_came_first(nodes):
    """NOR's plan answers RRA's expectation: on SOU's node the reference travels blinded and
    holds once RRA's release has brought the item. NOR's release arriving first drops it;
    the next sync (the same bundle, taken again) resolves it anew."""
    from jointplan.server.federation.release import receive

    nor, sou, rra = nodes["NOR"], nodes["SOU"], nodes["RRA"]
    central = {p["id"]: p for p in view_for(load_checked(EXAMPLE).workspace, "SOU")["plans"]}
    nor.take(sou.send("NOR"))  # NOR's node holds SOU's and RRA's items
    nor.take(rra.send("NOR"))
    from_nor = nor.send("SOU")
    sou.take(from_nor)  # before RRA's: the blinded reference cannot be resolved yet
    assert _plans(sou, "SOU")["nor-evacuation"] != central["nor-evacuation"]
    sou.take(rra.send("SOU"))
    refreshed = receive(sou.hub, from_nor, "http://nor", sync=True)
    assert "changed nor-evacuation" in refreshed.summary()
    assert _plans(sou, "SOU")["nor-evacuation"] == central["nor-evacuation"]
    again = receive(sou.hub, from_nor, "http://nor", sync=True)
    assert again.unchanged
