"""The API routes. Each asks the server's use cases, which ask the sharing gate.

Every route declares its response model (api/reports.py, api/responses.py);
answers leave out the keys the contract leaves out, never sending them as null.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import PlainTextResponse

from ..server import analysis, collab, people, plans, t0
from ..server.assemble import Source
from ..server.concurrency import parse_if_match
from ..server.hub import Invalid
from .deps import CurrentActor, HubDep
from .idempotency import IdempotentRoute
from .reports import CheckOut, Conflicts, Gap, PlanView, SimulationOut, WorkspaceView
from .responses import (
    AcknowledgementOut,
    AuditOut,
    Created,
    DecisionOut,
    Exported,
    Imported,
    Me,
    NewVersion,
    NotificationOut,
    PeopleOut,
    ProposalOut,
    Stale,
    ThreadOut,
    ThreadSummary,
    VersionEntry,
)
from .schemas import (
    AcceptIn,
    DecisionIn,
    DeclineIn,
    ImportIn,
    MessageIn,
    ObservationIn,
    ProposalIn,
    ResponseIn,
    StatusIn,
    ThreadIn,
)
from .typed import json_answer, json_with, kept_json, many, one


class ContractRoute(IdempotentRoute):
    """A route that leaves out of its answer the keys its handler left out, and
    replays a write's answer for a retried ``Idempotency-Key``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(*args, **kwargs)


router = APIRouter(prefix="/api", route_class=ContractRoute)
STALE: dict[int | str, dict[str, Any]] = {
    409: {"model": Stale, "description": "The plan changed since the version named"}}
IfMatch = Header(None, alias="If-Match", max_length=2000,
                 description='The plan\'s ETag ("VERSION-ID") the change was made from; a '
                 "stale one is refused with 409. Without it the write is unconditional.")


@router.get("/me", tags=["people"], response_model=Me)
def me(actor: CurrentActor) -> Me:
    """Who the request acts as."""
    return one(Me, {"username": actor.username, "partner": actor.partner, "role": actor.role})


@router.get("/workspace", tags=["plans"], response_model=WorkspaceView)
def workspace(hub: HubDep, actor: CurrentActor) -> Response:
    """The whole workspace as the caller's partner receives it."""
    with hub.db.read() as session:
        view = plans.kept_view(hub, session, actor)
    # The plans are most of it: each written once while it is kept (`kept_json`).
    return json_answer(json_with(WorkspaceView, view, {"plans": _plans_json(view["plans"])}))


def _plans_json(views: list[dict[str, Any]]) -> bytes:
    return b"[" + b",".join(kept_json(PlanView, plan) for plan in views) + b"]"


@router.get("/plans", tags=["plans"], response_model=list[PlanView])
def list_plans(hub: HubDep, actor: CurrentActor) -> Response:
    """Every plan the caller's partner may see (some only through items addressed to it)."""
    with hub.db.read() as session:
        return json_answer(_plans_json(plans.kept_view(hub, session, actor)["plans"]))


@router.get("/plans/{plan_id}", tags=["plans"], response_model=PlanView, responses={
    200: {"headers": {"ETag": {"description": "to its owner, the stored version's (send it "
                               "back as If-Match); to others, a digest of their view",
                               "schema": {"type": "string"}}}}})
def get_plan(plan_id: str, hub: HubDep, actor: CurrentActor) -> Response:
    """One plan as the caller's partner receives it, with its ETag."""
    with hub.db.read() as session:
        view = plans.kept_plan_view(hub, session, actor, plan_id)
        etag = plans.plan_etag(hub, session, actor, plan_id)
    return json_answer(kept_json(PlanView, view), {"ETag": etag})


@router.get("/plans/{plan_id}/versions", tags=["plans"],
            response_model=list[VersionEntry])
def plan_versions(plan_id: str, hub: HubDep, actor: CurrentActor) -> list[VersionEntry]:
    """The versions whose view changed for the caller's partner."""
    with hub.db.read() as session:
        return many(VersionEntry, plans.history(hub, session, actor, plan_id))


@router.get("/plans/{plan_id}/diff", tags=["plans"], response_class=PlainTextResponse)
def plan_diff(plan_id: str, hub: HubDep, actor: CurrentActor,
              from_: str = Query(alias="from", max_length=64),
              to: str = Query(max_length=64)) -> str:
    """A unified diff between two versions, as the caller's partner sees them."""
    with hub.db.read() as session:
        return plans.diff(hub, session, actor, plan_id, from_, to)


@router.post("/plans/{plan_id}/status", tags=["plans"], status_code=201,
             response_model=NewVersion, responses=STALE)
