"""What may leave jointplan: the view less what was received marked red, with its marking."""

from __future__ import annotations

from jointplan.model import Tlp
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.conftest import JOINT, write_workspace

PLAN = """\
jointplan: 1
kind: plan
id: {pid}
owner: {owner}
title: Plan {pid}
scenarios: [s1]
share: all
tlp: {tlp}
tasks:
  - {{id: t, title: Task, start: T+1h, duration: 1h}}
"""

OBSERVATIONS = """\
jointplan: 1
kind: observations
observations:
  - {indicator: sign, at: 2026-11-20T08:00Z, seen: true, by: AAA, share: all, tlp: red}
  - {indicator: sign, at: 2026-11-20T09:00Z, seen: false, by: BBB, tlp: amber+strict}
"""


def _ws(tmp_path, **plans):
    files = {"workspace.yaml": JOINT, "observations.yaml": OBSERVATIONS}
    for pid, (owner, tlp) in plans.items():
        pid = pid.replace("_", "-")
        files[f"{pid}.yaml"] = PLAN.format(pid=pid, owner=owner, tlp=tlp)
    return load_checked(write_workspace(tmp_path / "ws", files)).workspace


def test_red_objects_received_from_others_are_left_out_with_the_reason(tmp_path):
    ws = _ws(tmp_path, aaa_red=("AAA", "red"), aaa_green=("AAA", "green"))
    ev = export_view(ws, "BBB")
    assert [p["id"] for p in ev.view["plans"]] == ["aaa-green"]
    assert [p["id"] for p in view_for(ws, "BBB")["plans"]] == ["aaa-green", "aaa-red"]
    assert ev.left_out[0] == ("aaa-red is marked red by AAA: BBB may view it but not "
                              "export it")
    assert [o["by"] for o in ev.view["observations"]] == ["BBB"]
    assert "an observation of sign by AAA" in ev.left_out[1]
    assert ev.tlp is Tlp.AMBER_STRICT  # BBB's own observation


def test_the_owner_exports_its_own_red_objects_and_the_export_is_red(tmp_path):
    ws = _ws(tmp_path, aaa_red=("AAA", "red"))
    ev = export_view(ws, "AAA")
    assert [p["id"] for p in ev.view["plans"]] == ["aaa-red"]
    assert ev.left_out == () and ev.tlp is Tlp.RED


def test_an_export_of_nothing_marked_is_clear(tmp_path):
    ws = load_checked(write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT})).workspace
    assert export_view(ws, "CCC").tlp is Tlp.CLEAR


def test_observation_and_indicator_tlp_are_read_and_shown(tmp_path):
    ws = _ws(tmp_path)
    assert [o.tlp for o in ws.observations] == [Tlp.RED, Tlp.AMBER_STRICT]
    assert view_for(ws, "BBB")["observations"][0]["tlp"] == "red"
    assert ws.indicators[0].tlp is None and "tlp" not in view_for(ws, "AAA")["indicators"][0]
