"""The gate's answers about writes: who may do what, each with its reason."""

from __future__ import annotations

import pytest

from jointplan.sharing import actions


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_planners_and_admins_write(role: str) -> None:
    assert actions.may_write(role)


def test_a_viewer_never_writes_and_is_told_why() -> None:
    for decision in (actions.may_write("viewer"), actions.may_edit("NOR", "viewer", "NOR"),
                     actions.may_contribute("viewer", "threads"),
                     actions.may_decide("NOR", "viewer", "NOR"),
                     actions.may_respond("NOR", "viewer", ["NOR"]),
                     actions.may_acknowledge("NOR", "viewer", "NOR")):
        assert not decision and "viewer reads and never writes" in decision.reason


def test_only_the_owner_edits_and_decides() -> None:
    assert actions.may_edit("NOR", "planner", "NOR")
    refused = actions.may_edit("SOU", "admin", "NOR")
    assert not refused and "only NOR's planners" in refused.reason
    assert not actions.may_decide("SOU", "planner", "NOR")
    assert actions.may_decide("NOR", "admin", "NOR")


def test_only_the_partners_asked_respond() -> None:
    assert actions.may_respond("SOU", "planner", ["NOR", "SOU"])
    assert not actions.may_respond("RRA", "planner", ["NOR", "SOU"])


def test_only_the_partner_addressed_acknowledges() -> None:
    assert actions.may_acknowledge("SOU", "planner", "SOU")
    assert not actions.may_acknowledge("RRA", "planner", "SOU")


def test_a_red_plan_of_another_partner_is_not_exported() -> None:
    assert actions.may_export("NOR", [("nor-a", "NOR", "red"), ("sou-b", "SOU", "amber")])
    refused = actions.may_export("NOR", [("sou-b", "SOU", "red"), ("rra-c", "RRA", "red")])
    assert not refused and refused.reason.endswith("rra-c, sou-b")


def test_an_export_carries_the_most_restrictive_marking() -> None:
    assert actions.export_tlp(["green", "amber+strict", "amber"]) == "amber+strict"
    assert actions.export_tlp([]) == "clear"


def test_only_the_owner_previews_and_only_as_another_partner() -> None:
    assert actions.may_preview("NOR", "NOR", "SOU")
    assert not actions.may_preview("NOR", "NOR", "NOR")
    assert not actions.may_preview("SOU", "NOR", "RRA")


def test_only_an_admin_reads_its_people() -> None:
    assert actions.may_administer("admin")
    assert not actions.may_administer("planner")
    assert not actions.may_administer("viewer")


def test_how_t0_is_declared_decides_who_declares_and_who_asks() -> None:
    assert actions.may_declare("planner") and actions.may_declare("admin", "planner")
    assert not actions.may_declare("viewer")
    joint = actions.may_declare("planner", "joint")
    assert not joint and "/api/t0/requests" in joint.reason
    assert actions.may_request_t0("planner", "joint")
    assert not actions.may_request_t0("planner", "planner")
    assert not actions.may_request_t0("viewer", "joint")
    assert actions.may_set_t0_mode("admin")
    assert not actions.may_set_t0_mode("planner") and not actions.may_set_t0_mode("viewer")
