"""STIX 2.1 out: valid bundles holding the partner's indicators and observations, and no more."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import stix2
from hypothesis import given
from stix2validator import ValidationOptions, validate_string

from jointplan.formats.stix import TLP2_IDS, dumps, export_stix, indicator_id
from jointplan.model import Tlp
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.conftest import JOINT, write_workspace
from tests.formats.conftest import CANARY_SETTINGS, assert_no_canary_leaks, example
from tests.strategies import workspaces

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _bundle(ws, partner):
    return dumps(export_stix(export_view(ws, partner), ws, NOW))


def assert_valid(text: str) -> None:
    result = validate_string(text, ValidationOptions(version="2.1"))
    assert result.is_valid, result.as_dict()


@pytest.mark.parametrize("partner", ["NOR", "SOU", "RRA"])
def test_the_bundle_is_valid_and_read_back_is_the_partners_view(partner):
    ws = example()
    text = _bundle(ws, partner)
    assert_valid(text)
    bundle = stix2.parse(text, allow_custom=True)
    view = view_for(ws, partner)
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    identities = {o.id: o.x_jointplan_partner for o in by_type["identity"]}
    assert sorted(identities.values()) == sorted(ws.partner_codes)
    indicators = {o.id: o for o in by_type["indicator"]}
    assert [(o.x_jointplan_id, o.name, dict(o.x_jointplan_likelihood),
             identities[o.created_by_ref]) for o in by_type["indicator"]] == [
        (i["id"], i["title"], i["likelihood"], i["owner"]) for i in view["indicators"]]
    got = [(indicators[s.sighting_of_ref].x_jointplan_id,
            s.first_seen, s.last_seen, s.x_jointplan_seen, s.count,
            identities[s.created_by_ref]) for s in by_type.get("sighting", [])]
    want = []
    for o in view["observations"]:
        at = datetime.fromisoformat(o["at"]).astimezone(UTC)
        want.append((o["indicator"], at, at, o["seen"], int(o["seen"]), o["by"]))
    assert got == want and got
    marks = {o.id for o in by_type["marking-definition"]}
    for obj in [*by_type["indicator"], *by_type.get("sighting", [])]:
        assert len(obj.object_marking_refs) == 1 and obj.object_marking_refs[0] in marks


def test_ids_are_the_same_on_every_export():
    ws = example()
    first = json.loads(_bundle(ws, "SOU"))
    again = json.loads(dumps(export_stix(export_view(ws, "SOU"), ws,
                                         datetime(2027, 1, 1, tzinfo=UTC))))
    assert [o["id"] for o in first["objects"]] == [o["id"] for o in again["objects"]]
    assert first["id"] == again["id"]
    assert indicator_id(ws.id, "war-risk-premium") in {o["id"] for o in first["objects"]}


def test_each_object_carries_the_marking_of_its_source(tmp_path):
    joint = JOINT.replace("share: [BBB], likelihood", "share: all, tlp: green, likelihood")
    obs = ("jointplan: 1\nkind: observations\nobservations:\n"
           "  - {indicator: sign, at: 2026-11-20T08:00Z, seen: true, by: BBB, share: all, "
           "tlp: amber+strict}\n"
           "  - {indicator: sign, at: 2026-11-20T09:00Z, seen: true, by: AAA, share: all, "
           "tlp: red}\n")
    ws = load_checked(write_workspace(tmp_path / "ws", {"workspace.yaml": joint,
                                                        "observations.yaml": obs})).workspace
    text = _bundle(ws, "BBB")
    assert_valid(text)
    objects = json.loads(text)["objects"]
    marks = {o["type"]: o["object_marking_refs"] for o in objects if "object_marking_refs" in o}
    assert marks == {"indicator": [TLP2_IDS[Tlp.GREEN]], "sighting": [TLP2_IDS[Tlp.AMBER_STRICT]]}
    # AAA's red observation is BBB's to view, not to export; AAA exports it
    assert sum(o["type"] == "sighting" for o in objects) == 1
    own = json.loads(_bundle(ws, "AAA"))["objects"]
    assert TLP2_IDS[Tlp.RED] in {m for o in own for m in o.get("object_marking_refs", [])}
    defs = {o["id"]: o for o in own if o["type"] == "marking-definition"}
    assert defs[TLP2_IDS[Tlp.RED]]["extensions"][
        "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"] == "red"


def _text(ws, partner):
    text = _bundle(ws, partner)
    assert_valid(text)
    return text


@CANARY_SETTINGS
@given(workspaces())
def test_no_bundle_holds_anything_the_partner_may_not_see(generated):
    assert_no_canary_leaks(generated, _text, "stix")
