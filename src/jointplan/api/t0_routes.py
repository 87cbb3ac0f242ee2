"""Real time on the API: declared T0s, the caller's time zone, calendar feeds.

``GET /calendar/{secret}.ics`` is a capability URL, not an API route: calendar
clients cannot send an ``Authorization`` header, so a read-only secret of scope
``calendar`` in the address opens that user's partner's timeline and nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from ..server import t0
from ..server.hub import NotFound
from .deps import CurrentActor, HubDep
from .reports import Closed, T0Out
from .routes import ContractRoute
from .schemas import Strict
from .typed import many, one

router = APIRouter(prefix="/api", tags=["real time"], route_class=ContractRoute)
feeds_router = APIRouter(tags=["real time"])


class DeclareIn(Strict):
    scenario: str = Field(max_length=128, description="a top-level scenario's id")
    t0: str = Field(max_length=64, description="ISO 8601 with a zone: 2026-11-20T08:00Z")
    reason: str = Field("", max_length=2000)


class TimezoneIn(Strict):
    timezone: str = Field(max_length=64, description="an IANA name (Europe/Oslo) or UTC")


class TimezoneOut(Closed):
    timezone: str


class FeedOut(Closed):
    id: str
    name: str
    created: str
    revoked: str | None


class FeedIn(Strict):
    name: str = Field(min_length=1, max_length=128)


class NewFeed(Closed):
    id: str
    secret: str = Field(description="shown once; only its SHA-256 is stored")
    url: str = Field(description="the subscription address: give it to a calendar client")


class T0ModeOut(Closed):
    """How the workspace declares T0."""

    mode: Literal["planner", "joint"] = Field(
        description="`planner`: any planner of a partner that may see the scenario declares "
        "it (the default); `joint`: a request opens a decision asking every partner that may "
        "see the scenario, and T0 changes when all of them concur")
    changed: str | None = Field(description="when it was last set, ISO 8601 in UTC; null "
                                "while the default holds")


class T0ModeIn(Strict):
    mode: Literal["planner", "joint"]


class T0RequestIn(Strict):
    action: Literal["declare", "undeclare"] = Field(
        "declare", description="declare the scenario at `t0`, or withdraw its declaration")
    scenario: str = Field(max_length=128, description="a top-level scenario's id")
    t0: str | None = Field(None, max_length=64,
                           description="for `declare`: ISO 8601 with a zone, 2026-11-20T08:00Z")
    reason: str = Field("", max_length=2000)
    deadline: str | None = Field(None, max_length=64,
                                 description="when the partners asked should have answered, "
                                 "ISO 8601 with a zone")


class T0RequestOut(Closed):
    """A request to declare (or withdraw) a scenario's T0, put to a joint decision."""

    id: str = Field(description="the decision's id: answer at /api/decisions/{id}/responses")
    title: str = Field(description="the decision's title, naming the scenario and the T0")
    action: Literal["declare", "undeclare"]
    scenario: str
    t0: str | None = Field(description="for `declare`: the instant asked for, ISO 8601 in UTC")
    reason: str
    partner: str = Field(description="the partner that asked")
    by: str = Field(description="the planner that asked (username)")
    status: Literal["open", "accepted", "not accepted"]
    asked: list[str] = Field(description="every partner that may see the scenario")
    concurred: list[str] = Field(description="the partners asked that concur so far")
    created: str


@router.get("/workspace/t0-mode", response_model=T0ModeOut)
def get_mode(hub: HubDep, actor: CurrentActor) -> T0ModeOut:
    """How the workspace declares T0: by any planner (`planner`), or by joint decision."""
    with hub.db.read() as session:
        return one(T0ModeOut, t0.mode_of(session))


@router.put("/workspace/t0-mode", response_model=T0ModeOut)
def set_mode(body: T0ModeIn, hub: HubDep, actor: CurrentActor) -> T0ModeOut:
    """Set how the workspace declares T0 (an admin); audited."""
    return one(T0ModeOut, t0.set_mode(hub, actor, body.mode))


