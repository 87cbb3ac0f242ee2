"""Lasting conflicts and gaps: one identity for every partner shown it, kept across versions.

The analysis finds conflicts and gaps afresh for every stored state. A
*finding* is what lasts: an opaque random id, matched in every write that
changes the model (`reconcile`) to what the full analysis now finds, before
any viewer's cut; a status (open, acknowledged, being-resolved,
risk-accepted, resolved) with its history; and the threads, proposals and
decisions about it. Reads only look findings up; they never write.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from ..analysis.occurrences import Known, Occurrence, pair_up
from ..services.accounts import Actor
from ..sharing import exchanges
from ..sharing.findings import FindingCut, hidden_owners, sees_finding, without_scenarios
from ..store import audit
from ..store.tables import (
    Decision,
    Finding,
    FindingEvent,
    FindingLink,
    Notification,
    Proposal,
    Thread,
    now,
)
from .hub import Forbidden, Hub, Invalid, NotFound, plans_key
from .lapsing import stored_breaks

FAMILIES = ("conflict", "gap")
STATUSES = ("open", "acknowledged", "being-resolved", "risk-accepted", "resolved")
SET_BY_PARTNERS = ("open", "acknowledged", "being-resolved", "risk-accepted")
"""`resolved` is the analysis's to set: when the finding is no longer found."""
FOUND = "found by the analysis"
GONE = "no longer found by the analysis"
BACK = "found again by the analysis"


# -- reconciling, in the write that changes the model ------------------------------


def _analysis(hub: Hub, session: Session) -> FindingCut | None:
    """The full analysis of the plans the session holds now, uncommitted writes included,
    with each partner's cut of it (made once, shared with the reads after the write).

    Keyed by what the plans are (`hub.plans_key`), so the model the hub builds once
    this write is committed reuses it instead of analysing the same plans again.
    """
    joint = hub.joint(session)
    if joint is None:
        return None
    versions = hub.latest_versions(session)
    breaks = stored_breaks(session)
    # Conflicts and gaps do not depend on observations; each stored document is read
    # once (the hub's pieces), so a write re-reads only what it changed, and the model
    # built once this write is committed reuses this read (`hub.plans_model`).
    key = plans_key(joint, versions, breaks)
    loaded = hub.plans_model(key, joint, versions, breaks)
    return hub.finding_cut(key, loaded.workspace,
                           hub.contents(joint, versions, loaded.workspace))


def _known(f: Finding) -> Known:
    return Known(f.family, f.kind, tuple(f.place), frozenset(f.items),
                 (int(f.window[0]), int(f.window[1])), frozenset(f.scenarios), f.present)


def _event(session: Session, f: Finding, status: str, reason: str, audience: Any, *,
           actor: Actor | None = None) -> None:
    """One entry of the history, read by ``audience`` (those shown the finding then)."""
    if not audience:
        return
    seq = int(session.scalar(select(func.max(FindingEvent.seq))
                             .where(FindingEvent.finding_id == f.id)) or 0) + 1
    session.add(FindingEvent(finding_id=f.id, seq=seq, status=status, reason=reason,
                             audience=sorted(audience),
                             partner=actor.partner if actor else None,
                             author=actor.user_id if actor else None))


def _describe(f: Finding, occ: Occurrence, views: dict[str, list[dict[str, Any]]]) -> bool:
    """Store what the analysis found and what each partner is shown; False if unchanged.

    ``views`` holds, besides those shown it now, what each former partner was
    last shown (it reads as resolved to them).
    """
    found: dict[str, Any] = {
        "place": list(occ.place), "items": sorted(occ.items), "window": list(occ.window),
        "scenarios": list(occ.leaves), "audience": sorted(f.audience),
        "former": sorted(f.former), "views": views}
    digest = hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()
    if digest == f.digest:
        return False
    f.place, f.items, f.window = found["place"], found["items"], found["window"]
    f.scenarios, f.views, f.digest = found["scenarios"], views, digest
    return True


