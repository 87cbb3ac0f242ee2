"""The pages' router: sign in and out, the dashboard, and scenarios with indicators.

Plans, conflicts and collaboration have their own modules; all of them ask
the server's use cases, which ask the sharing gate, and draw only what those
return.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..caller import SESSION_COOKIE, HubDep
from ..server import analysis, collab, findings, plans
from ..server.hub import Invalid
from ..services import accounts
from . import (
    collab_pages,
    conflict_pages,
    exercise_pages,
    plan_pages,
    resolution_pages,
    time_pages,
)
from .render import (
    FormDep,
    PageActor,
    PageRoute,
    done,
    field,
    fields,
    fragment,
    page,
    safe_next,
)
from .shape import gap_summary, leaves, scenario_tree, subject_link

SIGNIN_COOKIE = "jointplan_signin"
router = APIRouter(route_class=PageRoute, include_in_schema=False)
for sub in (plan_pages.router, conflict_pages.router, collab_pages.router,
            resolution_pages.router, time_pages.router, exercise_pages.router):
    router.include_router(sub)


# -- signing in and out -----------------------------------------------------------


def _signin_page(request: Request, next_: str, *, status: int = 200,
                 error: str = "", username: str = "") -> Response:
    # The sign-in form carries a one-off token that must match a cookie set with
    # it, so another site cannot sign a browser in to an account of its choosing.
    token = secrets.token_urlsafe(24)
    response = page(request, "signin.html", None, status=status, next=safe_next(next_),
                    token=token, error=error, username=username, section="signin")
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=3600, path="/signin")
    return response


@router.get("/signin")
def signin_form(request: Request, next: str = "/") -> Response:
    return _signin_page(request, next)


@router.post("/signin")
def signin(request: Request, hub: HubDep, form: FormDep) -> Response:
    next_ = field(form, "next", "/")
    username = field(form, "username")
    sent, cookie = field(form, "token"), request.cookies.get(SIGNIN_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent, cookie):
        return _signin_page(request, next_, status=400, username=username,
                            error="This sign-in form has expired. Please try again.")
    password = form.get("password") if form is not None else None
    found = None
    if username and isinstance(password, str) and password:
        try:
            found = accounts.sign_in_with(hub.db, username=username[:64],
                                          password=password[:1024])
        except accounts.Throttled as exc:
            response = _signin_page(request, next_, status=429, username=username,
                                    error=f"Too many failed sign-ins for {username}. Try "
                                    f"again in {exc.retry_after // 60 + 1} minutes.")
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
    if found is None:
        return _signin_page(request, next_, status=401, username=username,
                            error="Wrong username or password.")
    _, secret, _ = found
    response = RedirectResponse(safe_next(next_), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=accounts.SESSION_HOURS * 3600)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, hub: HubDep, actor: PageActor) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with hub.db.write() as session:
            accounts.sign_out(session, secret)  # the session ends, and it is audited
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- the dashboard ----------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, hub: HubDep, actor: PageActor) -> Response:
    report = analysis.check_for(hub, actor)
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
        proposals = collab.list_proposals(hub, session, actor)
        decisions = collab.list_decisions(hub, session, actor)
        notes = collab.notifications(hub, session, actor)[:8]
        # Analyses are audited on every page that shows one; they would drown the rest.
        activity = [e for e in collab.audit_entries(hub, session, actor)
                    if e["action"] != "analysis"][:12]
        conflict_ids, gap_ids = findings.ids_for(session, actor, report)
    waiting_proposals = [p for p in proposals if p["status"] == "open"
                         and p["owner"] == actor.partner]
    mine_open = [p for p in proposals if p["status"] == "open"
                 and p["partner"] == actor.partner]
    waiting_decisions = [d for d in decisions if actor.partner in d["partners"]
                         and d["responses"].get(actor.partner) is None]
    for entry in activity:
        entry["link"] = subject_link(entry["subject"])
    return page(request, "dashboard.html", actor, section="dashboard", view=view,
                report=report, tree=scenario_tree(view["scenarios"], report["likelihood"]),
                leaves=leaves(view["scenarios"]), partners=[p["code"] for p in view["partners"]],
                titles={s["id"]: s["title"] for s in view["scenarios"]},
                conflicts=list(zip(conflict_ids, report["conflicts"], strict=True)),
                gaps=list(zip(gap_ids, report["gaps"],
                              [gap_summary(g, view) for g in report["gaps"]], strict=True)),
                waiting_proposals=waiting_proposals, mine_open=mine_open,
                waiting_decisions=waiting_decisions, notes=notes, activity=activity)


# -- scenarios and indicators -----------------------------------------------------


def _when(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _scenario_context(hub: Any, actor: Any, *, slot_taken: bool = False) -> dict[str, Any]:
    report = analysis.check_for(hub, actor, slot_taken=slot_taken)
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
        stored = collab.observations(hub, session, actor)  # with their ids, states, history
    latest: dict[str, dict[str, Any]] = {}
    for obs in view["observations"]:  # the latest by real time counts; of equal times, the last
        known = latest.get(obs["indicator"])
        if known is None or _when(obs["at"]) >= _when(known["at"]):
            latest[obs["indicator"]] = obs
    return {"view": view, "report": report,
            "tree": scenario_tree(view["scenarios"], report["likelihood"]),
            "observations": stored, "latest": latest,
            "partners": [p["code"] for p in view["partners"]]}


@router.get("/scenarios")
def scenarios(request: Request, hub: HubDep, actor: PageActor) -> Response:
    return page(request, "scenarios.html", actor, section="scenarios", status_text="",
                form_values={}, **_scenario_context(hub, actor))


@router.post("/scenarios/observations")
def observe(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    """Report an indicator; with htmx the answer is the new likelihood bars."""
    htmx = request.headers.get("hx-request") == "true"
    values = {"indicator": field(form, "indicator"), "seen": field(form, "seen"),
              "at": field(form, "at"), "share": fields(form, "share")}
    body: dict[str, Any] = {"indicator": values["indicator"]}
    error = ""
    if values["seen"] not in ("yes", "no"):
        error = "Say whether the indicator was seen (yes or no)."
    body["seen"] = values["seen"] == "yes"
    if values["at"]:
        body["at"] = values["at"]
    share = values["share"]
    if "all" in share:
        body["share"] = "all"
    elif share:
        body["share"] = [p for p in share if p != actor.partner] or None
        if body["share"] is None:
            del body["share"]
    if not error:
        if htmx:
            # The answer carries a fresh analysis: count it before storing, so that a
            # stored observation is never answered "too many analyses" (and retried).
            hub.take_analysis_slot(actor)
        try:
            plans.post_observation(hub, actor, body)
        except Invalid as exc:
            error = f"{exc.field}: {exc}"
    if htmx:
        if error:
            response = fragment(request, "_observe_status.html", actor, message=error, error=True)
            response.headers["HX-Reswap"] = "none"
            return response
        return fragment(request, "_likelihoods.html", actor, oob=True, error=False,
                        message="Observation recorded; the likelihoods are updated.",
                        **_scenario_context(hub, actor, slot_taken=True))
    if error:
        return page(request, "scenarios.html", actor, section="scenarios", status=422,
                    errors=[error], status_text="", form_values=values,
                    **_scenario_context(hub, actor))
    return done("/scenarios", "observed", "#likelihoods")
