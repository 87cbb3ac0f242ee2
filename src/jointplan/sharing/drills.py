"""Who sees and does what in a drill, each answer with its reason.

An exercise exists only for its participants: to any other partner it is
missing. Players see the injects delivered to their own partner and nothing
else of the exercise (never the list of events, future injects or
expectations); controllers and evaluators see the control view; observers see
the clock. Controllers run the exercise; players log their partner's actions.
Every write also needs a writer role (``actions.may_write``).
"""

from __future__ import annotations

from collections.abc import Iterable

from .actions import may_write
from .rules import Decision

CONTROL_VIEW = frozenset({"controller", "evaluator"})


def role_in(partner: str, participants: Iterable[tuple[str, str]]) -> str | None:
    """The partner's role in the exercise, or None when it takes no part (the exercise
    is then missing for it)."""
    return next((role for code, role in participants if code == partner), None)


def sees_control_view(role: str | None) -> Decision:
    if role in CONTROL_VIEW:
        return Decision(True, f"a {role} sees the injects, their schedule and expectations")
    return Decision(False, "only controllers and evaluators see the exercise's events and "
                    "expectations")


def may_control(role: str | None, user_role: str) -> Decision:
    """Start, pause, resume, speed up, inject by hand, end: a controller's writers."""
    if role != "controller":
        return Decision(False, "only a controller of the exercise runs it")
    writer = may_write(user_role)
    return Decision(True, f"a controller's {user_role} runs the exercise") if writer else writer


def may_log(role: str | None, user_role: str) -> Decision:
    """Log an action or response: a player's writers, for their own partner."""
    if role != "player":
        return Decision(False, "only players log actions in the exercise")
    writer = may_write(user_role)
    return Decision(True, f"a player's {user_role} logs its partner's actions") if writer \
        else writer


def receives(role: str | None, partner: str, delivered_to: str) -> bool:
    """A player receives the injects delivered to its own partner only."""
    return role == "player" and partner == delivered_to


def may_evaluate(role: str | None, user_role: str) -> Decision:
    """Rate, and write strengths and improvement items: the control cell's writers."""
    if role not in CONTROL_VIEW:
        return Decision(False, "only evaluators and controllers rate the exercise")
    writer = may_write(user_role)
    return Decision(True, f"a {role}'s {user_role} evaluates the exercise") if writer \
        else writer


def may_track(role: str | None, partner: str, owner: str, user_role: str) -> Decision:
    """Move an improvement item along: its owner's writers, or the control cell's."""
    if role not in CONTROL_VIEW and partner != owner:
        return Decision(False, "only the item's owner and the control cell track it")
    writer = may_write(user_role)
    return Decision(True, f"{partner} tracks the item") if writer else writer
