"""Working together: threads; proposals made from a task, conflict or gap, previewed before
sending and accepting; joint decisions with a deadline and an outcome; notifications;
observations confirmed before posting, then corrected or retracted."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..caller import HubDep
from ..model import TimecodeError, parse_time
from ..server import collab, findings, plans
from ..server.hub import Hub, Invalid, RateLimited, allow
from ..services.accounts import Actor
from ..sharing import actions
from .conflict_pages import conflict_page, gap_page
from .plan_pages import _again as plan_again
from .render import (
    FormDep,
    PageActor,
    PageRoute,
    at_field,
    done,
    field,
    fields,
    page,
    safe_next,
)
from .shape import find_item, find_plan

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]
SUBJECT_KINDS = ("scenario", "plan", "task", "conflict", "gap")


def _partners(hub: Hub, actor: Actor) -> tuple[Json, list[str]]:
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    return view, [p["code"] for p in view["partners"]]


# -- threads ----------------------------------------------------------------------------


def _threads_page(request: Request, hub: Hub, actor: Actor, *, values: Json,
                  errors: list[str], status: int = 200,
                  field_errors: dict[str, str] | None = None) -> Response:
    with hub.db.read() as session:
        threads = collab.list_threads(hub, session, actor)
    _, partners = _partners(hub, actor)
    return page(request, "threads.html", actor, section="threads", threads=threads,
                partners=partners, kinds=SUBJECT_KINDS, values=values, errors=errors,
                field_errors=field_errors or {}, status=status)


@router.get("/threads")
def threads(request: Request, hub: HubDep, actor: PageActor, kind: str = "",
            ref: str = "", title: str = "") -> Response:
    return _threads_page(request, hub, actor, errors=[],
                         values={"kind": kind, "ref": ref, "title": title, "text": "",
                                 "share": []})


EMBEDDED: dict[str, Callable[..., Response]] = {
    "conflict": conflict_page, "gap": gap_page, "plan": plan_again}
"""The pages a thread form is part of, by the thread's subject: a problem comes back there."""


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
        on = field(form, "on")
        if on in EMBEDDED and on == values["kind"]:  # the form on a conflict, gap or plan page
            top, wrong = at_field(exc, {"title": f"thread-title-{on}",
                                        "text": f"thread-text-{on}",
                                        "share": f"thread-share-{on}"})
            return EMBEDDED[on](request, hub, actor, values["ref"], errors=top,
                                field_errors=wrong, thread_values=values, status=422)
        top, wrong = at_field(exc, {"subject.kind": "t-kind", "subject.ref": "t-ref",
                                    "subject": "t-ref", "title": "t-title", "text": "t-text",
                                    "share": "t-share"})
        return _threads_page(request, hub, actor, values=values, status=422, errors=top,
                             field_errors=wrong)
    return done(f"/threads/{thread_id}", "thread")


def _thread_page(request: Request, hub: Hub, actor: Actor, thread_id: str, *,
                 errors: list[str], text: str = "", status: int = 200,
                 field_errors: dict[str, str] | None = None) -> Response:
    with hub.db.read() as session:
        thread = collab.get_thread(hub, session, actor, thread_id)
    return page(request, "thread.html", actor, section="threads", thread=thread,
                errors=errors, text=text, field_errors=field_errors or {}, status=status)


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
        top, wrong = at_field(exc, {"text": "reply-text", "share": "reply-share"})
        return _thread_page(request, hub, actor, thread_id, errors=top, field_errors=wrong,
                            text=text, status=422)
    return done(f"/threads/{thread_id}", "message", "#messages")


# -- proposals --------------------------------------------------------------------------


@router.get("/proposals")
def proposals(request: Request, hub: HubDep, actor: PageActor) -> Response:
    with hub.db.read() as session:
        rows = collab.list_proposals(hub, session, actor)
    return page(request, "proposals.html", actor, section="proposals", proposals=rows)


