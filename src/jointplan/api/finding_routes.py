"""API routes of lasting conflicts and gaps: the same id, status and history for every
partner shown one (`server/findings.py`); one not shown it answers as for no id at all."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from ..server import findings
from .deps import CurrentActor, HubDep
from .schemas import Strict

router = APIRouter(prefix="/api", tags=["conflicts and gaps"])
Json = dict[str, Any]
FindingId = Annotated[str, Path(min_length=1, max_length=64)]


class FindingStatusIn(Strict):
    status: Literal["open", "acknowledged", "being-resolved", "risk-accepted", "resolved"]
    reason: str = Field(min_length=1, max_length=5000)


@router.get("/conflicts")
def conflicts(hub: HubDep, actor: CurrentActor) -> list[Json]:
    """Every conflict the caller's partner is shown, found now or resolved, with its status."""
    with hub.db.read() as session:
        return findings.list_findings(hub, session, actor, "conflict")


@router.get("/conflicts/{conflict_id}")
def conflict(hub: HubDep, actor: CurrentActor, conflict_id: FindingId) -> Json:
    """One conflict: what the caller is told of it, its status, history, threads,
    proposals and decisions."""
    with hub.db.read() as session:
        return findings.get_finding(hub, session, actor, "conflict", conflict_id)


@router.post("/conflicts/{conflict_id}/status")
def conflict_status(body: FindingStatusIn, hub: HubDep, actor: CurrentActor,
                    conflict_id: FindingId) -> Json:
    """Mark a conflict acknowledged, being-resolved, risk-accepted or open, saying why."""
    return findings.set_status(hub, actor, "conflict", conflict_id, body.status, body.reason)


@router.get("/gaps")
def gaps(hub: HubDep, actor: CurrentActor) -> list[Json]:
    """Every gap the caller's partner is shown, found now or resolved, with its status."""
    with hub.db.read() as session:
        return findings.list_findings(hub, session, actor, "gap")


@router.get("/gaps/{gap_id}")
def gap(hub: HubDep, actor: CurrentActor, gap_id: FindingId) -> Json:
    """One gap: what the caller is told of it, its status, history, threads, proposals
    and decisions."""
    with hub.db.read() as session:
        return findings.get_finding(hub, session, actor, "gap", gap_id)


@router.post("/gaps/{gap_id}/status")
def gap_status(body: FindingStatusIn, hub: HubDep, actor: CurrentActor,
               gap_id: FindingId) -> Json:
    """Mark a gap acknowledged, being-resolved, risk-accepted or open, saying why."""
    return findings.set_status(hub, actor, "gap", gap_id, body.status, body.reason)
