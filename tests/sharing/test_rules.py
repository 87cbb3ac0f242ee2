"""Who sees what: the rules of "Who sees what", one by one, each with its reason."""

from __future__ import annotations

import pytest

from jointplan.services.workspaces import load_checked
from jointplan.sharing import Rules
from tests.conftest import JOINT, write_workspace

PLAN = """\
jointplan: 1
kind: plan
id: aaa-ops
owner: AAA
title: Alpha operations
scenarios: [s1]
share: [BBB, CCC]
objectives:
  - {id: done, title: Done, by: T+10h, share: [BBB]}
tasks:
  - {id: open, title: Open task, start: T+0h, duration: 1h}
  - {id: narrow, title: Narrow task, start: T+1h, duration: 1h, share: [CCC]}
  - {id: kept, title: Kept fields, start: T+2h, duration: 1h, uses: {dock: 1},
     withhold: {uses: [BBB], title: [BBB, CCC]}}
expects:
  - {id: help, from: BBB, what: Help, window: [T+0h, T+1h], share: [CCC]}
provides:
  - {id: lift, to: CCC, what: Lift, window: [T+0h, T+1h], share: [BBB]}
"""

PRIVATE = """\
jointplan: 1
kind: plan
id: bbb-private
owner: BBB
title: Bravo alone
scenarios: [s2]
tasks:
  - {id: quiet, title: Quiet, start: T+0h, duration: 1h}
"""

OBS = """\
jointplan: 1
kind: observations
observations:
  - {indicator: sign, at: 2026-11-20T08:00Z, seen: true, by: AAA, share: all}
  - {indicator: sign, at: 2026-11-20T09:00Z, seen: false, by: AAA}
"""


@pytest.fixture
def rules(tmp_path):
    folder = write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT, "aaa-ops.yaml": PLAN,
                                               "bbb-private.yaml": PRIVATE, "obs.yaml": OBS})
    return Rules(load_checked(folder).workspace)


def _plan(rules, pid):
    return next(p for p in rules.workspace.plans if p.id == pid)


def _item(plan, kind, iid):
    return next(x for x in getattr(plan, kind) if x.id == iid)


def test_the_owner_and_the_custodian_see_everything(rules):
    plan = _plan(rules, "bbb-private")
    assert rules.sees_plan("BBB", plan)
    assert rules.sees_plan(None, plan).reason == "the custodian holds every file"
    kept = _item(_plan(rules, "aaa-ops"), "tasks", "kept")
    assert rules.withheld("AAA", _plan(rules, "aaa-ops"), kept) == ()


def test_a_plan_without_share_is_seen_by_its_owner_alone(rules):
    plan = _plan(rules, "bbb-private")
    decision = rules.sees_plan("AAA", plan)
    assert not decision
    assert decision.reason == "AAA is not in the share of bbb-private"


def test_an_item_share_narrows_the_plan_share(rules):
    plan = _plan(rules, "aaa-ops")
    narrow = _item(plan, "tasks", "narrow")
    assert rules.sees("CCC", plan, narrow)
    decision = rules.sees("BBB", plan, narrow)
    assert not decision and decision.reason == "BBB is not in the share of aaa-ops/narrow"
    assert rules.audience(plan, narrow) == {"CCC"}
    assert rules.audience(plan) == {"BBB", "CCC"}


def test_withheld_fields_are_listed_per_viewer(rules):
    plan = _plan(rules, "aaa-ops")
    kept = _item(plan, "tasks", "kept")
    assert set(rules.withheld("BBB", plan, kept)) == {"uses", "title"}
    assert rules.withheld("CCC", plan, kept) == ("title",)
    assert not rules.sees_fields("BBB", plan, kept, ("start", "uses"))
    assert rules.sees_fields("CCC", plan, kept, ("start", "uses"))
    assert "uses of aaa-ops/kept is withheld from BBB" in rules.sees_fields(
        "BBB", plan, kept, ("uses",)).reason


def test_an_expectation_is_always_seen_by_the_partner_it_is_addressed_to(rules):
    plan = _plan(rules, "aaa-ops")
    help_ = _item(plan, "expects", "help")
    assert rules.sees("BBB", plan, help_).reason == "aaa-ops/help is addressed to BBB"
    lift = _item(plan, "provides", "lift")
    assert rules.sees("CCC", plan, lift).reason == "aaa-ops/lift is offered to CCC"
    assert not rules.sees("CCC", plan, _item(plan, "objectives", "done"))


def test_an_addressed_item_does_not_make_the_plan_count_in_coverage(tmp_path):
    plan = PLAN.replace("share: [BBB, CCC]\n", "")
    folder = write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT, "aaa-ops.yaml": plan})
    rules = Rules(load_checked(folder).workspace)
    p = rules.workspace.plans[0]
    assert rules.sees("BBB", p, _item(p, "expects", "help"))
    assert not rules.counts_in_coverage("BBB", p)


def test_observations_need_their_share_and_their_indicator(rules):
    shared, private = rules.workspace.observations
    assert rules.sees_observation("BBB", shared)
    assert not rules.sees_observation("BBB", private)
    decision = rules.sees_observation("CCC", shared)
    assert not decision and "indicator sign" in decision.reason
    assert rules.sees_observation("AAA", private).reason == "AAA made the observation"
