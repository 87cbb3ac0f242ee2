"""API routes of lasting conflicts and gaps: the same id, status and history for every
partner shown one (`server/findings.py`); one not shown it answers as for no id at all."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from ..server import findings
from .deps import CurrentActor, HubDep
from .reports import AreaConflict, CapacityConflict, Closed, Gap
from .routes import ContractRoute
from .schemas import Strict
from .typed import many, one

router = APIRouter(prefix="/api", tags=["conflicts and gaps"], route_class=ContractRoute)
Status = Literal["open", "acknowledged", "being-resolved", "risk-accepted", "resolved"]
ConflictEntry = Annotated[CapacityConflict | AreaConflict, Field(discriminator="kind")]


class FindingChange(Closed):
    """One change of status, readable by the partners shown the finding then."""

    status: Status
    partner: str | None = Field(description="who set it; null when the analysis did")
    reason: str
    at: str


class ConflictSummary(Closed):
    id: str = Field(description="the conflict's lasting, opaque id: the same for every "
                    "partner shown it, across plan versions")
    kind: str
    status: Status
    present: bool = Field(description="false once the analysis no longer finds it")
    entries: list[ConflictEntry] = Field(description="what the caller is told of it, as "
                                         "`check` prints it (one entry per cut piece)")


class GapSummary(Closed):
    id: str
    kind: str
    status: Status
    present: bool
    entries: list[Gap]


class _Attached(Closed):
    history: list[FindingChange]
    threads: list[str]
    proposals: list[str]
    decisions: list[str]


class ConflictOut(ConflictSummary, _Attached):
    """A conflict as the caller knows it: status, history and what discusses it."""


class GapOut(GapSummary, _Attached):
    """A gap as the caller knows it: status, history and what discusses it."""
FindingId = Annotated[str, Path(min_length=1, max_length=64)]


class FindingStatusIn(Strict):
    status: Status
    reason: str = Field(min_length=1, max_length=5000)


@router.get("/conflicts", response_model=list[ConflictSummary])
def conflicts(hub: HubDep, actor: CurrentActor) -> list[ConflictSummary]:
    """Every conflict the caller's partner is shown, found now or resolved, with its status."""
    with hub.db.read() as session:
        return many(ConflictSummary, findings.list_findings(hub, session, actor, "conflict"))


@router.get("/conflicts/{conflict_id}", response_model=ConflictOut)
def conflict(hub: HubDep, actor: CurrentActor, conflict_id: FindingId) -> ConflictOut:
    """One conflict: what the caller is told of it, its status, history, threads,
    proposals and decisions."""
    with hub.db.read() as session:
        return one(ConflictOut, findings.get_finding(hub, session, actor, "conflict", conflict_id))


@router.post("/conflicts/{conflict_id}/status", response_model=ConflictOut)
def conflict_status(body: FindingStatusIn, hub: HubDep, actor: CurrentActor,
                    conflict_id: FindingId) -> ConflictOut:
    """Mark a conflict acknowledged, being-resolved, risk-accepted or open, saying why."""
    return one(ConflictOut, findings.set_status(hub, actor, "conflict", conflict_id,
                                                body.status, body.reason))


@router.get("/gaps", response_model=list[GapSummary])
def gaps(hub: HubDep, actor: CurrentActor) -> list[GapSummary]:
    """Every gap the caller's partner is shown, found now or resolved, with its status."""
    with hub.db.read() as session:
        return many(GapSummary, findings.list_findings(hub, session, actor, "gap"))


@router.get("/gaps/{gap_id}", response_model=GapOut)
def gap(hub: HubDep, actor: CurrentActor, gap_id: FindingId) -> GapOut:
    """One gap: what the caller is told of it, its status, history, threads, proposals
    and decisions."""
    with hub.db.read() as session:
        return one(GapOut, findings.get_finding(hub, session, actor, "gap", gap_id))


@router.post("/gaps/{gap_id}/status", response_model=GapOut)
def gap_status(body: FindingStatusIn, hub: HubDep, actor: CurrentActor,
               gap_id: FindingId) -> GapOut:
    """Mark a gap acknowledged, being-resolved, risk-accepted or open, saying why."""
    return one(GapOut, findings.set_status(hub, actor, "gap", gap_id, body.status, body.reason))
