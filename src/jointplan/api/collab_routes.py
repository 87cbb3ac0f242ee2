"""API routes of the collaboration pages' steps: what may be proposed for a task, the effect
of a change before sending or accepting it, withdrawing, closing a decision, notifications
read, and observations confirmed, corrected or retracted (`server/collab.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from ..server import collab
from .deps import CurrentActor, HubDep
from .reports import AreaConflict, CapacityConflict, Closed, Gap
from .responses import AddProvision, Created, DecisionOut, MoveStart, ProposalOut, SetQuantity
from .routes import ContractRoute
from .schemas import ObservationIn, Strict
from .typed import many, one

router = APIRouter(prefix="/api", route_class=ContractRoute)
Id = Annotated[str, Path(min_length=1, max_length=64)]
ConflictEntry = Annotated[CapacityConflict | AreaConflict, Field(discriminator="kind")]
Change = Annotated[MoveStart | SetQuantity | AddProvision, Field(discriminator="kind")]


class TaskNow(Closed):
    id: str
    title: str
    start: str | None = Field(description="null when withheld from the caller")
    flex: list[str] | None = Field(description="[earliest, latest] start; null when none "
                                   "or withheld")
    uses: dict[str, int] | None


class MoveOption(Closed):
    kind: Literal["move-start"]
    current: str
    earliest: str
    latest: str


class QuantityOption(Closed):
    kind: Literal["set-quantity"]
    resource: str
    current: int


class ProvisionOption(Closed):
    kind: Literal["add-provision"]
    answers: str = Field(description="the caller's expectation (PLAN/EXPECTATION) addressed "
                         "to the plan's owner")


class ChangeOptions(Closed):
    """Exactly the changes the caller may propose, with the values it sees now."""

    plan: str
    title: str
    owner: str
    task: TaskNow | None = None
    changes: list[Annotated[MoveOption | QuantityOption | ProvisionOption,
                            Field(discriminator="kind")]]


class ConflictChange(Closed):
    before: list[ConflictEntry]
    after: list[ConflictEntry]


class GapChange(Closed):
    before: list[Gap]
    after: list[Gap]


class ConflictEffect(Closed):
    added: list[ConflictEntry]
    removed: list[ConflictEntry]
    changed: list[ConflictChange]
    unchanged: int


class GapEffect(Closed):
    added: list[Gap]
    removed: list[Gap]
    changed: list[GapChange]
    unchanged: int


class ChangeEffect(Closed):
    """What the change would do to the conflicts and gaps the caller may see (not stored)."""

    plan: str
    change: Change
    conflicts: ConflictEffect
    gaps: GapEffect


class ChangeIn(Strict):
    plan: str = Field(min_length=1, max_length=128)
    change: dict[str, object] = Field(description="as in POST /api/proposals")


class CloseIn(Strict):
    outcome: str = Field(min_length=1, max_length=5000)


class ReadIn(Strict):
    ids: list[str] | None = Field(None, description="the notifications read; omit for all")


class ReadOut(Closed):
    marked: int
    unread: int


class Unread(Closed):
    unread: int


class Likelihood(Closed):
    scenario: str
    before: float | None
    after: float | None


class ObservedNow(Closed):
    indicator: str
    seen: bool
    at: str


class ObservationEffect(Closed):
    """The likelihoods the caller sees now and with the observation (nothing is stored)."""

    observation: ObservedNow
    likelihood: list[Likelihood]


class Amendment(Closed):
    kind: Literal["correct", "retract"]
    partner: str
    reason: str
    at: str
    replacement: str | None = Field(description="the observation that corrects it")


class ObservationOut(Closed):
    id: str
    indicator: str
    at: str
    seen: bool
    by: str
    state: Literal["current", "corrected", "retracted"]
    share: Literal["all"] | list[str] | None = Field(None, description="the caller's own only")
    amendments: list[Amendment]


class CorrectIn(Strict):
    reason: str = Field(min_length=1, max_length=5000)
    seen: bool | None = None
    at: str | None = Field(None, max_length=64)


class RetractIn(Strict):
    reason: str = Field(min_length=1, max_length=5000)


@router.get("/proposals/options", tags=["collaboration"], response_model=ChangeOptions)
def change_options(hub: HubDep, actor: CurrentActor,
                   plan: str = Query(min_length=1, max_length=128),
                   task: str | None = Query(None, min_length=1, max_length=128)
                   ) -> ChangeOptions:
    """What the caller may propose for another partner's plan or one of its tasks."""
    with hub.db.read() as session:
        return one(ChangeOptions, collab.change_options(hub, session, actor, plan, task))


