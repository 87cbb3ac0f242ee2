"""Drills run live: the exercise's clock, its deliveries (each exactly once), players' actions.

The schedule is the one `drill schedule` prints (``services.drill.Schedule``),
given the actions the players logged so far: an inject whose time has come on
the exercise clock is delivered to each player of its ``to``. A delivery row
is unique per exercise, inject and partner, and is written in the same
transaction as its audit entry, under the write turn: however many server
processes run the delivery loop, and however often one is killed, each inject
reaches each of its players once. The clock goes on in real time while the
server is down, so what fell due meanwhile is delivered on restart.

Reads never write: ``due`` looks for what is due in a read, and only when
something is does ``deliver_due`` take the write turn.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..files.exercise import InvalidExercise, build_exercise, read_exercise_source
from ..model import format_time
from ..model.exercise import Action, Exercise
from ..services.accounts import Actor
from ..services.drill import Schedule, check_exercise
from ..sharing import drills as gate
from ..store import audit
from ..store.tables import DrillAction, DrillDelivery, DrillExercise
from .hub import Hub, Invalid, NotFound, allow

BANNER = "EXERCISE EXERCISE EXERCISE"
"""On every page, message and export of a drill: nothing from it is taken for real."""
MAX_SPEED = 1440
TICK_SECONDS = 1.0
log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def clock(row: DrillExercise, at: datetime | None = None) -> float:
    """Exercise minutes on the clock of ``row`` at wall time ``at`` (now)."""
    if row.state != "running" or row.anchor_wall is None:
        return row.anchor_minutes
    elapsed = ((at or _now()) - row.anchor_wall).total_seconds() / 60
    return row.anchor_minutes + max(0.0, elapsed) * row.speed


def exercise_of(row: DrillExercise) -> Exercise:
    """The exercise file stored with the row, read again by the strict reader."""
    return build_exercise(f"{row.key}.json", _plain(row.document), None).exercise


def _plain(doc: Any) -> Any:
    from ..files.yamlread import read_document
    return read_document(json.dumps(doc).encode(), is_json=True)


def _role(row: DrillExercise, partner: str) -> str | None:
    return gate.role_in(partner, [(p["partner"], p["role"])
                                  for p in row.document.get("participants", [])])


def _visible(session: Session, actor: Actor, exercise_id: str) -> tuple[DrillExercise, str]:
    """The exercise and the actor's role in it; NotFound when it takes no part."""
    row = session.get(DrillExercise, exercise_id)
    role = _role(row, actor.partner) if row is not None else None
    if row is None or role is None:
        raise NotFound("no such exercise")
    return row, role


# -- setting up ----------------------------------------------------------------


