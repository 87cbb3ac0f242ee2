"""Cut the full analysis for one viewer: the JSON that `jointplan check --json` prints.

What a partner is told follows the format's "Who sees what": a counterpart it
may not name is ``{"partner": CODE, "hidden": true}``, once per partner; a
conflict with hidden items is cut to the minutes the viewer's own items are
in use; coverage and likelihoods count only what the viewer may see.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..analysis.capacity import CapacitySweep
from ..analysis.compile import Compiled
from ..analysis.gaps import KINDS, Gap
from ..analysis.likelihood import likelihoods
from ..analysis.run import Analysis
from ..model import Provision, Workspace
from .rules import Rules

CAPACITY_FIELDS = ("start", "duration", "uses")
AREA_FIELDS = ("start", "duration", "area", "exclusive")
PROVISION_FIELDS = ("window", "uses")

Entry = dict[str, Any]


class Viewer:
    """Naming decisions for one viewer, remembered per item and field set."""

    def __init__(self, rules: Rules, compiled: Compiled, viewer: str | None) -> None:
        self.rules, self.c, self.viewer = rules, compiled, viewer
        self._named: dict[tuple[int, str], bool] = {}

    def owner(self, i: int) -> str:
        return self.c.workspace.plans[int(self.c.plan[i])].owner

    def named(self, i: int, kind: str) -> bool:
        key = (i, kind)
        if key not in self._named:
            plan, item = self.c.item(i)
            fields = PROVISION_FIELDS if isinstance(item, Provision) else (
                CAPACITY_FIELDS if kind == "capacity" else AREA_FIELDS)
            self._named[key] = bool(self.rules.sees_fields(self.viewer, plan, item, fields))
        return self._named[key]

    def entry(self, i: int) -> Entry:
        plan, item = self.c.item(i)
        if isinstance(item, Provision):
            return {"partner": plan.owner, "plan": plan.id, "provision": item.id}
        out: Entry = {"partner": plan.owner, "plan": plan.id, "task": item.id}
        if "commitment" not in self.rules.withheld(self.viewer, plan, item):
            out["commitment"] = item.commitment.value
        return out

    def items(self, rows: list[int], kind: str) -> list[Entry]:
        """Named items sorted by partner, plan and id, then one hidden entry per partner."""
        named = [self.entry(i) for i in rows if self.named(i, kind)]
        named.sort(key=lambda e: (e["partner"], e["plan"], e.get("task", e.get("provision"))))
        hidden = sorted({self.owner(i) for i in rows if not self.named(i, kind)})
        return named + [{"partner": p, "hidden": True} for p in hidden]

    def shown(self, rows: list[int], kind: str) -> tuple[bool, bool]:
        """(shown at all, has hidden items) for a conflict among ``rows``."""
        if self.viewer is None:
            return True, False
        own = any(self.owner(i) == self.viewer for i in rows)
        all_named = all(self.named(i, kind) for i in rows)
        return own or all_named, not all_named


def members_of(c: Compiled, sweep: CapacitySweep) -> dict[int, list[int]]:
    """The item rows of each conflict of a sweep."""
    members: dict[int, list[int]] = {}
    for k, u in zip(sweep.member_conflict.tolist(), sweep.member_use.tolist(), strict=True):
        members.setdefault(k, []).append(int(c.use_item[u]))
    return {k: sorted(set(rows)) for k, rows in members.items()}


def _capacity(v: Viewer, leaf: str, sweep: CapacitySweep) -> list[Entry]:
    members = members_of(v.c, sweep)
    out = []
    for k in range(len(sweep)):
        out.extend(capacity_entries(v, leaf, sweep, k, members.get(k, [])))
    return out


def capacity_entries(v: Viewer, leaf: str, sweep: CapacitySweep, k: int,
                     rows: list[int]) -> list[Entry]:
    """Conflict ``k`` of a sweep as the viewer is told of it (nothing if not shown)."""
    c = v.c
    shown, hidden = v.shown(rows, "capacity")
    if not shown:
        return []
    a, b = int(sweep.start[k]), int(sweep.end[k])
    resource = c.workspace.resources[int(sweep.resource[k])]
    pieces = [(a, b)]
    if hidden:
        own = [(max(int(c.start[i]), a), min(int(c.end[i]), b))
               for i in rows if v.owner(i) == v.viewer]
        pieces = _union(own)
    out = []
    for pa, pb in pieces:
        in_piece = [i for i in rows if c.start[i] < pb and c.end[i] > pa]
        out.append({"kind": "capacity", "resource": resource.id, "scenarios": [leaf],
                    "window": [pa, pb], "demand": sweep.peak_within(k, pa, pb),
                    "capacity": resource.capacity,
                    "tasks": v.items(in_piece, "capacity")})
    return out


def _union(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(a, b) for a, b in out if a < b]


def _areas(v: Viewer, leaf: str, first: np.ndarray, second: np.ndarray,
           start: np.ndarray, end: np.ndarray) -> list[Entry]:
    out = []
    for i, j, a, b in zip(first.tolist(), second.tolist(), start.tolist(), end.tolist(),
                          strict=True):
        out.extend(area_entries(v, leaf, i, j, a, b))
    return out


def area_entries(v: Viewer, leaf: str, i: int, j: int, a: int, b: int) -> list[Entry]:
    """The area conflict of items ``i`` and ``j`` as the viewer is told of it."""
    shown, _ = v.shown([i, j], "area")
    if not shown:
        return []
    areas = sorted({v.c.workspace.areas[int(v.c.area[x])].id
                    for x in (i, j) if v.named(x, "area")})
    # Both items are in use throughout the overlap, so cutting changes nothing.
    return [{"kind": "area", "areas": areas, "scenarios": [leaf], "window": [a, b],
             "tasks": v.items([i, j], "area")}]


def gap_entry(v: Viewer, gap: Gap) -> Entry | None:
    rules, viewer, plan, e = v.rules, v.viewer, gap.plan, gap.expectation
    if viewer is not None and viewer not in (plan.owner, e.from_):
        if not rules.sees_fields(viewer, plan, e, ("window", "uses")):
            return None
        if not all(rules.sees_fields(viewer, p, x, PROVISION_FIELDS) for p, x in gap.provisions):
            return None
    return {"kind": gap.kind, "expectation": f"{plan.id}/{e.id}", "from": e.from_,
            "provisions": sorted(f"{p.id}/{x.id}" for p, x in gap.provisions),
            "scenarios": [gap.leaf], "window": list(e.window)}


def merge(entries: list[Entry], leaf_order: dict[str, int]) -> list[Entry]:
    """Entries that print the same but for `scenarios` are reported once."""
    merged: dict[str, Entry] = {}
    for entry in entries:
        key = json.dumps({k: x for k, x in entry.items() if k != "scenarios"}, sort_keys=True)
        if key in merged:
            merged[key]["scenarios"].extend(entry["scenarios"])
        else:
            merged[key] = {**entry, "scenarios": list(entry["scenarios"])}
    for entry in merged.values():
        entry["scenarios"] = sorted(set(entry["scenarios"]), key=leaf_order.__getitem__)
    return list(merged.values())


def check_result(analysis: Analysis, rules: Rules, viewer: str | None) -> dict[str, Any]:
    """The contract's `check --json` object for ``viewer`` (``None``: the custodian)."""
    v = Viewer(rules, analysis.compiled, viewer)
    conflicts: list[Entry] = []
    gaps: list[Entry] = []
    for la in analysis.leaves:
        conflicts.extend(_capacity(v, la.leaf, la.capacity))
        conflicts.extend(_areas(v, la.leaf, la.areas.first, la.areas.second, la.areas.start,
                                la.areas.end))
        gaps.extend(g for g in (gap_entry(v, gap) for gap in la.gaps) if g is not None)
    return check_report(analysis, rules, viewer, conflicts, gaps)


