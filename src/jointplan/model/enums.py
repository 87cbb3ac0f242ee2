"""Every closed set of words the format uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Commitment(StrEnum):
    INTENT = "intent"
    PLANNED = "planned"
    COMMITTED = "committed"


class Tlp(StrEnum):
    """Traffic Light Protocol markings, least restrictive first."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        return list(Tlp).index(self)


class Kind(StrEnum):
    WORKSPACE = "workspace"
    PLAN = "plan"
    OBSERVATIONS = "observations"


ALL = "all"
"""The share that means every partner of the workspace."""
