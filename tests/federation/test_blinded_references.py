"""References to a third partner's item travel keyed by a tag only the item's holders have.

NOR's release to SOU may refer to RRA's items (an `after`, an `answers`, the indicator
of an observation). The value sent is an HMAC keyed by the tag RRA gave with the item,
so SOU can match it only if RRA released the item to SOU too; a guessed id confirms
nothing, and a tag never reaches a node the item was not released to. A bundle from a
node that sends no tags is still taken, its references matched the old, unkeyed way.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from jointplan.server.federation import keys
from jointplan.server.federation.release import (
    BLIND,
    blind,
    canonical_bytes,
    held_tags,
    item_tag,
    keyed_blind,
)
from jointplan.services.workspaces import load_checked
from jointplan.sharing.view import view_for
from jointplan.store.tables import ReleaseHeld
from tests.conftest import EXAMPLES
from tests.federation.nodes import Node, make_nodes

EXAMPLE = EXAMPLES / "northern-strait"


def _capture(nodes: dict[str, Node], rounds: int = 2,
             rewrite=None) -> dict[str, list[str]]:
    """exchange_all, keeping the text of every bundle each node receives."""
    received: dict[str, list[str]] = {p: [] for p in nodes}
    for _ in range(rounds):
        for sender in nodes.values():
            for receiver in nodes.values():
                if receiver is sender:
                    continue
                data = sender.send(receiver.partner)
                if rewrite is not None:
                    data = rewrite(sender, data)
                with receiver.hub.db.read() as s:
                    held = s.get(ReleaseHeld, sender.partner)
                if held is None or held.version < json.loads(data)["version"]:
                    received[receiver.partner].append(data.decode())
                    receiver.take(data)
    return received


def _items(central) -> dict[str, str]:
    """Every task, expectation and indicator id of the workspace, with its owner."""
    out = {f"{p.id}/{i.id}": p.owner for p in central.plans
           for i in [*p.tasks, *p.expects]}
    out.update({i.id: i.owner for i in central.indicators})
    return out


def _held(node: Node, partner: str) -> set[str]:
    with node.hub.db.read() as s:
        ws = node.hub.current(s).workspace
    view = view_for(ws, partner)
    held = {f"{p['id']}/{i['id']}" for p in view["plans"]
            for i in [*p.get("tasks", []), *p.get("expects", [])]}
    return held | {i["id"] for i in view.get("indicators", [])}


@pytest.fixture
def narrowed(tmp_path) -> Path:
    """The example with rra-shelter released to NOR only: NOR's `relief-seats` still
    answers `rra-shelter/staff-seats`, which SOU may no longer see."""
    folder = tmp_path / "central"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "rra-shelter.yaml"
    text = path.read_text()
    assert "share: [NOR, SOU]" in text
    path.write_text(text.replace("share: [NOR, SOU]", "share: [NOR]", 1))
    return folder


def test_a_reference_to_an_item_the_receiver_does_not_hold_cannot_be_confirmed(
        narrowed, tmp_path):
    central = load_checked(narrowed).workspace
    nodes = make_nodes(narrowed, tmp_path / "nodes")
    received = _capture(nodes)
    items = _items(central)
    seeds = {p: keys.read_signing_key(n.key_file) for p, n in nodes.items()}
    blinded_seen = 0
    for receiver, texts in received.items():
        held = _held(nodes[receiver], receiver)
        assert held, receiver
        for text in texts:
            bundle = json.loads(text)
            sender = bundle["from"]
            # no unkeyed candidate, for any id of the workspace, matches a blinded value
            values = set(re.findall(re.escape(BLIND) + r"[0-9a-f]{32}", text))
            blinded_seen += len(values)
            unkeyed = {blind(sender, receiver, i) for i in items}
            assert values.isdisjoint(unkeyed), (sender, receiver)
            # the canary: no tag of an item the receiver does not hold (a value keyed by
            # one may cross — RRA cannot know NOR does not hold SOU's indicator — but
            # without the tag it matches nothing on the receiving node)
            for item, owner in items.items():
                if owner == receiver or item in held:
                    continue
                assert item_tag(seeds[owner], item) not in text, (sender, receiver, item)
            # a release carries the tags of exactly its sender's items the receiver holds
            assert set(bundle["tags"]) == {i for i in held if items.get(i) == sender}
    assert blinded_seen > 0  # references to third partners' items did travel
    # NOR's answer to RRA's expectation travels keyed by the tag RRA gave NOR: SOU, which
    # RRA gave no tag for it, cannot match it (nor any guess) and drops it, as the gate does
    target = "rra-shelter/staff-seats"
    last = json.loads([t for t in received["SOU"] if json.loads(t)["from"] == "NOR"][-1])
    seats = next(p for p in last["files"]["nor-evacuation.yaml"]["provides"]
                 if p["id"] == "relief-seats")
    assert seats["answers"] == keyed_blind(item_tag(seeds["RRA"], target), "NOR", "SOU",
                                           target)
    with nodes["SOU"].hub.db.read() as s:
        assert target not in (held_tags(s, "RRA") or {})
    # and SOU's node shows what the central gate shows SOU
    with nodes["SOU"].hub.db.read() as s:
        got = view_for(nodes["SOU"].hub.current(s).workspace, "SOU")["plans"]
    assert {p["id"]: p for p in got} == {p["id"]: p for p in view_for(central, "SOU")["plans"]}


def test_a_reference_to_an_item_the_receiver_holds_resolves_as_before(tmp_path):
    central = load_checked(EXAMPLE).workspace
    nodes = make_nodes(EXAMPLE, tmp_path / "nodes")
    received = _capture(nodes)
    rra_key = keys.read_signing_key(nodes["RRA"].key_file)
    target = "rra-shelter/staff-seats"
    expected = keyed_blind(item_tag(rra_key, target), "NOR", "SOU", target)
    last = json.loads(next(t for t in reversed(received["SOU"])
                           if json.loads(t)["from"] == "NOR"))
    seats = next(p for p in last["files"]["nor-evacuation.yaml"]["provides"]
                 if p["id"] == "relief-seats")
    assert seats["answers"] == expected != blind("NOR", "SOU", target)
    # RRA gave both holders the same tag; SOU resolves the reference as the gate shows it
    rra_to_sou = json.loads(next(t for t in received["SOU"] if json.loads(t)["from"] == "RRA"))
    assert rra_to_sou["tags"][target] == item_tag(rra_key, target)
    for partner, node in nodes.items():
        with node.hub.db.read() as s:
            got = view_for(node.hub.current(s).workspace, partner)["plans"]
        assert {p["id"]: p for p in got} == {
            p["id"]: p for p in view_for(central, partner)["plans"]}


def _legacy(sender: Node, data: bytes) -> bytes:
    """The bundle as a node without tags sends it: no `tags`, every reference to a third
    partner's item blinded without a key; signed again with the sender's key."""
    bundle = json.loads(data)
    tags_by_value = {}
    with sender.hub.db.read() as s:
        workspace = sender.hub.current(s).workspace
    for item in _items(workspace):
        for owner_tag in _all_tags(sender, item):
            tags_by_value[keyed_blind(owner_tag, bundle["from"], bundle["to"], item)] = item
    text = json.dumps(bundle["files"])
    for value in set(re.findall(re.escape(BLIND) + r"[0-9a-f]{32}", text)):
        if value in tags_by_value:
            text = text.replace(value, blind(bundle["from"], bundle["to"],
                                             tags_by_value[value]))
    bundle["files"] = json.loads(text)
    del bundle["tags"], bundle["signature"]
    signing = keys.read_signing_key(sender.key_file)
    bundle["signature"] = signing.sign(canonical_bytes(bundle)).signature.hex()
    return json.dumps(bundle).encode()


def _all_tags(node: Node, item: str) -> list[str]:
    with node.hub.db.read() as s:
        owners = [p for p in ("NOR", "SOU", "RRA") if p != node.partner]
        return [t for o in owners if (t := (held_tags(s, o) or {}).get(item))]


@pytest.mark.parametrize("old", ["NOR", "RRA"])
def test_a_bundle_without_tags_from_an_older_node_is_accepted(tmp_path, old):
    """An older node sends no tags and blinds without a key: its bundles are taken, the
    references it sends resolve, and references to its items travel the old way."""
    central = load_checked(EXAMPLE).workspace
    nodes = make_nodes(EXAMPLE, tmp_path / "nodes")
    received = _capture(nodes, rewrite=lambda s, d: _legacy(s, d) if s.partner == old else d)
    assert all("tags" not in json.loads(t) for t in received["SOU"]
               if json.loads(t)["from"] == old)
    nor_to_sou = json.loads(next(t for t in reversed(received["SOU"])
                                 if json.loads(t)["from"] == "NOR"))
    seats = next(p for p in nor_to_sou["files"]["nor-evacuation.yaml"]["provides"]
                 if p["id"] == "relief-seats")
    # RRA's item, blinded the old way either by an old NOR or for an old RRA
    assert seats["answers"] == blind("NOR", "SOU", "rra-shelter/staff-seats")
    for partner, node in nodes.items():
        with node.hub.db.read() as s:
            ws = node.hub.current(s).workspace
        assert {p["id"]: p for p in view_for(ws, partner)["plans"]} == {
            p["id"]: p for p in view_for(central, partner)["plans"]}, partner
        assert _observations(view_for(ws, partner)) == _observations(
            view_for(central, partner)), partner


def _observations(view: dict) -> list[str]:
    return sorted(json.dumps({k: v for k, v in o.items() if k != "share"})
                  for o in view["observations"])


def test_a_reference_is_withheld_outright_when_the_sender_holds_no_tag_for_it(tmp_path):
    from jointplan.server.federation.release import TAGS, release_files
    from jointplan.store.tables import Setting

    nodes = make_nodes(EXAMPLE, tmp_path / "nodes")
    _capture(nodes)
    nor = nodes["NOR"]
    with nor.hub.db.write() as s:
        s.delete(s.get(Setting, TAGS + "RRA"))
    with nor.hub.db.read() as s:
        files = release_files(nor.hub, s, "NOR", "SOU")
    seats = next(p for p in files["nor-evacuation.yaml"]["provides"]
                 if p["id"] == "relief-seats")
    assert "answers" not in seats and seats["withheld"] == ["answers"]
    assert BLIND not in json.dumps(files["nor-evacuation.yaml"])


def test_malformed_tags_are_refused_and_change_nothing(tmp_path):
    from jointplan.server.federation.release import Refused

    nodes = make_nodes(EXAMPLE, tmp_path / "nodes")
    nor, sou = nodes["NOR"], nodes["SOU"]
    bundle = json.loads(nor.send("SOU"))
    bundle["tags"] = {"nor-evacuation/ferry-run": "not a tag"}
    with pytest.raises(Refused, match="the bundle's `tags` is not a map"):
        sou.take(json.dumps(bundle).encode())
    with sou.hub.db.read() as s:
        assert s.get(ReleaseHeld, "NOR") is None
