"""The domain as plain, immutable types: a workspace, its plans and observations.

Nothing here reads files or decides visibility; the ``files`` package builds
these from documents and the ``sharing`` package decides who sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from .enums import Commitment, Tlp

Share = tuple[str, ...] | Literal["all"] | None
"""As written: a list of partner codes, ``"all"``, or absent (``None``)."""

Withhold = Mapping[str, frozenset[str]]
"""Field name -> partners that see the object but not that field."""

EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


@dataclass(frozen=True, slots=True)
class Partner:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    name: str
    geometry: Mapping[str, Any]
    """GeoJSON Polygon or MultiPolygon, as written (longitude, latitude)."""


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    name: str
    capacity: int
    holder: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    prior: float
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    title: str
    owner: str
    likelihood: Mapping[str, float]
    share: Share = None
    tlp: Tlp | None = None
    """As written; absent means ``amber``, as for a plan."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration in minutes: fixed when ``low == likely == high``."""

    likely: int
    low: int
    high: int
    three_point: bool = False

    @classmethod
    def fixed(cls, minutes: int) -> Duration:
        return cls(minutes, minutes, minutes)


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    title: str
    by: int
    share: Share = None
    withhold: Withhold = field(default_factory=_empty)
    withheld: tuple[str, ...] = ()
    """Fields absent from a received copy (written by an export), as the sender listed them."""


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    title: str
    start: int
    duration: Duration
    flex: tuple[int, int] | None = None
    after: tuple[str, ...] = ()
    """Predecessors: ``TASK`` in this plan or ``PLAN/TASK`` in another."""
    uses: Mapping[str, int] = field(default_factory=_empty)
    area: str | None = None
    exclusive: bool = False
    commitment: Commitment = Commitment.PLANNED
    serves: tuple[str, ...] = ()
    phase: str | None = None
    unit: str | None = None
    share: Share = None
    withhold: Withhold = field(default_factory=_empty)
    withheld: tuple[str, ...] = ()
    """Fields absent from a received copy (written by an export), as the sender listed them."""

    @property
    def end(self) -> int:
        """The planned end: start plus the likely duration."""
        return self.start + self.duration.likely


@dataclass(frozen=True, slots=True)
class Expectation:
    id: str
    from_: str
    what: str
    window: tuple[int, int]
    uses: Mapping[str, int] = field(default_factory=_empty)
    share: Share = None
    withhold: Withhold = field(default_factory=_empty)
    withheld: tuple[str, ...] = ()
    """Fields absent from a received copy (written by an export), as the sender listed them."""


@dataclass(frozen=True, slots=True)
class Provision:
    id: str
    to: str
    what: str
    window: tuple[int, int]
    uses: Mapping[str, int] = field(default_factory=_empty)
    answers: str | None = None
    """``PLAN/EXPECTATION`` this provision answers."""
    share: Share = None
    withhold: Withhold = field(default_factory=_empty)
    withheld: tuple[str, ...] = ()
    """Fields absent from a received copy (written by an export), as the sender listed them."""


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    owner: str
    title: str
    scenarios: tuple[str, ...]
    share: Share = None
    tlp: Tlp = Tlp.AMBER
    objectives: tuple[Objective, ...] = ()
    tasks: tuple[Task, ...] = ()
    expects: tuple[Expectation, ...] = ()
    provides: tuple[Provision, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=_empty)
    withheld: tuple[str, ...] = ()
    """Plan fields absent from a received copy: only items addressed to the receiver."""


@dataclass(frozen=True, slots=True)
class Observation:
    indicator: str
    at: datetime
    seen: bool
    by: str
    share: Share = None
    tlp: Tlp | None = None
    """As written; absent means ``amber``, as for a plan."""


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    title: str
    partners: tuple[Partner, ...]
    areas: tuple[Area, ...] = ()
    resources: tuple[Resource, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    plans: tuple[Plan, ...] = ()
    observations: tuple[Observation, ...] = ()
    """In reading order: files by name, then as listed."""
    _index: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def partner_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.partners)

    def plan(self, plan_id: str) -> Plan:
        plans = self._cached("plans", lambda: {p.id: p for p in self.plans})
        return plans[plan_id]  # type: ignore[no-any-return]

    def children(self) -> Mapping[str | None, tuple[str, ...]]:
        """Scenario ids by parent (``None`` for the top level), in workspace order."""

        def build() -> dict[str | None, tuple[str, ...]]:
            out: dict[str | None, list[str]] = {}
            for s in self.scenarios:
                out.setdefault(s.parent, []).append(s.id)
            return {k: tuple(v) for k, v in out.items()}

        return self._cached("children", build)  # type: ignore[no-any-return]

    def leaves(self) -> tuple[str, ...]:
        """Leaf scenario ids in workspace order."""
        children = self.children()
        return self._cached(  # type: ignore[no-any-return]
            "leaves", lambda: tuple(s.id for s in self.scenarios if s.id not in children)
        )

    def path(self, scenario_id: str) -> tuple[str, ...]:
        """The scenario and its ancestors, the scenario first."""
        parents = self._cached("parents", lambda: {s.id: s.parent for s in self.scenarios})
        out: list[str] = []
        current: str | None = scenario_id
        while current is not None:
            out.append(current)
            current = parents[current]
        return tuple(out)

    def active_leaves(self, plan: Plan) -> tuple[str, ...]:
        """Leaves in which a plan is active: those at or below a scenario it names."""
        named = set(plan.scenarios)
        return tuple(leaf for leaf in self.leaves() if named.intersection(self.path(leaf)))

    def _cached(self, key: str, build: Any) -> Any:
        if key not in self._index:
            self._index[key] = build()
        return self._index[key]
