"""STIX 2.1 in: sightings become the partner's observations, all or nothing, markings kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from jointplan.formats import FormatError
from jointplan.formats.stix import TLP2_IDS, dumps, export_stix, identity_id, indicator_id
from jointplan.formats.stix_import import import_observations
from jointplan.model import Tlp
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from tests.conftest import JOINT, write_workspace

# JOINT: the indicator `sign` is AAA's, shared with BBB; CCC may not see it.
HIDDEN = JOINT.replace("indicators:\n", "indicators:\n  - {id: secret, title: Secret, "
                       "owner: AAA, likelihood: {s1: 0.5, s2: 0.5}}\n")


@pytest.fixture
def folder(tmp_path):
    return write_workspace(tmp_path / "ws", {"workspace.yaml": HIDDEN})


def _sighting(n, of, when="2026-11-20T08:00:00.000Z", marks=(), **extra):
    return {"type": "sighting", "spec_version": "2.1",
            "id": f"sighting--00000000-0000-4000-8000-{n:012d}",
            "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z",
            "sighting_of_ref": of, "first_seen": when, "last_seen": when,
            "object_marking_refs": list(marks), **extra}


def _bundle(*objects):
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
                       "objects": list(objects)})


def _observations(path):
    return yaml.safe_load(path.read_text())["observations"]


def test_sightings_become_the_partners_observations_with_their_markings(folder):
    sign = indicator_id("test-ws", "sign")
    text = _bundle(
        _sighting(1, sign, marks=[TLP2_IDS[Tlp.AMBER_STRICT]]),
        _sighting(2, sign, when="2026-11-20T09:30:00Z", marks=[TLP2_IDS[Tlp.GREEN]], count=0),
        _sighting(3, sign, when="2026-11-20T10:00:00Z"))
    path, added = import_observations(folder, text, "in.json", partner="BBB",
                                      share=["AAA", "CCC"])
    assert added == 3 and path == folder / "bbb-stix-observations.yaml"
    assert _observations(path) == [
        {"indicator": "sign", "at": "2026-11-20T08:00Z", "seen": True, "by": "BBB",
         "tlp": "amber+strict"},  # shared no wider than its marking: BBB's alone
        {"indicator": "sign", "at": "2026-11-20T09:30Z", "seen": False, "by": "BBB",
         "tlp": "green", "share": ["AAA", "CCC"]},
        {"indicator": "sign", "at": "2026-11-20T10:00Z", "seen": True, "by": "BBB"},
    ]
    ws = load_checked(folder).workspace  # checked with the rest
    assert [o.tlp for o in ws.observations] == [Tlp.AMBER_STRICT, Tlp.GREEN, None]
    # importing again adds nothing twice
    assert import_observations(folder, text, "in.json", partner="BBB",
                               share=["AAA", "CCC"])[1] == 0


def test_an_exported_bundle_comes_back_with_its_markings(folder, tmp_path):
    obs = ("jointplan: 1\nkind: observations\nobservations:\n"
           "  - {indicator: sign, at: 2026-11-20T08:00Z, seen: true, by: BBB, "
           "tlp: amber+strict}\n")
    (folder / "observations.yaml").write_text(obs)
    ws = load_checked(folder).workspace
    text = dumps(export_stix(export_view(ws, "BBB"), ws, datetime(2026, 11, 28, tzinfo=UTC)))
    (folder / "observations.yaml").unlink()
    path, added = import_observations(folder, text, "in.json", partner="BBB", share="all")
    assert _observations(path) == [{"indicator": "sign", "at": "2026-11-20T08:00Z",
                                    "seen": True, "by": "BBB", "tlp": "amber+strict"}]


def test_a_hidden_indicator_reads_like_one_that_does_not_exist(folder):
    hidden = indicator_id("test-ws", "secret")
    missing = indicator_id("test-ws", "nowhere")
    messages = []
    for ref in (hidden, missing):
        with pytest.raises(FormatError) as exc:
            import_observations(folder, _bundle(_sighting(1, ref)), "in.json", partner="BBB")
        messages.append(exc.value.problems[0].replace(ref, "REF"))
    assert messages[0] == messages[1]
    assert messages[0] == ("sighting--00000000-0000-4000-8000-000000000001: sighting_of_ref: "
                           "REF is no indicator BBB may see in this workspace")


def test_an_indicator_in_the_bundle_may_name_the_jointplan_id(folder):
    mine = {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-00000000000a",
            "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z",
            "pattern": "[x-jointplan-indicator:name = 'sign']", "pattern_type": "stix",
            "valid_from": "2026-11-20T08:00:00Z", "x_jointplan_id": "sign"}
    path, added = import_observations(folder, _bundle(mine, _sighting(1, mine["id"])),
                                      "in.json", partner="BBB")
    assert added == 1 and _observations(path)[0]["indicator"] == "sign"
    hidden = {**mine, "x_jointplan_id": "secret"}
    with pytest.raises(FormatError, match="sighting_of_ref"):
        import_observations(folder, _bundle(hidden, _sighting(2, mine["id"])), "in.json",
                            partner="CCC")


def test_all_or_nothing_with_each_problem_named_by_object_and_property(folder):
    sign = indicator_id("test-ws", "sign")
    text = _bundle(
        _sighting(1, sign),
        _sighting(2, sign, when="yesterday"),
        _sighting(3, sign, marks=[TLP2_IDS[Tlp.GREEN], TLP2_IDS[Tlp.RED]]),
        _sighting(4, sign, x_jointplan_seen="yes"),
        {**_sighting(5, sign), "first_seen": None, "last_seen": None})
    with pytest.raises(FormatError) as exc:
        import_observations(folder, text, "in.json", partner="BBB")
    problems = exc.value.problems
    assert problems[0].startswith("sighting--00000000-0000-4000-8000-000000000002: first_seen")
    assert problems[1] == ("sighting--00000000-0000-4000-8000-000000000003: "
                           "object_marking_refs: more than one TLP marking (green, red)")
    assert problems[2].startswith("sighting--00000000-0000-4000-8000-000000000004: "
                                  "x_jointplan_seen")
    assert problems[3].startswith("sighting--00000000-0000-4000-8000-000000000005: ")
    assert len(problems) == 4
    assert not (folder / "bbb-stix-observations.yaml").exists()


@pytest.mark.parametrize(("text", "message"), [
    ("{", "in.json:1:2: not JSON"),
    ('{"type": "indicator"}', "a STIX 2.1 bundle is expected"),
    (_bundle(), "no sighting objects"),
])
def test_what_is_not_a_bundle_of_sightings_is_refused(folder, text, message):
    with pytest.raises(FormatError, match=message):
        import_observations(folder, text, "in.json", partner="BBB")


def test_identities_in_the_bundle_do_not_change_who_observed(folder):
    sign = indicator_id("test-ws", "sign")
    text = _bundle(_sighting(1, sign, created_by_ref=identity_id("test-ws", "AAA")))
    path, _ = import_observations(folder, text, "in.json", partner="BBB")
    assert _observations(path)[0]["by"] == "BBB"


def test_sightings_are_never_written_over_another_kind_of_file(folder):
    (folder / "aaa-plan.yaml").write_text("jointplan: 1\nkind: plan\nid: aaa-plan\n"
                                          "owner: AAA\ntitle: P\nscenarios: [s1]\n")
    text = _bundle(_sighting(1, indicator_id("test-ws", "sign")))
    with pytest.raises(FormatError, match="not an observations file"):
        import_observations(folder, text, "in.json", partner="BBB",
                            output=folder / "aaa-plan.yaml")
    assert "kind: plan" in (folder / "aaa-plan.yaml").read_text()
