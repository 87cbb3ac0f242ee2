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
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from ..caller import HubDep, current_actor
from ..model import TimecodeError, format_time, parse_duration
from ..server.hub import Forbidden, NotFound, RateLimited
from ..services.accounts import Actor
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
    env.filters.update(t=t, window=window, pct=pct, duration=duration_text,
                       item_name=item_name, val=value_text, yaml=yaml_text)
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


# -- responses --------------------------------------------------------------------


def page(request: Request, name: str, actor: Actor | None, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    context.setdefault("flash", FLASH.get(request.query_params.get("done", "")))
    context.setdefault("section", "")
    context.setdefault("errors", [])
    return templates.TemplateResponse(request, name, {
        "user": actor, "csrf": getattr(request.state, "csrf", ""), **context},
        status_code=status)


def fragment(request: Request, name: str, actor: Actor, **context: Any) -> HTMLResponse:
    """A piece of a page, for htmx to swap in."""
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
        "csrf": getattr(request.state, "csrf", "")}, status_code=status)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def safe_next(path: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//`) is a place to return to."""
    if path and re.fullmatch(r"/(?![/\\])[A-Za-z0-9/_.~?=&%#-]*", path):
        return path
    return "/"


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
                else:
                    raise
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route