@router.get("/t0/requests", response_model=list[T0RequestOut])
def list_requests(hub: HubDep, actor: CurrentActor) -> list[T0RequestOut]:
    """The requests to declare or withdraw a T0 the caller's partner opened or is asked in."""
    with hub.db.read() as session:
        return many(T0RequestOut, t0.requests(hub, session, actor))


@router.post("/t0/requests", status_code=201, response_model=T0RequestOut)
def new_request(body: T0RequestIn, hub: HubDep, actor: CurrentActor) -> T0RequestOut:
    """Where the workspace declares T0 by joint decision, ask every partner that may see the
    scenario to declare it (or withdraw it); audited. T0 changes once all of them concur."""
    return one(T0RequestOut, t0.request(hub, actor, body.model_dump()))


@router.get("/t0", response_model=list[T0Out])
def list_t0(hub: HubDep, actor: CurrentActor) -> list[T0Out]:
    """The declared scenarios the caller's partner may see, with their T0."""
    with hub.db.read() as session:
        return many(T0Out, t0.declarations(hub, session, actor))


@router.post("/t0", status_code=201, response_model=T0Out)
def declare(body: DeclareIn, hub: HubDep, actor: CurrentActor) -> T0Out:
    """Declare a top-level scenario at a real time (a planner); audited. A new declaration
    of the same scenario replaces the current one. Where the workspace declares T0 by joint
    decision, 403: ask the partners (`POST /api/t0/requests`)."""
    return one(T0Out, t0.declare(hub, actor, body.model_dump()))


@router.delete("/t0/{scenario}", status_code=204, response_class=Response)
def undeclare(hub: HubDep, actor: CurrentActor,
              scenario: Annotated[str, Path(max_length=128)]) -> Response:
    """Withdraw a scenario's declaration (a planner); recorded, never deleted. Where the
    workspace declares T0 by joint decision, 403: ask the partners."""
    t0.undeclare(hub, actor, scenario)
    return Response(status_code=204)


@router.put("/me/timezone", response_model=TimezoneOut)
def set_timezone(body: TimezoneIn, hub: HubDep, actor: CurrentActor) -> TimezoneOut:
    """The time zone the caller's pages show real dates in (UTC until set)."""
    return TimezoneOut(timezone=t0.set_zone(hub, actor, body.timezone))


@router.get("/calendar-feeds", response_model=list[FeedOut])
def list_feeds(hub: HubDep, actor: CurrentActor) -> list[FeedOut]:
    """The caller's own calendar feeds (never their secrets)."""
    with hub.db.read() as session:
        return many(FeedOut, t0.feeds(session, actor))


@router.post("/calendar-feeds", status_code=201, response_model=NewFeed)
def new_feed(body: FeedIn, hub: HubDep, actor: CurrentActor, request: Request) -> NewFeed:
    """A read-only calendar subscription URL for the caller; audited."""
    feed_id, secret = t0.create_feed(hub, actor, body.name)
    return NewFeed(id=feed_id, secret=secret, url=feed_url(request, secret))


@router.delete("/calendar-feeds/{feed_id}", status_code=204, response_class=Response)
def revoke_feed(hub: HubDep, actor: CurrentActor,
                feed_id: Annotated[str, Path(max_length=64)]) -> Response:
    """Revoke one of the caller's feeds: its URL answers 404 from then on; audited."""
    t0.revoke_feed(hub, actor, feed_id)
    return Response(status_code=204)


def feed_url(request: Request, secret: str) -> str:
    return str(request.base_url).rstrip("/") + f"/calendar/{secret}.ics"


@feeds_router.get("/calendar/{name}", response_class=Response, include_in_schema=False)
def calendar(name: Annotated[str, Path(max_length=200)], hub: HubDep) -> Response:
    """The timeline a feed secret opens; 404, the same body, for unknown and revoked."""
    if not name.endswith(".ics"):
        raise NotFound("calendar")
    content = t0.feed_calendar(hub, name.removesuffix(".ics"))
    return Response(content, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