def plan_status(plan_id: str, body: StatusIn, hub: HubDep, actor: CurrentActor,
                response: Response, if_match: str | None = IfMatch) -> NewVersion:
    """Mark the caller's own plan draft, approved or retired (a new version)."""
    base = body.base_version if body.base_version is not None else parse_if_match(if_match)
    version = plans.set_status(hub, actor, plan_id, body.status, body.reason, base)
    response.headers["ETag"] = f'"{version}"'
    return one(NewVersion, {"version": version})


@router.post("/import", tags=["plans"], status_code=201, response_model=Imported,
             responses=STALE)
def import_files(body: ImportIn, hub: HubDep, actor: CurrentActor,
                 if_match: str | None = IfMatch) -> Imported:
    """Import the caller's own plan and observation files, all or nothing.

    Name the version each changed plan was made from in `base_versions`, or, for an
    import of one plan, in If-Match.
    """
    files = [Source(name, text.encode("utf-8")) for name, text in body.files.items()]
    bases: dict[str, Any] = dict(body.base_versions or {})
    tags = parse_if_match(if_match)
    if tags is not None:
        ids = plans.uploaded_plan_ids(files)
        if len(ids) != 1:
            raise Invalid("header.If-Match", "If-Match names the version of one plan; for "
                          "an import of several, give base_versions")
        bases.setdefault(ids[0], tags)
    return one(Imported, plans.import_files(hub, actor, files, reason=body.reason,
                                            bases=bases or None))


@router.get("/export", tags=["plans"], response_model=Exported)
def export(hub: HubDep, actor: CurrentActor) -> Exported:
    """The caller's partner's view, marked with the most restrictive TLP it holds."""
    with hub.db.read() as session:
        return one(Exported, plans.export_files(hub, session, actor))


@router.post("/observations", tags=["indicators"], status_code=201, response_model=Created)
def observe(body: ObservationIn, hub: HubDep, actor: CurrentActor) -> Created:
    """Report that an indicator was, or was not, seen."""
    observation = plans.post_observation(hub, actor, body.model_dump(exclude_none=True))
    return one(Created, {"id": observation})


@router.get("/check", tags=["analysis"], response_model=CheckOut)
def check(hub: HubDep, actor: CurrentActor) -> Response:
    """Conflicts, gaps, coverage and likelihoods for the caller's partner (the CLI's JSON),
    with the declared T0s it may see."""
    report = analysis.kept_check_for(hub, actor)
    with hub.db.read() as session:
        declarations = t0.declarations(hub, session, actor)
    # The conflicts and gaps are most of it: each list written once while it is kept.
    return json_answer(json_with(CheckOut, {**report, "declarations": declarations}, {
        "conflicts": kept_json(Conflicts, report["conflicts"]),
        "gaps": kept_json(list[Gap], report["gaps"])}))


@router.get("/simulate", tags=["analysis"], response_model=list[SimulationOut])
def simulate(hub: HubDep, actor: CurrentActor,
             scenario: str | None = Query(None, max_length=128,
                                          description="A leaf scenario; default: every leaf "
                                          "where the caller's plans are active"),
             samples: int = Query(2000, ge=1, le=analysis.MAX_SAMPLES),
             seed: int = Query(7, ge=0, le=2**63 - 1)) -> list[SimulationOut]:
    """Monte Carlo risk of the stored plans, one report per leaf (the CLI's JSON)."""
    return many(SimulationOut, analysis.simulate_for(hub, actor, scenario, samples, seed))


@router.get("/threads", tags=["collaboration"], response_model=list[ThreadSummary])
def threads(hub: HubDep, actor: CurrentActor) -> list[ThreadSummary]:
    with hub.db.read() as session:
        return many(ThreadSummary, collab.list_threads(hub, session, actor))


@router.post("/threads", tags=["collaboration"], status_code=201, response_model=Created)
def new_thread(body: ThreadIn, hub: HubDep, actor: CurrentActor) -> Created:
    return one(Created, {"id": collab.create_thread(hub, actor, body.model_dump())})


@router.get("/threads/{thread_id}", tags=["collaboration"], response_model=ThreadOut)
def thread(thread_id: str, hub: HubDep, actor: CurrentActor) -> ThreadOut:
    with hub.db.read() as session:
        return one(ThreadOut, collab.get_thread(hub, session, actor, thread_id))


@router.post("/threads/{thread_id}/messages", tags=["collaboration"], status_code=201,
             response_model=Created)
def new_message(thread_id: str, body: MessageIn, hub: HubDep, actor: CurrentActor) -> Created:
    message = collab.post_message(hub, actor, thread_id, body.model_dump(exclude_none=True))
    return one(Created, {"id": message})


