"""The workspace as one partner receives it: ``view_for(workspace, partner)``.

Objects the partner may not see are absent; a withheld field is absent and
named under ``withheld``; a reference (``after``, ``serves``, ``answers``)
to something the partner may not see is dropped the same way. Only owners
(and the custodian) see ``share`` and ``withhold``.
"""

from __future__ import annotations

from typing import Any

from ..model import (
    Duration,
    Expectation,
    Indicator,
    Objective,
    Observation,
    Plan,
    Task,
    Workspace,
    format_duration,
    format_time,
)
from .rules import Item, Rules

Doc = dict[str, Any]
REFERENCES = ("after", "serves", "answers")


def _share(share: Any) -> Any:
    return share if share == "all" else list(share)


def _duration(d: Duration) -> Any:
    if not d.three_point:
        return format_duration(d.likely)
    return {"likely": format_duration(d.likely), "min": format_duration(d.low),
            "max": format_duration(d.high)}


def _window(w: tuple[int, int]) -> list[str]:
    return [format_time(w[0]), format_time(w[1])]


def _fields(item: Item) -> Doc:
    """Every field of an item as the format writes it, in the format's order."""
    if isinstance(item, Objective):
        return {"id": item.id, "title": item.title, "by": format_time(item.by)}
    if isinstance(item, Task):
        out: Doc = {"id": item.id, "title": item.title, "start": format_time(item.start),
                    "duration": _duration(item.duration)}
        if item.flex is not None:
            out["flex"] = _window(item.flex)
        if item.after:
            out["after"] = list(item.after)
        if item.uses:
            out["uses"] = dict(item.uses)
        if item.area is not None:
            out["area"] = item.area
        out["exclusive"] = item.exclusive
        out["commitment"] = item.commitment.value
        if item.serves:
            out["serves"] = list(item.serves)
        for key in ("phase", "unit"):
            if getattr(item, key) is not None:
                out[key] = getattr(item, key)
        return out
    if isinstance(item, Expectation):
        out = {"id": item.id, "from": item.from_, "what": item.what}
        if item.uses:
            out["uses"] = dict(item.uses)
        out["window"] = _window(item.window)
        return out
    out = {"id": item.id, "to": item.to, "what": item.what}
    if item.uses:
        out["uses"] = dict(item.uses)
    out["window"] = _window(item.window)
    if item.answers is not None:
        out["answers"] = item.answers
    return out


class _PlanView:
    def __init__(self, rules: Rules, viewer: str | None) -> None:
        self.rules, self.viewer = rules, viewer
        ws = rules.workspace
        self.plans = {p.id: p for p in ws.plans}
        self.tasks = {(p.id, t.id): t for p in ws.plans for t in p.tasks}
        self.expects = {(p.id, e.id): e for p in ws.plans for e in p.expects}

    def owns(self, plan: Plan) -> bool:
        return self.viewer is None or self.viewer == plan.owner

    def item(self, plan: Plan, item: Item) -> Doc:
        out = _fields(item)
        for name in item.withheld:  # a received copy: these were never sent
            if name not in REFERENCES:  # (reference lists may have been sent in part)
                out.pop(name, None)
        if self.owns(plan):
            if item.share is not None:
                out["share"] = _share(item.share)
            if item.withhold:
                out["withhold"] = {k: sorted(v) for k, v in item.withhold.items()}
            if item.withheld:
                out["withheld"] = list(item.withheld)
            return out
        withheld = [*item.withheld,
                    *(f for f in self.rules.withheld(self.viewer, plan, item)
                      if f not in item.withheld)]
        for name in self.rules.withheld(self.viewer, plan, item):
            out.pop(name, None)
        dropped = self._drop_references(plan, item, out)
        withheld.extend(f for f in dropped if f not in withheld)
        if withheld:
            out["withheld"] = withheld
        return out

    def _drop_references(self, plan: Plan, item: Item, out: Doc) -> list[str]:
        dropped = []
        if "after" in out:
            kept = [a for a in out["after"] if self._sees_task(plan, a)]
            if len(kept) != len(out["after"]):
                dropped.append("after")
                out["after"] = kept
        if "serves" in out:
            objectives = {o.id: o for o in plan.objectives}
            kept = [o for o in out["serves"]
                    if self.rules.sees(self.viewer, plan, objectives[o])]
            if len(kept) != len(out["serves"]):
                dropped.append("serves")
                out["serves"] = kept
        if "answers" in out:
            pid, _, eid = out["answers"].partition("/")
            if not self.rules.sees(self.viewer, self.plans[pid], self.expects[(pid, eid)]):
                dropped.append("answers")
                del out["answers"]
        for key in ("after", "serves"):
            if key in out and not out[key]:
                del out[key]
        return dropped

    def _sees_task(self, plan: Plan, ref: str) -> bool:
        pid, _, tid = ref.rpartition("/")
        target = self.plans[pid or plan.id]
        return bool(self.rules.sees(self.viewer, target, self.tasks[(target.id, tid)]))

    def plan(self, plan: Plan) -> Doc | None:
        whole = bool(self.rules.sees_plan(self.viewer, plan))
        parts: Doc = {}
        for key, items in (("objectives", plan.objectives), ("tasks", plan.tasks),
                           ("expects", plan.expects), ("provides", plan.provides)):
            seen = [self.item(plan, x) for x in items if self.rules.sees(self.viewer, plan, x)]
            if seen:
                parts[key] = seen
        if not whole:
            # Only items addressed to the viewer: the plan's id and nothing else of it.
            return {"id": plan.id, **parts} if parts else None
        out: Doc = {"id": plan.id, "owner": plan.owner, "title": plan.title,
                    "scenarios": list(plan.scenarios)}
        for name in plan.withheld:
            del out[name]
        if self.owns(plan) and plan.share is not None:
            out["share"] = _share(plan.share)
        out["tlp"] = plan.tlp.value
        if plan.withheld:
            out["withheld"] = list(plan.withheld)
        if self.owns(plan):
            out.update(plan.extensions)
        out.update(parts)
        return out


