"""Working together: threads, proposals, joint decisions, acknowledgements, notifications.

Sharing never binds: a partner proposes, only the owner's planners accept
(which makes a new version) or decline with a reason.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..files import InvalidWorkspace
from ..model import TimecodeError, format_time, parse_time
from ..services.accounts import Actor
from ..sharing import Rules, actions, exchanges
from ..store import audit
from ..store.tables import (
    Acknowledgement,
    AuditEntry,
    Decision,
    Message,
    Notification,
    PlanVersion,
    Proposal,
    Response,
    Thread,
    User,
)
from . import findings
from .concurrency import Stale, versions_since
from .hub import Hub, Invalid, NotFound, allow
from .plans import new_version, plan_view, workspace_view

SUBJECTS = ("scenario", "plan", "task", "conflict", "gap")
STANCES = ("concur", "non-concur", "reservation")
CHANGES = ("move-start", "set-quantity", "add-provision")


def _iso(value: Any) -> str:
    return str(value.isoformat(timespec="seconds")) + "Z"


def _partners(hub: Hub, session: Session, codes: Any, field: str) -> list[str]:
    known = hub.current(session).workspace.partner_codes
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise Invalid(field, f"{field} must be a list of partner codes")
    for code in codes:
        if code not in known:
            raise Invalid(field, f"{code!r} is not a partner of the workspace")
    return sorted(set(codes))


def _text(value: Any, field: str, limit: int = 20000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, f"{field} must be non-empty text")
    if len(value) > limit:
        raise Invalid(field, f"{field} is longer than {limit} characters")
    return value


# -- threads --------------------------------------------------------------------


def _check_subject(hub: Hub, session: Session, actor: Actor, kind: Any, ref: Any) -> None:
    if kind not in SUBJECTS:
        raise Invalid("subject.kind", "subject.kind must be one of " + ", ".join(SUBJECTS))
    if not isinstance(ref, str) or not ref:
        raise Invalid("subject.ref", "subject.ref must name the subject")
    ws = hub.current(session).workspace
    if kind == "scenario" and ref not in {s.id for s in ws.scenarios}:
        raise Invalid("subject.ref", f"no scenario {ref!r}")
    if kind in findings.FAMILIES:
        findings.check_about(session, actor, kind, ref, "subject.ref")
    if kind in ("plan", "task"):
        pid, _, tid = ref.partition("/")
        try:
            plan = plan_view(hub, session, actor, pid)
        except NotFound:
            raise Invalid("subject.ref", f"no {kind} {ref!r}") from None
        if kind == "task" and tid not in {t["id"] for t in plan.get("tasks", [])}:
            raise Invalid("subject.ref", f"no task {ref!r}")


def _thread_audience(t: Thread) -> set[str]:
    return set(exchanges.thread_audience(t.partner, t.share))


def create_thread(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    allow(actions.may_contribute(actor.role, "threads"))
    subject = body.get("subject")
    if not isinstance(subject, dict):
        raise Invalid("subject", "subject must be {kind, ref}")
    with hub.db.write() as session:
        _check_subject(hub, session, actor, subject.get("kind"), subject.get("ref"))
        share = _partners(hub, session, body.get("share", []), "share")
        raw = body.get("title")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            # Left empty: the server names the subject only as far as every reader sees it.
            raw = exchanges.default_title(hub.rules(session), subject["kind"], subject["ref"],
                                          {actor.partner, *share})
        title = _text(raw, "title", 300)
        text = _text(body.get("text"), "text")
        thread = Thread(subject_kind=subject["kind"], subject={"ref": subject["ref"]},
                        partner=actor.partner, author=actor.user_id, title=title,
                        share=[p for p in share if p != actor.partner])
        session.add(thread)
        session.flush()
        session.add(Message(thread_id=thread.id, seq=1, partner=actor.partner,
                            author=actor.user_id, text=text,
                            share=sorted(_thread_audience(thread))))
        audit.append(session, action="thread.create", subject=f"thread:{thread.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=sorted(_thread_audience(thread)))
        return thread.id


def _visible_thread(session: Session, actor: Actor, thread_id: str) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None or not exchanges.sees_thread(actor.partner, thread.partner, thread.share):
        raise NotFound(thread_id)
    return thread


def _messages(session: Session, actor: Actor, thread: Thread) -> list[Message]:
    rows = session.scalars(select(Message).where(Message.thread_id == thread.id)
                           .order_by(Message.seq))
    return [m for m in rows if exchanges.sees_message(actor.partner, m.partner, m.share)]


def _seen_subjects(hub: Hub, session: Session, actor: Actor) -> set[str]:
    """The plans, tasks (`PLAN/TASK`), conflicts and gaps the actor may see, as a thread's
    subject names them."""
    seen: set[str] = set()
    for plan in workspace_view(hub, session, actor)["plans"]:
        seen.add(plan["id"])
        seen.update(f"{plan['id']}/{t['id']}" for t in plan.get("tasks", []))
    return seen | findings.visible_ids(session, actor)


def _thread_json(session: Session, actor: Actor, t: Thread, full: bool,
                 seen: set[str]) -> dict[str, Any]:
    messages = _messages(session, actor, t)
    subject: dict[str, Any] = {"kind": t.subject_kind, **t.subject}
    if t.subject_kind != "scenario" and t.subject.get("ref") not in seen:
        # A partner in the thread that may not see its subject is not told which.
        subject = {"kind": t.subject_kind, "hidden": True}
    out: dict[str, Any] = {"id": t.id, "subject": subject,
                           "title": t.title, "partner": t.partner,
                           "share": sorted(_thread_audience(t)), "created": _iso(t.created),
                           "messages": len(messages)}
    if full:
        out["messages"] = [{"id": m.id, "partner": m.partner, "text": m.text,
                            "share": m.share, "at": _iso(m.created)} for m in messages]
    return out


def list_threads(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(select(Thread).order_by(Thread.created, Thread.id))
    seen = _seen_subjects(hub, session, actor)
    return [_thread_json(session, actor, t, False, seen) for t in rows
            if exchanges.sees_thread(actor.partner, t.partner, t.share)]


def get_thread(hub: Hub, session: Session, actor: Actor, thread_id: str) -> dict[str, Any]:
    return _thread_json(session, actor, _visible_thread(session, actor, thread_id), True,
                        _seen_subjects(hub, session, actor))


def post_message(hub: Hub, actor: Actor, thread_id: str, body: dict[str, Any]) -> str:
    with hub.db.write() as session:
        thread = _visible_thread(session, actor, thread_id)
        allow(actions.may_contribute(actor.role, "messages"))
        audience = _thread_audience(thread)
        share = _partners(hub, session, body.get("share", sorted(audience)), "share")
        outside = set(share) - audience
        if outside:
            raise Invalid("share", "a message is shared within its thread's partners only")
        text = _text(body.get("text"), "text")
        seq = len(list(session.scalars(select(Message.id).where(
            Message.thread_id == thread.id)))) + 1
        message = Message(thread_id=thread.id, seq=seq, partner=actor.partner,
                          author=actor.user_id, text=text,
                          share=sorted(set(share) | {actor.partner}))
        session.add(message)
        session.flush()
        audit.append(session, action="message.post", subject=f"thread:{thread.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=message.share)
        return message.id


# -- proposals ------------------------------------------------------------------


def _task(plan: dict[str, Any], tid: Any) -> dict[str, Any]:
    task: dict[str, Any] | None = next((t for t in plan.get("tasks", []) if t["id"] == tid), None)
    if task is None:
        raise Invalid("change.task", f"no task {tid!r} in {plan['id']}")
    return task


def _check_change(hub: Hub, session: Session, actor: Actor, plan: dict[str, Any],
                  change: Any) -> dict[str, Any]:
    if not isinstance(change, dict) or change.get("kind") not in CHANGES:
        raise Invalid("change.kind", "change.kind must be one of " + ", ".join(CHANGES))
    kind = change["kind"]
    if kind == "move-start":
        task = _task(plan, change.get("task"))
        if "start" in task.get("withheld", []) or "flex" not in task:
            raise Invalid("change.task", "you can propose a new start only for a task whose "
                          "start and flex you see")
        try:
            start = parse_time(str(change.get("start")))
        except TimecodeError as exc:
            raise Invalid("change.start", str(exc)) from None
        lo, hi = (parse_time(x) for x in task["flex"])
        if not lo <= start <= hi:
            raise Invalid("change.start", f"the start must stay within the task's flex "
                          f"[{task['flex'][0]}, {task['flex'][1]}]")
        return {"kind": kind, "task": task["id"], "start": format_time(start)}
    if kind == "set-quantity":
        task = _task(plan, change.get("task"))
        if "uses" not in task:
            raise Invalid("change.task", "you can propose a quantity only for a task whose "
                          "uses you see")
        resource, quantity = change.get("resource"), change.get("quantity")
        if resource not in task["uses"]:
            raise Invalid("change.resource", f"the task does not use {resource!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise Invalid("change.quantity", "quantity must be a whole number >= 0")
        return {"kind": kind, "task": task["id"], "resource": resource, "quantity": quantity}
    provision = change.get("provision")
    if not isinstance(provision, dict):
        raise Invalid("change.provision", "change.provision must be a provision")
    answers = provision.get("answers")
    ws = hub.current(session).workspace
    pid, _, eid = str(answers).partition("/")
    mine = next((p for p in ws.plans if p.id == pid and p.owner == actor.partner), None)
    expectation = next((e for e in mine.expects if e.id == eid), None) if mine else None
    if expectation is None or expectation.from_ != plan["owner"]:
        raise Invalid("change.provision.answers", "a provision you propose must answer an "
                      f"expectation of yours addressed to {plan['owner']}")
    return {"kind": kind, "provision": {**provision, "to": actor.partner}}


def create_proposal(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    allow(actions.may_contribute(actor.role, "proposals"))
    plan_id = body.get("plan")
    if not isinstance(plan_id, str):
        raise Invalid("plan", "plan must name a plan")
    with hub.db.write() as session:
        try:
            plan = plan_view(hub, session, actor, plan_id)
        except NotFound:
            raise Invalid("plan", f"no plan {plan_id!r}") from None
        if "owner" not in plan:
            raise Invalid("plan", f"no plan {plan_id!r}")
        if plan["owner"] == actor.partner:
            raise Invalid("plan", "you change your own plans directly; proposals are for "
                          "other partners' plans")
        change = _check_change(hub, session, actor, plan, body.get("change"))
        reason = _text(body.get("reason"), "reason", 5000)
        version = hub.current(session).versions[plan_id]
        proposal = Proposal(plan_id=plan_id, owner=plan["owner"], partner=actor.partner,
                            author=actor.user_id, base_version=version.number, change=change,
                            reason=reason)
        session.add(proposal)
        session.flush()
        findings.link(session, actor, body.get("about"), "proposal", proposal.id)
        audit.append(session, action="proposal.create", subject=f"proposal:{proposal.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[actor.partner, plan["owner"]])
        session.add(Notification(partner=plan["owner"], text=f"{actor.partner} proposes a "
                                 f"change to {plan_id}: {change['kind']}"))
        return proposal.id


def _proposal_json(session: Session, actor: Actor, p: Proposal) -> dict[str, Any]:
    return {"id": p.id, "plan": p.plan_id, "owner": p.owner, "partner": p.partner,
            "change": p.change, "reason": p.reason, "status": p.status, "answer": p.answer,
            "created": _iso(p.created),
            "about": findings.about(session, actor, "proposal", p.id)}


def _visible_proposal(session: Session, actor: Actor, proposal_id: str) -> Proposal:
    p = session.get(Proposal, proposal_id)
    if p is None or not exchanges.sees_proposal(actor.partner, p.partner, p.owner):
        raise NotFound(proposal_id)
    return p


def list_proposals(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(select(Proposal).order_by(Proposal.created, Proposal.id))
    return [_proposal_json(session, actor, p) for p in rows
            if exchanges.sees_proposal(actor.partner, p.partner, p.owner)]


def get_proposal(hub: Hub, session: Session, actor: Actor, proposal_id: str) -> dict[str, Any]:
    return _proposal_json(session, actor, _visible_proposal(session, actor, proposal_id))


def _apply(doc: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    if change["kind"] == "add-provision":
        doc.setdefault("provides", []).append(change["provision"])
        return doc
    task = next((t for t in doc.get("tasks", []) if t["id"] == change["task"]), None)
    if task is None:
        raise Invalid("change.task", "the task is no longer in the plan")
    if change["kind"] == "move-start":
        task["start"] = change["start"]
    else:
        task.setdefault("uses", {})[change["resource"]] = change["quantity"]
    return doc


def decide_proposal(hub: Hub, actor: Actor, proposal_id: str, accept: bool,
                    reason: str | None) -> dict[str, Any]:
    """The owner's planners accept (a new version) or decline (with a reason)."""
    with hub.db.write() as session:
        p = _visible_proposal(session, actor, proposal_id)
        allow(actions.may_decide(actor.partner, actor.role, p.owner))
        if p.status != "open":
            raise Invalid("status", f"the proposal is {p.status} already")
        if accept:
            current = hub.current(session).versions.get(p.plan_id)
            if current is None or current.doc is None:
                raise Invalid("plan", "the plan no longer exists")
            stale = current.number != p.base_version
            try:
                if stale:  # made from an older version: it must still make sense on this one
                    _recheck(hub, session, p)
                version = new_version(hub, session, actor, _apply(current.doc, p.change),
                                      reason or f"accepted proposal {p.id} from {p.partner}")
            except (Invalid, InvalidWorkspace) as exc:
                why = (str(exc) if isinstance(exc, Invalid)
                       else "; ".join(x.message for x in exc.problems))
                if stale:
                    raise _stale(session, p, current.id, why) from None
                raise Invalid("change", f"the change no longer fits the plan: {why}") from None
            p.status, p.answer = "accepted", version.id
        else:
            p.status, p.answer = "declined", _text(reason, "reason", 5000)
        p.decided_by = actor.user_id
        audit.append(session, action=f"proposal.{p.status}", subject=f"proposal:{p.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[p.owner, p.partner])
        session.add(Notification(partner=p.partner, text=f"{p.owner} {p.status} your "
                                 f"proposal on {p.plan_id}"))
        return _proposal_json(session, actor, p)


def _recheck(hub: Hub, session: Session, p: Proposal) -> None:
    """Check a proposal again, as its proposer, against the plan's current version."""
    proposer = Actor(user_id=p.author, username="(proposer)", partner=p.partner,
                     role="planner")
    try:
        plan = plan_view(hub, session, proposer, p.plan_id)
    except NotFound:
        raise Invalid("plan", f"{p.partner} no longer sees the plan") from None
    if "owner" not in plan:
        raise Invalid("plan", f"{p.partner} no longer sees the plan")
    again = _check_change(hub, session, proposer, plan, p.change)
    if again != p.change:
        raise Invalid("change", "the change reads differently on the current version")


def _stale(session: Session, p: Proposal, current: str, why: str) -> Stale:
    numbers = {v.number: v.id for v in session.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == p.plan_id))}
    base = numbers.get(p.base_version, "")
    return Stale(p.plan_id, base, current, versions_since(session, p.plan_id, base),
                 f"the proposal no longer applies: {why}")


