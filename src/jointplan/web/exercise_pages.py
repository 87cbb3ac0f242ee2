"""Drills in the browser: the exercise list, and one exercise as each participant sees it.

The exercise page polls its feed with htmx every two seconds; a player sees the
injects delivered to its partner and logs actions, a controller runs the
exercise. "EXERCISE EXERCISE EXERCISE" and the exercise clock head every page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import exercise_review, exercises
from ..server.hub import Hub, Invalid, allow
from ..services.accounts import Actor
from ..sharing import drills
from .render import FormDep, PageActor, PageRoute, done, field, fragment, page, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _id(exercise_id: str) -> str:
    if not _ID.fullmatch(exercise_id):
        from ..server.hub import NotFound
        raise NotFound("no such exercise")
    return exercise_id


@router.get("/exercises")
def exercise_list(request: Request, hub: HubDep, actor: PageActor) -> Response:
    return page(request, "exercises.html", actor, section="exercises",
                exercises=exercises.listing(hub, actor), banner=exercises.BANNER)


PAGES: dict[str, tuple[str, Callable[[Hub, Actor, str], dict[str, Any]]]] = {
    "exercise": ("exercise.html", lambda hub, actor, eid: {
        "feed": exercises.feed(hub, actor, eid), "banner": exercises.BANNER}),
    "report": ("exercise_report.html", lambda hub, actor, eid: {
        "report": exercise_review.report(hub, actor, eid), "hseep": exercise_review.HSEEP}),
}
"""An exercise's pages with forms: the running exercise, and its after-action report."""


def _show(request: Request, hub: Hub, actor: Actor, exercise_id: str, which: str, *,
          errors: list[str] | None = None, field_errors: dict[str, str] | None = None,
          status: int = 200) -> Response:
    template, content = PAGES[which]
    return page(request, template, actor, section="exercises", errors=errors or [],
                field_errors=field_errors or {}, status=status,
                **content(hub, actor, _id(exercise_id)))


def _write(request: Request, hub: Hub, actor: Actor, exercise_id: str, which: str,
           write: Callable[[], object]) -> Response:
    """A form's write; its problem comes back on the page the form is on (422)."""
    try:
        write()
    except Invalid as exc:
        return _show(request, hub, actor, exercise_id, which, status=422,
                     errors=[f"{exc.field}: {exc}"])
    return done(f"/exercises/{exercise_id}" + ("/report" if which == "report" else ""),
                "exercise")


@router.get("/exercises/{exercise_id}")
def exercise_page(request: Request, hub: HubDep, actor: PageActor,
                  exercise_id: str) -> Response:
    return _show(request, hub, actor, exercise_id, "exercise")


@router.get("/exercises/{exercise_id}/feed")
def exercise_feed(request: Request, hub: HubDep, actor: PageActor,
                  exercise_id: str) -> Response:
    """The part of the page that changes: clock, deliveries, actions (polled)."""
    return fragment(request, "_exercise_feed.html", actor, banner=exercises.BANNER,
                    feed=exercises.feed(hub, actor, _id(exercise_id)))


@router.post("/exercises/{exercise_id}/control")
def exercise_control(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                     form: FormDep) -> Response:
    what = field(form, "action")
    speed_text = field(form, "speed")
    try:
        speed = int(speed_text) if speed_text else None
    except ValueError:
        speed = 0
    if what == "end" and field(form, "confirm") != "yes":
        feed = exercises.feed(hub, actor, _id(exercise_id))
        allow(drills.may_control(feed["role"], actor.role))
        if feed["state"] != "ended":  # final: an ended exercise does not run again
            return _show(request, hub, actor, exercise_id, "exercise", status=422,
                         field_errors={"end-confirm": "Tick the box: an ended exercise "
                                       "cannot be started again."})
    return _write(request, hub, actor, exercise_id, "exercise",
                  lambda: exercises.control(hub, actor, _id(exercise_id), what, speed))


@router.post("/exercises/{exercise_id}/injects")
def exercise_inject(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                    form: FormDep) -> Response:
    return _write(request, hub, actor, exercise_id, "exercise", lambda: exercises.inject_by_hand(
        hub, actor, _id(exercise_id), [c for c in re.split(r"[,\s]+", field(form, "to")) if c],
        field(form, "from"), field(form, "channel"), field(form, "text")))


@router.post("/exercises/{exercise_id}/actions")
def exercise_action(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                    form: FormDep) -> Response:
    return _write(request, hub, actor, exercise_id, "exercise", lambda: exercises.log_action(
        hub, actor, _id(exercise_id), field(form, "text"), field(form, "task") or None))


# -- evaluation and the after-action report ----------------------------------------


@router.get("/exercises/{exercise_id}/report")
def report_page(request: Request, hub: HubDep, actor: PageActor,
                exercise_id: str) -> Response:
    return _show(request, hub, actor, exercise_id, "report")


@router.get("/exercises/{exercise_id}/report.pdf")
def report_pdf(request: Request, hub: HubDep, actor: PageActor, exercise_id: str) -> Response:
    """The same report, cut the same way, as a PDF headed EXERCISE EXERCISE EXERCISE."""
    report = exercise_review.report(hub, actor, _id(exercise_id))
    html = templates.get_template("exercise_report_print.html").render(report=report)
    return Response(exercise_review.report_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="aar-{report["exercise"]}.pdf"'})


@router.post("/exercises/{exercise_id}/ratings")
def rate(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
         form: FormDep) -> Response:
    kind, _, target = field(form, "target").partition(":")
    return _write(request, hub, actor, exercise_id, "report", lambda: exercise_review.rate(
        hub, actor, _id(exercise_id), kind, target, field(form, "rating"),
        field(form, "notes")))


@router.post("/exercises/{exercise_id}/items")
def add_item(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
             form: FormDep) -> Response:
    return _write(request, hub, actor, exercise_id, "report", lambda: exercise_review.add_item(
        hub, actor, _id(exercise_id), field(form, "kind"), field(form, "title"),
        field(form, "owner"), field(form, "due")))


@router.post("/exercises/{exercise_id}/items/{item_id}/status")
def item_status(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                item_id: str, form: FormDep) -> Response:
    return _write(request, hub, actor, exercise_id, "report",
                  lambda: exercise_review.set_item_status(hub, actor, _id(exercise_id),
                                                          _id(item_id), field(form, "status")))


@router.post("/exercises/{exercise_id}/items/{item_id}/proposal")
def item_proposal(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                  item_id: str, form: FormDep) -> Response:
    return _write(request, hub, actor, exercise_id, "report", lambda: exercise_review.propose(
        hub, actor, _id(exercise_id), _id(item_id),
        {"plan": field(form, "plan"), "kind": "move-start", "task": field(form, "task"),
         "start": field(form, "start")}))
