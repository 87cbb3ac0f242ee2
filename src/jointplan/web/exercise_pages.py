"""Drills in the browser: the exercise list, and one exercise as each participant sees it.

The exercise page polls its feed with htmx every two seconds; a player sees the
injects delivered to its partner and logs actions, a controller runs the
exercise. "EXERCISE EXERCISE EXERCISE" and the exercise clock head every page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import exercise_review, exercises
from ..server.hub import Hub, Invalid
from ..services.accounts import Actor
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


def _exercise_page(request: Request, hub: Hub, actor: Actor, exercise_id: str, *,
                   errors: list[str] | None = None, status: int = 200) -> Response:
    feed = exercises.feed(hub, actor, _id(exercise_id))
    return page(request, "exercise.html", actor, section="exercises", feed=feed,
                banner=exercises.BANNER, errors=errors or [], status=status)


@router.get("/exercises/{exercise_id}")
def exercise_page(request: Request, hub: HubDep, actor: PageActor,
                  exercise_id: str) -> Response:
    return _exercise_page(request, hub, actor, exercise_id)


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
    try:
        exercises.control(hub, actor, _id(exercise_id), what, speed)
    except Invalid as exc:
        return _exercise_page(request, hub, actor, exercise_id, status=422,
                              errors=[f"{exc.field}: {exc}"])
    return done(f"/exercises/{exercise_id}", "exercise")


@router.post("/exercises/{exercise_id}/injects")
def exercise_inject(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                    form: FormDep) -> Response:
    try:
        exercises.inject_by_hand(hub, actor, _id(exercise_id),
                                 [c for c in re.split(r"[,\s]+", field(form, "to")) if c],
                                 field(form, "from"), field(form, "channel"),
                                 field(form, "text"))
    except Invalid as exc:
        return _exercise_page(request, hub, actor, exercise_id, status=422,
                              errors=[f"{exc.field}: {exc}"])
    return done(f"/exercises/{exercise_id}", "exercise")


@router.post("/exercises/{exercise_id}/actions")
def exercise_action(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                    form: FormDep) -> Response:
    try:
        exercises.log_action(hub, actor, _id(exercise_id), field(form, "text"),
                             field(form, "task") or None)
    except Invalid as exc:
        return _exercise_page(request, hub, actor, exercise_id, status=422,
                              errors=[f"{exc.field}: {exc}"])
    return done(f"/exercises/{exercise_id}", "exercise")


# -- evaluation and the after-action report ----------------------------------------


def _report_page(request: Request, hub: Hub, actor: Actor, exercise_id: str, *,
                 errors: list[str] | None = None, status: int = 200) -> Response:
    report = exercise_review.report(hub, actor, _id(exercise_id))
    return page(request, "exercise_report.html", actor, section="exercises", report=report,
                hseep=exercise_review.HSEEP, errors=errors or [], status=status)


@router.get("/exercises/{exercise_id}/report")
def report_page(request: Request, hub: HubDep, actor: PageActor,
                exercise_id: str) -> Response:
    return _report_page(request, hub, actor, exercise_id)


@router.get("/exercises/{exercise_id}/report.pdf")
def report_pdf(request: Request, hub: HubDep, actor: PageActor, exercise_id: str) -> Response:
    """The same report, cut the same way, as a PDF headed EXERCISE EXERCISE EXERCISE."""
    report = exercise_review.report(hub, actor, _id(exercise_id))
    html = templates.get_template("exercise_report_print.html").render(report=report)
    return Response(exercise_review.report_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="aar-{report["exercise"]}.pdf"'})


def _after(request: Request, hub: Hub, actor: Actor, exercise_id: str,
           write: Callable[[], object]) -> Response:
    try:
        write()
    except Invalid as exc:
        return _report_page(request, hub, actor, exercise_id, status=422,
                            errors=[f"{exc.field}: {exc}"])
    return done(f"/exercises/{exercise_id}/report", "exercise")


@router.post("/exercises/{exercise_id}/ratings")
def rate(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
         form: FormDep) -> Response:
    kind, _, target = field(form, "target").partition(":")
    return _after(request, hub, actor, exercise_id, lambda: exercise_review.rate(
        hub, actor, _id(exercise_id), kind, target, field(form, "rating"),
        field(form, "notes")))


@router.post("/exercises/{exercise_id}/items")
def add_item(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
             form: FormDep) -> Response:
    return _after(request, hub, actor, exercise_id, lambda: exercise_review.add_item(
        hub, actor, _id(exercise_id), field(form, "kind"), field(form, "title"),
        field(form, "owner"), field(form, "due")))


@router.post("/exercises/{exercise_id}/items/{item_id}/status")
def item_status(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                item_id: str, form: FormDep) -> Response:
    return _after(request, hub, actor, exercise_id, lambda: exercise_review.set_item_status(
        hub, actor, _id(exercise_id), _id(item_id), field(form, "status")))


@router.post("/exercises/{exercise_id}/items/{item_id}/proposal")
def item_proposal(request: Request, hub: HubDep, actor: PageActor, exercise_id: str,
                  item_id: str, form: FormDep) -> Response:
    return _after(request, hub, actor, exercise_id, lambda: exercise_review.propose(
        hub, actor, _id(exercise_id), _id(item_id),
        {"plan": field(form, "plan"), "kind": "move-start", "task": field(form, "task"),
         "start": field(form, "start")}))