# -- joint decisions ------------------------------------------------------------


def create_decision(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    allow(actions.may_contribute(actor.role, "decisions"))
    with hub.db.write() as session:
        text = _text(body.get("text"), "text")
        asked = _partners(hub, session, body.get("partners"), "partners")
        if not asked:
            raise Invalid("partners", "name the partners asked to decide")
        d = Decision(partner=actor.partner, author=actor.user_id, text=text, asked=asked)
        session.add(d)
        session.flush()
        findings.link(session, actor, body.get("about"), "decision", d.id)
        audit.append(session, action="decision.create", subject=f"decision:{d.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner, *asked])
        return d.id


def _visible_decision(session: Session, actor: Actor, decision_id: str) -> Decision:
    d = session.get(Decision, decision_id)
    if d is None or not exchanges.sees_decision(actor.partner, d.partner, d.asked):
        raise NotFound(decision_id)
    return d


def _decision_json(session: Session, actor: Actor, d: Decision) -> dict[str, Any]:
    responses = {r.partner: {"stance": r.stance, "note": r.note, "at": _iso(r.created)}
                 for r in session.scalars(select(Response).where(Response.decision_id == d.id))}
    return {"id": d.id, "text": d.text, "partner": d.partner, "partners": d.asked,
            "responses": {p: responses.get(p) for p in d.asked}, "created": _iso(d.created),
            "about": findings.about(session, actor, "decision", d.id)}


def list_decisions(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(select(Decision).order_by(Decision.created, Decision.id))
    return [_decision_json(session, actor, d) for d in rows
            if exchanges.sees_decision(actor.partner, d.partner, d.asked)]


def get_decision(hub: Hub, session: Session, actor: Actor, decision_id: str) -> dict[str, Any]:
    return _decision_json(session, actor, _visible_decision(session, actor, decision_id))


def respond(hub: Hub, actor: Actor, decision_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with hub.db.write() as session:
        d = _visible_decision(session, actor, decision_id)
        allow(actions.may_respond(actor.partner, actor.role, d.asked))
        stance = body.get("stance")
        if stance not in STANCES:
            raise Invalid("stance", "stance must be concur, non-concur or reservation")
        note = body.get("note", "")
        if not isinstance(note, str):
            raise Invalid("note", "note must be text")
        if stance != "concur" and not note.strip():
            raise Invalid("note", "say why: a non-concurrence or reservation needs a note")
        row = session.scalar(select(Response).where(Response.decision_id == d.id,
                                                    Response.partner == actor.partner))
        if row is None:
            session.add(Response(decision_id=d.id, partner=actor.partner, author=actor.user_id,
                                 stance=stance, note=note))
        else:
            row.stance, row.note = stance, note
        session.flush()
        audit.append(session, action="decision.respond", subject=f"decision:{d.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[d.partner, *d.asked], detail={"stance": stance})
        return _decision_json(session, actor, d)


# -- acknowledgements, notifications, audit ------------------------------------------


def acknowledge(hub: Hub, actor: Actor, plan_id: str, expectation_id: str) -> None:
    """The partner an expectation is addressed to acknowledges it."""
    with hub.db.write() as session:
        ws = hub.current(session).workspace
        plan = next((p for p in ws.plans if p.id == plan_id), None)
        exp = next((e for e in plan.expects if e.id == expectation_id), None) if plan else None
        if plan is None or exp is None or not Rules(ws).sees(actor.partner, plan, exp):
            raise NotFound(f"{plan_id}/{expectation_id}")
        allow(actions.may_acknowledge(actor.partner, actor.role, exp.from_))
        exists = session.scalar(select(Acknowledgement).where(
            Acknowledgement.plan_id == plan_id, Acknowledgement.expectation == expectation_id,
            Acknowledgement.partner == actor.partner))
        if exists is None:
            session.add(Acknowledgement(plan_id=plan_id, expectation=expectation_id,
                                        partner=actor.partner, author=actor.user_id))
            audit.append(session, action="expectation.acknowledge",
                         subject=f"expectation:{plan_id}/{expectation_id}",
                         user_id=actor.user_id, partner=actor.partner,
                         owners=[actor.partner, plan.owner])
            session.add(Notification(partner=plan.owner, text=f"{actor.partner} acknowledged "
                                     f"{plan_id}/{expectation_id}"))


def acknowledgements(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    ws = hub.current(session).workspace
    owners = {p.id: p.owner for p in ws.plans}
    rows = session.scalars(select(Acknowledgement).order_by(Acknowledgement.created))
    return [{"expectation": f"{a.plan_id}/{a.expectation}", "partner": a.partner,
             "at": _iso(a.created)} for a in rows
            if exchanges.sees_acknowledgement(actor.partner, a.partner, owners.get(a.plan_id))]


def notifications(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(select(Notification).where(Notification.partner == actor.partner)
                           .order_by(Notification.created.desc()).limit(200))
    return [{"id": n.id, "text": n.text, "at": _iso(n.created)} for n in rows]


def audit_entries(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The entries about the partner's own data and its own people."""
    users = {u.id: u for u in session.scalars(select(User))}
    out = []
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2000)):
        if not exchanges.reads_audit_entry(actor.partner, e.partner, e.owners):
            continue
        user = users.get(e.user_id or "")
        name = (user.username if user is not None
                and exchanges.sees_own_side(actor.partner, user.partner) else None)
        out.append({"at": e.at, "action": e.action, "subject": e.subject,
                    "partner": e.partner, "user": name,
                    "detail": e.detail if exchanges.sees_own_side(actor.partner, e.partner)
                    else {}})
    return out
