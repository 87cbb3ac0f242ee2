"""Real time: declaring a top-level scenario at an instant (T0), time zones, calendar feeds.

Plans are timed from T0 (``T+30h``). When a partner's planner declares a
top-level scenario, its T0 becomes a date for everyone who may see that
scenario (``Rules.sees_scenario``); the gate decides who may declare
(``actions.may_declare``). Declarations and undeclarations are rows never
deleted, each audited. Each user chooses the time zone dates are shown in
(UTC until they do).

The workspace setting ``t0_mode`` (an admin's, or the operator's at the
command line) may say instead that T0 is declared by joint decision: a
planner's request then opens a decision (``T0Request``, same id) asking every
partner that may see the scenario, and T0 is declared, or withdrawn, only when
every one of them concurs.

A calendar feed is a read-only capability URL (``/calendar/{secret}.ics``):
calendar clients cannot send an ``Authorization`` header, so the secret is in
the address, and it opens nothing but that user's partner's timeline. Only its
SHA-256 is stored; creation, revocation and each distinct calendar it serves are
audited.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..services.accounts import Actor, digest
from ..sharing import actions
from ..store import audit
from ..store.tables import (
    CalendarFeed,
    Decision,
    Notification,
    Response,
    Setting,
    T0Declaration,
    T0Preference,
    T0Request,
    User,
    now,
)
from .hub import Hub, Invalid, NotFound, allow

FEED_PREFIX = "jpcal_"
DEFAULT_ZONE = "UTC"
UNSTAMPED = datetime(1970, 1, 1, tzinfo=UTC)
"""The stamp a feed's calendar is hashed with: what it holds, not when it was made."""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_instant(value: Any, field: str = "t0") -> datetime:
    """An ISO 8601 instant with its zone, in UTC; Invalid naming ``field`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "give the instant as ISO 8601 with a zone, like 2026-11-20T08:00Z")
    text = value.strip()
    try:
        instant = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Invalid(field, f"{text[:40]!r} is not an ISO 8601 timestamp "
                      "(like 2026-11-20T08:00Z)") from None
    if instant.tzinfo is None:
        raise Invalid(field, f"give the zone, like {text[:25]}Z or {text[:25]}+02:00")
    return instant.astimezone(UTC)


# -- declarations -----------------------------------------------------------------


def _current_rows(session: Session) -> dict[str, T0Declaration]:
    """The newest live declaration of each scenario."""
    out: dict[str, T0Declaration] = {}
    rows = session.scalars(select(T0Declaration).where(T0Declaration.undeclared.is_(None))
                           .order_by(T0Declaration.created, T0Declaration.id))
    for row in rows:
        out[row.scenario] = row
    return out


def _author_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}


def declarations(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The declared T0s the actor's partner may see, by scenario id."""
    rules = hub.rules(session)
    rows = [r for sid, r in sorted(_current_rows(session).items())
            if rules.sees_scenario(actor.partner, sid)]
    names = _author_names(session, {r.author for r in rows})
    return [{"scenario": r.scenario, "t0": _iso(r.t0), "partner": r.partner,
             "by": names.get(r.author, ""), "reason": r.reason, "declared": _iso(r.created),
             "decision": r.decision_id}
            for r in rows]


def t0s_for(hub: Hub, session: Session, actor: Actor) -> dict[str, datetime]:
    """Scenario id -> T0 (UTC) for the scenarios the actor may see that are declared."""
    return {d["scenario"]: parse_instant(d["t0"]) for d in declarations(hub, session, actor)}


def _top_level(hub: Hub, session: Session, actor: Actor, scenario: Any) -> str:
    if not isinstance(scenario, str) or not scenario:
        raise Invalid("scenario", "name the top-level scenario to declare")
    rules = hub.rules(session)
    if not rules.sees_scenario(actor.partner, scenario):
        raise NotFound(scenario)
    ws = hub.current(session).workspace
    parent = {s.id: s.parent for s in ws.scenarios}[scenario]
    if parent is not None:
        top = ws.path(scenario)[-1]
        raise Invalid("scenario", f"T0 belongs to the top-level scenario {top}, which "
                      f"{scenario} is below; declare {top}")
    return scenario


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 2000:
        raise Invalid("reason", "a reason is text of at most 2000 characters")
    return reason