def create(hub: Hub, actor: Actor, name: str, text: str) -> str:
    """Store an exercise file a controller uploads, checked against the stored workspace."""
    read = read_exercise_source(name, text.encode("utf-8"))
    ex = read.exercise
    allow(gate.may_control(gate.role_in(actor.partner, [(p.partner, p.role)
                                                        for p in ex.participants]), actor.role))
    with hub.db.read() as session:
        ws = hub.current(session).workspace
    problems = check_exercise(ws, read)
    if problems:
        raise InvalidExercise(problems)
    from ..files.yamlread import read_document
    doc = json.loads(json.dumps(read_document(text.encode("utf-8"),
                                              is_json=name.endswith(".json"))))
    with hub.db.write() as session:
        row = DrillExercise(key=ex.id, title=ex.title, document=doc,
                            controllers=list(ex.with_role("controller")),
                            players=list(ex.with_role("player")), state="ready", speed=1,
                            anchor_minutes=0.0)
        session.add(row)
        session.flush()
        audit.append(session, action="drill.create", subject=f"drill/{row.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[p.partner for p in ex.participants], detail={"key": ex.id})
        return row.id


CONTROLS = ("start", "pause", "resume", "end")


def control(hub: Hub, actor: Actor, exercise_id: str, what: str, speed: int | None = None
            ) -> None:
    """start, pause, resume, end, or a new speed (×N): a controller's writer only."""
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        allow(gate.may_control(role, actor.role))
        now = _now()
        minutes = clock(row, now)
        if what == "speed":
            if speed is None or not 1 <= speed <= MAX_SPEED:
                raise Invalid("speed", f"speed is a whole number from 1 to {MAX_SPEED}")
            row.anchor_minutes, row.anchor_wall, row.speed = minutes, now, speed
        elif what == "start":
            if row.state != "ready":
                raise Invalid("action", f"the exercise is {row.state}; only a ready one starts")
            row.state, row.anchor_wall, row.anchor_minutes = "running", now, 0.0
        elif what == "pause":
            if row.state != "running":
                raise Invalid("action", f"the exercise is {row.state}; only a running one "
                              "pauses")
            row.state, row.anchor_minutes, row.anchor_wall = "paused", minutes, now
        elif what == "resume":
            if row.state != "paused":
                raise Invalid("action", f"the exercise is {row.state}; only a paused one "
                              "resumes")
            row.state, row.anchor_wall = "running", now
        elif what == "end":
            if row.state == "ended":
                raise Invalid("action", "the exercise has ended already")
            row.state, row.anchor_minutes, row.anchor_wall = "ended", minutes, now
        else:
            raise Invalid("action", "say start, pause, resume, end or speed")
        audit.append(session, action=f"drill.{what}", subject=f"drill/{row.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=list(row.controllers),
                     detail={"clock": math.floor(minutes), "speed": row.speed})


def inject_by_hand(hub: Hub, actor: Actor, exercise_id: str, to: list[str], sender: str,
                   channel: str, text: str) -> list[str]:
    """A controller's inject, delivered now to the players named."""
    from ..model.exercise import CHANNELS
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        allow(gate.may_control(role, actor.role))
        if row.state not in ("running", "paused"):
            raise Invalid("state", f"the exercise is {row.state}; inject while it runs")
        if not to or len(set(to)) != len(to) or any(p not in row.players for p in to):
            raise Invalid("to", "name distinct players of the exercise")
        if channel not in CHANNELS:
            raise Invalid("channel", "one of " + ", ".join(CHANNELS))
        if not sender.strip() or not text.strip():
            raise Invalid("text" if sender.strip() else "from", "must not be empty")
        minutes = clock(row)
        count = len(session.scalars(select(DrillDelivery.id).where(
            DrillDelivery.exercise_id == row.id, DrillDelivery.by_hand.is_(True))).all())
        inject = f"by-hand-{count + 1}"
        ids = []
        for partner in to:
            ids.append(_deliver(session, row, inject, partner, math.floor(minutes), minutes,
                                sender, channel, text, by_hand=True, user=actor.user_id))
        return ids


def _deliver(session: Session, row: DrillExercise, inject: str, partner: str, due: int,
             sent: float, sender: str, channel: str, text: str, *, by_hand: bool,
             user: str | None) -> str:
    d = DrillDelivery(exercise_id=row.id, inject=inject, partner=partner, due=due, sent=sent,
                      from_=sender, channel=channel, text=text, by_hand=by_hand)
    session.add(d)
    session.flush()
    audit.append(session, action="drill.deliver", subject=f"drill/{row.id}/{d.id}",
                 user_id=user, partner=None, owners=[partner, *row.controllers],
                 detail={"inject": inject, "partner": partner, "due": due,
                         "sent": math.floor(sent)})
    return d.id


# -- delivering ------------------------------------------------------------------


def _actions(session: Session, row: DrillExercise) -> list[Action]:
    return [Action(a.partner, a.task, a.at) for a in session.scalars(
        select(DrillAction).where(DrillAction.exercise_id == row.id,
                                  DrillAction.task.is_not(None))) if a.task is not None]


def _due(session: Session, row: DrillExercise, at: datetime
         ) -> list[tuple[str, str, int, str, str, str]]:
    """(inject, partner, due, from, channel, text) due by now and not yet delivered."""
    ex = exercise_of(row)
    schedule = Schedule(ex, _actions(session, row))
    now = clock(row, at)
    done = {(r[0], r[1]) for r in session.execute(select(
        DrillDelivery.inject, DrillDelivery.partner).where(DrillDelivery.exercise_id == row.id))}
    out: list[tuple[str, str, int, str, str, str]] = []
    for inject in ex.injects:
        when = schedule.delivery(inject)
        if when is None or when > now:
            continue
        out.extend((inject.id, p, when, inject.from_, inject.channel, inject.text)
                   for p in inject.to if (inject.id, p) not in done)
    return out


def deliver_due(hub: Hub, at: datetime | None = None) -> int:
    """Deliver what is due in every running exercise at wall time ``at`` (now); how many
    deliveries were made.

    A read finds whether anything is due; only then is the write turn taken, and
    what is due is found again inside it (another process may have delivered it).
    """
    at = at or _now()
    with hub.db.read() as session:
        running = session.scalars(select(DrillExercise).where(
            DrillExercise.state == "running")).all()
        pending = [row.id for row in running if _due(session, row, at)]
    made = 0
    for exercise_id in pending:
        with hub.db.write() as session:
            row = session.get(DrillExercise, exercise_id)
            if row is None or row.state != "running":
                continue
            sent = clock(row, at)
            for inject, partner, due, sender, channel, text in _due(session, row, at):
                _deliver(session, row, inject, partner, due, sent, sender, channel, text,
                         by_hand=False, user=None)
                made += 1
    return made


@dataclass
class DeliveryLoop:
    """A thread in each server process that delivers what is due, about every second."""

    hub: Hub
    interval: float = TICK_SECONDS

    def __post_init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Start the loop (again, after a stop: an app may be started more than once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                        name="drill-deliveries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                deliver_due(self.hub)
            except Exception as exc:  # noqa: BLE001 - the loop outlives a database outage
                log.warning("drill deliveries: %s: %s", type(exc).__name__, exc)
            stop.wait(self.interval)


# -- what each participant sees ---------------------------------------------------


def _header(row: DrillExercise, role: str) -> dict[str, Any]:
    minutes = clock(row)
    return {"id": row.id, "exercise": row.key, "title": row.title, "banner": BANNER,
            "state": row.state, "speed": row.speed, "clock": math.floor(minutes),
            "clock_text": format_time(math.floor(minutes)), "role": role}


def listing(hub: Hub, actor: Actor) -> list[dict[str, Any]]:
    """The exercises the actor's partner takes part in."""
    with hub.db.read() as session:
        rows = session.scalars(select(DrillExercise).order_by(DrillExercise.created)).all()
        return [_header(r, role) for r in rows
                if (role := _role(r, actor.partner)) is not None]


def feed(hub: Hub, actor: Actor, exercise_id: str) -> dict[str, Any]:
    """What a participant sees: a player its own partner's delivered injects and actions;
    a controller or evaluator every delivery, what is still to come, and expectations."""
    with hub.db.read() as session:
        row, role = _visible(session, actor, exercise_id)
        out = _header(row, role)
        rows = session.scalars(select(DrillDelivery).where(
            DrillDelivery.exercise_id == row.id).order_by(DrillDelivery.sent,
                                                          DrillDelivery.inject,
                                                          DrillDelivery.partner)).all()
        control = bool(gate.sees_control_view(role))
        out["deliveries"] = [
            {"id": d.id, "partner": d.partner, "at": math.floor(d.sent),
             "at_text": format_time(math.floor(d.sent)), "from": d.from_,
             "channel": d.channel, "text": d.text, "banner": BANNER}
            for d in rows if control or gate.receives(role, actor.partner, d.partner)]
        actions = session.scalars(select(DrillAction).where(
            DrillAction.exercise_id == row.id).order_by(DrillAction.at, DrillAction.created)
        ).all()
        out["actions"] = [
            {"id": a.id, "partner": a.partner, "author": a.author, "task": a.task,
             "text": a.text, "at": a.at}
            for a in actions if control or a.partner == actor.partner]
        if control:
            ex = exercise_of(row)
            schedule = Schedule(ex, _actions(session, row))
            report = schedule.as_json()
            out["schedule"] = report["deliveries"]
            out["expectations"] = report["expectations"]
        return out


def log_action(hub: Hub, actor: Actor, exercise_id: str, text: str, task: str | None) -> str:
    """A player's action or response, at the exercise clock's minute, by the actor."""
    with hub.db.write() as session:
        row, role = _visible(session, actor, exercise_id)
        allow(gate.may_log(role, actor.role))
        if row.state not in ("running", "paused"):
            raise Invalid("state", f"the exercise is {row.state}; log actions while it runs")
        if not text.strip():
            raise Invalid("text", "say what was done")
        if task is not None:
            ws = _workspace_tasks(hub, session, row, actor.partner)
            if task not in ws:
                raise Invalid("task", f"no task {task!r} of {actor.partner}'s plans under test")
        a = DrillAction(exercise_id=row.id, partner=actor.partner, author=actor.username,
                        task=task, text=text, at=math.floor(clock(row)))
        session.add(a)
        session.flush()
        audit.append(session, action="drill.action", subject=f"drill/{row.id}/{a.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[actor.partner, *row.controllers],
                     detail={"task": task, "at": a.at})
        return a.id


def _workspace_tasks(hub: Hub, session: Session, row: DrillExercise, partner: str) -> set[str]:
    """``PLAN/TASK`` of the partner's own plans active in the exercise's scenario."""
    ws = hub.current(session).workspace
    scenario = row.document.get("scenario")
    return {f"{p.id}/{t.id}" for p in ws.plans if p.owner == partner
            and scenario in ws.active_leaves(p) for t in p.tasks}
