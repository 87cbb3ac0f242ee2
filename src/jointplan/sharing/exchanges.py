"""Who sees what partners exchange on the server: threads, messages, proposals, decisions,
acknowledgements and audit entries. Each answer carries its reason, like ``rules``.

These objects are not part of any plan; their audiences are the partners that
made them and those they were addressed to.
"""

from __future__ import annotations

from collections.abc import Iterable

from .rules import Decision, Rules


def thread_audience(creator: str, share: Iterable[str]) -> frozenset[str]:
    """The partners of a thread: the one that opened it and those it is shared with."""
    return frozenset({creator, *share})


def sees_thread(viewer: str, creator: str, share: Iterable[str]) -> Decision:
    if viewer in thread_audience(creator, share):
        return Decision(True, f"{viewer} is a partner of the thread")
    return Decision(False, f"{viewer} is not a partner of the thread")


def sees_message(viewer: str, author: str, share: Iterable[str]) -> Decision:
    if viewer == author:
        return Decision(True, f"{viewer} wrote the message")
    if viewer in set(share):
        return Decision(True, f"the message is shared with {viewer}")
    return Decision(False, f"the message is not shared with {viewer}")


def sees_proposal(viewer: str, proposer: str, owner: str) -> Decision:
    if viewer == proposer:
        return Decision(True, f"{viewer} made the proposal")
    if viewer == owner:
        return Decision(True, f"{viewer} owns the plan the proposal is about")
    return Decision(False, f"only {proposer} and {owner} see the proposal")


def sees_decision(viewer: str, creator: str, asked: Iterable[str]) -> Decision:
    if viewer == creator or viewer in set(asked):
        return Decision(True, f"{viewer} opened or is asked in the decision")
    return Decision(False, f"{viewer} is not asked in the decision")


def sees_acknowledgement(viewer: str, acknowledger: str, expecting: str | None) -> Decision:
    if viewer in (acknowledger, expecting):
        return Decision(True, f"{viewer} gave or received the acknowledgement")
    return Decision(False, f"the acknowledgement is between {acknowledger} and its expecter")


def reads_audit_entry(viewer: str, actor: str | None, owners: Iterable[str]) -> Decision:
    """A partner reads the entries about its own data and its own people."""
    if viewer == actor:
        return Decision(True, f"one of {viewer}'s people acted")
    if viewer in set(owners):
        return Decision(True, f"the entry is about {viewer}'s data")
    return Decision(False, f"the entry is about neither {viewer}'s data nor its people")


def sees_own_side(viewer: str, partner: str | None) -> bool:
    """Details only a partner's own side sees: who of its people acted, why, the figures."""
    return viewer == partner


def default_title(rules: Rules, kind: str, ref: str, readers: Iterable[str]) -> str:
    """A thread's title made by the server, built only from what every reader may see.

    A scenario is joint; a plan or task is named only when every reader sees
    it; a conflict or gap is named by nothing (its key and window are cut to
    the partner that opened the thread).
    """
    ws = rules.workspace
    if kind == "scenario":
        return f"About scenario {ref}"
    if kind in ("plan", "task"):
        pid, _, tid = ref.partition("/")
        plan = next((p for p in ws.plans if p.id == pid), None)
        task = next((t for t in plan.tasks if t.id == tid), None) if plan else None
        if plan is not None and all(
                rules.sees(r, plan, task) if kind == "task" and task is not None
                else kind == "plan" and rules.sees_plan(r, plan) for r in readers):
            return f"About {ref}"
    return f"About a {kind}"
