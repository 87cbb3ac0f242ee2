"""Why a conflict remains after deconfliction: the rules that hold its items in place.

For each item of a remaining conflict: a provision never moves
(``provision``); a committed task never moves (``committed``); a task without
``flex`` stays (``no-flex``); a task whose flex cannot take it clear of the
conflict's window (``flex``); one whose flex could, but a dependency
(``after``) or an objective's deadline (``deadline``) holds it; and one that
could leave but would only overload as much elsewhere (``capacity``). Where
the items that cannot move exceed the capacity by themselves, that is a
``capacity`` reason naming them. Each reason lists the items it rests on with
the fields it rests on, so the gate can name an item only to a viewer that
may see those fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Commitment
from .deconflict import Resolution

KINDS = ("committed", "no-flex", "flex", "after", "deadline", "provision", "capacity")


@dataclass(frozen=True, slots=True)
class Ref:
    """An item a reason names: a task, provision or objective of ``workspace.plans[plan]``."""

    what: str
    plan: int
    index: int
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reason:
    kind: str
    items: tuple[Ref, ...]
    anchor: int | None = None
    """The item in the conflict that the others hold (``None``: every item is in it).

    Where the viewer may not name the anchor, it is told of no item of the reason
    by name: naming a dependency or an objective would point at the hidden item.
    """


def reasons(resolution: Resolution, items: Sequence[tuple[int, int, bool]], kind: str,
            a: int, b: int, resource: str | None = None) -> list[Reason]:
    """The reasons a conflict over ``[a, b)`` among ``items`` (plan, index, is provision) stays."""
    p = resolution.problem
    ws = p.workspace
    rows = {(r.plan, r.index): k for k, r in enumerate(p.rows)}
    starts = resolution.starts
    use = ("uses",) if kind == "capacity" else ("area", "exclusive")
    out: list[Reason] = []
    fixed: list[Ref] = []
    for plan_i, index, is_provision in items:
        if is_provision:
            ref = Ref("provision", plan_i, index, ("window", "uses"))
            out.append(Reason("provision", (ref,)))
            fixed.append(ref)
            continue
        k = rows[(plan_i, index)]
        r = p.rows[k]
        task = ws.plans[plan_i].tasks[index]
        me = ("start", "duration")
        mine = (*me, *use)
        if not r.movable:
            if task.commitment is Commitment.COMMITTED:
                out.append(Reason("committed", (Ref("task", plan_i, index,
                                                    (*mine, "commitment")),)))
            else:
                out.append(Reason("no-flex", (Ref("task", plan_i, index, (*mine, "flex")),)))
            fixed.append(Ref("task", plan_i, index, mine))
            continue
        self_ref = Ref("task", plan_i, index, (*mine, "flex"))
        d = r.duration
        early, late = r.lo + d <= a, r.hi >= b
        if not early and not late:
            out.append(Reason("flex", (self_ref,)))
            continue
        held = False
        if early:
            for i, j in p.edges:
                if j == k and starts[i] + p.rows[i].duration > a - d:
                    pr = p.rows[i]
                    out.append(Reason("after", (Ref("task", plan_i, index,
                                                    (*mine, "after", "flex")),
                                                Ref("task", pr.plan, pr.index, me)), 0))
                    held = True
        if late:
            for i, j in p.edges:
                if i == k and starts[j] - d < b:
                    sr = p.rows[j]
                    out.append(Reason("after", (Ref("task", sr.plan, sr.index, (*me, "after")),
                                                self_ref), 1))
                    held = True
            if r.deadline is not None and r.deadline - d < b and r.deadline_objective:
                op, oi = r.deadline_objective
                out.append(Reason("deadline", (Ref("task", plan_i, index,
                                                   (*mine, "serves", "flex")),
                                               Ref("objective", op, oi, ("by",))), 0))
                held = True
        if not held:
            out.append(Reason("capacity", (self_ref,)))
    if resource is not None and fixed and _fixed_exceed(resolution, fixed, resource, a, b):
        out.append(Reason("capacity", tuple(fixed)))
    unique = list(dict.fromkeys(out))
    return sorted(unique, key=lambda x: KINDS.index(x.kind))


def _fixed_exceed(resolution: Resolution, fixed: list[Ref], resource: str, a: int,
                  b: int) -> bool:
    """Whether the items that cannot move alone exceed the capacity at some moment of [a, b)."""
    p = resolution.problem
    ws = p.workspace
    events: list[tuple[int, int]] = []
    for ref in fixed:
        plan = ws.plans[ref.plan]
        if ref.what == "provision":
            v = plan.provides[ref.index]
            s, e, uses = v.window[0], v.window[1], v.uses
        else:
            t = plan.tasks[ref.index]
            s, e, uses = t.start, t.start + t.duration.likely, t.uses
        s, e = max(s, a), min(e, b)
        if s >= e:
            continue
        q = uses.get(resource, 0)
        events.extend([(s, q), (e, -q)])
    capacity = p.capacity[[r.id for r in ws.resources].index(resource)]
    level = 0
    for _, q in sorted(events):
        level += q
        if level > capacity:
            return True
    return False
