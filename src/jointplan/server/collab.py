"""Working together: threads, proposals, joint decisions, acknowledgements, notifications.

Sharing never binds: a partner proposes, only the owner's planners accept
(which makes a new version) or decline with a reason.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..analysis.likelihood import likelihoods
from ..analysis.run import analyse
from ..files import InvalidWorkspace
from ..model import TimecodeError, format_time, parse_time
from ..model.workspace import Observation, Share
from ..services.accounts import Actor
from ..services.check import check_analysed
from ..sharing import Rules, actions, exchanges
from ..store import audit
from ..store.tables import (
    Acknowledgement,
    AuditEntry,
    Decision,
    Message,
    Notification,
    NotificationRead,
    ObservationAmendment,
    ObservationRow,
    PlanVersion,
    Proposal,
    Response,
    Thread,
    User,
    now,
)
from . import findings, t0
from .analysis import record_exposure
from .assemble import read_sources, stored_sources
from .concurrency import Stale, versions_since
from .hub import Hub, Invalid, NotFound, allow
from .lapsing import stored_breaks, stored_model
from .plans import (
    OBSERVATION_KEYS,
    kept_plan_view,
    kept_view,
    new_version,
    observation_doc,
    plan_view,
)

SUBJECTS = ("scenario", "plan", "task", "conflict", "gap")
STANCES = ("concur", "non-concur", "reservation")
CHANGES = ("move-start", "set-quantity", "add-provision")
CHANGE_NAMES = {"move-start": "a new start", "set-quantity": "a new quantity",
                "add-provision": "a new provision"}


def _iso(value: Any) -> str:
    return str(value.isoformat(timespec="seconds")) + "Z"


def notify(session: Session, partners: Any, kind: str, text: str, link: str | None) -> None:
    """Tell each partner of something its people must act on or know, with the page it is on.

    The text names only what every addressee may see: the link's page is cut by
    the gate when it is opened.
    """
    for partner in sorted(set(partners)):
        session.add(Notification(partner=partner, kind=kind, text=text, link=link))


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
            plan = kept_plan_view(hub, session, actor, pid)
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
        notify(session, _thread_audience(thread) - {actor.partner}, "thread",
               f"{actor.partner} started a thread with you: {title}", f"/threads/{thread.id}")
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


def _seen_subjects(hub: Hub, session: Session, actor: Actor, threads: list[Thread]
                   ) -> set[str]:
    """Of the subjects of ``threads``, those the actor may see: plans, tasks
    (`PLAN/TASK`), conflicts and gaps, as a thread's subject names them."""
    refs = {str(t.subject.get("ref")) for t in threads if t.subject_kind != "scenario"}
    if not refs:
        return set()
    plans = kept_view(hub, session, actor)["plans"]

    def names() -> frozenset[str]:
        seen: set[str] = set()
        for plan in plans:
            seen.add(plan["id"])
            seen.update(f"{plan['id']}/{t['id']}" for t in plan.get("tasks", []))
        return frozenset(seen)

    # Kept by what decides the names: the partner's kept plans (`Current.plans_key`).
    current = hub.current(session)
    named: frozenset[str] = hub.kept(("subjects", current.plans_key, actor.partner), names)
    return (refs & named) | findings.visible_ids(session, actor, refs - named)


def _message_counts(session: Session, actor: Actor, thread_ids: list[str]) -> dict[str, int]:
    """How many messages of each thread the actor may read: one query for a list of threads."""
    counts = dict.fromkeys(thread_ids, 0)
    if thread_ids:
        for thread_id, author, share in session.execute(
                select(Message.thread_id, Message.partner, Message.share)
                .where(Message.thread_id.in_(thread_ids))):
            if exchanges.sees_message(actor.partner, author, share):
                counts[thread_id] += 1
    return counts


def _thread_json(session: Session, actor: Actor, t: Thread, full: bool,
                 seen: set[str], count: int | None = None) -> dict[str, Any]:
    """A thread as the actor sees it; ``count`` (its readable messages) spares a summary
    reading them."""
    messages = _messages(session, actor, t) if full or count is None else []
    subject: dict[str, Any] = {"kind": t.subject_kind, **t.subject}
    if t.subject_kind != "scenario" and t.subject.get("ref") not in seen:
        # A partner in the thread that may not see its subject is not told which.
        subject = {"kind": t.subject_kind, "hidden": True}
    out: dict[str, Any] = {"id": t.id, "subject": subject,
                           "title": t.title, "partner": t.partner,
                           "share": sorted(_thread_audience(t)), "created": _iso(t.created),
                           "messages": len(messages) if count is None else count}
    if full:
        out["messages"] = [{"id": m.id, "partner": m.partner, "text": m.text,
                            "share": m.share, "at": _iso(m.created)} for m in messages]
    return out