def _put(hub: Hub, session: Session, scenario: str, instant: datetime, *, partner: str,
         author: str, reason: str, by: str | None, decision: str | None = None) -> None:
    """Declare ``scenario`` at ``instant`` (replacing its current T0), audited."""
    previous = _current_rows(session).get(scenario)
    if previous is not None:
        previous.undeclared, previous.undeclared_by = now(), by
        previous.undeclared_decision = decision
    session.add(T0Declaration(scenario=scenario, t0=instant.replace(tzinfo=None),
                              partner=partner, author=author, reason=reason,
                              decision_id=decision))
    session.flush()
    audit.append(session, action="t0.declare", subject=f"scenario:{scenario}",
                 user_id=by, partner=partner, owners=_asked(hub, session, scenario),
                 detail={"t0": _iso(instant), "reason": reason,
                         **({"replaces": _iso(previous.t0)} if previous else {}),
                         **({"decision": decision} if decision else {})})


def _withdraw(hub: Hub, session: Session, row: T0Declaration, *, partner: str, by: str | None,
              reason: str, decision: str | None = None) -> None:
    row.undeclared, row.undeclared_by, row.undeclared_decision = now(), by, decision
    audit.append(session, action="t0.undeclare", subject=f"scenario:{row.scenario}",
                 user_id=by, partner=partner, owners=_asked(hub, session, row.scenario),
                 detail={"t0": _iso(row.t0), "reason": reason[:2000],
                         **({"decision": decision} if decision else {})})