def check_report(analysis: Analysis, rules: Rules, viewer: str | None,
                 conflicts: list[Entry], gaps: list[Entry]) -> dict[str, Any]:
    """The `check --json` object from the viewer's entries, leaf by leaf in the analysis's
    order (each conflict, then each area pair, then each gap, as ``check_result`` makes
    them); the entries given are not changed."""
    c = analysis.compiled
    ws = c.workspace
    order = {leaf: k for k, leaf in enumerate(c.leaves)}
    conflicts = merge(conflicts, order)
    gaps = merge(gaps, order)

    conflicts.sort(key=lambda e: conflict_order(e, order))
    gaps.sort(key=lambda e: gap_order(e, order))
    coverage = _coverage(rules, c, viewer)
    return {
        "workspace": ws.id, "as": viewer, "conflicts": conflicts, "gaps": gaps,
        "coverage": coverage, "likelihood": likelihood_report(ws, rules, viewer),
    }


def likelihood_report(ws: Workspace, rules: Rules, viewer: str | None
                      ) -> dict[str, float | None]:
    """The report's ``likelihood``: each scenario's, from the observations the viewer sees
    (the only part of the report that observations change)."""
    seen_obs = [o for o in ws.observations if rules.sees_observation(viewer, o)]
    figures = likelihoods(ws, seen_obs)
    return {k: (None if p is None else round(p, 6)) for k, p in figures.items()}


def conflict_order(entry: Entry, order: dict[str, int]) -> tuple[Any, ...]:
    """Where a conflict entry goes in the report: by kind, place, window, scenarios, items."""
    return (entry["kind"] != "capacity", entry.get("resource", ""), entry.get("areas", []),
            entry["window"], [order[s] for s in entry["scenarios"]],
            json.dumps(entry["tasks"], sort_keys=True))


def gap_order(entry: Entry, order: dict[str, int]) -> tuple[Any, ...]:
    """Where a gap entry goes in the report: by expectation, kind, scenarios."""
    return (entry["expectation"], KINDS.index(entry["kind"]),
            [order[s] for s in entry["scenarios"]])


def _coverage(rules: Rules, c: Compiled, viewer: str | None) -> dict[str, dict[str, int]]:
    ws = c.workspace
    seen = np.array([rules.counts_in_coverage(viewer, p) for p in ws.plans], dtype=bool)
    owners = [p.owner for p in ws.plans]
    out = {}
    for k, leaf in enumerate(c.leaves):
        counts = dict.fromkeys(ws.partner_codes, 0)
        for j in np.flatnonzero(c.active[k] & seen).tolist():
            counts[owners[j]] += 1
        out[leaf] = counts
    return out

