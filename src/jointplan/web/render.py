"""How a page is made: templates, who is signing in, forms with CSRF, and error pages.

Every page route uses `PageRoute`, which turns the server's exceptions into
HTML: an object the partner may not see answers exactly like one that does
not exist (404, the same body), and a page asked for without a session
sends the browser to the sign-in form.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from starlette.datastructures import FormData

from ..caller import HubDep, current_actor
from ..files import InvalidWorkspace
from ..model import TimecodeError, format_time, parse_duration, parse_time
from ..server import plans
from ..server import t0 as realtime
from ..server.collab import unread_count
from ..server.concurrency import Stale
from ..server.hub import Forbidden, Invalid, NotFound, RateLimited
from ..server.t0 import local, local_iso
from ..services.accounts import AccountError, Actor
from ..store.db import describe_fault, is_outage

HERE = Path(__file__).parent
STATIC = HERE / "static"
MAX_UPLOAD = 1024 * 1024

# Pages carry one partner's data: nothing from elsewhere runs, nothing is cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInFirst(Exception):
    """A page was asked for without a live session."""


# -- formatting -------------------------------------------------------------------


def t(minutes: Any) -> str:
    """Minutes after T0 as planners write them (``T+1d6h``)."""
    return format_time(int(minutes)) if isinstance(minutes, int | float) else "—"


def window(pair: Any) -> str:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return "—"
    a, b = (t(x) if isinstance(x, int | float) else str(x) for x in pair)
    return f"{a} – {b}"


# -- real dates beside T+ (a declared scenario's T0, in the user's zone) ------------------

TIMECODE = re.compile(r"T[+-][0-9dhm]+")


def _declared(ctx: Any) -> list[tuple[str, datetime]]:
    """The declared T0s that apply on this page: those of ``t0_scope`` when the page names
    its scenarios, else every declared one the user may see."""
    t0s: list[tuple[str, datetime]] = ctx.get("t0s") or []
    scope = ctx.get("t0_scope")
    return [(s, at) for s, at in t0s if scope is None or s in scope]


def real(ctx: Any, minutes: int) -> str:
    """`` (2026-11-21 14:00 CET)`` for minutes after T0, per declared scenario; '' if none."""
    declared = _declared(ctx)
    if not declared:
        return ""
    zone = ctx.get("zone") or "UTC"
    dates = [local(at + timedelta(minutes=minutes), zone) for _, at in declared]
    if len(dates) == 1:
        return f" ({dates[0]})"
    return " (" + "; ".join(f"{s}: {d}" for (s, _), d in zip(declared, dates,
                                                             strict=True)) + ")"


def tick_dates(t0s: list[tuple[str, datetime]], zone: str,
               scope: set[str] | None) -> Callable[[int], str] | None:
    """For a chart's ticks: minutes after T0 -> the real date in ``zone``, named, when
    exactly one declared T0 applies to what the chart shows (``scope``: its top-level
    scenarios, None for any); None otherwise — with two T0s a tick has no single date,
    and the page's header and tables give each."""
    applying = [at for s, at in t0s if scope is None or s in scope]
    if len(applying) != 1:
        return None
    t0 = applying[0]
    return lambda minutes: local(t0 + timedelta(minutes=minutes), zone)


def chart_dates(hub: Any, actor: Actor, scope: set[str] | None) -> Callable[[int], str] | None:
    """`tick_dates` for this user: the declared T0s its partner may see, in its zone."""
    with hub.db.read() as session:
        try:
            declared = realtime.declarations(hub, session, actor)
        except NotFound:  # no workspace imported yet
            return None
        zone = realtime.zone_of(session, actor.user_id)
    return tick_dates([(d["scenario"], realtime.parse_instant(d["t0"])) for d in declared],
                      zone, scope)


def _with_real(ctx: Any, text: str) -> str:
    """Each T+ in ``text`` followed by its real date(s)."""
    if not _declared(ctx):
        return text

    def one(match: re.Match[str]) -> str:
        try:
            return match.group(0) + real(ctx, parse_time(match.group(0)))
        except TimecodeError:
            return match.group(0)
    return TIMECODE.sub(one, text)


@pass_context
def t_real(ctx: Any, minutes: Any) -> str:
    return _with_real(ctx, t(minutes))


@pass_context
def window_real(ctx: Any, pair: Any) -> str:
    return _with_real(ctx, window(pair))


@pass_context
def value_real(ctx: Any, value: Any) -> str:
    return _with_real(ctx, value_text(value))


@pass_context
def when(ctx: Any, text: Any) -> str:
    """A stored ISO timestamp (audit, observations, messages) in the user's zone, named."""
    return local_iso(text, ctx.get("zone") or "UTC")


def pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f} %"


def duration_text(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('likely')} (min {value.get('min')}, max {value.get('max')})"
    return "—" if value is None else str(value)


def likely_minutes(value: Any) -> int | None:
    """The planned duration in minutes (the `likely` one of three), or None if unreadable."""
    text = value.get("likely") if isinstance(value, dict) else value
    try:
        return parse_duration(str(text)) if text is not None else None
    except TimecodeError:
        return None


def value_text(value: Any) -> str:
    """A field's value as a planner reads it."""
    if isinstance(value, dict) and set(value) == {"likely", "min", "max"}:
        return duration_text(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def yaml_text(value: Any) -> str:
    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True))


def item_name(item: dict[str, Any]) -> str:
    """`PLAN/TASK` (or provision) of a named item in a conflict."""
    return f"{item['plan']}/{item.get('task') or item.get('provision')}"


GAP_KINDS = {
    "unanswered": "Unanswered",
    "late": "Starts late",
    # Not "early": provisions that stop before the need does are no good news.
    "early": "Ends before its window closes",
    "short": "Short",
}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(("html", "svg")), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["gap_kind"] = lambda kind: GAP_KINDS.get(kind, kind)
    env.filters.update(t=t_real, window=window_real, pct=pct, duration=duration_text,
                       item_name=item_name, val=value_real, yaml=yaml_text, when=when)
    return env


templates = Jinja2Templates(env=_env())

FLASH = {
    "observed": "Observation recorded. The likelihoods below include it.",
    "imported": "Imported: a new version of the plan is stored.",
    "edited": "Saved: the change is a new version of the plan.",
    "status": "The plan's status is changed (a new version).",
    "proposed": "Proposal sent. Only the plan's owner can accept it.",
    "accepted": "Proposal accepted: the plan has a new version.",
    "declined": "Proposal declined; the proposer is told your reason.",
    "thread": "Thread started.",
    "message": "Message posted.",
    "decision": "Decision opened; the partners asked are notified on their dashboards.",
    "responded": "Your partner's response is recorded.",
    "acknowledged": "Expectation acknowledged.",
    "withdrawn": "Proposal withdrawn; the plan's owner is told.",
    "closed": "Decision closed; the partners asked are told its outcome.",
    "read": "Marked as read.",
    "corrected": "Correction recorded: the corrected observation counts instead; the "
                 "original stays in its history.",
    "retracted": "Retraction recorded: the observation no longer counts; it stays in its "
                 "history.",
    "finding-status": "Status changed: every partner shown it sees the new status and your "
                      "reason.",
}


# -- who is asking ----------------------------------------------------------------


async def read_form(request: Request) -> AsyncIterator[FormData | None]:
    """A posted form; its `csrf` field stands in for the X-CSRF-Token header."""
    if request.method != "POST":
        yield None
        return
    form = await request.form(max_files=4, max_fields=200, max_part_size=MAX_UPLOAD)
    request.state.csrf_form = str(form.get("csrf") or "")
    try:
        yield form
    finally:
        await form.close()  # uploaded files are spooled to disk


FormDep = Annotated[FormData | None, Depends(read_form)]


def page_actor(request: Request, hub: HubDep, _: FormDep) -> Actor:
    """The signed-in actor of a page; the session's CSRF token is checked on every post."""
    try:
        return current_actor(request, hub, None)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise SignInFirst from None
        raise


PageActor = Annotated[Actor, Depends(page_actor)]


def field(form: FormData | None, name: str, default: str = "") -> str:
    value = form.get(name) if form is not None else None
    return value.strip() if isinstance(value, str) else default


def fields(form: FormData | None, name: str) -> list[str]:
    return [v for v in (form.getlist(name) if form is not None else []) if isinstance(v, str)]