def declare(hub: Hub, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Declare a top-level scenario at ``t0``; a new declaration replaces the current one.

    Where the workspace declares T0 by joint decision, the gate refuses (403): ask
    the partners instead (``request``)."""
    allow(actions.may_write(actor.role))
    reason = _reason(body)
    instant = parse_instant(body.get("t0"))
    with hub.db.write() as session:
        scenario = _top_level(hub, session, actor, body.get("scenario"))
        allow(actions.may_declare(actor.role, mode_of(session)["mode"]))
        _put(hub, session, scenario, instant, partner=actor.partner, author=actor.user_id,
             reason=reason, by=actor.user_id)
        return next(d for d in declarations(hub, session, actor) if d["scenario"] == scenario)


def undeclare(hub: Hub, actor: Actor, scenario: str, reason: str = "") -> None:
    """Withdraw the scenario's declaration (recorded, never deleted)."""
    allow(actions.may_write(actor.role))
    with hub.db.write() as session:
        scenario = _top_level(hub, session, actor, scenario)
        row = _current_rows(session).get(scenario)
        if row is None:
            raise NotFound(scenario)
        allow(actions.may_declare(actor.role, mode_of(session)["mode"]))
        _withdraw(hub, session, row, partner=actor.partner, by=actor.user_id, reason=reason)


# -- how the workspace declares T0: by a planner, or by joint decision --------------------

MODE_KEY = "t0_mode"


def mode_of(session: Session) -> dict[str, Any]:
    """The workspace's T0 mode: ``planner`` (the default) or ``joint``, and when it was set."""
    row = session.get(Setting, MODE_KEY)
    value = dict(row.value) if row is not None else {}
    mode = value.get("mode")
    return {"mode": mode if mode in actions.T0_MODES else "planner",
            "changed": value.get("changed")}


def set_mode(hub: Hub, actor: Actor | None, mode: Any) -> dict[str, Any]:
    """Set how the workspace declares T0: an admin's, or the operator's (``actor`` None, at
    the command line). Audited, readable by every partner (the detail by the admin's)."""
    if actor is not None:
        allow(actions.may_set_t0_mode(actor.role))
    if mode not in actions.T0_MODES:
        raise Invalid("mode", "mode is planner (any planner of a partner that may see the "
                      "scenario declares it) or joint (by a joint decision of those partners)")
    with hub.db.write() as session:
        before = mode_of(session)["mode"]
        value = {"mode": mode, "changed": _iso(now())}
        row = session.get(Setting, MODE_KEY)
        if row is None:
            session.add(Setting(key=MODE_KEY, value=value))
        else:
            row.value = value
        audit.append(session, action="t0.mode", subject="workspace:t0-mode",
                     user_id=actor.user_id if actor else None,
                     partner=actor.partner if actor else None,
                     owners=sorted(hub.rules(session).everyone) if hub.joint(session) else [],
                     detail={"mode": mode, "was": before})
        session.flush()
        return mode_of(session)


# -- requests put to a joint decision ------------------------------------------------------


def _asked(hub: Hub, session: Session, scenario: str) -> list[str]:
    """The partners that may see ``scenario``: asked about its T0, and told of it."""
    rules = hub.rules(session)
    return sorted(p for p in rules.everyone if rules.sees_scenario(p, scenario))


def _request_json(session: Session, req: T0Request, d: Decision) -> dict[str, Any]:
    answers = {r.partner: r.stance for r in
               session.scalars(select(Response).where(Response.decision_id == d.id))}
    names = _author_names(session, {req.author})
    return {"id": req.decision_id, "title": d.title, "action": req.action,
            "scenario": req.scenario,
            "t0": _iso(req.t0) if req.t0 is not None else None, "reason": req.reason,
            "partner": req.partner, "by": names.get(req.author, ""), "status": req.status,
            "asked": list(d.asked), "concurred": sorted(p for p, s in answers.items()
                                                         if s == "concur" and p in d.asked),
            "created": _iso(req.created)}


def requests(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The T0 requests the actor's partner may see: it opened or is asked in their decision,
    and it may see the scenario."""
    rules = hub.rules(session)
    out = []
    for req in session.scalars(select(T0Request).order_by(T0Request.created,
                                                          T0Request.decision_id)):
        d = session.get(Decision, req.decision_id)
        if d is None or not (actor.partner == d.partner or actor.partner in d.asked):
            continue
        if not rules.sees_scenario(actor.partner, req.scenario):
            continue
        out.append(_request_json(session, req, d))
    return out


def request(hub: Hub, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Ask every partner that may see the scenario to declare its T0 (``action`` declare,
    with ``t0``) or to withdraw it (``undeclare``): a joint decision, audited, each partner
    asked told. The asking partner concurs by asking; when all asked concur, T0 changes."""
    from .collab import _deadline  # the decisions' own reading of a deadline

    allow(actions.may_write(actor.role))
    action = body.get("action", "declare")
    if action not in ("declare", "undeclare"):
        raise Invalid("action", "action is declare or undeclare")
    reason = _reason(body)
    instant = parse_instant(body.get("t0")) if action == "declare" else None
    deadline = _deadline(body.get("deadline"))
    with hub.db.write() as session:
        scenario = _top_level(hub, session, actor, body.get("scenario"))
        allow(actions.may_request_t0(actor.role, mode_of(session)["mode"]))
        current = _current_rows(session).get(scenario)
        if action == "undeclare" and current is None:
            raise NotFound(scenario)
        asked = _asked(hub, session, scenario)
        if instant is not None:
            title = f"Declare {scenario} with T0 at {_iso(instant)}"
            what = (f"{actor.partner} asks to declare the scenario {scenario}: T0 at "
                    f"{_iso(instant)}" + (f", replacing {_iso(current.t0)}" if current else ""))
        else:
            assert current is not None
            title = f"Withdraw the T0 of {scenario}"
            what = (f"{actor.partner} asks to withdraw the declaration of {scenario} "
                    f"(T0 at {_iso(current.t0)})")
        text = (f"{what}.\n" + (f"Reason: {reason}\n" if reason else "")
                + "T0 changes for every partner asked once all of them concur.")
        d = Decision(partner=actor.partner, author=actor.user_id, text=text, asked=asked,
                     title=title, deadline=deadline)
        session.add(d)
        session.flush()
        req = T0Request(decision_id=d.id, action=action, scenario=scenario,
                        t0=instant.replace(tzinfo=None) if instant else None, reason=reason,
                        partner=actor.partner, author=actor.user_id)
        session.add(req)
        if actor.partner in asked:  # asking is concurring
            session.add(Response(decision_id=d.id, partner=actor.partner,
                                 author=actor.user_id, stance="concur", note="asked for it"))
        session.flush()
        audit.append(session, action="decision.create", subject=f"decision:{d.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner, *asked],
                     detail={"t0 request": action, "scenario": scenario,
                             **({"t0": _iso(instant)} if instant else {}), "reason": reason})
        for partner in sorted(set(asked) - {actor.partner}):
            session.add(Notification(partner=partner, kind="decision",
                                     text=f"{actor.partner} asks for your response: {title}",
                                     link=f"/decisions/{d.id}"))
        settle(hub, session, d, actor)
        return _request_json(session, req, d)


def settle(hub: Hub, session: Session, d: Decision, actor: Actor) -> None:
    """After a response to a decision: when it is a T0 request still open and every partner
    asked concurs, change T0 and close the decision with that outcome. The change is audited
    as the asking planner's, naming the decision; the closing as the last responder's."""
    req = session.get(T0Request, d.id)
    if req is None or req.status != "open" or d.closed is not None:
        return
    answers = {r.partner: r.stance for r in
               session.scalars(select(Response).where(Response.decision_id == d.id))}
    if not all(answers.get(p) == "concur" for p in d.asked):
        return
    current = _current_rows(session).get(req.scenario)
    asked = ", ".join(d.asked)
    if req.action == "declare" and req.t0 is not None:
        _put(hub, session, req.scenario, _utc(req.t0), partner=req.partner, author=req.author,
             reason=req.reason, by=req.author, decision=d.id)
        outcome = (f"Accepted by every partner asked ({asked}): {req.scenario} is declared, "
                   f"T0 at {_iso(req.t0)}.")
        told = f"T0 of {req.scenario} declared by joint decision: {_iso(req.t0)}"
    elif current is not None:
        _withdraw(hub, session, current, partner=req.partner, by=req.author,
                  reason=req.reason, decision=d.id)
        outcome = (f"Accepted by every partner asked ({asked}): the declaration of "
                   f"{req.scenario} is withdrawn.")
        told = f"T0 of {req.scenario} withdrawn by joint decision"
    else:
        outcome = (f"Accepted by every partner asked ({asked}), but {req.scenario} was no "
                   "longer declared: nothing to withdraw.")
        told = f"Nothing to withdraw: {req.scenario} was no longer declared"
    req.status = "accepted"
    d.outcome, d.closed, d.closed_by = outcome, now(), actor.user_id
    audit.append(session, action="decision.close", subject=f"decision:{d.id}",
                 user_id=actor.user_id, partner=actor.partner, owners=[d.partner, *d.asked])
    for partner in sorted(set(d.asked) | {d.partner}):
        session.add(Notification(partner=partner, kind="outcome", text=told,
                                 link=f"/decisions/{d.id}"))
    session.flush()


def closing(session: Session, d: Decision) -> None:
    """A T0 request's decision closed by its opener before every partner concurred: T0
    stays as it is, and the request is recorded as not accepted."""
    req = session.get(T0Request, d.id)
    if req is not None and req.status == "open":
        req.status = "not accepted"


# -- time zones -------------------------------------------------------------------


def zone_of(session: Session, user_id: str) -> str:
    row = session.get(T0Preference, user_id)
    return str(row.timezone) if row is not None else DEFAULT_ZONE


def set_zone(hub: Hub, actor: Actor, zone: Any) -> str:
    """Store the user's time zone (an IANA name such as Europe/Oslo, or UTC)."""
    if not isinstance(zone, str) or not zone.strip():
        raise Invalid("timezone", "name a time zone, like Europe/Oslo or UTC")
    name: str = zone.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("timezone", f"{name[:64]!r} is not a time zone name (like Europe/Oslo "
                      "or UTC)") from None
    with hub.db.write() as session:
        row = session.get(T0Preference, actor.user_id)
        if row is None:
            session.add(T0Preference(user_id=actor.user_id, timezone=name))
        else:
            row.timezone = name
    return name


def zones() -> list[str]:
    """Time zone names a user may choose."""
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def local(instant: datetime, zone: str) -> str:
    """An instant as a date and time in ``zone``, always naming the zone."""
    moment = _utc(instant).astimezone(ZoneInfo(zone))
    label = moment.tzname() or zone
    if not label[:1].isalpha():  # zones without an abbreviation: +03 -> UTC+03
        label = f"UTC{label}"
    return f"{moment:%Y-%m-%d %H:%M} {label}"


def local_iso(text: Any, zone: str) -> str:
    """An ISO timestamp (any zone, or none: then UTC, as stored) shown in ``zone``."""
    if not isinstance(text, str) or not text:
        return "—"
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return local(instant, zone)


# -- calendar feeds -------------------------------------------------------------


def create_feed(hub: Hub, actor: Actor, name: Any) -> tuple[str, str]:
    """A new calendar feed for the actor: (feed id, the secret, shown once)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise Invalid("name", "name the feed (at most 128 characters), like 'desk calendar'")
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    with hub.db.write() as session:
        feed = CalendarFeed(user_id=actor.user_id, name=name.strip(), digest=digest(secret))
        session.add(feed)
        session.flush()
        audit.append(session, action="calendar.create", subject=f"calendar:{feed.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"name": feed.name, "scope": "calendar"})
        return feed.id, secret


def feeds(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The actor's own calendar feeds (never their secrets)."""
    rows = session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == actor.user_id)
                           .order_by(CalendarFeed.created, CalendarFeed.id))
    return [{"id": f.id, "name": f.name, "created": _iso(f.created),
             "revoked": _iso(f.revoked) if f.revoked else None} for f in rows]


