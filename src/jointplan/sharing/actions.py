"""Who may do what: the writes a partner's people may make, each answer with its reason.

``rules`` and ``exchanges`` decide what a partner may *see*; this module
decides what one of its people may *do* to what it sees. The server asks
here before every write, after it has made sure the object is visible (an
object the actor may not see answers as missing, whatever its role).

Roles: a ``viewer`` reads and never writes; a ``planner`` imports and
changes its partner's plans, reports observations, talks, proposes, decides
and acknowledges for its partner; an ``admin`` may do all a planner may and
also reads its own partner's people and their tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from .rules import Decision

ROLES = ("viewer", "planner", "admin")
WRITERS = frozenset({"planner", "admin"})
TLP_RANKS = ("clear", "green", "amber", "amber+strict", "red")


def may_write(role: str) -> Decision:
    """Any write at all: a viewer reads and never writes."""
    if role in WRITERS:
        return Decision(True, f"a {role} writes for its partner")
    return Decision(False, f"a {role} reads and never writes; ask a planner of your partner")


def may_edit(partner: str, role: str, owner: str) -> Decision:
    """A new version of a plan (import, status, edit, accepted proposal): its owner's planners."""
    if partner != owner:
        return Decision(False, f"only {owner}'s planners change {owner}'s plans; "
                        "propose a change instead")
    return _as_writer(role, f"{partner} owns the plan")


def may_contribute(role: str, what: str) -> Decision:
    """Observations, threads, messages, proposals and decisions: any writer of a partner."""
    allowed = may_write(role)
    return Decision(allowed.allowed, allowed.reason if not allowed else
                    f"a {role} may post {what} for its partner")


def may_decide(partner: str, role: str, owner: str) -> Decision:
    """Accept or decline a proposal: the planners of the plan's owner."""
    if partner != owner:
        return Decision(False, "only the owner's planners decide on a proposal")
    return _as_writer(role, f"{partner} owns the plan the proposal is about")


def may_withdraw(partner: str, role: str, proposer: str) -> Decision:
    """Withdraw a proposal not yet answered: the planners of the partner that sent it."""
    if partner != proposer:
        return Decision(False, "only the partner that sent a proposal withdraws it")
    return _as_writer(role, f"{partner} sent the proposal")


def may_close_decision(partner: str, role: str, opener: str) -> Decision:
    """Record a joint decision's outcome and close it: the planners of the partner that
    opened it."""
    if partner != opener:
        return Decision(False, "only the partner that opened a decision closes it")
    return _as_writer(role, f"{partner} opened the decision")


def may_amend_observation(partner: str, role: str, by: str) -> Decision:
    """Correct or retract an observation (recorded, never deleted): its reporter's planners."""
    if partner != by:
        return Decision(False, "only the partner that reported an observation corrects or "
                        "retracts it")
    return _as_writer(role, f"{partner} reported the observation")


def may_respond(partner: str, role: str, asked: Iterable[str]) -> Decision:
    """Concur, non-concur or reserve on a joint decision: a writer of a partner asked."""
    if partner not in set(asked):
        return Decision(False, "only the partners asked respond to a decision")
    return _as_writer(role, f"{partner} is asked in the decision")


def may_acknowledge(partner: str, role: str, addressed_to: str) -> Decision:
    """Acknowledge an expectation: a writer of the partner it is addressed to."""
    if partner != addressed_to:
        return Decision(False, "only the partner an expectation is addressed to "
                        "acknowledges it")
    return _as_writer(role, f"the expectation is addressed to {partner}")


def may_preview(partner: str, owner: str | None, as_partner: str) -> Decision:
    """See one's own plan as another partner receives it: the owner only, as another."""
    if owner != partner:
        return Decision(False, "only a plan's owner previews what others receive of it")
    if as_partner == partner:
        return Decision(False, "a preview shows what another partner receives")
    return Decision(True, f"{partner} owns the plan")


def may_export(partner: str, plans: Iterable[tuple[str, str, str]]) -> Decision:
    """Export a view holding ``(plan id, owner, tlp)``: never another partner's `red` plan."""
    refused = sorted(pid for pid, owner, tlp in plans if tlp == "red" and owner != partner)
    if refused:
        return Decision(False, "plans marked red may be viewed but not exported by other "
                        "partners: " + ", ".join(refused))
    return Decision(True, "no plan of another partner in the view is marked red")


def export_tlp(tlps: Iterable[str]) -> str:
    """The marking of an export: the most restrictive TLP of what it holds."""
    marks = [t for t in tlps if t in TLP_RANKS]
    return max(marks, key=TLP_RANKS.index) if marks else "clear"


T0_MODES = ("planner", "joint")
"""How T0 is declared in a workspace: by any planner of a partner that may see the scenario
(the default), or by a joint decision of every partner that may see it."""


def may_declare(role: str, mode: str = "planner") -> Decision:
    """Declare a top-level scenario at a real time (T0), or withdraw that declaration: any
    partner's planners, since a scenario begins for everyone at once — unless the workspace
    declares T0 by joint decision, when a planner asks the partners instead."""
    allowed = may_write(role)
    if not allowed:
        return allowed
    if mode == "joint":
        return Decision(False, "this workspace declares T0 by joint decision: ask the partners "
                        "who may see the scenario (POST /api/t0/requests, or the Real time "
                        "page)")
    return Decision(True, f"a {role} may declare a scenario for its partner")


def may_request_t0(role: str, mode: str) -> Decision:
    """Ask the partners to declare a scenario's T0, or to withdraw it: any partner's planners,
    where the workspace declares T0 by joint decision."""
    allowed = may_write(role)
    if not allowed:
        return allowed
    if mode != "joint":
        return Decision(False, "this workspace lets a planner declare T0 directly: "
                        "POST /api/t0 (or DELETE /api/t0/{scenario})")
    return Decision(True, f"a {role} may ask the partners to decide on a scenario's T0")


def may_set_t0_mode(role: str) -> Decision:
    """Choose how the workspace declares T0 (by a planner, or by joint decision): admins."""
    if role == "admin":
        return Decision(True, "an admin sets how the workspace declares T0")
    return Decision(False, "only an admin sets how the workspace declares T0")


def may_administer(role: str) -> Decision:
    """Read one's own partner's people and their tokens: admins only."""
    if role == "admin":
        return Decision(True, "an admin reads its partner's people")
    return Decision(False, "only an admin of your partner reads its people and tokens")


def _as_writer(role: str, why: str) -> Decision:
    writer = may_write(role)
    return Decision(True, f"{why} and a {role} writes for it") if writer else writer