def _follow(session: Session, f: Finding, shown: dict[str, list[dict[str, Any]]]
            ) -> dict[str, list[dict[str, Any]]]:
    """Who is shown a matched finding now; the views to store (former partners' kept).

    To a partner no longer shown it, it reads exactly as if resolved then: a
    `resolved` entry in its history, its last view kept, the status frozen.
    A partner shown it again reads "found again"; one shown it for the first
    time reads its history from then on.
    """
    now_shown = set(shown)
    before = set(f.audience) if f.present else set()
    was = set(f.former) | (set(f.audience) if not f.present else set())
    if not f.present:
        f.present, f.status = True, "open"
        _event(session, f, "open", BACK, now_shown)
    else:
        for p in sorted(before - now_shown):
            _event(session, f, "resolved", GONE, [p])
        for p in sorted(now_shown - before):
            _event(session, f, f.status, BACK if p in was else FOUND, [p])
    former = (was | before) - now_shown
    kept = {}
    if former:
        old = f.views  # loads the deferred column: only where someone is no longer shown it
        kept = {p: old[p] for p in former if p in old}
    f.audience, f.former = sorted(now_shown), sorted(former)
    return {**kept, **shown}


def reconcile(hub: Hub, session: Session, *, tell_new: bool = True) -> None:
    """Match what the full analysis now finds to the stored findings (inside a model write).

    A match keeps its id, status and history; a new occurrence becomes a new
    open finding; a finding no longer found is resolved; a resolved finding
    found again is reopened. Which partners know of each, and what each is
    told, is the gate's cut of it (`sharing.findings`). With ``tell_new``, a
    new conflict is notified to each partner with an item of its own in it.
    """
    cut = _analysis(hub, session)
    if cut is None:
        return
    full = cut.analysis
    ws = full.compiled.workspace
    partners = list(ws.partner_codes)
    found = cut.found()
    # What each partner was shown is only rewritten, never read, here: leave it unloaded.
    stored = list(session.scalars(select(Finding).options(defer(Finding.views))
                                  .order_by(Finding.created, Finding.id)))
    matched = pair_up(found, [_known(f) for f in stored])
    kept: set[int] = set()
    now_found: list[tuple[Finding, dict[str, list[dict[str, Any]]]]] = []
    for i, occ in enumerate(found):
        views = cut.shown(occ, partners)
        j = matched.get(i)
        if j is None:
            f = Finding(family=occ.family, kind=occ.kind, present=True, status="open",
                        told=[], digest="", audience=sorted(views), former=[])
            _describe(f, occ, views)
            session.add(f)
            session.flush()
            _event(session, f, "open", FOUND, views)
            if tell_new:
                _tell_new(session, f, views)
            now_found.append((f, views))
            continue
        kept.add(j)
        f = stored[j]
        if _describe(f, occ, _follow(session, f, views)):
            f.changed = now()
        now_found.append((f, views))
    for f, views in now_found:
        _tell(session, f, views)
    for j, f in enumerate(stored):
        if j not in kept and f.present:
            f.present, f.status, f.changed = False, "resolved", now()
            _event(session, f, "resolved", GONE, f.audience)
    session.flush()


def _tell_new(session: Session, f: Finding, views: dict[str, list[dict[str, Any]]]) -> None:
    """A new conflict is told, once, to each partner one of whose own items is in it."""
    if f.family != "conflict":
        return
    for partner in sorted(views):
        if any(item.get("partner") == partner and not item.get("hidden")
               for entry in views[partner] for item in entry.get("tasks", [])):
            session.add(Notification(partner=partner, kind="conflict", link=f"/conflicts/{f.id}",
                                     text=f"A new {f.kind} conflict involves your plans."))


def _tell(session: Session, f: Finding, views: dict[str, list[dict[str, Any]]]) -> None:
    """The owner of a hidden item is told once per finding that shows it to another partner.

    Deconfliction can be probed (book a resource to map hidden use); the
    probe's write is audited, and the owner learns who was shown what of its
    own, once, not on every read of it.
    """
    told = set(f.told)
    for viewer in sorted(views):
        for owner in sorted(hidden_owners(views[viewer], viewer)):
            if f"{viewer}>{owner}" not in told:
                told.add(f"{viewer}>{owner}")
                session.add(Notification(partner=owner, kind="probe", text=(
                    f"{viewer} is shown a {f.family} in which some of your items not shared "
                    f"with {viewer} appear as hidden counterparts.")))
    if told != set(f.told):
        f.told = sorted(told)


