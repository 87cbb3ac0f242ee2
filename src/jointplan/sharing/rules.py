"""Who may see what, each answer with its reason. The only place visibility is decided.

A viewer is a partner code, or ``None`` for the custodian who holds every
file (a folder on disk): the custodian sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Expectation, Indicator, Objective, Observation, Plan, Provision, Task, Workspace
from ..model.workspace import Share

Item = Objective | Task | Expectation | Provision


@dataclass(frozen=True, slots=True)
class Decision:
    """A yes or no, and why."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _members(share: Share, everyone: frozenset[str]) -> frozenset[str]:
    if share is None:
        return frozenset()
    if share == "all":
        return everyone
    return frozenset(share)


class Rules:
    """The sharing rules of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.everyone = frozenset(workspace.partner_codes)
        self._plan_share: dict[str, frozenset[str]] = {
            p.id: _members(p.share, self.everyone) for p in workspace.plans}
        self._indicators = {i.id: i for i in workspace.indicators}

    # -- plans and their items -------------------------------------------------

    def audience(self, plan: Plan, item: Item | None = None) -> frozenset[str]:
        """Partners other than the owner in the effective share of a plan or one of its items."""
        share = self._plan_share[plan.id]
        if item is not None and item.share is not None:
            share = share & _members(item.share, self.everyone)
        return share - {plan.owner}

    def sees_plan(self, viewer: str | None, plan: Plan) -> Decision:
        if viewer is None:
            return Decision(True, "the custodian holds every file")
        if viewer == plan.owner:
            return Decision(True, f"{viewer} owns {plan.id}")
        if viewer in self._plan_share[plan.id]:
            return Decision(True, f"{viewer} is in the share of {plan.id}")
        return Decision(False, f"{viewer} is not in the share of {plan.id}")

    def sees(self, viewer: str | None, plan: Plan, item: Item) -> Decision:
        """Whether the viewer sees an objective, task, expectation or provision at all."""
        if viewer is None or viewer == plan.owner:
            return self.sees_plan(viewer, plan)
        if isinstance(item, Expectation) and item.from_ == viewer:
            return Decision(True, f"{plan.id}/{item.id} is addressed to {viewer}")
        if isinstance(item, Provision) and item.to == viewer:
            return Decision(True, f"{plan.id}/{item.id} is offered to {viewer}")
        if viewer not in self._plan_share[plan.id]:
            return Decision(False, f"{viewer} is not in the share of {plan.id}")
        if item.share is not None and viewer not in _members(item.share, self.everyone):
            return Decision(False, f"{viewer} is not in the share of {plan.id}/{item.id}")
        return Decision(True, f"{viewer} is in the share of {plan.id}/{item.id}")

    def withheld(self, viewer: str | None, plan: Plan, item: Item) -> tuple[str, ...]:
        """Fields of a visible item kept from the viewer, in the order the format lists them."""
        if viewer is None or viewer == plan.owner or not item.withhold:
            return ()
        return tuple(f for f, who in item.withhold.items() if viewer in who)

    def sees_fields(self, viewer: str | None, plan: Plan, item: Item,
                    fields: Iterable[str]) -> Decision:
        """Whether the viewer sees the item and every one of ``fields`` of it."""
        seen = self.sees(viewer, plan, item)
        if not seen:
            return seen
        kept = set(self.withheld(viewer, plan, item)).intersection(fields)
        if kept:
            return Decision(False, f"{', '.join(sorted(kept))} of {plan.id}/{item.id} "
                            f"is withheld from {viewer}")
        return seen

    def counts_in_coverage(self, viewer: str | None, plan: Plan) -> bool:
        """Plans the viewer may see count in its coverage; an addressed item alone does not."""
        return bool(self.sees_plan(viewer, plan))

    # -- scenarios -------------------------------------------------------------

    def sees_scenario(self, viewer: str | None, scenario: str) -> Decision:
        """Scenarios are joint (workspace.yaml): every partner of the workspace sees each one.

        A declared T0 travels with its scenario, so whoever sees the scenario sees its T0.
        """
        known = any(s.id == scenario for s in self.workspace.scenarios)
        if not known:
            return Decision(False, f"there is no scenario {scenario}")
        if viewer is None:
            return Decision(True, "the custodian holds every file")
        if viewer in self.everyone:
            return Decision(True, f"{scenario} is a joint scenario of the workspace")
        return Decision(False, f"{viewer} is not a partner of the workspace")

    # -- indicators and observations -----------------------------------------

    def sees_indicator(self, viewer: str | None, indicator: Indicator) -> Decision:
        if viewer is None:
            return Decision(True, "the custodian holds every file")
        if viewer == indicator.owner:
            return Decision(True, f"{viewer} owns the indicator {indicator.id}")
        if viewer in _members(indicator.share, self.everyone):
            return Decision(True, f"{viewer} is in the share of the indicator {indicator.id}")
        return Decision(False, f"{viewer} is not in the share of the indicator {indicator.id}")

    def sees_observation(self, viewer: str | None, observation: Observation) -> Decision:
        indicator = self._indicators[observation.indicator]
        about = self.sees_indicator(viewer, indicator)
        if not about:
            return about
        if viewer is None or viewer == observation.by:
            return Decision(True, "the custodian holds every file" if viewer is None
                            else f"{viewer} made the observation")
        if viewer in _members(observation.share, self.everyone):
            return Decision(True, f"the observation by {observation.by} is shared with {viewer}")
        return Decision(False, f"the observation by {observation.by} is not shared with {viewer}")