@router.post("/proposals/preview", tags=["collaboration"], response_model=ChangeEffect)
def preview(body: ChangeIn, hub: HubDep, actor: CurrentActor) -> ChangeEffect:
    """Before sending: the change checked, and what it would do (a read, counted as an
    analysis)."""
    return one(ChangeEffect, collab.preview_proposal(hub, actor, body.model_dump()))


@router.get("/proposals/{proposal_id}/effect", tags=["collaboration"],
            response_model=ChangeEffect)
def effect(proposal_id: Id, hub: HubDep, actor: CurrentActor) -> ChangeEffect:
    """Before accepting: what an open proposal would do now, as the caller may see it."""
    return one(ChangeEffect, collab.proposal_effect(hub, actor, proposal_id))


@router.post("/proposals/{proposal_id}/withdraw", tags=["collaboration"],
             response_model=ProposalOut)
def withdraw(proposal_id: Id, hub: HubDep, actor: CurrentActor) -> ProposalOut:
    """The sending partner takes back a proposal not yet answered."""
    return one(ProposalOut, collab.withdraw_proposal(hub, actor, proposal_id))


@router.post("/decisions/{decision_id}/close", tags=["collaboration"],
             response_model=DecisionOut)
def close(decision_id: Id, body: CloseIn, hub: HubDep, actor: CurrentActor) -> DecisionOut:
    """The opening partner records the outcome; no response is taken after."""
    return one(DecisionOut, collab.close_decision(hub, actor, decision_id, body.model_dump()))


@router.get("/notifications/unread", tags=["people"], response_model=Unread)
def unread(hub: HubDep, actor: CurrentActor) -> Unread:
    with hub.db.read() as session:
        return one(Unread, {"unread": collab.unread_count(session, actor)})


@router.post("/notifications/read", tags=["people"], response_model=ReadOut)
def mark_read(body: ReadIn, hub: HubDep, actor: CurrentActor) -> ReadOut:
    """Mark notifications read for the caller (each person reads for itself)."""
    marked = collab.mark_read(hub, actor, body.ids)
    with hub.db.read() as session:
        return one(ReadOut, {"marked": marked, "unread": collab.unread_count(session, actor)})


@router.post("/observations/preview", tags=["indicators"], response_model=ObservationEffect)
def observation_preview(body: ObservationIn, hub: HubDep,
                        actor: CurrentActor) -> ObservationEffect:
    """Before reporting: the likelihoods now and with the observation (nothing is stored)."""
    return one(ObservationEffect,
               collab.observation_effect(hub, actor, body.model_dump(exclude_none=True)))


@router.get("/observations", tags=["indicators"], response_model=list[ObservationOut])
def observations(hub: HubDep, actor: CurrentActor) -> list[ObservationOut]:
    """Every observation the caller may see, corrected and retracted ones marked."""
    with hub.db.read() as session:
        return many(ObservationOut, collab.observations(hub, session, actor))


@router.post("/observations/{observation_id}/correct", tags=["indicators"], status_code=201,
             response_model=Created)
def correct(observation_id: Id, body: CorrectIn, hub: HubDep, actor: CurrentActor) -> Created:
    """The reporter corrects an observation: a new one replaces it; the old one stays in
    its history."""
    return one(Created, {"id": collab.amend_observation(
        hub, actor, observation_id, "correct", body.model_dump(exclude_none=True))})


@router.post("/observations/{observation_id}/retract", tags=["indicators"],
             response_model=Created)
def retract(observation_id: Id, body: RetractIn, hub: HubDep, actor: CurrentActor) -> Created:
    """The reporter retracts an observation: recorded, never deleted, no longer counted."""
    return one(Created, {"id": collab.amend_observation(hub, actor, observation_id, "retract",
                                                        body.model_dump())})
