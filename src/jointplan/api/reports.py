"""Response models of what the kernels answer: `check`, `simulate` and the partner's view.

They model the contract's JSON (../docs/format.md) faithfully: a key the
contract may leave out is optional here and left out of the answer, never
sent as `null`; a value the contract gives as `null` is nullable. Every
object is closed (`additionalProperties: false`); plans and the workspace's
own objects allow only the format's `x-` extension keys besides their fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Closed(BaseModel):
    """An object with exactly the keys declared."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Extensible(BaseModel):
    """An object of the format: its fields, and `x-` extension keys only."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, json_schema_extra={
        "additionalProperties": False, "patternProperties": {"^x-": {}}})


Minutes = Annotated[list[int], Field(min_length=2, max_length=2,
                                     description="[start, end) in minutes after T0")]
Window = Annotated[list[str], Field(min_length=2, max_length=2,
                                    description="[from, to] as T+… times")]
Share = Literal["all"] | list[str]

# -- check ------------------------------------------------------------------------------


class NamedTask(Closed):
    partner: str
    plan: str
    task: str
    commitment: str | None = Field(None, description="absent when withheld from the viewer")


class NamedProvision(Closed):
    partner: str
    plan: str
    provision: str


class HiddenItem(Closed):
    partner: str
    hidden: Literal[True]


ConflictItem = NamedTask | NamedProvision | HiddenItem


class CapacityConflict(Closed):
    kind: Literal["capacity"]
    resource: str
    scenarios: list[str]
    window: Minutes
    demand: int
    capacity: int
    tasks: list[ConflictItem]


class AreaConflict(Closed):
    kind: Literal["area"]
    areas: list[str]
    scenarios: list[str]
    window: Minutes
    tasks: list[ConflictItem]


class Gap(Closed):
    kind: Literal["unanswered", "late", "early", "short"]
    expectation: str = Field(description="PLAN/EXPECTATION")
    from_: str = Field(alias="from", description="the partner expected to provide")
    provisions: list[str]
    scenarios: list[str]
    window: Minutes


class T0Out(Closed):
    """A top-level scenario declared at a real instant: T+0 is then this date."""

    scenario: str
    t0: str = Field(description="the instant, ISO 8601 in UTC (`2026-11-20T08:00:00Z`)")
    partner: str = Field(description="the partner whose planner declared it (or asked for it, "
                         "when a joint decision declared it)")
    by: str = Field(description="the planner's username")
    reason: str
    declared: str = Field(description="when it was declared, ISO 8601 in UTC")
    decision: str | None = Field(None, description="the joint decision that declared it; "
                                 "null when a planner declared it")


Conflicts = list[Annotated[CapacityConflict | AreaConflict, Field(discriminator="kind")]]


class CheckOut(Closed):
    """What `jointplan check --as PARTNER --json` prints, and the declared T0s."""

    workspace: str
    as_: str | None = Field(alias="as")
    conflicts: Conflicts
    gaps: list[Gap]
    coverage: dict[str, dict[str, int]] = Field(
        description="leaf scenario -> partner -> plans active there that the viewer may see")
    likelihood: dict[str, float | None] = Field(
        description="scenario -> probability; every figure null when all weights are 0")
    declarations: list[T0Out] = Field(
        default_factory=list,
        description="the declared T0s the caller may see, by scenario id (the server's "
        "addition: `check --json` has no declarations)")


# -- simulate ---------------------------------------------------------------------------


class Finish(Closed):
    mean: float
    p50: int
    p90: int


class ObjectiveRisk(Closed):
    plan: str
    objective: str
    by: int | None = Field(None, description="absent when withheld from the viewer")
    p_met: float | None = Field(None, description="absent when `by` is withheld; null when "
                                "no task serves the objective")
    finish: Finish | None


class TaskRisk(Closed):
    partner: str
    plan: str
    task: str
    criticality: float
    p_flex_breach: float | None = Field(None, description="absent when `flex` is withheld")
    finish: Finish


class ResourceRisk(Closed):
    resource: str
    p_over: float
    expected_overrun: float


class SimulationOut(Closed):
    """What `jointplan simulate --as PARTNER --json` prints for one leaf."""

    workspace: str
    as_: str | None = Field(alias="as")
    scenario: str
    samples: int
    seed: int
    objectives: list[ObjectiveRisk]
    tasks: list[TaskRisk]
    resources: list[ResourceRisk]


# -- the partner's view -----------------------------------------------------------------


class ThreePoint(Closed):
    likely: str
    min: str
    max: str


class Received(Closed):
    """Keys every item of a plan may carry as the viewer receives it."""

    id: str
    share: Share | None = Field(None, description="the owner's view only")
    withhold: dict[str, list[str]] | None = Field(None, description="the owner's view only")
    withheld: list[str] | None = Field(None, description="fields left out for the viewer")


class ObjectiveView(Received):
    title: str | None = None
    by: str | None = None


class TaskView(Received):
    title: str | None = None
    start: str | None = None
    duration: str | ThreePoint | None = None
    flex: Window | None = None
    after: list[str] | None = None
    uses: dict[str, int] | None = None
    area: str | None = None
    exclusive: bool | None = None
    commitment: str | None = None
    serves: list[str] | None = None
    phase: str | None = None
    unit: str | None = None


class ExpectationView(Received):
    from_: str | None = Field(None, alias="from")
    what: str | None = None
    uses: dict[str, int] | None = None
    window: Window | None = None


class ProvisionView(Received):
    to: str | None = None
    what: str | None = None
    uses: dict[str, int] | None = None
    window: Window | None = None
    answers: str | None = None


class PlanView(Extensible):
    """A plan as the viewer receives it; seen only through items addressed to the viewer,
    it has its id and those items alone."""

    id: str
    owner: str | None = None
    title: str | None = None
    scenarios: list[str] | None = None
    share: Share | None = Field(None, description="the owner's view only")
    tlp: str | None = None
    status: Literal["draft", "approved", "retired"] | None = None
    withheld: list[str] | None = None
    objectives: list[ObjectiveView] | None = None
    tasks: list[TaskView] | None = None
    expects: list[ExpectationView] | None = None
    provides: list[ProvisionView] | None = None


class Partner(Closed):
    code: str
    name: str


class Geometry(Closed):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(description="GeoJSON coordinates, WGS84 lon/lat")


class Area(Closed):
    id: str
    name: str
    geometry: Geometry


class Resource(Closed):
    id: str
    name: str
    capacity: int
    holder: str | None = None


class Scenario(Closed):
    id: str
    title: str
    prior: float
    parent: str | None = None


class Indicator(Closed):
    id: str
    title: str
    owner: str
    share: Share | None = Field(None, description="the owner's view only")
    likelihood: dict[str, float]


class Observation(Closed):
    indicator: str
    at: str
    seen: bool
    by: str
    share: Share | None = Field(None, description="the observer's view only")


class WorkspaceView(Closed):
    """The whole workspace as the caller's partner receives it (`jointplan view`)."""

    jointplan: Literal[1]
    kind: Literal["view"]
    as_: str | None = Field(alias="as")
    id: str
    title: str
    partners: list[Partner]
    areas: list[Area]
    resources: list[Resource]
    scenarios: list[Scenario]
    indicators: list[Indicator]
    plans: list[PlanView]
    observations: list[Observation]
