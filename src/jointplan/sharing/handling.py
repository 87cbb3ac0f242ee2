"""What a partner may take out of jointplan: its view, less what it received marked red.

Every export (a GeoJSON file, a spreadsheet, a calendar, a STIX bundle) is built
from ``export_view(workspace, partner)`` and from nothing else, so no format can
hold more than the partner's view. The format's rule for ``tlp: red``: a partner
that received an object marked red may view it but not export it, so such
objects (and what hangs on them) are left out here, each with the reason. The
export carries the most restrictive ``tlp`` of what it holds.

A plan's ``tlp`` marks its items too: an expectation or provision addressed to
the partner from a plan it may not otherwise see travels with its plan's marking,
since the receiver must know how to handle it (the marking, not the plan's
content, is what it learns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Tlp, Workspace
from .rules import Rules
from .view import view_for

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportView:
    """A partner's view as it may leave jointplan, with the marking of everything in it."""

    view: Doc
    """``view_for(workspace, partner)`` less objects received marked red."""
    partner: str
    plan_tlp: dict[str, Tlp]
    """The marking of every plan held (whole or through items addressed to the partner)."""
    left_out: tuple[str, ...]
    """Why each object was left out, naming only what the partner may see."""

    @property
    def tlp(self) -> Tlp:
        """The most restrictive marking of what the export holds (``clear`` when nothing is
        marked)."""
        marks = [*self.plan_tlp.values(),
                 *(Tlp(i.get("tlp", "amber")) for i in self.view["indicators"]),
                 *(Tlp(o.get("tlp", "amber")) for o in self.view["observations"])]
        return max(marks, key=lambda t: t.rank, default=Tlp.CLEAR)

    def indicator_tlp(self, indicator: Doc) -> Tlp:
        return Tlp(indicator.get("tlp", "amber"))

    def observation_tlp(self, observation: Doc) -> Tlp:
        return Tlp(observation.get("tlp", "amber"))


def _received_red(tlp: Tlp | None, owner: str, partner: str) -> bool:
    return tlp is Tlp.RED and owner != partner


def export_view(ws: Workspace, partner: str, rules: Rules | None = None) -> ExportView:
    """The partner's view less what it received marked red, and the markings of what is left."""
    rules = rules or Rules(ws)
    view = view_for(ws, partner, rules)
    left_out: list[str] = []
    plans, plan_tlp = [], {}
    for doc in view["plans"]:
        plan = ws.plan(doc["id"])
        if _received_red(plan.tlp, plan.owner, partner):
            left_out.append(f"{plan.id} is marked red by {plan.owner}: {partner} may view "
                            "it but not export it")
            continue
        plans.append(doc)
        plan_tlp[plan.id] = plan.tlp
    indicators, kept = [], set()
    by_id = {i.id: i for i in ws.indicators}
    for doc in view["indicators"]:
        ind = by_id[doc["id"]]
        if _received_red(ind.tlp, ind.owner, partner):
            left_out.append(f"the indicator {ind.id} is marked red by {ind.owner}: {partner} "
                            "may view it but not export it")
            continue
        indicators.append(doc)
        kept.add(ind.id)
    observations = []
    for doc in view["observations"]:
        if doc["indicator"] not in kept:
            continue  # its indicator was left out: the observation says nothing alone
        if doc.get("tlp") == Tlp.RED.value and doc["by"] != partner:
            left_out.append(f"an observation of {doc['indicator']} by {doc['by']} at "
                            f"{doc['at']} is marked red: {partner} may view it but not "
                            "export it")
            continue
        observations.append(doc)
    out = {**view, "plans": plans, "indicators": indicators, "observations": observations}
    return ExportView(out, partner, plan_tlp, tuple(left_out))


def view_marking(ws: Workspace, partner: str, rules: Rules | None = None) -> Tlp:
    """The marking of everything ``partner`` may view: the most restrictive TLP of the
    plans it sees (whole or through items addressed to it), and of the indicators and
    observations it sees. Unlike an export, what it received marked red counts: a page
    may show it, and then carries TLP:RED."""
    view = view_for(ws, partner, rules or Rules(ws))
    marks = [ws.plan(p["id"]).tlp for p in view["plans"]]
    marks += [Tlp(i.get("tlp", "amber")) for i in view["indicators"]]
    marks += [Tlp(o.get("tlp", "amber")) for o in view["observations"]]
    return max(marks, key=lambda t: t.rank, default=Tlp.CLEAR)