def at_field(exc: Exception, controls: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Where a form's problem is shown: next to its control when the problem names a field
    the form has (`controls` maps the use case's field, or its first part, to the control's
    id), else in the list at the top. Returns (errors for the top, {control id: message})."""
    name = str(getattr(exc, "field", "") or "")
    for key in (name, name.split(".", 1)[0]):
        if key in controls:
            return [], {controls[key]: str(exc)}
    return [f"{name}: {exc}" if name else str(exc)], {}


# -- responses --------------------------------------------------------------------


def page(request: Request, name: str, actor: Actor | None, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    context.setdefault("flash", FLASH.get(request.query_params.get("done", "")))
    context.setdefault("section", "")
    context.setdefault("errors", [])
    context.setdefault("field_errors", {})  # a form's problems at their fields, by control id
    if actor is not None:
        context.update(header(request, actor, unread="unread" not in context))
    return templates.TemplateResponse(request, name, {
        "user": actor, "csrf": getattr(request.state, "csrf", ""), **context},
        status_code=status)


def header(request: Request, actor: Actor, *, unread: bool = False) -> dict[str, Any]:
    """What every page needs besides its own content, in one read: the declared T0s the
    user's partner may see and the user's time zone (to put real dates beside T+), the
    marking of what it may view, and (``unread``) its unread notifications."""
    hub = request.app.state.hub
    with hub.db.read() as session:
        try:
            declared = realtime.declarations(hub, session, actor)
            mark = plans.marking(hub, session, actor)
        except NotFound:  # no workspace imported yet
            declared, mark = [], "clear"
        zone = realtime.zone_of(session, actor.user_id)
        extra = {"unread": unread_count(session, actor)} if unread else {}
    return {"zone": zone, "declared": declared, "view_marking": mark, **extra,
            "t0s": [(d["scenario"], realtime.parse_instant(d["t0"])) for d in declared]}


def fragment(request: Request, name: str, actor: Actor, **context: Any) -> HTMLResponse:
    """A piece of a page, for htmx to swap in."""
    context.update(header(request, actor))
    return templates.TemplateResponse(request, name, {
        "user": actor, "csrf": getattr(request.state, "csrf", ""), **context})


def done(path: str, what: str, anchor: str = "") -> RedirectResponse:
    """After a successful post: back to a page, which says what happened (303)."""
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}done={what}{anchor}", status_code=303)


_ERRORS = {
    404: ("Not found", "There is nothing here that you may see. Check the address, or go "
          "back to the dashboard."),
    403: ("Not allowed", ""),
    503: ("Try again shortly", "The database is unavailable or busy; nothing was stored by "
          "this request. Wait a few seconds and try again."),
    405: ("Not available at this address", "This address does not answer that request; "
          "if you reloaded the page after sending a form, go back to the page the form was "
          "on, or to the dashboard."),
    500: ("Something went wrong", "The server could not answer this page. Nothing was "
          "changed by this request unless the page said so before. Try again, or go back to "
          "the dashboard; if it persists, tell the workspace's operator."),
    429: ("Too many analyses", "Each user, and each partner as a whole, may run a limited "
          "number of analyses a minute, because deconfliction can be probed. Wait a minute "
          "and reload the page."),
}


log = logging.getLogger("jointplan.server")
OUTAGE_RETRY_AFTER = 5
"""Seconds a browser is asked to wait after the database failed a page (as the API's 503)."""


def error_page(request: Request, status: int, message: str = "") -> HTMLResponse:
    """The same body for a missing object and one the partner may not see."""
    title, text = _ERRORS[status]
    response = templates.TemplateResponse(request, "error.html", {
        "title": title, "message": message or text, "status": status, "user": None,
        "section": "", "flash": None, "errors": [],
        # No navigation: an unknown address does not know who asks, and every 404 is one page.
        "csrf": ""}, status_code=status)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def safe_next(path: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//`) is a place to return to."""
    if path and re.fullmatch(r"/(?![/\\])[A-Za-z0-9/_.~?=&%#-]*", path):
        return path
    return "/"


HANDLED = (HTTPException, RequestValidationError, Invalid, Stale, InvalidWorkspace,
           AccountError)


class PageRoute(APIRoute):
    """A route that answers in HTML, whatever goes wrong, with the pages' security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInFirst:
                path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/signin?next={quote(path, safe='/')}",
                                            status_code=303)
            except NotFound:
                response = error_page(request, 404)
            except Forbidden as exc:
                response = error_page(request, 403, str(exc))
            except RateLimited as exc:
                response = error_page(request, 429)
                response.headers["Retry-After"] = str(exc.retry_after)
            except Exception as exc:
                if isinstance(exc, HTTPException) and exc.status_code == 403:
                    response = error_page(request, 403, "This form has expired or did not "
                                          "come from this site (its CSRF token is missing or "
                                          "wrong). Go back, reload the page and try again.")
                elif is_outage(exc):  # the API answers these in JSON (api/faults.py)
                    log.warning("database unavailable (%s %s): %s", request.method,
                                request.url.path, describe_fault(exc))
                    response = error_page(request, 503)
                    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
                elif isinstance(exc, HANDLED):  # the app's own handlers answer these
                    raise
                else:  # a bug: logged with its traceback, the browser gets a page, not a trace
                    log.exception("page %s %s failed", request.method, request.url.path)
                    response = error_page(request, 500)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route
