"""Drills on the server: controllers run an exercise, players receive injects and log actions.

Every answer carries the exercise clock and "EXERCISE EXERCISE EXERCISE". An
exercise the caller's partner takes no part in answers 404, like one that does
not exist; a player's answers hold only the injects delivered to its own
partner and never the schedule or the expectations (``sharing/drills.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from ..server import exercise_review, exercises
from .deps import CurrentActor, HubDep
from .reports import Closed
from .responses import Created
from .routes import ContractRoute
from .schemas import Strict
from .typed import many, one

router = APIRouter(prefix="/api", tags=["drills"], route_class=ContractRoute)
ExerciseId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Channel = Literal["message", "call", "media", "situation"]


class ExerciseIn(Strict):
    name: str = Field("exercise.yaml", max_length=200,
                      pattern=r"^[A-Za-z0-9._-]+\.(yaml|yml|json)$",
                      description="the file's name (a .json name reads as JSON)")
    text: str = Field(min_length=1, max_length=1_000_000, description="the exercise file")


class ControlIn(Strict):
    action: Literal["start", "pause", "resume", "end", "speed"]
    speed: int | None = Field(None, ge=1, le=exercises.MAX_SPEED,
                              description="with `speed`: exercise minutes per real minute")


class HandInjectIn(Strict):
    to: list[str] = Field(min_length=1, max_length=64)
    from_: str = Field(alias="from", min_length=1, max_length=500)
    channel: Channel
    text: str = Field(min_length=1, max_length=20_000)


class ActionIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)
    task: str | None = Field(None, max_length=260,
                             pattern=r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$",
                             description="PLAN/TASK: the plan task carried out, if any")


class ExerciseSummary(Closed):
    id: str
    exercise: str
    title: str
    banner: Literal["EXERCISE EXERCISE EXERCISE"]
    state: Literal["ready", "running", "paused", "ended"]
    speed: int
    clock: int = Field(description="exercise minutes after T0")
    clock_text: str
    role: Literal["player", "controller", "evaluator", "observer"]


class DeliveryOut(Closed):
    id: str
    partner: str
    at: int
    at_text: str
    from_: str = Field(alias="from")
    channel: Channel
    text: str
    banner: Literal["EXERCISE EXERCISE EXERCISE"]


class ActionOut(Closed):
    id: str
    partner: str
    author: str
    task: str | None
    text: str
    at: int


class ScheduledOut(Closed):
    inject: str
    partner: str
    at: int


class ExpectationResultOut(Closed):
    id: str
    partner: str
    result: Literal["met", "late", "missed"] | None
    late_by: int | None


class ExerciseFeed(ExerciseSummary):
    deliveries: list[DeliveryOut]
    actions: list[ActionOut]
    schedule: list[ScheduledOut] | None = Field(
        None, description="controllers and evaluators only: the timeline as it stands")
    expectations: list[ExpectationResultOut] | None = Field(
        None, description="controllers and evaluators only")


@router.get("/exercises", response_model=list[ExerciseSummary])
def list_exercises(hub: HubDep, actor: CurrentActor) -> list[ExerciseSummary]:
    """The exercises the caller's partner takes part in."""
    return many(ExerciseSummary, exercises.listing(hub, actor))


@router.post("/exercises", response_model=Created, status_code=201)
def create_exercise(body: ExerciseIn, hub: HubDep, actor: CurrentActor) -> Created:
    """Store an exercise file (a controller's writer), checked against the workspace."""
    return one(Created, {"id": exercises.create(hub, actor, body.name, body.text)})


@router.get("/exercises/{exercise_id}", response_model=ExerciseFeed)
def exercise_feed(hub: HubDep, actor: CurrentActor, exercise_id: ExerciseId) -> ExerciseFeed:
    """The exercise as the caller's role sees it (poll it for what is new)."""
    return one(ExerciseFeed, exercises.feed(hub, actor, exercise_id))


@router.post("/exercises/{exercise_id}/control", response_model=ExerciseSummary)
def control_exercise(body: ControlIn, hub: HubDep, actor: CurrentActor,
                     exercise_id: ExerciseId) -> ExerciseSummary:
    """Start, pause, resume, end, or set the speed (×N)."""
    exercises.control(hub, actor, exercise_id, body.action, body.speed)
    feed = exercises.feed(hub, actor, exercise_id)
    return one(ExerciseSummary, {k: feed[k] for k in ExerciseSummary.model_fields})


@router.post("/exercises/{exercise_id}/injects", response_model=list[Created],
             status_code=201)
def inject_by_hand(body: HandInjectIn, hub: HubDep, actor: CurrentActor,
                   exercise_id: ExerciseId) -> list[Created]:
    """A controller's inject, delivered now to the players named."""
    ids = exercises.inject_by_hand(hub, actor, exercise_id, body.to, body.from_, body.channel,
                                   body.text)
    return many(Created, ({"id": i} for i in ids))


@router.post("/exercises/{exercise_id}/actions", response_model=Created, status_code=201)
def log_action(body: ActionIn, hub: HubDep, actor: CurrentActor,
               exercise_id: ExerciseId) -> Created:
    """A player's action or response, at the exercise clock."""
    return one(Created, {"id": exercises.log_action(hub, actor, exercise_id, body.text,
                                                    body.task)})