def list_threads(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = [t for t in session.scalars(select(Thread).order_by(Thread.created, Thread.id))
            if exchanges.sees_thread(actor.partner, t.partner, t.share)]
    seen = _seen_subjects(hub, session, actor, rows)
    counts = _message_counts(session, actor, [t.id for t in rows])
    return [_thread_json(session, actor, t, False, seen, counts[t.id]) for t in rows]


def get_thread(hub: Hub, session: Session, actor: Actor, thread_id: str) -> dict[str, Any]:
    thread = _visible_thread(session, actor, thread_id)
    return _thread_json(session, actor, thread, True, _seen_subjects(hub, session, actor,
                                                                     [thread]))


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
        notify(session, set(message.share) - {actor.partner}, "reply",
               f"{actor.partner} replied in the thread “{thread.title}”",
               f"/threads/{thread.id}#messages")
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


def _movable(task: dict[str, Any]) -> bool:
    return "start" not in task.get("withheld", []) and "flex" in task and "start" in task


def change_options(hub: Hub, session: Session, actor: Actor, plan_id: str,
                   task_id: str | None = None) -> dict[str, Any]:
    """What the actor may propose for another partner's plan (or one task of it), with the
    current values it sees: exactly the changes `create_proposal` would take."""
    try:
        plan = plan_view(hub, session, actor, plan_id)
    except NotFound:
        raise NotFound(plan_id) from None
    if "owner" not in plan or plan["owner"] == actor.partner:
        raise NotFound(plan_id)
    out: dict[str, Any] = {"plan": plan["id"], "title": plan.get("title", plan["id"]),
                           "owner": plan["owner"], "changes": []}
    if task_id is not None:
        task = next((t for t in plan.get("tasks", []) if t["id"] == task_id), None)
        if task is None:
            raise NotFound(f"{plan_id}/{task_id}")
        out["task"] = {"id": task["id"], "title": task.get("title", task["id"]),
                       "start": task.get("start"), "flex": task.get("flex"),
                       "uses": task.get("uses")}
        if _movable(task):
            out["changes"].append({"kind": "move-start", "current": task["start"],
                                   "earliest": task["flex"][0], "latest": task["flex"][1]})
        for resource, quantity in sorted((task.get("uses") or {}).items()):
            out["changes"].append({"kind": "set-quantity", "resource": resource,
                                   "current": quantity})
        return out
    ws = hub.current(session).workspace
    for mine in ws.plans:
        if mine.owner != actor.partner:
            continue
        for e in mine.expects:
            if e.from_ == plan["owner"]:
                out["changes"].append({"kind": "add-provision",
                                       "answers": f"{mine.id}/{e.id}"})
    return out


def _entry_key(family: str, e: dict[str, Any]) -> str:
    if family == "gap":
        return json.dumps(["gap", e["expectation"], e["kind"]])
    items = sorted(json.dumps(i, sort_keys=True) for i in e.get("tasks", []))
    return json.dumps([e["kind"], e.get("resource") or e.get("areas"), items])


def _compare(family: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
             ) -> dict[str, Any]:
    def group(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            out.setdefault(_entry_key(family, e), []).append(e)
        return out

    was, will = group(before), group(after)
    return {"added": [e for k in will if k not in was for e in will[k]],
            "removed": [e for k in was if k not in will for e in was[k]],
            "changed": [{"before": was[k], "after": will[k]} for k in will
                        if k in was and was[k] != will[k]],
            "unchanged": sum(1 for k in will if k in was and was[k] == will[k])}


def change_effect(hub: Hub, actor: Actor, plan_id: str, change: dict[str, Any]
                  ) -> dict[str, Any]:
    """What a (checked) change would do to the conflicts and gaps the actor may see.

    A read: the stored plans with the change applied are analysed aside, never
    stored, and cut for the actor exactly as the real result would be. It counts
    as an analysis (limited); a result showing hidden counterparts is recorded
    like any other analysis's (`analysis.record_exposure`).
    """
    hub.take_analysis_slot(actor)
    with hub.db.read() as session:
        current = hub.current(session)
        joint = hub.joint(session)
        breaks = stored_breaks(session)
    version = current.versions.get(plan_id)
    if joint is None or version is None or version.doc is None:
        raise Invalid("plan", "the plan no longer exists")
    docs = [_apply(v.doc, change) if k == plan_id else v.doc
            for k, v in sorted(current.versions.items()) if v.doc is not None]
    try:
        loaded, _ = stored_model(joint, docs, [], breaks)
    except InvalidWorkspace as exc:
        raise Invalid("change", "the change does not fit the plan: "
                      + "; ".join(x.message for x in exc.problems)) from None
    before = check_analysed(current.analysis(), current.rules, actor.partner)
    after = check_analysed(analyse(loaded.workspace), Rules(loaded.workspace), actor.partner)
    record_exposure(hub, actor, current, after)
    return {"plan": plan_id, "conflicts": _compare("conflict", before["conflicts"],
                                                   after["conflicts"]),
            "gaps": _compare("gap", before["gaps"], after["gaps"])}


def _proposed(hub: Hub, session: Session, actor: Actor, plan_id: str, change: Any
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plan a proposal is about, as the actor sees it, and the change checked on it."""
    try:
        plan = plan_view(hub, session, actor, plan_id)
    except NotFound:
        raise Invalid("plan", f"no plan {plan_id!r}") from None
    if "owner" not in plan:
        raise Invalid("plan", f"no plan {plan_id!r}")
    if plan["owner"] == actor.partner:
        raise Invalid("plan", "you change your own plans directly; proposals are for "
                      "other partners' plans")
    return plan, _check_change(hub, session, actor, plan, change)


def preview_proposal(hub: Hub, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Before sending: the change checked as `create_proposal` checks it, and its effect."""
    allow(actions.may_contribute(actor.role, "proposals"))
    plan_id = body.get("plan")
    if not isinstance(plan_id, str):
        raise Invalid("plan", "plan must name a plan")
    with hub.db.read() as session:
        _, change = _proposed(hub, session, actor, plan_id, body.get("change"))
    return {**change_effect(hub, actor, plan_id, change), "change": change}


def proposal_effect(hub: Hub, actor: Actor, proposal_id: str) -> dict[str, Any]:
    """Before accepting: what the proposal would do now, as the actor may see it."""
    with hub.db.read() as session:
        p = _visible_proposal(session, actor, proposal_id)
        plan_id, change, status = p.plan_id, dict(p.change), p.status
    if status != "open":
        raise Invalid("status", f"the proposal is {status}")
    return {**change_effect(hub, actor, plan_id, change), "change": change}


def create_proposal(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    allow(actions.may_contribute(actor.role, "proposals"))
    plan_id = body.get("plan")
    if not isinstance(plan_id, str):
        raise Invalid("plan", "plan must name a plan")
    with hub.db.write() as session:
        plan, change = _proposed(hub, session, actor, plan_id, body.get("change"))
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
        notify(session, [plan["owner"]], "proposal", f"{actor.partner} proposes a change to "
               f"{plan_id} ({CHANGE_NAMES[change['kind']]}): answer it",
               f"/proposals/{proposal.id}")
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
                # The history always says whose proposal it was; a note is kept beside it.
                record = f"accepted proposal {p.id} from {p.partner}"
                version = new_version(hub, session, actor, _apply(current.doc, p.change),
                                      f"{record}: {reason.strip()}"
                                      if reason and reason.strip() else record)
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
        notify(session, [p.partner], "answer", f"{p.owner} {p.status} your proposal on "
               f"{p.plan_id}", f"/proposals/{p.id}")
        return _proposal_json(session, actor, p)


def withdraw_proposal(hub: Hub, actor: Actor, proposal_id: str) -> dict[str, Any]:
    """The proposing partner's planners take back a proposal not yet answered."""
    with hub.db.write() as session:
        p = _visible_proposal(session, actor, proposal_id)
        allow(actions.may_withdraw(actor.partner, actor.role, p.partner))
        if p.status != "open":
            raise Invalid("status", f"the proposal is {p.status} already")
        p.status, p.decided_by = "withdrawn", actor.user_id
        audit.append(session, action="proposal.withdrawn", subject=f"proposal:{p.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[p.owner, p.partner])
        notify(session, [p.owner], "withdrawn", f"{p.partner} withdrew its proposal on "
               f"{p.plan_id}", f"/proposals/{p.id}")
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


def _deadline(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid("deadline", "deadline must be an ISO 8601 date and time with a zone")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("deadline", f"{value!r} is not an ISO 8601 date and time") from None
    if at.tzinfo is None:
        raise Invalid("deadline", "give the deadline's zone (e.g. 2026-11-21T18:00Z)")
    return at.astimezone(UTC).replace(tzinfo=None)


def create_decision(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    allow(actions.may_contribute(actor.role, "decisions"))
    with hub.db.write() as session:
        text = _text(body.get("text"), "text")
        raw = body.get("title")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raw = text.strip().splitlines()[0][:120]  # left empty: the question's first line
        title = _text(raw, "title", 300)
        deadline = _deadline(body.get("deadline"))
        asked = _partners(hub, session, body.get("partners"), "partners")
        if not asked:
            raise Invalid("partners", "name the partners asked to decide")
        d = Decision(partner=actor.partner, author=actor.user_id, text=text, asked=asked,
                     title=title, deadline=deadline)
        session.add(d)
        session.flush()
        findings.link(session, actor, body.get("about"), "decision", d.id)
        audit.append(session, action="decision.create", subject=f"decision:{d.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner, *asked])
        notify(session, set(asked) - {actor.partner}, "decision",
               f"{actor.partner} asks for your response: {title}", f"/decisions/{d.id}")
        return d.id


def _visible_decision(session: Session, actor: Actor, decision_id: str) -> Decision:
    d = session.get(Decision, decision_id)
    if d is None or not exchanges.sees_decision(actor.partner, d.partner, d.asked):
        raise NotFound(decision_id)
    return d


def _decision_json(session: Session, actor: Actor, d: Decision) -> dict[str, Any]:
    responses = {r.partner: {"stance": r.stance, "note": r.note, "at": _iso(r.created)}
                 for r in session.scalars(select(Response).where(Response.decision_id == d.id))}
    return {"id": d.id, "title": d.title or d.text[:120], "text": d.text, "partner": d.partner,
            "partners": d.asked, "responses": {p: responses.get(p) for p in d.asked},
            "created": _iso(d.created),
            "deadline": _iso(d.deadline) if d.deadline is not None else None,
            "status": "closed" if d.closed is not None else "open",
            "outcome": d.outcome, "closed": _iso(d.closed) if d.closed is not None else None,
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
        if d.closed is not None:
            raise Invalid("status", "the decision is closed; its outcome is recorded")
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
        if d.partner != actor.partner:
            notify(session, [d.partner], "answer", f"{actor.partner} answered {stance} on "
                   f"“{d.title}”", f"/decisions/{d.id}#responses")
        t0.settle(hub, session, d, actor)  # a T0 request all asked concur on: T0 changes
        return _decision_json(session, actor, d)


def close_decision(hub: Hub, actor: Actor, decision_id: str, body: dict[str, Any]
                   ) -> dict[str, Any]:
    """The opening partner's planners record the outcome; no response is taken after."""
    with hub.db.write() as session:
        d = _visible_decision(session, actor, decision_id)
        allow(actions.may_close_decision(actor.partner, actor.role, d.partner))
        if d.closed is not None:
            raise Invalid("status", "the decision is closed already")
        d.outcome = _text(body.get("outcome"), "outcome", 5000)
        d.closed, d.closed_by = now(), actor.user_id
        t0.closing(session, d)  # a T0 request closed before all concurred: T0 stays
        audit.append(session, action="decision.close", subject=f"decision:{d.id}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[d.partner, *d.asked])
        notify(session, set(d.asked) - {actor.partner}, "outcome",
               f"{actor.partner} closed “{d.title}” with an outcome", f"/decisions/{d.id}")
        session.flush()
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
            notify(session, [plan.owner], "answer", f"{actor.partner} acknowledged "
                   f"{plan_id}/{expectation_id}", f"/plans/{plan_id}")


def acknowledgements(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    ws = hub.current(session).workspace
    owners = {p.id: p.owner for p in ws.plans}
    rows = session.scalars(select(Acknowledgement).order_by(Acknowledgement.created))
    return [{"expectation": f"{a.plan_id}/{a.expectation}", "partner": a.partner,
             "at": _iso(a.created)} for a in rows
            if exchanges.sees_acknowledgement(actor.partner, a.partner, owners.get(a.plan_id))]


def notifications(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The partner's notifications, newest first, each read or not by this person."""
    rows = list(session.scalars(select(Notification)
                                .where(Notification.partner == actor.partner)
                                .order_by(Notification.created.desc(), Notification.id)
                                .limit(200)))
    read = set(session.scalars(select(NotificationRead.notification_id).where(
        NotificationRead.user_id == actor.user_id,
        NotificationRead.notification_id.in_([n.id for n in rows])))) if rows else set()
    return [{"id": n.id, "kind": n.kind or "notice", "text": n.text, "link": n.link,
             "read": n.id in read, "at": _iso(n.created)} for n in rows]


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the partner's notifications this person has not read."""
    mine = select(NotificationRead.notification_id).where(
        NotificationRead.user_id == actor.user_id).scalar_subquery()
    return int(session.scalar(select(func.count(Notification.id)).where(
        Notification.partner == actor.partner, Notification.id.not_in(mine))) or 0)


def mark_read(hub: Hub, actor: Actor, ids: Any) -> int:
    """Mark the partner's notifications read for this person (``ids`` None: all of them).

    An id that is not one of the partner's notifications answers as missing.
    """
    if ids is not None and (not isinstance(ids, list)
                            or not all(isinstance(i, str) for i in ids)):
        raise Invalid("ids", "ids must be a list of notification ids")
    with hub.db.write() as session:
        query = select(Notification.id).where(Notification.partner == actor.partner)
        if ids is not None:
            query = query.where(Notification.id.in_(ids))
        found = set(session.scalars(query))
        if ids is not None and set(ids) - found:
            raise NotFound(sorted(set(ids) - found)[0])
        done = set(session.scalars(select(NotificationRead.notification_id).where(
            NotificationRead.user_id == actor.user_id,
            NotificationRead.notification_id.in_(found)))) if found else set()
        for nid in sorted(found - done):
            session.add(NotificationRead(notification_id=nid, user_id=actor.user_id))
        return len(found - done)


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


# -- observations: confirm before posting, correct or retract after --------------------




def _observation_of(joint: dict[str, Any], doc: dict[str, Any]) -> Any:
    """The model's observation of a stored document (InvalidWorkspace if it does not read)."""
    return read_sources(stored_sources(joint, [], [doc])).workspace.observations[0]


def _when(at: Any) -> datetime:
    try:
        when = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _sees_row(rules: Rules, ws: Any, joint: dict[str, Any], actor: Actor,
              row: ObservationRow) -> bool:
    """Whether the actor may see a stored observation: the gate's rule for observations."""
    doc = row.doc
    if doc.get("indicator") not in {i.id for i in ws.indicators}:
        return False
    raw = doc.get("share")
    share: Share = ("all" if raw == "all" else tuple(raw) if isinstance(raw, list) else None)
    obs = Observation(doc["indicator"], _when(doc.get("at")), bool(doc.get("seen")),
                      row.partner, share)
    return bool(rules.sees_observation(actor.partner, obs))


def _likelihoods(ws: Any, rules: Rules, actor: Actor, observations: list[Any]
                 ) -> dict[str, float | None]:
    seen = [o for o in observations if rules.sees_observation(actor.partner, o)]
    return {k: (None if p is None else round(p, 6)) for k, p in likelihoods(ws, seen).items()}


def observation_effect(hub: Hub, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Before posting: the likelihoods the actor sees now and with the observation (a read)."""
    doc = observation_doc(actor, body)
    with hub.db.read() as session:
        current = hub.current(session)
        joint = hub.joint(session)
    ws, rules = current.workspace, current.rules
    indicator = next((i for i in ws.indicators if i.id == body["indicator"]), None)
    if joint is None or indicator is None or not rules.sees_indicator(actor.partner, indicator):
        raise Invalid("indicator", f"no indicator {body['indicator']!r}")
    try:
        obs = _observation_of(joint, doc)
    except InvalidWorkspace as exc:
        message = exc.problems[0].message
        field = next((k for k in OBSERVATION_KEYS if f"'{k}'" in message or f"{k}:" in message),
                     "body")
        raise Invalid(field, message) from None
    before = _likelihoods(ws, rules, actor, list(ws.observations))
    after = _likelihoods(ws, rules, actor, [*ws.observations, obs])
    return {"observation": {"indicator": obs.indicator, "seen": obs.seen,
                            "at": obs.at.isoformat().replace("+00:00", "Z")},
            "likelihood": [{"scenario": s, "before": before.get(s), "after": after.get(s)}
                           for s in after]}


def _obs_json(row: ObservationRow, actor: Actor) -> dict[str, Any]:
    doc = row.doc
    out = {"id": row.id, "indicator": doc["indicator"], "at": doc["at"], "seen": doc["seen"],
           "by": row.partner, "state": row.state}
    if row.partner == actor.partner and "share" in doc:
        out["share"] = doc["share"]
    return out


def observations(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every stored observation the actor may see, newest first, corrected and retracted
    ones included (marked), with the corrections and retractions of each."""
    current = hub.current(session)
    joint = hub.joint(session)
    if joint is None:
        return []
    rows = [r for r in session.scalars(select(ObservationRow).order_by(ObservationRow.seq))
            if _sees_row(current.rules, current.workspace, joint, actor, r)]
    seen = {r.id for r in rows}
    amendments: dict[str, list[dict[str, Any]]] = {}
    for a in session.scalars(select(ObservationAmendment)
                             .order_by(ObservationAmendment.created, ObservationAmendment.id)):
        if a.observation_id in seen:
            amendments.setdefault(a.observation_id, []).append(
                {"kind": a.kind, "partner": a.partner, "reason": a.reason,
                 "at": _iso(a.created),
                 "replacement": a.replacement_id if a.replacement_id in seen else None})
    out = [{**_obs_json(r, actor), "amendments": amendments.get(r.id, [])} for r in rows]
    out.sort(key=lambda o: (_when(o["at"]), o["id"]), reverse=True)
    return out


def get_observation(hub: Hub, session: Session, actor: Actor, observation_id: str
                    ) -> dict[str, Any]:
    found = next((o for o in observations(hub, session, actor) if o["id"] == observation_id),
                 None)
    if found is None:
        raise NotFound(observation_id)
    return found


def amend_observation(hub: Hub, actor: Actor, observation_id: str, kind: str,
                      body: dict[str, Any]) -> str:
    """Correct (a new observation replaces it) or retract an observation: the old one stays
    stored and in the history; only the current ones count in likelihoods."""
    if kind not in ("correct", "retract"):
        raise Invalid("kind", "correct or retract")
    allowed = ("reason", "seen", "at") if kind == "correct" else ("reason",)
    for key in body:
        if key not in allowed:
            raise Invalid(key, f"unknown field {key!r}; a {kind}ion has " + ", ".join(allowed))
    reason = _text(body.get("reason"), "reason", 5000)
    with hub.db.write() as session:
        current = hub.current(session)
        joint = hub.joint(session)
        row = session.get(ObservationRow, observation_id)
        if (row is None or joint is None
                or not _sees_row(current.rules, current.workspace, joint, actor, row)):
            raise NotFound(observation_id)
        allow(actions.may_amend_observation(actor.partner, actor.role, row.partner))
        if row.state != "current":
            raise Invalid("status", f"the observation is {row.state} already")
        replacement = None
        if kind == "correct":
            changes: dict[str, Any] = {k: body[k] for k in ("seen", "at") if k in body}
            if not changes:
                raise Invalid("seen", "say what is corrected: seen, at or both")
            doc = {**row.doc, **changes}
            if doc == row.doc:
                raise Invalid("seen", "the correction changes nothing")
            try:
                _observation_of(joint, doc)
            except InvalidWorkspace as exc:
                message = exc.problems[0].message
                raise Invalid("at" if "at" in message else "seen", message) from None
            seq = int(session.scalar(select(func.max(ObservationRow.seq))) or 0) + 1
            new = ObservationRow(seq=seq, partner=row.partner, doc=doc, author=actor.user_id)
            session.add(new)
            session.flush()
            replacement = new.id
            row.state = "corrected"
        else:
            row.state = "retracted"
        amendment = ObservationAmendment(observation_id=row.id, kind=kind,
                                         replacement_id=replacement, partner=actor.partner,
                                         author=actor.user_id, reason=reason)
        session.add(amendment)
        session.flush()
        audit.append(session, action="observation.amend", subject=f"observation:{row.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"kind": kind, "replacement": replacement})
        return replacement or row.id
