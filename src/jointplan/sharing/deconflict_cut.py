"""Cut a resolution for one viewer: the JSON that `jointplan deconflict --json` prints.

``remaining`` is, by construction, what ``check`` prints for the files with
the moves written into them: the moves are applied to the workspace, the
analysis runs again and ``check``'s own cut is kept for the leaf. A viewer
sees a move only if it may see the task's ``start`` and ``flex``; every other
moved task's owner is listed once in ``hidden_moves``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..analysis.deconflict import Resolution
from ..analysis.deconflict_why import Reason, Ref, reasons
from ..analysis.run import Analysis, analyse
from ..model import Plan, Workspace
from .cut import Viewer, _capacity, check_result
from .rules import Rules

Entry = dict[str, Any]

MOVE_FIELDS = ("start", "flex")


def apply_moves(ws: Workspace, moves: dict[tuple[str, str], int]) -> Workspace:
    """The workspace with ``moves[(plan, task)]`` written as those tasks' starts."""
    plans: list[Plan] = []
    for plan in ws.plans:
        if any(p == plan.id for p, _ in moves):
            tasks = tuple(dataclasses.replace(t, start=moves[(plan.id, t.id)])
                          if (plan.id, t.id) in moves else t for t in plan.tasks)
            plan = dataclasses.replace(plan, tasks=tasks)
        plans.append(plan)
    return dataclasses.replace(ws, plans=tuple(plans), _index={})


def cut_resolution(resolution: Resolution, rules: Rules, viewer: str | None,
                   after: Analysis | None = None, before: Analysis | None = None) -> Entry:
    """The `deconflict --json` object for ``viewer`` (``None``: the custodian).

    ``after`` and ``before`` may pass the analyses of the moved and the written
    files when cutting one resolution for several viewers.
    """
    ws = resolution.workspace
    leaf = resolution.leaf
    moved_ws = apply_moves(ws, {(m.plan, m.task): m.to for m in resolution.moves})
    after = after or analyse(moved_ws)
    conflicts = check_result(after, rules, viewer)["conflicts"]
    remaining = [{**e, "scenarios": [leaf]} for e in conflicts if leaf in e["scenarios"]]
    elsewhere = _elsewhere(resolution, rules, viewer, conflicts,
                           before or (analyse(ws) if resolution.moves else after))
    why = _why(resolution, rules, viewer, after, remaining)
    shown: list[Entry] = []
    hidden: set[str] = set()
    for m in resolution.moves:
        plan = ws.plans[resolution.problem.rows[m.row].plan]
        task = plan.tasks[resolution.problem.rows[m.row].index]
        if rules.sees_fields(viewer, plan, task, MOVE_FIELDS):
            shown.append({"partner": m.partner, "plan": m.plan, "task": m.task,
                          "from": m.from_, "to": m.to})
        else:
            hidden.add(m.partner)
    own_overload = sum(_overload_in(resolution, after, e) for e in remaining)
    if viewer is None:
        overload, bound = resolution.cost.overload, resolution.bound
    else:
        overload = own_overload
        bound = None if resolution.status == "none" else (
            own_overload if resolution.status == "optimal" else 0)
    out: Entry = {
        "workspace": ws.id, "as": viewer, "scenario": leaf, "status": resolution.status,
        "moves": shown, "hidden_moves": sorted(hidden), "remaining": remaining,
        "elsewhere": elsewhere, "why": why,
        "cost": {"overload": overload, "moved_tasks": len(shown),
                 "moved_minutes": sum(abs(m["to"] - m["from"]) for m in shown)},
        "bound": bound,
    }
    if resolution.makespan is not None:
        out["makespan"] = _makespan(resolution, rules, viewer)
    return out


def _key(entry: Entry) -> str:
    return json.dumps({k: v for k, v in entry.items() if k != "scenarios"}, sort_keys=True)


def _elsewhere(resolution: Resolution, rules: Rules, viewer: str | None,
               after: list[Entry], before: Analysis) -> list[Entry]:
    """Conflicts the moves add in the other leaves where a moved task's plan is active."""
    if not resolution.moves:
        return []
    ws = resolution.workspace
    leaves: set[str] = set()
    for m in resolution.moves:
        leaves.update(ws.active_leaves(ws.plan(m.plan)))
    leaves.discard(resolution.leaf)
    was: set[tuple[str, str]] = set()
    for e in check_result(before, rules, viewer)["conflicts"]:
        was.update((leaf, _key(e)) for leaf in e["scenarios"])
    out = []
    for e in after:
        new = [leaf for leaf in e["scenarios"] if leaf in leaves and (leaf, _key(e)) not in was]
        if new:
            out.append({**e, "scenarios": new})
    return out


