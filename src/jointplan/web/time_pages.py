"""Real time: declare a scenario (T0) or withdraw it, choose a time zone, calendar feeds.

Every form calls the server's use cases (``server/t0.py``), which ask the gate;
a form's problem is shown next to its field with what was typed kept. Where the
workspace declares T0 by joint decision, the same forms ask the partners instead
(a decision each answers on its page), and an admin chooses the mode here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import t0
from ..server.hub import Hub, Invalid
from ..services.accounts import Actor
from ..sharing import actions
from .render import FormDep, PageActor, PageRoute, done, field, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TIME_FLASH = {"declared": "Scenario declared: T0 is now a date on every page.",
              "undeclared": "Declaration withdrawn (it stays in the audit log).",
              "zone": "Time zone saved: dates on every page are shown in it.",
              "revoked": "Calendar feed revoked: its address answers nothing any more.",
              "asked": "Asked: every partner that may see the scenario is asked to decide. "
                       "T0 changes once all of them concur.",
              "mode": "Saved: how this workspace declares T0."}


def _context(hub: Hub, actor: Actor) -> dict[str, Any]:
    with hub.db.read() as session:
        ws = hub.current(session).workspace
        rules = hub.rules(session)
        tops = [s for s in ws.scenarios if s.parent is None
                and rules.sees_scenario(actor.partner, s.id)]
        feeds = t0.feeds(session, actor)
        mode = t0.mode_of(session)["mode"]
        asked = t0.requests(hub, session, actor)
    return {"tops": tops, "feeds": feeds, "zones": t0.zones(), "field_errors": {},
            "values": {}, "new_feed": None, "section": "time", "t0_mode": mode,
            "requests": asked, "may_set_mode": bool(actions.may_set_t0_mode(actor.role))}


def _time_page(request: Request, hub: Hub, actor: Actor, *, status: int = 200,
               **extra: Any) -> Response:
    context = _context(hub, actor)
    context.update(extra)
    flash = TIME_FLASH.get(request.query_params.get("done", ""))
    return page(request, "time.html", actor, status=status, flash=flash, **context)


@router.get("/time")
def time_page(request: Request, hub: HubDep, actor: PageActor) -> Response:
    return _time_page(request, hub, actor)


def _instant(text: str, zone: str) -> str:
    """A `datetime-local` value read in the user's zone, as ISO with its zone; an ISO
    value with a zone is kept as typed."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the use case names the problem
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


@router.post("/time/declare")
def declare(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    with hub.db.read() as session:
        zone = t0.zone_of(session, actor.user_id)
    values = {"scenario": field(form, "scenario"), "t0": field(form, "t0"),
              "reason": field(form, "reason")}
    when = datetime.now(UTC).isoformat() if field(form, "now") else \
        _instant(values["t0"], zone)
    body = {"scenario": values["scenario"], "t0": when, "reason": values["reason"]}
    try:
        if _joint(hub):
            t0.request(hub, actor, {"action": "declare", **body})
        else:
            t0.declare(hub, actor, body)
    except Invalid as exc:
        return _time_page(request, hub, actor, status=422, values=values,
                          field_errors={exc.field: str(exc)})
    return done("/time", "asked" if _joint(hub) else "declared")


def _joint(hub: Hub) -> bool:
    with hub.db.read() as session:
        return bool(t0.mode_of(session)["mode"] == "joint")


@router.post("/time/undeclare")
def undeclare(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    if field(form, "confirm") != "yes":
        return _time_page(request, hub, actor, status=422,
                          field_errors={"confirm-" + field(form, "scenario"):
                                        "Tick the box to confirm."})
    if _joint(hub):
        t0.request(hub, actor, {"action": "undeclare", "scenario": field(form, "scenario"),
                                "reason": field(form, "reason")})
        return done("/time", "asked")
    t0.undeclare(hub, actor, field(form, "scenario"), field(form, "reason"))
    return done("/time", "undeclared")


@router.post("/time/mode")
def set_mode(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    try:
        t0.set_mode(hub, actor, field(form, "mode"))
    except Invalid as exc:
        return _time_page(request, hub, actor, status=422,
                          field_errors={"mode": str(exc)})
    return done("/time", "mode")


@router.post("/time/zone")
def set_zone(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    try:
        t0.set_zone(hub, actor, field(form, "timezone"))
    except Invalid as exc:
        return _time_page(request, hub, actor, status=422,
                          values={"timezone": field(form, "timezone")},
                          field_errors={exc.field: str(exc)})
    return done("/time", "zone")


@router.post("/time/feeds")
def new_feed(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    try:
        _, secret = t0.create_feed(hub, actor, field(form, "name"))
    except Invalid as exc:
        return _time_page(request, hub, actor, status=422, values={"name": field(form, "name")},
                          field_errors={exc.field: str(exc)})
    url = str(request.base_url).rstrip("/") + f"/calendar/{secret}.ics"
    return _time_page(request, hub, actor, new_feed=url)


@router.post("/time/feeds/{feed_id}/revoke")
def revoke_feed(request: Request, hub: HubDep, actor: PageActor, feed_id: str,
                form: FormDep) -> Response:
    if field(form, "confirm") != "yes":
        with hub.db.read() as session:  # another's, or revoked: missing, as revoke_feed says
            live = {f["id"] for f in t0.feeds(session, actor) if not f["revoked"]}
        if feed_id in live:
            return _time_page(request, hub, actor, status=422, field_errors={
                f"revoke-{feed_id}": "Tick the box: a revoked address never works again."})
    t0.revoke_feed(hub, actor, feed_id)
    return done("/time", "revoked")
