"""Expectation gaps: an expectation that the provisions answering it do not meet in full."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..model import Expectation, Plan, Provision, Workspace

KINDS = ("unanswered", "late", "early", "short")


@dataclass(frozen=True, slots=True)
class Gap:
    leaf: str
    plan: Plan
    expectation: Expectation
    kind: str
    provisions: tuple[tuple[Plan, Provision], ...]


def answering(expectation: Expectation, plan: Plan,
              linked: list[tuple[Plan, Provision]],
              offered: list[tuple[Plan, Provision]]) -> list[tuple[Plan, Provision]]:
    """The provisions that answer an expectation in one leaf.

    ``linked`` are the active provisions whose ``answers`` name it; where none
    does, the active unlinked provisions of its ``from`` partner to the
    expecting partner (``offered``) that use a resource it uses.
    """
    if linked:
        return linked
    wanted = set(expectation.uses)
    if not wanted:
        return []
    return [(p, v) for p, v in offered if wanted.intersection(v.uses)]


def gap_kinds(expectation: Expectation, provisions: list[tuple[Plan, Provision]]) -> list[str]:
    """Which ways the answering provisions fall short, in the format's order."""
    if not provisions:
        return ["unanswered"]
    w_start, w_end = expectation.window
    first = min(v.window[0] for _, v in provisions)
    last = max(v.window[1] for _, v in provisions)
    kinds = []
    if first > w_start:
        kinds.append("late")
    if last < w_end:
        kinds.append("early")
    lo, hi = max(w_start, first), min(w_end, last)
    if lo < hi and _short(expectation, provisions, lo, hi):
        kinds.append("short")
    return kinds


def _short(expectation: Expectation, provisions: list[tuple[Plan, Provision]],
           lo: int, hi: int) -> bool:
    """Whether at some minute of [lo, hi) the summed use of an expected resource falls short."""
    for rid, wanted in expectation.uses.items():
        if wanted <= 0:
            continue
        steps: dict[int, int] = defaultdict(int)
        for _, v in provisions:
            q = v.uses.get(rid, 0)
            a, b = max(v.window[0], lo), min(v.window[1], hi)
            if q and a < b:
                steps[a] += q
                steps[b] -= q
        level, t = 0, lo
        for time in sorted(steps):
            if time > t and level < wanted:
                return True
            level += steps[time]
            t = max(t, time)
        if t < hi and level < wanted:
            return True
    return False


def find_gaps(ws: Workspace, leaf: str, active: list[Plan]) -> list[Gap]:
    """Every gap of the expectations of the plans active in ``leaf``."""
    linked: dict[str, list[tuple[Plan, Provision]]] = defaultdict(list)
    offered: dict[tuple[str, str], list[tuple[Plan, Provision]]] = defaultdict(list)
    for plan in active:
        for v in plan.provides:
            if "window" in v.withheld:  # a received copy that cannot place it
                continue
            if v.answers is not None:
                linked[v.answers].append((plan, v))
            else:
                offered[(plan.owner, v.to)].append((plan, v))
    gaps = []
    for plan in active:
        for e in plan.expects:
            if "window" in e.withheld:
                continue
            provisions = answering(e, plan, linked.get(f"{plan.id}/{e.id}", []),
                                   offered.get((e.from_, plan.owner), []))
            for kind in gap_kinds(e, provisions):
                gaps.append(Gap(leaf, plan, e, kind, tuple(provisions)))
    return gaps
