"""Working together: threads, proposals (accept / decline) and joint decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import collab, plans
from ..server.hub import Hub, Invalid
from ..services.accounts import Actor
from ..sharing import actions
from .render import FormDep, PageActor, PageRoute, done, field, fields, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]
SUBJECT_KINDS = ("scenario", "plan", "task", "conflict", "gap")


def _partners(hub: Hub, actor: Actor) -> tuple[Json, list[str]]:
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    return view, [p["code"] for p in view["partners"]]


# -- threads ----------------------------------------------------------------------------


def _threads_page(request: Request, hub: Hub, actor: Actor, *, values: Json,
                  errors: list[str], status: int = 200) -> Response:
    with hub.db.read() as session:
        threads = collab.list_threads(hub, session, actor)
    _, partners = _partners(hub, actor)
    return page(request, "threads.html", actor, section="threads", threads=threads,
                partners=partners, kinds=SUBJECT_KINDS, values=values, errors=errors,
                status=status)


@router.get("/threads")
def threads(request: Request, hub: HubDep, actor: PageActor, kind: str = "",
            ref: str = "", title: str = "") -> Response:
    return _threads_page(request, hub, actor, errors=[],
                         values={"kind": kind, "ref": ref, "title": title, "text": "",
                                 "share": []})


@router.post("/threads")
def new_thread(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    values = {"kind": field(form, "kind"), "ref": field(form, "ref"),
              "title": field(form, "title"), "text": field(form, "text"),
              "share": fields(form, "share")}
    try:
        thread_id = collab.create_thread(hub, actor, {
            "subject": {"kind": values["kind"], "ref": values["ref"]},
            "title": values["title"], "text": values["text"], "share": values["share"]})
    except Invalid as exc:
        return _threads_page(request, hub, actor, values=values, status=422,
                             errors=[f"{exc.field}: {exc}"])
    return done(f"/threads/{thread_id}", "thread")


def _thread_page(request: Request, hub: Hub, actor: Actor, thread_id: str, *,
                 errors: list[str], text: str = "", status: int = 200) -> Response:
    with hub.db.read() as session:
        thread = collab.get_thread(hub, session, actor, thread_id)
    return page(request, "thread.html", actor, section="threads", thread=thread,
                errors=errors, text=text, status=status)


@router.get("/threads/{thread_id}")
def thread_page(request: Request, hub: HubDep, actor: PageActor, thread_id: str) -> Response:
    return _thread_page(request, hub, actor, thread_id, errors=[])


@router.post("/threads/{thread_id}/messages")
def new_message(request: Request, hub: HubDep, actor: PageActor, thread_id: str,
                form: FormDep) -> Response:
    text = field(form, "text")
    try:
        collab.post_message(hub, actor, thread_id, {"text": text,
                                                    "share": fields(form, "share")})
    except Invalid as exc:
        return _thread_page(request, hub, actor, thread_id, errors=[f"{exc.field}: {exc}"],
                            text=text, status=422)
    return done(f"/threads/{thread_id}", "message", "#messages")


# -- proposals --------------------------------------------------------------------------


@router.get("/proposals")
def proposals(request: Request, hub: HubDep, actor: PageActor) -> Response:
    with hub.db.read() as session:
        rows = collab.list_proposals(hub, session, actor)
    return page(request, "proposals.html", actor, section="proposals", proposals=rows)


def _change(values: Json) -> Json:
    kind = values["kind"]
    if kind == "move-start":
        return {"kind": kind, "task": values["task"], "start": values["start"]}
    if kind == "set-quantity":
        try:
            quantity: Any = int(values["quantity"])
        except ValueError:
            quantity = values["quantity"]
        return {"kind": kind, "task": values["task"], "resource": values["resource"],
                "quantity": quantity}
    provision: Json = {"id": values["prov_id"], "what": values["prov_what"],
                       "window": [values["prov_start"], values["prov_end"]],
                       "answers": values["answers"]}
    if values["prov_resource"]:
        try:
            provision["uses"] = {values["prov_resource"]: int(values["prov_quantity"])}
        except ValueError:
            provision["uses"] = {values["prov_resource"]: values["prov_quantity"]}
    return {"kind": kind, "provision": provision}


PROPOSAL_FIELDS = ("plan", "target", "kind", "start", "resource", "quantity", "reason",
                   "prov_id", "prov_what", "prov_start", "prov_end", "prov_resource",
                   "prov_quantity", "answers", "about_kind", "about_ref")


def _proposal_form(request: Request, hub: Hub, actor: Actor, values: Json,
                   errors: list[str], status: int = 200) -> Response:
    view, _ = _partners(hub, actor)
    others = [p for p in view["plans"] if p.get("owner") not in (None, actor.partner)]
    mine = [p for p in view["plans"] if p.get("owner") == actor.partner]
    return page(request, "proposal_new.html", actor, section="proposals", values=values,
                errors=errors, others=others, mine=mine, resources=view["resources"],
                status=status)


@router.get("/proposals/new")
def proposal_form(request: Request, hub: HubDep, actor: PageActor) -> Response:
    values = {k: request.query_params.get(k, "") for k in PROPOSAL_FIELDS}
    return _proposal_form(request, hub, actor, values, [])


@router.post("/proposals")
def new_proposal(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    values = {k: field(form, k) for k in PROPOSAL_FIELDS}
    if values["target"]:
        values["plan"], _, values["task"] = values["target"].partition("/")
    else:
        values["task"] = ""
    try:
        about = ({"kind": values["about_kind"], "ref": values["about_ref"]}
                 if values["about_ref"] else None)
        proposal_id = collab.create_proposal(hub, actor, {
            "plan": values["plan"], "change": _change(values), "reason": values["reason"],
            "about": about})
    except Invalid as exc:
        return _proposal_form(request, hub, actor, values, [f"{exc.field}: {exc}"], 422)
    return done(f"/proposals/{proposal_id}", "proposed")


def _proposal_page(request: Request, hub: Hub, actor: Actor, proposal_id: str, *,
                   errors: list[str], status: int = 200) -> Response:
    with hub.db.read() as session:
        proposal = collab.get_proposal(hub, session, actor, proposal_id)
    can_decide = (bool(actions.may_decide(actor.partner, actor.role, proposal["owner"]))
                  and proposal["status"] == "open")
    return page(request, "proposal.html", actor, section="proposals", proposal=proposal,
                can_decide=can_decide, errors=errors, status=status)


@router.get("/proposals/{proposal_id}")
def proposal_page(request: Request, hub: HubDep, actor: PageActor,
                  proposal_id: str) -> Response:
    return _proposal_page(request, hub, actor, proposal_id, errors=[])


@router.post("/proposals/{proposal_id}/{answer}")
def decide(request: Request, hub: HubDep, actor: PageActor, proposal_id: str, answer: str,
           form: FormDep) -> Response:
    if answer not in ("accept", "decline"):
        return _proposal_page(request, hub, actor, proposal_id, errors=["Choose accept or "
                                                                         "decline."], status=422)
    reason = field(form, "reason")
    try:
        result = collab.decide_proposal(hub, actor, proposal_id, answer == "accept",
                                        reason or None)
    except Invalid as exc:
        return _proposal_page(request, hub, actor, proposal_id, errors=[str(exc)],
                              status=422)
    if answer == "accept":
        return done(f"/plans/{result['plan']}", "accepted", "#history")
    return done(f"/proposals/{proposal_id}", "declined")


# -- decisions --------------------------------------------------------------------------


def _decisions_page(request: Request, hub: Hub, actor: Actor, *, values: Json,
                    errors: list[str], status: int = 200) -> Response:
    with hub.db.read() as session:
        rows = collab.list_decisions(hub, session, actor)
    _, partners = _partners(hub, actor)
    return page(request, "decisions.html", actor, section="decisions", decisions=rows,
                partners=partners, values=values, errors=errors, status=status)


@router.get("/decisions")
def decisions(request: Request, hub: HubDep, actor: PageActor) -> Response:
    return _decisions_page(request, hub, actor, values={"text": "", "partners": []},
                           errors=[])


@router.post("/decisions")
def new_decision(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    values = {"text": field(form, "text"), "partners": fields(form, "partners")}
    try:
        decision_id = collab.create_decision(hub, actor, values)
    except Invalid as exc:
        return _decisions_page(request, hub, actor, values=values, status=422,
                               errors=[f"{exc.field}: {exc}"])
    return done(f"/decisions/{decision_id}", "decision")


def _decision_page(request: Request, hub: Hub, actor: Actor, decision_id: str, *,
                   errors: list[str], values: Json, status: int = 200) -> Response:
    with hub.db.read() as session:
        decision = collab.get_decision(hub, session, actor, decision_id)
    can_respond = bool(actions.may_respond(actor.partner, actor.role, decision["partners"]))
    return page(request, "decision.html", actor, section="decisions", decision=decision,
                can_respond=can_respond, errors=errors, values=values, status=status)


@router.get("/decisions/{decision_id}")
def decision_page(request: Request, hub: HubDep, actor: PageActor,
                  decision_id: str) -> Response:
    return _decision_page(request, hub, actor, decision_id, errors=[],
                          values={"stance": "", "note": ""})


@router.post("/decisions/{decision_id}/responses")
def respond(request: Request, hub: HubDep, actor: PageActor, decision_id: str,
            form: FormDep) -> Response:
    values = {"stance": field(form, "stance"), "note": field(form, "note")}
    try:
        collab.respond(hub, actor, decision_id, values)
    except Invalid as exc:
        return _decision_page(request, hub, actor, decision_id, errors=[str(exc)],
                              values=values, status=422)
    return done(f"/decisions/{decision_id}", "responded", "#responses")
