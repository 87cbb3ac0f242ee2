"""Evaluation and the after-action report of a drill, cut per partner.

Evaluators (and controllers) rate each expectation and exercise objective on
the HSEEP scale, with notes. Timeliness comes from the logged actions against
each expectation's ``by`` and its plan task's planned start. The report holds
the timeline, ratings, strengths and areas for improvement, and the improvement
plan: items with an owner partner, a due date and a status, each of which can
become a proposal on a plan of its owner through the proposal machinery
(``collab.create_proposal``), or a change the owner makes to its own plan.

The control cell (controllers and evaluators) sees the whole report; a player
sees it once the exercise has ended, cut to its own partner: its own
expectations and their ratings, objectives tied to its own plans, its own
deliveries and actions, and the items it owns.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import select

from ..model import format_time
from ..services.accounts import Actor
from ..services.drill import Schedule
from ..sharing import drills as gate
from ..store import audit
from ..store.tables import DrillAction, DrillDelivery, DrillImprovement, DrillRating
from . import collab
from .exercises import BANNER, _actions, _role, _visible, clock, exercise_of
from .hub import Forbidden, Hub, Invalid, NotFound, allow

HSEEP = {"P": "performed without challenges", "S": "performed with some challenges",
         "M": "performed with major challenges", "U": "unable to be performed"}
STATUSES = ("open", "in-progress", "done")


def rate(hub: Hub, actor: Actor, exercise_id: str, kind: str, target: str, rating: str,
         notes: str) -> str:
    """An evaluator's (or controller's) rating of an expectation or objective."""
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        allow(gate.may_evaluate(role, actor.role))
        ex = exercise_of(row)
        known = ({e.id for _, e in ex.expectations()} if kind == "expectation"
                 else {o.id for o in ex.objectives} if kind == "objective" else None)
        if known is None:
            raise Invalid("kind", "rate an expectation or an objective")
        if target not in known:
            raise Invalid("target", f"no {kind} {target!r} in the exercise")
        if rating not in HSEEP:
            raise Invalid("rating", "one of P, S, M, U (HSEEP)")
        r = DrillRating(exercise_id=row.id, kind=kind, target=target, rating=rating,
                        notes=notes.strip(), partner=actor.partner, author=actor.username)
        session.add(r)
        session.flush()
        audit.append(session, action="drill.rate", subject=f"drill/{row.id}/{r.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=_control_cell(row), detail={"kind": kind, "target": target,
                                                        "rating": rating})
        return r.id


def add_item(hub: Hub, actor: Actor, exercise_id: str, kind: str, title: str, owner: str,
             due: str) -> str:
    """A strength or an improvement item (area for improvement) of the report."""
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        allow(gate.may_evaluate(role, actor.role))
        if kind not in ("strength", "improvement"):
            raise Invalid("kind", "strength or improvement")
        if not title.strip():
            raise Invalid("title", "say what it is")
        participants = [p["partner"] for p in row.document.get("participants", [])]
        if owner not in participants:
            raise Invalid("owner", "the owner is a partner taking part in the exercise")
        try:
            date.fromisoformat(due)
        except ValueError:
            raise Invalid("due", "a date, like 2027-01-31") from None
        item = DrillImprovement(exercise_id=row.id, kind=kind, title=title.strip(),
                                owner=owner, due=due, status="open")
        session.add(item)
        session.flush()
        audit.append(session, action="drill.item", subject=f"drill/{row.id}/{item.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[owner, *_control_cell(row)], detail={"kind": kind, "owner": owner})
        return item.id


def _item(session: Any, row: Any, item_id: str) -> DrillImprovement:
    item: DrillImprovement | None = session.get(DrillImprovement, item_id)
    if item is None or item.exercise_id != row.id:
        raise NotFound("no such item")
    return item


def set_item_status(hub: Hub, actor: Actor, exercise_id: str, item_id: str, status: str) -> None:
    """The owner's writers, or the control cell's, move an item along."""
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        item = _item(session, row, item_id)
        if role not in gate.CONTROL_VIEW and item.owner != actor.partner:
            raise NotFound("no such item")
        allow(gate.may_track(role, actor.partner, item.owner, actor.role))
        if status not in STATUSES:
            raise Invalid("status", "one of " + ", ".join(STATUSES))
        item.status = status
        audit.append(session, action="drill.item-status", subject=f"drill/{row.id}/{item.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[item.owner, *_control_cell(row)], detail={"status": status})


def propose(hub: Hub, actor: Actor, exercise_id: str, item_id: str,
            change: dict[str, Any]) -> str:
    """The item becomes a proposal on a plan of its owner (collab's machinery decides it)."""
    with hub.db.write() as session:  # the proposal joins this write: both or neither
        row, role = _visible(session, actor, exercise_id)
        item = _item(session, row, item_id)
        if role not in gate.CONTROL_VIEW and item.owner != actor.partner:
            raise NotFound("no such item")
        if item.proposal_id is not None:
            raise Invalid("item", "this item is a proposal already")
        plan = change.pop("plan", None)
        if not isinstance(plan, str):
            raise Invalid("plan", "name the owner's plan to propose on")
        owner = hub.current(session).workspace
        found = next((p for p in owner.plans if p.id == plan), None)
        if found is None or found.owner != item.owner:
            raise Invalid("plan", f"no plan {plan!r} of {item.owner}")
        if actor.partner == item.owner:
            raise Forbidden("you change your own plans directly; a proposal is for another "
                            "partner's plan")
        proposal = collab.create_proposal(hub, actor, {
            "plan": plan, "change": change,
            "reason": f"[{BANNER}] improvement item of {row.key}: {item.title}"})
        item.proposal_id = proposal
        item.status = "in-progress"
        audit.append(session, action="drill.item-proposal", subject=f"drill/{row.id}/{item.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[item.owner, *_control_cell(row)], detail={"proposal": proposal})
        return proposal


def _control_cell(row: Any) -> list[str]:
    return [p["partner"] for p in row.document.get("participants", [])
            if p["role"] in gate.CONTROL_VIEW]


# -- the report -------------------------------------------------------------------


def report(hub: Hub, actor: Actor, exercise_id: str) -> dict[str, Any]:
    """The after-action report as the actor's partner may read it."""
    with hub.db.read() as session:
        row, role = _visible(session, actor, exercise_id)
        whole = bool(gate.sees_control_view(role))
        if not whole and not (role == "player" and row.state == "ended"):
            raise Forbidden("a player reads its after-action report once the exercise has "
                            "ended")
        mine = None if whole else actor.partner
        ex = exercise_of(row)
        ws = hub.current(session).workspace
        schedule = Schedule(ex, _actions(session, row))
        results = {e["id"]: e for e in schedule.as_json()["expectations"]}
        tasks = {f"{p.id}/{t.id}": (p, t) for p in ws.plans for t in p.tasks}
        plan_owner = {p.id: p.owner for p in ws.plans}
        ratings: dict[tuple[str, str], DrillRating] = {}
        for r in session.scalars(select(DrillRating).where(
                DrillRating.exercise_id == row.id).order_by(DrillRating.created)):
            ratings[(r.kind, r.target)] = r
        actions = session.scalars(select(DrillAction).where(
            DrillAction.exercise_id == row.id).order_by(DrillAction.at)).all()

        def rated(kind: str, target: str) -> dict[str, Any]:
            r = ratings.get((kind, target))
            return {"rating": r.rating if r else None,
                    "rating_text": HSEEP[r.rating] if r else "not rated",
                    "notes": r.notes if r else ""}

        expectations = []
        for inject, e in sorted(ex.expectations(), key=lambda ie: ie[1].id):
            if mine is not None and e.partner != mine:
                continue
            res = results[e.id]
            first = next((a.at for a in actions if a.partner == e.partner and a.task == e.task
                          and (schedule.delivery(inject) or 0) <= a.at), None)
            planned = tasks[e.task][1].start if e.task in tasks else None
            expectations.append({
                "id": e.id, "partner": e.partner, "task": e.task, "inject": inject.id,
                "by": e.by, "by_text": format_time(e.by), "result": res["result"],
                "late_by": res["late_by"], "acted": first,
                "planned_start": planned,
                "against_plan": None if first is None or planned is None else first - planned,
                **rated("expectation", e.id)})
        objectives = [
            {"id": o.id, "title": o.title, "plan": o.plan, "objective": o.objective,
             **rated("objective", o.id)}
            for o in ex.objectives
            if mine is None or (o.plan is not None and plan_owner.get(o.plan) == mine)]
        deliveries = [
            {"at": math.floor(d.sent), "at_text": format_time(math.floor(d.sent)),
             "partner": d.partner, "from": d.from_, "channel": d.channel, "text": d.text}
            for d in session.scalars(select(DrillDelivery).where(
                DrillDelivery.exercise_id == row.id).order_by(DrillDelivery.sent))
            if mine is None or d.partner == mine]
        timeline: dict[str, list[dict[str, Any]]] = {}
        for a in actions:
            if mine is not None and a.partner != mine:
                continue
            planned = tasks[a.task][1].start if a.task in tasks else None
            timeline.setdefault(a.partner, []).append(
                {"at": a.at, "at_text": format_time(a.at), "task": a.task, "text": a.text,
                 "author": a.author, "planned_start": planned,
                 "planned_text": None if planned is None else format_time(planned)})
        items = [
            {"id": i.id, "kind": i.kind, "title": i.title, "owner": i.owner, "due": i.due,
             "status": i.status, "proposal": i.proposal_id}
            for i in session.scalars(select(DrillImprovement).where(
                DrillImprovement.exercise_id == row.id).order_by(DrillImprovement.created))
            if mine is None or i.owner == mine]
        return {"id": row.id, "exercise": row.key, "title": row.title, "banner": BANNER,
                "state": row.state, "clock": math.floor(clock(row)),
                "clock_text": format_time(math.floor(clock(row))), "role": role,
                "partner": mine, "expectations": expectations, "objectives": objectives,
                "deliveries": deliveries, "timeline": timeline,
                "strengths": [i for i in items if i["kind"] == "strength"],
                "improvements": [i for i in items if i["kind"] == "improvement"],
                "participants": row.document.get("participants", []),
                "own_role": _role(row, actor.partner)}


def report_pdf(html: str) -> bytes:
    """The report page printed to PDF (WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