class RatedExpectationOut(Closed):
    id: str
    partner: str
    task: str
    inject: str
    by: int
    by_text: str
    result: Literal["met", "late", "missed"] | None
    late_by: int | None
    acted: int | None = Field(description="exercise minute of the action that counts")
    planned_start: int | None
    against_plan: int | None = Field(description="acted minus the task's planned start")
    rating: Literal["P", "S", "M", "U"] | None
    rating_text: str
    notes: str


class RatedObjectiveOut(Closed):
    id: str
    title: str
    plan: str | None
    objective: str | None
    rating: Literal["P", "S", "M", "U"] | None
    rating_text: str
    notes: str


class ReportDeliveryOut(Closed):
    at: int
    at_text: str
    partner: str
    from_: str = Field(alias="from")
    channel: Channel
    text: str


class ReportActionOut(Closed):
    at: int
    at_text: str
    task: str | None
    text: str
    author: str
    planned_start: int | None
    planned_text: str | None


class ItemOut(Closed):
    id: str
    kind: Literal["strength", "improvement"]
    title: str
    owner: str
    due: str
    status: Literal["open", "in-progress", "done"]
    proposal: str | None


class ParticipantOut(Closed):
    partner: str
    role: Literal["player", "controller", "evaluator", "observer"]


class ReportOut(Closed):
    id: str
    exercise: str
    title: str
    banner: Literal["EXERCISE EXERCISE EXERCISE"]
    state: Literal["ready", "running", "paused", "ended"]
    clock: int
    clock_text: str
    role: Literal["player", "controller", "evaluator", "observer"]
    own_role: Literal["player", "controller", "evaluator", "observer"] | None
    partner: str | None = Field(description="the partner the report is cut for; null: the "
                                "control cell's whole report")
    expectations: list[RatedExpectationOut]
    objectives: list[RatedObjectiveOut]
    deliveries: list[ReportDeliveryOut]
    timeline: dict[str, list[ReportActionOut]] = Field(description="plan against actual, "
                                                       "per partner")
    strengths: list[ItemOut]
    improvements: list[ItemOut]
    participants: list[ParticipantOut]


@router.get("/exercises/{exercise_id}/report", response_model=ReportOut)
def exercise_report(hub: HubDep, actor: CurrentActor, exercise_id: ExerciseId) -> ReportOut:
    """The after-action report, cut for the caller's partner (a player's once it has ended)."""
    return one(ReportOut, exercise_review.report(hub, actor, exercise_id))


class RatingIn(Strict):
    kind: Literal["expectation", "objective"]
    target: str = Field(min_length=1, max_length=128, description="its id in the exercise")
    rating: Literal["P", "S", "M", "U"] = Field(description="HSEEP: performed without "
                                                "challenges, with some, with major ones, "
                                                "unable to be performed")
    notes: str = Field("", max_length=20_000)


class ItemIn(Strict):
    kind: Literal["strength", "improvement"]
    title: str = Field(min_length=1, max_length=2000)
    owner: str = Field(pattern=r"^[A-Z]{2,8}$")
    due: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="an ISO date")


class ItemStatusIn(Strict):
    status: Literal["open", "in-progress", "done"]


class ItemProposalIn(Strict):
    plan: str = Field(max_length=128, description="a plan of the item's owner")
    task: str = Field(max_length=128)
    start: str = Field(max_length=32, description="the task's new start, within its flex")


ItemId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post("/exercises/{exercise_id}/ratings", response_model=Created, status_code=201)
def rate(body: RatingIn, hub: HubDep, actor: CurrentActor, exercise_id: ExerciseId) -> Created:
    """An evaluator's (or controller's) HSEEP rating, with notes; the newest counts."""
    return one(Created, {"id": exercise_review.rate(hub, actor, exercise_id, body.kind,
                                                    body.target, body.rating, body.notes)})


@router.post("/exercises/{exercise_id}/items", response_model=Created, status_code=201)
def add_item(body: ItemIn, hub: HubDep, actor: CurrentActor, exercise_id: ExerciseId
             ) -> Created:
    """A strength or an improvement item, with its owner partner and due date."""
    return one(Created, {"id": exercise_review.add_item(hub, actor, exercise_id, body.kind,
                                                        body.title, body.owner, body.due)})


@router.post("/exercises/{exercise_id}/items/{item_id}/status", response_model=Created)
def item_status(body: ItemStatusIn, hub: HubDep, actor: CurrentActor,
                exercise_id: ExerciseId, item_id: ItemId) -> Created:
    """Move an item along (its owner or the control cell)."""
    exercise_review.set_item_status(hub, actor, exercise_id, item_id, body.status)
    return one(Created, {"id": item_id})


@router.post("/exercises/{exercise_id}/items/{item_id}/proposal", response_model=Created,
             status_code=201)
def item_proposal(body: ItemProposalIn, hub: HubDep, actor: CurrentActor,
                  exercise_id: ExerciseId, item_id: ItemId) -> Created:
    """The item as a proposal to move a task's start on its owner's plan; the proposal's id."""
    return one(Created, {"id": exercise_review.propose(
        hub, actor, exercise_id, item_id,
        {"plan": body.plan, "kind": "move-start", "task": body.task, "start": body.start})})