def _int_or_text(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        return value


def _change(values: Json) -> Json:
    kind = values["kind"]
    if kind == "move-start":
        return {"kind": kind, "task": values["task"], "start": values["start"]}
    if kind == "set-quantity":
        return {"kind": kind, "task": values["task"], "resource": values["resource"],
                "quantity": _int_or_text(values["quantity"])}
    provision: Json = {"id": values["prov_id"], "what": values["prov_what"],
                       "window": [values["prov_start"], values["prov_end"]],
                       "answers": values["answers"]}
    if values["prov_resource"]:
        provision["uses"] = {values["prov_resource"]: _int_or_text(values["prov_quantity"])}
    return {"kind": kind, "provision": provision}


PROPOSAL_FIELDS = ("plan", "task", "target", "kind", "start", "resource", "quantity", "reason",
                   "prov_id", "prov_what", "prov_start", "prov_end", "prov_resource",
                   "prov_quantity", "answers", "about_kind", "about_ref")


def _about(values: Json) -> Json | None:
    if values["about_kind"] in ("conflict", "gap") and values["about_ref"]:
        return {"kind": values["about_kind"], "ref": values["about_ref"]}
    return None


def _gap_context(hub: Hub, actor: Actor, values: Json) -> Json | None:
    """A provision answering the gap: the expectation, and the plans of the partner asked."""
    with hub.db.read() as session:
        finding = findings.get_finding(hub, session, actor, "gap", values["about_ref"])
        view = plans.workspace_view(hub, session, actor)
    if not finding["present"] or not finding["entries"]:
        return None
    gap = finding["entries"][0]
    pid, _, eid = gap["expectation"].partition("/")
    expecting = find_plan(view, pid) or {}
    if expecting.get("owner") != actor.partner:
        return None
    expectation = find_item(view, pid, "expects", eid) or {"id": eid}
    return {"gap": gap, "expectation": expectation,
            "targets": [p for p in view["plans"] if p.get("owner") == gap["from"]]}


PROPOSAL_CONTROLS = {"change.start": "n-start", "change.quantity": "n-qty",
                     "change.resource": "n-res"}
"""The proposal form's controls for a task, by the use case's field (the rest on top)."""
PROVISION_CONTROLS = {"plan": "g-plan"}
"""The provision form's control the use case names; its other fields are read here."""
PROVISION_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def _provision_problems(values: Json) -> dict[str, str]:
    """A proposed provision's fields, checked where the form can say which is wrong (the
    server checks the whole again, with the plan): {control id: message}."""
    wrong: dict[str, str] = {}
    if not PROVISION_ID.fullmatch(values["prov_id"]):
        wrong["g-id"] = ("Give a short name of lowercase letters, digits and dashes, like "
                         "answer-shelter.")
    if not values["prov_what"]:
        wrong["g-what"] = "Say what would be provided."
    times: dict[str, int] = {}
    for name, control in (("prov_start", "g-start"), ("prov_end", "g-end")):
        try:
            times[name] = parse_time(values[name])
        except TimecodeError:
            wrong[control] = (f"{values[name]!r} is not a time: write it like the plans, "
                              "e.g. T+1d6h." if values[name] else "Give a time, e.g. T+1d6h.")
    if len(times) == 2 and times["prov_end"] <= times["prov_start"]:
        wrong["g-end"] = "The provision must end after it starts."
    if values["prov_resource"] and not values["prov_quantity"].isdigit():
        wrong["g-qty"] = "Give a whole number (0 or more) of the resource."
    return wrong


def _controls(values: Json) -> dict[str, str]:
    return PROVISION_CONTROLS if values["kind"] == "add-provision" else PROPOSAL_CONTROLS


def _proposal_form(request: Request, hub: Hub, actor: Actor, values: Json,
                   errors: list[str], status: int = 200,
                   field_errors: dict[str, str] | None = None) -> Response:
    """The form for one item (a task, or a provision answering a gap), or the items to
    choose from: never a typed id."""
    context: Json = {"options": None, "gap": None, "choices": [], "plan_choice": None}
    if values["about_kind"] == "gap" and values["about_ref"]:
        context["gap"] = _gap_context(hub, actor, values)
    if context["gap"] is not None:
        values["kind"] = "add-provision"
        values["answers"] = context["gap"]["gap"]["expectation"]
    elif values["plan"] and values["task"]:
        with hub.db.read() as session:
            context["options"] = collab.change_options(hub, session, actor, values["plan"],
                                                       values["task"])
        kinds = [c["kind"] for c in context["options"]["changes"]]
        if values["kind"] not in kinds:
            values["kind"] = kinds[0] if kinds else ""
    else:
        view, _ = _partners(hub, actor)
        others = [p for p in view["plans"] if p.get("owner") not in (None, actor.partner)]
        if values["plan"]:
            others = [p for p in others if p["id"] == values["plan"]]
            with hub.db.read() as session:
                context["plan_choice"] = collab.change_options(hub, session, actor,
                                                               values["plan"])
        context["choices"] = others
    return page(request, "proposal_new.html", actor, section="proposals", values=values,
                errors=errors, resources=_partners(hub, actor)[0]["resources"],
                field_errors=field_errors or {}, status=status, **context)


def _form_values(source: Any) -> Json:
    values = {k: source(k) for k in PROPOSAL_FIELDS}
    if values["target"] and not values["task"]:  # the older form's PLAN/TASK choice
        values["plan"], _, values["task"] = values["target"].partition("/")
    return values


@router.get("/proposals/new")
def proposal_form(request: Request, hub: HubDep, actor: PageActor) -> Response:
    values = _form_values(lambda k: request.query_params.get(k, "").strip())
    return _proposal_form(request, hub, actor, values, [])


def _effect_or_error(call: Any) -> tuple[Json | None, str]:
    try:
        return call(), ""
    except Invalid as exc:
        return None, f"{exc.field}: {exc}"
    except RateLimited:
        return None, ("The effect could not be worked out now: too many analyses this "
                      "minute. Wait a minute and reload the page.")


@router.post("/proposals/preview")
def proposal_preview(request: Request, hub: HubDep, actor: PageActor,
                     form: FormDep) -> Response:
    """Before sending: what the change would do to the conflicts and gaps the sender sees
    (a read; nothing is stored)."""
    values = _form_values(lambda k: field(form, k))
    if values["kind"] == "add-provision" and (wrong := _provision_problems(values)):
        return _proposal_form(request, hub, actor, values, [], 422, wrong)
    try:
        effect = collab.preview_proposal(hub, actor, {"plan": values["plan"],
                                                      "change": _change(values)})
    except Invalid as exc:
        top, wrong = at_field(exc, _controls(values))
        return _proposal_form(request, hub, actor, values, top, 422, wrong)
    return page(request, "proposal_preview.html", actor, section="proposals", values=values,
                effect=effect, fields=PROPOSAL_FIELDS)


@router.post("/proposals")
def new_proposal(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    values = _form_values(lambda k: field(form, k))
    if values["kind"] == "add-provision" and (wrong := _provision_problems(values)):
        return _proposal_form(request, hub, actor, values, [], 422, wrong)
    try:
        proposal_id = collab.create_proposal(hub, actor, {
            "plan": values["plan"], "change": _change(values), "reason": values["reason"],
            "about": _about(values)})
    except Invalid as exc:
        top, wrong = at_field(exc, _controls(values))
        return _proposal_form(request, hub, actor, values, top, 422, wrong)
    return done(f"/proposals/{proposal_id}", "proposed")


def _proposal_page(request: Request, hub: Hub, actor: Actor, proposal_id: str, *,
                   errors: list[str], status: int = 200, confirm: str = "",
                   note: str = "", values: Json | None = None,
                   field_errors: dict[str, str] | None = None) -> Response:
    with hub.db.read() as session:
        proposal = collab.get_proposal(hub, session, actor, proposal_id)
    is_open = proposal["status"] == "open"
    can_decide = bool(actions.may_decide(actor.partner, actor.role, proposal["owner"])) \
        and is_open
    can_withdraw = bool(actions.may_withdraw(actor.partner, actor.role, proposal["partner"])) \
        and is_open
    effect, effect_error = (_effect_or_error(lambda: collab.proposal_effect(hub, actor,
                                                                            proposal_id))
                            if is_open else (None, ""))
    return page(request, "proposal.html", actor, section="proposals", proposal=proposal,
                can_decide=can_decide, can_withdraw=can_withdraw, errors=errors,
                effect=effect, effect_error=effect_error, confirm=confirm, note=note,
                values=values or {"accept": "", "decline": ""},
                field_errors=field_errors or {}, status=status)


@router.get("/proposals/{proposal_id}")
def proposal_page(request: Request, hub: HubDep, actor: PageActor,
                  proposal_id: str) -> Response:
    return _proposal_page(request, hub, actor, proposal_id, errors=[])


@router.post("/proposals/{proposal_id}/{answer}")
def decide(request: Request, hub: HubDep, actor: PageActor, proposal_id: str, answer: str,
           form: FormDep) -> Response:
    if answer not in ("accept", "decline", "withdraw"):
        return _proposal_page(request, hub, actor, proposal_id, errors=["Choose accept, "
                                                                         "decline or withdraw."],
                              status=422)
    reason = field(form, "reason")
    kept = {"accept": reason if answer == "accept" else "",
            "decline": reason if answer == "decline" else ""}
    if field(form, "confirm") != "yes":
        with hub.db.read() as session:  # one it may not see: missing; one it may not answer: 403
            seen = collab.get_proposal(hub, session, actor, proposal_id)
        allow(actions.may_withdraw(actor.partner, actor.role, seen["partner"])
              if answer == "withdraw" else actions.may_decide(actor.partner, actor.role,
                                                              seen["owner"]))
        if answer == "decline" and seen["status"] == "open":
            # Final: the box on the form must be ticked (the reason is checked with it).
            wrong = {"decline-confirm": "Tick the box: a declined proposal cannot be "
                     "accepted later."}
            if not reason:
                wrong["decline-reason"] = "Say why you decline: the proposer is told."
            return _proposal_page(request, hub, actor, proposal_id, errors=[], values=kept,
                                  field_errors=wrong, status=422)
        if answer != "decline":
            # Irreversible: the page asks again, showing what will happen (nothing stored).
            return _proposal_page(request, hub, actor, proposal_id, errors=[],
                                  confirm=answer, note=reason)
    try:
        if answer == "withdraw":
            collab.withdraw_proposal(hub, actor, proposal_id)
            return done(f"/proposals/{proposal_id}", "withdrawn")
        result = collab.decide_proposal(hub, actor, proposal_id, answer == "accept",
                                        reason or None)
    except Invalid as exc:
        top, wrong = at_field(exc, {"reason": f"{answer}-reason"})
        return _proposal_page(request, hub, actor, proposal_id, errors=top,
                              field_errors=wrong, values=kept, status=422)
    if answer == "accept":
        return done(f"/plans/{result['plan']}", "accepted", "#history")
    return done(f"/proposals/{proposal_id}", "declined")


# -- decisions --------------------------------------------------------------------------


DECISION_FIELDS = ("title", "text", "deadline")


def _decisions_page(request: Request, hub: Hub, actor: Actor, *, values: Json,
                    errors: list[str], status: int = 200,
                    field_errors: dict[str, str] | None = None) -> Response:
    with hub.db.read() as session:
        rows = collab.list_decisions(hub, session, actor)
    _, partners = _partners(hub, actor)
    return page(request, "decisions.html", actor, section="decisions", decisions=rows,
                partners=partners, values=values, errors=errors,
                field_errors=field_errors or {}, status=status)


@router.get("/decisions")
def decisions(request: Request, hub: HubDep, actor: PageActor) -> Response:
    return _decisions_page(request, hub, actor, values={"title": "", "text": "",
                                                        "deadline": "", "partners": []},
                           errors=[])


def _deadline(value: str) -> str:
    """A `datetime-local` value is UTC, as the form says; one with a zone is kept."""
    if value and len(value) <= 16 and "T" in value:
        return value + "Z"
    return value


@router.post("/decisions")
def new_decision(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    values: Json = {k: field(form, k) for k in DECISION_FIELDS}
    values["partners"] = fields(form, "partners")
    try:
        decision_id = collab.create_decision(hub, actor, {
            **values, "deadline": _deadline(values["deadline"]) or None})
    except Invalid as exc:
        top, wrong = at_field(exc, {"title": "d-title", "text": "d-text",
                                    "deadline": "d-deadline", "partners": "d-partners"})
        return _decisions_page(request, hub, actor, values=values, status=422, errors=top,
                               field_errors=wrong)
    return done(f"/decisions/{decision_id}", "decision")


def _decision_page(request: Request, hub: Hub, actor: Actor, decision_id: str, *,
                   errors: list[str], values: Json, status: int = 200,
                   change: bool = False, field_errors: dict[str, str] | None = None
                   ) -> Response:
    with hub.db.read() as session:
        decision = collab.get_decision(hub, session, actor, decision_id)
    is_open = decision["status"] == "open"
    may_respond = bool(actions.may_respond(actor.partner, actor.role, decision["partners"]))
    answered = decision["responses"].get(actor.partner)
    # Once answered, the form gives way to the answer (it can still be changed on request).
    can_respond = may_respond and is_open and (answered is None or change or bool(errors)
                                               or values.get("form") == "respond")
    can_close = bool(actions.may_close_decision(actor.partner, actor.role,
                                                decision["partner"])) and is_open
    return page(request, "decision.html", actor, section="decisions", decision=decision,
                can_respond=can_respond, may_respond=may_respond and is_open,
                answered=answered, can_close=can_close, errors=errors, values=values,
                field_errors=field_errors or {}, status=status)


@router.get("/decisions/{decision_id}")
def decision_page(request: Request, hub: HubDep, actor: PageActor, decision_id: str,
                  change: str = "") -> Response:
    return _decision_page(request, hub, actor, decision_id, errors=[],
                          values={"stance": "", "note": "", "outcome": ""},
                          change=change == "1")


@router.post("/decisions/{decision_id}/responses")
def respond(request: Request, hub: HubDep, actor: PageActor, decision_id: str,
            form: FormDep) -> Response:
    values = {"stance": field(form, "stance"), "note": field(form, "note"), "outcome": "",
              "form": "respond"}
    try:
        collab.respond(hub, actor, decision_id, {"stance": values["stance"],
                                                 "note": values["note"]})
    except Invalid as exc:
        top, wrong = at_field(exc, {"stance": "r-stance", "note": "r-note"})
        return _decision_page(request, hub, actor, decision_id, errors=top,
                              field_errors=wrong, values=values, status=422)
    return done(f"/decisions/{decision_id}", "responded", "#responses")


@router.post("/decisions/{decision_id}/close")
def close_decision(request: Request, hub: HubDep, actor: PageActor, decision_id: str,
                   form: FormDep) -> Response:
    values = {"stance": "", "note": "", "outcome": field(form, "outcome"), "form": "close"}
    if field(form, "confirm") != "yes":
        with hub.db.read() as session:  # one it may not see: missing; one it may not close: 403
            seen = collab.get_decision(hub, session, actor, decision_id)
        allow(actions.may_close_decision(actor.partner, actor.role, seen["partner"]))
        if seen["status"] == "open":  # final: no response is taken after
            wrong = {"c-confirm": "Tick the box: a closed decision takes no more responses."}
            if not values["outcome"]:
                wrong["c-outcome"] = "Say what was decided: every partner asked is told."
            return _decision_page(request, hub, actor, decision_id, errors=[],
                                  field_errors=wrong, values=values, status=422)
    try:
        collab.close_decision(hub, actor, decision_id, {"outcome": values["outcome"]})
    except Invalid as exc:
        top, wrong = at_field(exc, {"outcome": "c-outcome"})
        return _decision_page(request, hub, actor, decision_id, errors=top,
                              field_errors=wrong, values=values, status=422)
    return done(f"/decisions/{decision_id}", "closed")


# -- notifications ----------------------------------------------------------------------


@router.get("/notifications")
def notifications(request: Request, hub: HubDep, actor: PageActor) -> Response:
    with hub.db.read() as session:
        rows = collab.notifications(hub, session, actor)
    return page(request, "notifications.html", actor, section="notifications",
                notifications=rows)


@router.post("/notifications/read")
def mark_read(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    ids = fields(form, "id")
    collab.mark_read(hub, actor, ids or None)
    if field(form, "open") == "yes" and len(ids) == 1:
        # "Open": read, then on to the notification's own page (a GET never marks read).
        with hub.db.read() as session:
            link = next((n.get("link") for n in collab.notifications(hub, session, actor)
                         if n["id"] == ids[0]), None)
        if link:
            return RedirectResponse(safe_next(link), status_code=303)
    target = field(form, "next")
    if target.startswith("/") and not target.startswith("//"):
        return RedirectResponse(safe_next(target), status_code=303)
    return done("/notifications", "read")


# -- observations: confirm, correct, retract --------------------------------------------


def _observation_body(values: Json, actor: Actor) -> Json:
    body: Json = {"indicator": values["indicator"]}
    if values["seen"] in ("yes", "no"):
        body["seen"] = values["seen"] == "yes"
    if values["at"]:
        body["at"] = values["at"]
    share = values["share"]
    if "all" in share:
        body["share"] = "all"
    elif [p for p in share if p != actor.partner]:
        body["share"] = [p for p in share if p != actor.partner]
    return body


@router.post("/scenarios/observations/preview")
def observation_preview(request: Request, hub: HubDep, actor: PageActor,
                        form: FormDep) -> Response:
    """Before reporting: the likelihoods now and with the observation (nothing stored)."""
    values = {"indicator": field(form, "indicator"), "seen": field(form, "seen"),
              "at": field(form, "at"), "share": fields(form, "share")}

    def again(top: list[str], wrong: dict[str, str]) -> Response:
        """The form once more, what was chosen kept, each problem at its field."""
        view, partners = _partners(hub, actor)
        return page(request, "observation_confirm.html", actor, section="scenarios",
                    status=422, effect=None, values=values, form_values=values,
                    indicators=view["indicators"], partners=partners, errors=top,
                    field_errors=wrong)

    if values["seen"] not in ("yes", "no"):
        return again([], {"seen": "Say whether the indicator was seen (yes or no)."})
    try:
        effect = collab.observation_effect(hub, actor, _observation_body(values, actor))
    except Invalid as exc:
        return again(*at_field(exc, {"indicator": "indicator", "seen": "seen", "at": "at",
                                     "share": "observe-share"}))
    with hub.db.read() as session:
        titles = {s["id"]: s["title"]
                  for s in plans.workspace_view(hub, session, actor)["scenarios"]}
    return page(request, "observation_confirm.html", actor, section="scenarios",
                effect=effect, values=values, titles=titles)


def _observation_page(request: Request, hub: Hub, actor: Actor, observation_id: str, *,
                      errors: list[str], values: Json, status: int = 200,
                      field_errors: dict[str, str] | None = None) -> Response:
    with hub.db.read() as session:
        observation = collab.get_observation(hub, session, actor, observation_id)
    can_amend = (bool(actions.may_amend_observation(actor.partner, actor.role,
                                                    observation["by"]))
                 and observation["state"] == "current")
    return page(request, "observation.html", actor, section="scenarios",
                observation=observation, can_amend=can_amend, errors=errors, values=values,
                field_errors=field_errors or {}, status=status)


@router.get("/scenarios/observations/{observation_id}")
def observation_page(request: Request, hub: HubDep, actor: PageActor,
                     observation_id: str) -> Response:
    return _observation_page(request, hub, actor, observation_id, errors=[],
                             values={"seen": "", "at": "", "reason": "", "kind": ""})


@router.post("/scenarios/observations/{observation_id}/{kind}")
def amend_observation(request: Request, hub: HubDep, actor: PageActor, observation_id: str,
                      kind: str, form: FormDep) -> Response:
    values = {"seen": field(form, "seen"), "at": field(form, "at"),
              "reason": field(form, "reason"), "kind": kind}
    if kind not in ("correct", "retract"):
        return _observation_page(request, hub, actor, observation_id, values=values,
                                 errors=["Choose correct or retract."], status=422)
    prefix = "c" if kind == "correct" else "x"
    if kind == "retract" and field(form, "confirm") != "yes":
        with hub.db.read() as session:  # one it may not see: missing; not its own: 403
            seen = collab.get_observation(hub, session, actor, observation_id)
        allow(actions.may_amend_observation(actor.partner, actor.role, seen["by"]))
        if seen["state"] == "current":  # final: it never counts again
            wrong = {"x-confirm": "Tick the box: a retracted observation stops counting "
                     "for good."}
            if not values["reason"]:
                wrong["x-reason"] = "Say why it is retracted."
            return _observation_page(request, hub, actor, observation_id, values=values,
                                     errors=[], field_errors=wrong, status=422)
    body: Json = {"reason": values["reason"]}
    if kind == "correct":
        if values["seen"] in ("yes", "no"):
            body["seen"] = values["seen"] == "yes"
        if values["at"]:
            body["at"] = values["at"]
    try:
        new_id = collab.amend_observation(hub, actor, observation_id, kind, body)
    except Invalid as exc:
        top, wrong = at_field(exc, {"reason": f"{prefix}-reason", "seen": "c-seen",
                                    "at": "c-at"} if kind == "correct"
                              else {"reason": "x-reason"})
        return _observation_page(request, hub, actor, observation_id, values=values,
                                 errors=top, field_errors=wrong, status=422)
    return done(f"/scenarios/observations/{new_id}",
                "corrected" if kind == "correct" else "retracted")
