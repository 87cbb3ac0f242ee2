"""An exercise (a drill) as plain, immutable types: its participants, objectives and injects.

Times are whole minutes after the exercise's T0 (``start``), as in plans.
Nothing here reads files, decides visibility or computes a schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .workspace import EMPTY

ROLES = ("player", "controller", "evaluator", "observer")
CHANNELS = ("message", "call", "media", "situation")


def _empty() -> Mapping[str, Any]:
    return EMPTY


@dataclass(frozen=True, slots=True)
class Participant:
    partner: str
    role: str
    """player, controller, evaluator or observer."""


@dataclass(frozen=True, slots=True)
class ExerciseObjective:
    id: str
    title: str
    plan: str | None = None
    objective: str | None = None
    """A plan objective (of ``plan``) this exercise objective is tied to."""


@dataclass(frozen=True, slots=True)
class DrillExpectation:
    """What a player is expected to do after an inject: a plan task, by a time."""

    id: str
    partner: str
    task: str
    """``PLAN/TASK``: a task of a plan under test, owned by ``partner``."""
    by: int
    objective: str | None = None

    @property
    def plan(self) -> str:
        return self.task.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Trigger:
    """``when`` of a conditional inject: an expectation met, or missed (late or never)."""

    expectation: str
    met: bool


@dataclass(frozen=True, slots=True)
class Inject:
    id: str
    to: tuple[str, ...]
    from_: str
    channel: str
    text: str
    at: int | None = None
    when: Trigger | None = None
    delay: int = 0
    expect: tuple[DrillExpectation, ...] = ()


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    title: str
    scenario: str
    start: datetime
    participants: tuple[Participant, ...]
    objectives: tuple[ExerciseObjective, ...] = ()
    injects: tuple[Inject, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=_empty)

    def with_role(self, role: str) -> tuple[str, ...]:
        """Partner codes of the participants in ``role``, in the file's order."""
        return tuple(p.partner for p in self.participants if p.role == role)

    def expectations(self) -> tuple[tuple[Inject, DrillExpectation], ...]:
        """Every expectation with the inject it belongs to, in the file's order."""
        return tuple((i, e) for i in self.injects for e in i.expect)


@dataclass(frozen=True, slots=True)
class Action:
    """A player's logged action: a partner carried out a plan task at a time."""

    partner: str
    task: str
    at: int
