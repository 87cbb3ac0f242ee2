"""API routes of resolutions: preview the solver's moves for a leaf (`POST /api/deconflict`),
confirm them (`POST /api/resolutions`), and read a resolution (`server/resolutions.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from ..server import resolutions
from .deps import CurrentActor, HubDep
from .finding_routes import ConflictEntry
from .reports import Closed
from .responses import Subject
from .routes import ContractRoute
from .schemas import Strict
from .typed import many, one

router = APIRouter(prefix="/api", tags=["resolutions"], route_class=ContractRoute)


class MoveOut(Closed):
    partner: str
    plan: str
    task: str
    from_: int = Field(alias="from", description="the written start, in minutes after T0")
    to: int = Field(description="the proposed start, in minutes after T0")


class ReasonItem(Closed):
    partner: str
    plan: str | None = None
    task: str | None = None
    provision: str | None = None
    objective: str | None = None
    hidden: Literal[True] | None = None


class Reason(Closed):
    kind: Literal["committed", "no-flex", "flex", "after", "deadline", "provision", "capacity"]
    items: list[ReasonItem]


class Cost(Closed):
    overload: int = Field(description="quantity × minutes left over capacity, plus minutes "
                          "of exclusive area overlap, in the caller's remaining conflicts")
    moved_tasks: int
    moved_minutes: int


class ResolutionView(Closed):
    """The `deconflict --json` object, cut for the caller (docs/format.md)."""

    workspace: str
    as_: str | None = Field(alias="as")
    scenario: str
    status: Literal["optimal", "feasible", "none"]
    moves: list[MoveOut]
    hidden_moves: list[str] = Field(description="partners with moves of tasks the caller may "
                                    "not see (no task, no count)")
    remaining: list[ConflictEntry]
    elsewhere: list[ConflictEntry] = Field(description="conflicts the moves add in the other "
                                           "leaf scenarios where a moved task's plan is active")
    why: list[list[Reason]]
    cost: Cost
    bound: int | None
    makespan: int | None = None


class Resolved(Closed):
    conflict: str | None = Field(description="the lasting conflict's id, where known")
    entry: ConflictEntry = Field(description="the conflict in the leaf, as `check` prints it")


class Focus(Closed):
    id: str
    resolved: bool = Field(description="whether the moves leave nothing of it in the leaf")


class PreviewOut(ResolutionView):
    """A preview: the moves as the caller may see them, and what they resolve."""

    preview: str = Field(description="the preview's identity: send it back to confirm")
    conflict: str | None
    time_limit: float
    resolves: list[Resolved] = Field(description="the caller's conflicts in the leaf that "
                                     "the moves resolve")
    focus: Focus | None = Field(description="the conflict asked about, if any")


class ResolutionProposal(Closed):
    id: str
    partner: str = Field(description="the owner of the task")
    plan: str
    task: str
    from_: int = Field(alias="from")
    to: int
    status: Literal["open", "accepted", "declined"]
    draft: bool = Field(description="a move of the asking partner's own task, which it "
                        "applies by accepting")


class ResolutionOut(Closed):
    id: str
    partner: str = Field(description="the partner that asked for it")
    scenario: str
    about: Subject | None
    reason: str
    created: str
    resolution: ResolutionView = Field(description="what the caller was told of the moves "
                                       "when the resolution was confirmed")
    proposals: list[ResolutionProposal] = Field(description="the proposals the caller may "
                                                "see, with their state now")


class ResolutionChanged(Closed):
    """409: the stored plans no longer give the preview confirmed."""

    detail: str
    changed: list[str] = Field(description="plans whose view changed for the caller")
    preview: str | None = Field(description="the new preview's identity, when there is one")


class DeconflictIn(Strict):
    scenario: str | None = Field(None, min_length=1, max_length=128, description="the leaf "
                                 "scenario; default: the first leaf of the conflict")
    conflict: str | None = Field(None, min_length=1, max_length=64, description="a lasting "
                                 "conflict the caller is shown, to resolve")
    time_limit: float | None = Field(None, description="the solver's deterministic time "
                                     "limit in seconds (default 10, at most 30)")


class ResolutionIn(Strict):
    preview: str = Field(min_length=1, max_length=20000)
    reason: str = Field(min_length=1, max_length=5000)


ResolutionId = Annotated[str, Path(min_length=1, max_length=64)]
CHANGED: dict[int | str, dict[str, Any]] = {
    409: {"model": ResolutionChanged, "description": "The plans changed since the preview"}}


@router.post("/deconflict", response_model=PreviewOut)
def deconflict(body: DeconflictIn, hub: HubDep, actor: CurrentActor) -> PreviewOut:
    """Preview the least disruptive moves resolving a leaf's conflicts, as the caller may see
    them. An analysis: counted against the limits; a read."""
    return one(PreviewOut, resolutions.preview(hub, actor, body.scenario, body.conflict,
                                               body.time_limit))


@router.post("/resolutions", status_code=201, response_model=ResolutionOut, responses=CHANGED)
def confirm(body: ResolutionIn, hub: HubDep, actor: CurrentActor) -> ResolutionOut:
    """Confirm a preview: each move becomes a proposal to its task's owner (409 when the
    plans changed since)."""
    resolution_id = resolutions.confirm(hub, actor, body.preview, body.reason)
    with hub.db.read() as session:
        return one(ResolutionOut, resolutions.get_resolution(hub, session, actor, resolution_id))


@router.get("/resolutions", response_model=list[ResolutionOut])
def list_resolutions(hub: HubDep, actor: CurrentActor) -> list[ResolutionOut]:
    """The resolutions the caller's partner asked for or has moves in."""
    with hub.db.read() as session:
        return many(ResolutionOut, resolutions.list_resolutions(hub, session, actor))


@router.get("/resolutions/{resolution_id}", response_model=ResolutionOut)
def resolution(hub: HubDep, actor: CurrentActor, resolution_id: ResolutionId) -> ResolutionOut:
    """A resolution as the caller may see it, with its proposals' state."""
    with hub.db.read() as session:
        return one(ResolutionOut, resolutions.get_resolution(hub, session, actor,
                                                             resolution_id))