def _indicator(ind: Indicator, owner_view: bool) -> Doc:
    out: Doc = {"id": ind.id, "title": ind.title, "owner": ind.owner}
    if owner_view and ind.share is not None:
        out["share"] = _share(ind.share)
    out["likelihood"] = dict(ind.likelihood)
    if ind.tlp is not None:
        out["tlp"] = ind.tlp.value
    return out


def _observation(obs: Observation, owner_view: bool) -> Doc:
    out: Doc = {"indicator": obs.indicator, "at": obs.at.isoformat().replace("+00:00", "Z"),
                "seen": obs.seen, "by": obs.by}
    if owner_view and obs.share is not None:
        out["share"] = _share(obs.share)
    if obs.tlp is not None:
        out["tlp"] = obs.tlp.value
    return out


def export_files(ws: Workspace, viewer: str, rules: Rules | None = None, *,
                 view: Doc | None = None) -> dict[str, Doc]:
    """The workspace as ``viewer`` receives it, as plan files: reading them back and viewing
    them as ``viewer`` gives the same view.

    Other partners' plans are shared with all in the copy (it is the receiver's);
    fields it may not see are absent and listed under ``withheld``; a plan it
    sees only through items addressed to it keeps its id and owner and lists
    its title and scenarios as withheld.
    """
    if view is None:  # or the view already cut for ``viewer`` (`view_for`'s answer)
        view = view_for(ws, viewer, rules or Rules(ws))
    owners = {p.id: p.owner for p in ws.plans}
    joint: Doc = {"jointplan": 1, "kind": "workspace", "id": view["id"], "title": view["title"],
                  "partners": view["partners"], "areas": view["areas"],
                  "resources": view["resources"], "scenarios": view["scenarios"]}
    indicators = []
    for ind in view["indicators"]:
        if ind["owner"] != viewer:
            ind = {**ind, "share": [viewer]}
        indicators.append(ind)
    if indicators:
        joint["indicators"] = indicators
    files: dict[str, Doc] = {"workspace.yaml": joint}
    for plan in view["plans"]:
        doc: Doc = {"jointplan": 1, "kind": "plan"}
        if "owner" in plan:
            doc.update(plan)
            if plan["owner"] != viewer:
                # The copy is the receiver's: what it holds may refer across it freely.
                doc["share"] = "all"
        else:
            doc.update({"id": plan["id"], "owner": owners[plan["id"]],
                        "withheld": ["title", "scenarios"]})
            doc.update({k: v for k, v in plan.items() if k != "id"})
        files[f"{plan['id']}.yaml"] = doc
    observations = [o if o["by"] == viewer else {**o, "share": [viewer]}
                    for o in view["observations"]]
    if observations:
        files["observations.yaml"] = {"jointplan": 1, "kind": "observations",
                                      "observations": observations}
    return files


def view_for(ws: Workspace, viewer: str | None, rules: Rules | None = None) -> Doc:
    """The workspace as ``viewer`` receives it (``None``: everything, as the custodian)."""
    rules = rules or Rules(ws)
    pv = _PlanView(rules, viewer)
    plans = [d for d in (pv.plan(p) for p in ws.plans) if d is not None]
    return {
        "jointplan": 1, "kind": "view", "as": viewer, "id": ws.id, "title": ws.title,
        "partners": [{"code": p.code, "name": p.name} for p in ws.partners],
        "areas": [{"id": a.id, "name": a.name, "geometry": dict(a.geometry)} for a in ws.areas],
        "resources": [{"id": r.id, "name": r.name, "capacity": r.capacity,
                       **({"holder": r.holder} if r.holder else {})} for r in ws.resources],
        "scenarios": [{"id": s.id, "title": s.title, "prior": s.prior,
                       **({"parent": s.parent} if s.parent else {})} for s in ws.scenarios],
        "indicators": [_indicator(i, viewer in (None, i.owner)) for i in ws.indicators
                       if rules.sees_indicator(viewer, i)],
        "plans": plans,
        "observations": observations_for(ws, viewer, rules),
    }


def observations_for(ws: Workspace, viewer: str | None, rules: Rules) -> list[Doc]:
    """The observations of ``ws`` as ``viewer`` receives them (`view_for`'s ``observations``)."""
    return [_observation(o, viewer in (None, o.by)) for o in ws.observations
            if rules.sees_observation(viewer, o)]


def plan_view_for(ws: Workspace, viewer: str | None, plan: Plan,
                  rules: Rules | None = None) -> Doc | None:
    """One plan of ``ws`` as ``viewer`` receives it (as in `view_for`); None if it sees none."""
    return _PlanView(rules or Rules(ws), viewer).plan(plan)