# -- reading ----------------------------------------------------------------------------


def _visible(session: Session, actor: Actor, family: str, finding_id: str) -> Finding:
    f = session.get(Finding, finding_id) if isinstance(finding_id, str) else None
    if f is None or f.family != family or not _sees(actor, f):
        raise NotFound(finding_id)
    return f


def _sees(actor: Actor, f: Finding) -> bool:
    return bool(sees_finding(actor.partner, f.audience, f.former))


def _found_for(actor: Actor, f: Finding) -> bool:
    """Whether the finding is found now as far as the actor knows (else: resolved to it)."""
    return f.present and actor.partner in f.audience


def visible_ids(session: Session, actor: Actor, among: set[str]) -> set[str]:
    """The ids, of those ``among``, of the findings the actor's partner knows of."""
    if not among:
        return set()
    query = select(Finding.id, Finding.audience, Finding.former)
    if len(among) <= 500:  # else one pass over all beats a statement of thousands of ids
        query = query.where(Finding.id.in_(sorted(among)))
    rows = session.execute(query)
    return {fid for fid, audience, former in rows
            if fid in among and sees_finding(actor.partner, audience, former)}


def check_about(session: Session, actor: Actor, family: Any, ref: Any, field: str) -> str:
    """A conflict or gap a thread, proposal or decision is about (422 unless known to it)."""
    try:
        return _visible(session, actor, str(family), ref).id
    except NotFound:
        raise Invalid(field, f"no {family} {ref!r}") from None


def _iso(value: Any) -> str:
    return str(value.replace(tzinfo=UTC).isoformat(timespec="seconds")).replace("+00:00", "Z")


def _summary(f: Finding, actor: Actor) -> dict[str, Any]:
    found = _found_for(actor, f)
    return {"id": f.id, "kind": f.kind, "status": f.status if found else "resolved",
            "present": found, "entries": f.views.get(actor.partner, [])}


def list_findings(hub: Hub, session: Session, actor: Actor, family: str) -> list[dict[str, Any]]:
    """Every conflict (or gap) the actor's partner knows of, found now or resolved."""
    rows = session.scalars(select(Finding).where(Finding.family == family)
                           .order_by(Finding.created, Finding.id))
    out = [_summary(f, actor) for f in rows if _sees(actor, f)]
    out.sort(key=lambda x: (not x["present"], x["entries"][0]["window"] if x["entries"]
                            else [], x["id"]))
    return out


def _history(session: Session, actor: Actor, f: Finding) -> list[dict[str, Any]]:
    """The changes made while the actor's partner was shown the finding."""
    rows = session.scalars(select(FindingEvent).where(FindingEvent.finding_id == f.id)
                           .order_by(FindingEvent.seq))
    return [{"status": e.status, "partner": e.partner, "reason": e.reason,
             "at": _iso(e.created)} for e in rows if actor.partner in e.audience]


def _attached(session: Session, actor: Actor, f: Finding) -> dict[str, list[str]]:
    threads = [t.id for t in session.scalars(
        select(Thread).where(Thread.subject_kind == f.family).order_by(Thread.created, Thread.id))
        if t.subject.get("ref") == f.id and exchanges.sees_thread(actor.partner, t.partner,
                                                                   t.share)]
    links = list(session.scalars(select(FindingLink).where(FindingLink.finding_id == f.id)))
    proposals, decisions = [], []
    for link in links:
        if link.target_kind == "proposal":
            p = session.get(Proposal, link.target_id)
            if p is not None and exchanges.sees_proposal(actor.partner, p.partner, p.owner):
                proposals.append(p.id)
        else:
            d = session.get(Decision, link.target_id)
            if d is not None and exchanges.sees_decision(actor.partner, d.partner, d.asked):
                decisions.append(d.id)
    return {"threads": threads, "proposals": sorted(proposals), "decisions": sorted(decisions)}