def revoke_feed(hub: Hub, actor: Actor, feed_id: str) -> None:
    """Revoke one of the actor's own feeds; another user's answers as missing."""
    with hub.db.write() as session:
        feed = session.get(CalendarFeed, feed_id)
        if feed is None or feed.user_id != actor.user_id or feed.revoked is not None:
            raise NotFound(feed_id)
        feed.revoked = now()
        audit.append(session, action="calendar.revoke", subject=f"calendar:{feed.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner])


def feed_calendar(hub: Hub, secret: str) -> bytes:
    """The calendar a feed secret opens: its user's partner's timeline under the declared
    T0s, cut by the gate. NotFound for an unknown or revoked secret or a disabled user.

    Calendar clients poll often: a use is audited once per distinct calendar served by
    the feed (its SHA-256, without the stamp, is kept in the entry), and a poll that
    gets what was served before writes nothing and gets the same bytes."""
    from ..formats.ical import timeline, to_ics
    from ..sharing.handling import export_view

    if not secret.startswith(FEED_PREFIX) or len(secret) > 200:
        raise NotFound("calendar")
    with hub.db.read() as session:
        feed = session.scalar(select(CalendarFeed).where(CalendarFeed.digest == digest(secret)))
        user = session.get(User, feed.user_id) if feed is not None else None
        if feed is None or feed.revoked is not None or user is None or user.disabled:
            raise NotFound("calendar")
        actor = Actor(user.id, user.username, user.partner, user.role)
        ws = hub.current(session).workspace
        ev = export_view(ws, actor.partner)
        t0s = t0s_for(hub, session, actor)
        subject = f"calendar:{feed.id}"
        last = audit.latest(session, "calendar.use", subject)
    entries = timeline(ev, ws, t0s) if t0s else []  # nothing declared: an empty calendar
    served = hashlib.sha256(to_ics(ev, entries, now=UNSTAMPED)).hexdigest()
    if last is None or last.detail.get("sha256") != served:
        with hub.db.write() as session:
            last = audit.latest(session, "calendar.use", subject)  # a poll just before?
            if last is None or last.detail.get("sha256") != served:
                last = audit.append(session, action="calendar.use", subject=subject,
                                    user_id=actor.user_id, partner=actor.partner,
                                    owners=[actor.partner],
                                    detail={"tlp": ev.tlp.value, "events": len(entries),
                                            "sha256": served})
    # Stamped when this content was first served: the same content is the same bytes.
    return to_ics(ev, entries, now=datetime.fromisoformat(last.at))
