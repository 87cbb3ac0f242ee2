"""Resolution pages: from a conflict, preview the solver's moves as the partner may see
them, confirm them (each move a proposal to its task's owner), and follow the proposals.

All of it asks `server/resolutions.py`, which asks the gate: the preview and the
resolution are what the API answers the same partner.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import plans, resolutions
from ..server.hub import Hub, Invalid, NotFound
from ..services.accounts import Actor
from .render import FormDep, PageActor, PageRoute, done, field, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]
CONFIRMED = ("Resolution confirmed: each move is now a proposal to its task's owner (a move "
             "of your own task is a draft you apply by accepting it).")


def _names(hub: Hub, actor: Actor) -> tuple[Json, Json]:
    """Scenario titles and task titles the partner may see, by `PLAN/TASK`."""
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    titles = {s["id"]: s["title"] for s in view["scenarios"]}
    tasks = {f"{p['id']}/{t['id']}": t.get("title", t["id"]) for p in view["plans"]
             for t in p.get("tasks", [])}
    return titles, tasks


def _preview_page(request: Request, hub: Hub, actor: Actor, conflict: str, *,
                  errors: list[str] | None = None, reason: str = "",
                  status: int = 200) -> Response:
    try:
        preview = resolutions.preview(hub, actor, None, conflict)
    except Invalid as exc:
        if exc.field == "conflict":  # not shown it, or resolved already: nothing to resolve
            raise NotFound(conflict) from None
        raise
    titles, tasks = _names(hub, actor)
    return page(request, "resolution_preview.html", actor, section="dashboard",
                preview=preview, titles=titles, tasks=tasks, errors=errors or [],
                reason=reason, status=status)


@router.get("/conflicts/{conflict_id}/resolution")
def preview_get(request: Request, hub: HubDep, actor: PageActor, conflict_id: str) -> Response:
    return _preview_page(request, hub, actor, conflict_id)


@router.post("/resolutions")
def confirm(request: Request, hub: HubDep, actor: PageActor, form: FormDep) -> Response:
    token, reason, conflict = field(form, "preview"), field(form, "reason"), field(form,
                                                                                  "conflict")
    try:
        rid = resolutions.confirm(hub, actor, token, reason)
    except resolutions.Changed as exc:
        return _preview_page(request, hub, actor, conflict, reason=reason, status=409,
                             errors=[f"{exc} The preview below is the new one."])
    except Invalid as exc:
        return _preview_page(request, hub, actor, conflict, reason=reason, status=422,
                             errors=[f"{exc.field}: {exc}"])
    return done(f"/resolutions/{rid}", "resolution")


@router.get("/resolutions/{resolution_id}")
def resolution_page(request: Request, hub: HubDep, actor: PageActor,
                    resolution_id: str) -> Response:
    with hub.db.read() as session:
        resolution = resolutions.get_resolution(hub, session, actor, resolution_id)
    titles, tasks = _names(hub, actor)
    flash = CONFIRMED if request.query_params.get("done") == "resolution" else None
    return page(request, "resolution.html", actor, section="proposals",
                resolution=resolution, titles=titles, tasks=tasks, flash=flash)