def get_finding(hub: Hub, session: Session, actor: Actor, family: str,
                finding_id: str) -> dict[str, Any]:
    """One conflict or gap as the actor's partner knows it: what it is told, status, history."""
    f = _visible(session, actor, family, finding_id)
    return {**_summary(f, actor), "history": _history(session, actor, f),
            **_attached(session, actor, f)}


def ids_for(session: Session, actor: Actor, report: dict[str, Any]
            ) -> tuple[list[dict[str, str] | None], list[dict[str, str] | None]]:
    """The lasting id and status of each conflict and gap of a `check` report.

    None where no finding holds the entry (the report was read from a state
    the findings have not caught up with).
    """
    where: dict[tuple[str, str], dict[str, str]] = {}
    for f in session.scalars(select(Finding).where(Finding.present.is_(True))
                             .order_by(Finding.created, Finding.id)):
        if _found_for(actor, f):
            for entry in f.views.get(actor.partner, []):
                where.setdefault((f.family, without_scenarios(entry)),
                                 {"id": f.id, "status": f.status})
    return ([where.get(("conflict", without_scenarios(c))) for c in report["conflicts"]],
            [where.get(("gap", without_scenarios(g))) for g in report["gaps"]])


# -- writing ------------------------------------------------------------------------------


def set_status(hub: Hub, actor: Actor, family: str, finding_id: str, status: Any,
               reason: Any) -> dict[str, Any]:
    """A partner shown the finding marks its status, saying why; every partner shown it sees."""
    with hub.db.write() as session:
        f = _visible(session, actor, family, finding_id)
        if not actor.can_plan:
            raise Forbidden(f"only planners and admins change a {family}'s status")
        if status == "resolved":
            raise Invalid("status", f"a {family} is resolved when the analysis no longer finds "
                          "it; change the plans, or mark it risk-accepted")
        if status not in SET_BY_PARTNERS:
            raise Invalid("status", "status must be one of " + ", ".join(SET_BY_PARTNERS))
        if not isinstance(reason, str) or not reason.strip():
            raise Invalid("reason", "say why the status changes")
        if len(reason) > 5000:
            raise Invalid("reason", "reason is longer than 5000 characters")
        if not _found_for(actor, f):
            raise Invalid("status", f"the {family} is resolved: the analysis no longer finds "
                          "it (it reopens if it is found again)")
        f.status, f.changed = status, now()
        _event(session, f, status, reason, f.audience, actor=actor)
        audit.append(session, action=f"{family}.status", subject=f"{family}:{f.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=list(f.audience),
                     detail={"status": status})
        session.flush()
        return get_finding(hub, session, actor, family, f.id)


def link(session: Session, actor: Actor, about: Any, target_kind: str, target_id: str) -> None:
    """Attach a new proposal or decision to the conflict or gap it is about."""
    if about is None:
        return
    if not isinstance(about, dict):
        raise Invalid("about", "about must be {kind, ref}")
    kind = about.get("kind")
    if kind not in FAMILIES:
        raise Invalid("about.kind", "about.kind must be conflict or gap")
    finding_id = check_about(session, actor, kind, about.get("ref"), "about.ref")
    session.add(FindingLink(finding_id=finding_id, target_kind=target_kind,
                            target_id=target_id))


def about(session: Session, actor: Actor, target_kind: str, target_id: str
          ) -> dict[str, Any] | None:
    """What a proposal or decision is about, as the actor may be told of it."""
    row = session.scalar(select(FindingLink).where(FindingLink.target_kind == target_kind,
                                                   FindingLink.target_id == target_id))
    if row is None:
        return None
    f = session.get(Finding, row.finding_id)
    if f is None or not _sees(actor, f):
        return {"kind": f.family if f else "conflict", "hidden": True}
    return {"kind": f.family, "ref": f.id}