@router.get("/proposals", tags=["collaboration"], response_model=list[ProposalOut])
def proposals(hub: HubDep, actor: CurrentActor) -> list[ProposalOut]:
    with hub.db.read() as session:
        return many(ProposalOut, collab.list_proposals(hub, session, actor))


@router.post("/proposals", tags=["collaboration"], status_code=201, response_model=Created)
def new_proposal(body: ProposalIn, hub: HubDep, actor: CurrentActor) -> Created:
    """Propose a change to another partner's plan; only its owner can accept it."""
    return one(Created, {"id": collab.create_proposal(hub, actor, body.model_dump())})


@router.get("/proposals/{proposal_id}", tags=["collaboration"], response_model=ProposalOut)
def proposal(proposal_id: str, hub: HubDep, actor: CurrentActor) -> ProposalOut:
    with hub.db.read() as session:
        return one(ProposalOut, collab.get_proposal(hub, session, actor, proposal_id))


@router.post("/proposals/{proposal_id}/accept", tags=["collaboration"],
             response_model=ProposalOut, responses=STALE)
def accept(proposal_id: str, body: AcceptIn, hub: HubDep, actor: CurrentActor) -> ProposalOut:
    return one(ProposalOut, collab.decide_proposal(hub, actor, proposal_id, True, body.reason))


@router.post("/proposals/{proposal_id}/decline", tags=["collaboration"],
             response_model=ProposalOut)
def decline(proposal_id: str, body: DeclineIn, hub: HubDep, actor: CurrentActor) -> ProposalOut:
    return one(ProposalOut, collab.decide_proposal(hub, actor, proposal_id, False, body.reason))


@router.get("/decisions", tags=["collaboration"], response_model=list[DecisionOut])
def decisions(hub: HubDep, actor: CurrentActor) -> list[DecisionOut]:
    with hub.db.read() as session:
        return many(DecisionOut, collab.list_decisions(hub, session, actor))


@router.post("/decisions", tags=["collaboration"], status_code=201, response_model=Created)
def new_decision(body: DecisionIn, hub: HubDep, actor: CurrentActor) -> Created:
    return one(Created, {"id": collab.create_decision(hub, actor, body.model_dump())})


@router.get("/decisions/{decision_id}", tags=["collaboration"], response_model=DecisionOut)
def decision(decision_id: str, hub: HubDep, actor: CurrentActor) -> DecisionOut:
    with hub.db.read() as session:
        return one(DecisionOut, collab.get_decision(hub, session, actor, decision_id))


@router.post("/decisions/{decision_id}/responses", tags=["collaboration"],
             response_model=DecisionOut)
def respond(decision_id: str, body: ResponseIn, hub: HubDep, actor: CurrentActor) -> DecisionOut:
    """Concur, non-concur or state a reservation, for the caller's partner."""
    return one(DecisionOut, collab.respond(hub, actor, decision_id, body.model_dump()))


@router.post("/expectations/{plan_id}/{expectation_id}/acknowledge", tags=["collaboration"],
             status_code=204)
def acknowledge(plan_id: str, expectation_id: str, hub: HubDep,
                actor: CurrentActor) -> Response:
    """The partner an expectation is addressed to acknowledges it."""
    collab.acknowledge(hub, actor, plan_id, expectation_id)
    return Response(status_code=204)


@router.get("/acknowledgements", tags=["collaboration"],
            response_model=list[AcknowledgementOut])
def acknowledgements(hub: HubDep, actor: CurrentActor) -> list[AcknowledgementOut]:
    with hub.db.read() as session:
        return many(AcknowledgementOut, collab.acknowledgements(hub, session, actor))


@router.get("/notifications", tags=["people"], response_model=list[NotificationOut])
def notifications(hub: HubDep, actor: CurrentActor) -> list[NotificationOut]:
    with hub.db.read() as session:
        return many(NotificationOut, collab.notifications(hub, session, actor))


@router.get("/people", tags=["people"], response_model=PeopleOut)
def partner_people(hub: HubDep, actor: CurrentActor) -> PeopleOut:
    """An admin reads its own partner's users and their API tokens (never the secrets)."""
    with hub.db.read() as session:
        return one(PeopleOut, people.of_partner(session, actor))


@router.get("/audit", tags=["people"], response_model=list[AuditOut])
def audit_log(hub: HubDep, actor: CurrentActor) -> list[AuditOut]:
    """Audit entries about the caller's partner's data and people."""
    with hub.db.read() as session:
        return many(AuditOut, collab.audit_entries(hub, session, actor))