def _overload_in(resolution: Resolution, after: Analysis, entry: Entry) -> int:
    """The overload within one conflict entry's window: ∫ max(0, load − capacity)."""
    a, b = entry["window"]
    if entry["kind"] == "area":
        return int(b - a)
    k = after.compiled.leaves.index(resolution.leaf)
    sweep = after.leaves[k].capacity
    rid = [r.id for r in resolution.workspace.resources].index(entry["resource"])
    total = 0
    for c in range(len(sweep)):
        if int(sweep.resource[c]) != rid:
            continue
        lo, hi = int(sweep.lo[c]), int(sweep.hi[c])
        times = sweep.times[lo:hi + 1].tolist()
        levels = sweep.levels[lo:hi].tolist()
        for t0, t1, level in zip(times, times[1:], levels, strict=False):
            x0, x1 = max(t0, a), min(t1, b)
            if x1 > x0:
                total += (x1 - x0) * max(level - entry["capacity"], 0)
    return total


def _makespan(resolution: Resolution, rules: Rules, viewer: str | None) -> int:
    """The latest finish among the leaf's tasks whose start and duration the viewer sees."""
    ws = resolution.workspace
    out = 0
    for k, r in enumerate(resolution.problem.rows):
        plan = ws.plans[r.plan]
        if r.active and rules.sees_fields(viewer, plan, plan.tasks[r.index],
                                          ("start", "duration")):
            out = max(out, resolution.starts[k] + r.duration)
    return out


# -- why a conflict remains ----------------------------------------------------------------


def _why(resolution: Resolution, rules: Rules, viewer: str | None, after: Analysis,
         remaining: list[Entry]) -> list[list[Entry]]:
    """One list of reasons per remaining conflict, naming only what the viewer may see."""
    if not remaining:
        return []
    c = after.compiled
    k = c.leaves.index(resolution.leaf)
    la = after.leaves[k]
    v = Viewer(rules, c, viewer)
    pieces: list[tuple[str, list[int], int, int, Entry]] = []
    for e in _capacity(v, resolution.leaf, la.capacity):
        rid = e["resource"]
        a, b = e["window"]
        rows = _capacity_rows(c, la, rid, a, b)
        pieces.append(("capacity", rows, a, b, e))
    for i, j, a, b in zip(la.areas.first.tolist(), la.areas.second.tolist(),
                          la.areas.start.tolist(), la.areas.end.tolist(), strict=True):
        shown, _ = v.shown([i, j], "area")
        if shown:
            pieces.append(("area", [i, j], a, b, {"window": [a, b],
                                                   "tasks": v.items([i, j], "area")}))
    out = []
    for entry in remaining:
        match = next(p for p in pieces if _same(p, entry))
        kind, rows, a, b, _ = match
        found = reasons(resolution, [(int(c.plan[i]), int(c.index[i]), bool(c.is_provision[i]))
                                     for i in rows], kind, a, b, entry.get("resource"))
        cut = [_cut_reason(resolution, rules, viewer, r) for r in found]
        # Reasons that print the same are told once, so no count reveals hidden items.
        out.append(list({json.dumps(x, sort_keys=True): x for x in cut}.values()))
    return out


def _same(piece: tuple[str, list[int], int, int, Entry], entry: Entry) -> bool:
    kind, _, a, b, shown = piece
    if kind != entry["kind"] or [a, b] != entry["window"]:
        return False
    if kind == "capacity" and shown["resource"] != entry["resource"]:
        return False
    return bool(shown["tasks"] == entry["tasks"])


def _capacity_rows(c: Any, la: Any, resource: str, a: int, b: int) -> list[int]:
    """Item rows of the conflict on ``resource`` containing ``[a, b)`` that are in use then."""
    sweep = la.capacity
    rid = [r.id for r in c.workspace.resources].index(resource)
    rows: set[int] = set()
    for m, u in zip(sweep.member_conflict.tolist(), sweep.member_use.tolist(), strict=True):
        if int(sweep.resource[m]) == rid and sweep.start[m] <= a and b <= sweep.end[m]:
            i = int(c.use_item[u])
            if c.start[i] < b and c.end[i] > a:
                rows.add(i)
    return sorted(rows)


def _cut_reason(resolution: Resolution, rules: Rules, viewer: str | None,
                reason: Reason) -> Entry:
    ws = resolution.workspace
    named: list[Entry] = []
    hidden: set[str] = set()

    def visible(ref: Ref) -> tuple[Plan, Any, bool]:
        plan = ws.plans[ref.plan]
        item: Any = (plan.provides[ref.index] if ref.what == "provision" else
                     plan.objectives[ref.index] if ref.what == "objective" else
                     plan.tasks[ref.index])
        return plan, item, bool(rules.sees_fields(viewer, plan, item, ref.fields))

    anchored = reason.anchor is None or visible(reason.items[reason.anchor])[2]
    for ref in reason.items:
        plan, item, seen = visible(ref)
        if seen and anchored:
            named.append({"partner": plan.owner, "plan": plan.id, ref.what: item.id})
        else:
            hidden.add(plan.owner)
    return {"kind": reason.kind,
            "items": named + [{"partner": p, "hidden": True} for p in sorted(hidden)]}
