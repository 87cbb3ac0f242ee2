"""Resolutions: a partner asks the solver how to resolve a leaf's conflicts, previews the
moves as it may see them, and confirms; each move becomes a proposal to its task's owner.

- **Preview** (`preview`) is a read. It solves the stored plans for one leaf
  (`services.deconflict.resolve`, outside any write transaction, under a
  deterministic time limit), cuts the answer for the asking partner
  (`sharing.deconflict_cut`), says which of its conflicts the moves resolve,
  and names the answer with an opaque token. It counts against the probing
  limits like an analysis, and each distinct answer a partner is shown is
  audited once (`deconflict.preview`), in a short write of its own.
- **Confirm** (`confirm`) computes the preview again on what is stored now.
  Unless the partner's cut is the one the token names, nothing is stored and
  the answer is `Changed` (409), naming the plans whose view changed. Else it
  stores the resolution and files every move, in one write: a move of another
  partner's task it sees becomes a proposal from the asking partner; a move
  of its own task becomes a draft (a proposal to itself, which it applies by
  accepting it); a move of a task it may not see becomes a proposal its owner
  alone sees, filed for the resolution, so the asking partner learns neither
  the task nor how many such moves there are. Accepting any of them goes
  through `collab.decide_proposal`, which checks it again against the plan's
  current version.
- **Reading** (`get_resolution`): the partners of a resolution (the asking one
  and the owners of moved tasks) read what the gate let each see of it when it
  was confirmed, and the state of the proposals each may see; to anyone else
  it answers as missing.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..analysis.deconflict import Options, Resolution
from ..analysis.run import Analysis
from ..model import format_time
from ..services.accounts import Actor
from ..services.check import check_analysed
from ..services.deconflict import matches, resolve, resolved
from ..sharing import actions, exchanges
from ..sharing.deconflict_cut import MOVE_FIELDS, cut_resolution
from ..sharing.findings import sees_finding
from ..store import audit
from ..store.tables import AnalysisRecord, Finding, Notification, Proposal, ResolutionRow
from . import findings
from .analysis import digest_of
from .concurrency import etag_of_view
from .hub import Current, Hub, Invalid, NotFound, allow
from .plans import kept_view

DEFAULT_TIME_LIMIT = 10.0
MAX_TIME_LIMIT = 30.0
"""Deterministic seconds a request may ask the solver for: the server shares its cores."""


EXTRAS = ("preview", "time_limit", "conflict", "resolves", "focus")
"""What a preview adds to the cut resolution: the asking partner's alone."""


class Changed(Exception):
    """The stored plans changed since the preview, so its moves are not the ones to file (409)."""

    def __init__(self, message: str, changed: list[str], preview: str | None) -> None:
        super().__init__(message)
        self.changed, self.preview = changed, preview


@dataclass(frozen=True)
class Token:
    """What a preview's token names: the question asked and a digest of the answer shown."""

    scenario: str
    conflict: str | None
    time_limit: float
    digest: str
    basis: dict[str, str]
    """Plan id -> a digest of the partner's view of it (as the plan's weak ETag)."""

    def encode(self) -> str:
        text = json.dumps({"s": self.scenario, "c": self.conflict, "t": self.time_limit,
                           "d": self.digest, "b": self.basis}, sort_keys=True,
                          separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: Any) -> Token:
        bad = Invalid("preview", "preview must be the token a preview answered")
        if not isinstance(value, str) or not value or len(value) > 20000:
            raise bad
        try:
            raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            token = cls(str(raw["s"]), None if raw["c"] is None else str(raw["c"]),
                        float(raw["t"]), str(raw["d"]),
                        {str(k): str(v) for k, v in dict(raw["b"]).items()})
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise bad from None
        return token


@dataclass(frozen=True)
class Computed:
    """One partner's preview and what it was computed from."""

    current: Current
    resolution: Resolution
    after: Analysis
    token: Token
    report: dict[str, Any]


def time_limit_of(value: Any) -> float:
    if value is None:
        return DEFAULT_TIME_LIMIT
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("time_limit", "time_limit must be a number of seconds")
    if not 0.1 <= float(value) <= MAX_TIME_LIMIT:
        raise Invalid("time_limit", f"time_limit must be between 0.1 and {MAX_TIME_LIMIT:g} "
                      "seconds")
    return round(float(value), 3)


def _focus(session: Session, actor: Actor, conflict: Any) -> list[dict[str, Any]]:
    """The entries the actor is told of a lasting conflict found now (422 otherwise)."""
    fid = findings.check_about(session, actor, "conflict", conflict, "conflict")
    f = session.get(Finding, fid)
    if f is None or not f.present or actor.partner not in f.audience:
        raise Invalid("conflict", f"the conflict {conflict!r} is resolved: there is nothing "
                      "left to resolve")
    entries: list[dict[str, Any]] = f.views.get(actor.partner, [])
    return entries


def _leaf(current: Current, scenario: Any, entries: list[dict[str, Any]] | None) -> str:
    leaves = current.workspace.leaves()
    if scenario is None:
        if entries is None:
            raise Invalid("scenario", "name the leaf scenario, or a conflict to resolve")
        found = [s for e in entries for s in e["scenarios"]]
        first = next((s for s in leaves if s in found), None)
        if first is None:
            raise Invalid("scenario", "name the leaf scenario to resolve")
        return first
    if not isinstance(scenario, str) or scenario not in leaves:
        raise Invalid("scenario", f"{scenario!r} is not a leaf scenario; the leaves are "
                      + ", ".join(leaves))
    if entries is not None and not any(scenario in e["scenarios"] for e in entries):
        raise Invalid("scenario", f"the conflict is not found in {scenario}")
    return scenario


def _solve(current: Current, leaf: str, limit: float) -> tuple[Resolution, Analysis]:
    """The custodian's resolution of the stored plans, once per state, leaf and limit."""
    result: tuple[Resolution, Analysis] = current.recent(
        ("deconflict", leaf, limit), lambda: resolve(current.workspace, leaf,
                                                     Options(time_limit=limit)), keep=8)
    return result


def compute(hub: Hub, actor: Actor, scenario: Any, conflict: Any, time_limit: Any) -> Computed:
    """The actor's preview of the resolution of one leaf, from what is stored now.

    A read: snapshots of the stored state, and the solver runs outside them.
    """
    limit = time_limit_of(time_limit)
    with hub.db.read() as session:
        current = hub.current(session)
        entries = _focus(session, actor, conflict) if conflict is not None else None
        leaf = _leaf(current, scenario, entries)
        basis = {p["id"]: etag_of_view(p) for p in kept_view(hub, session, actor)["plans"]}
    resolution, after = _solve(current, leaf, limit)
    before = current.analysis()
    cut = cut_resolution(resolution, current.rules, actor.partner, after=after, before=before)
    shown = check_analysed(before, current.rules, actor.partner)["conflicts"]
    with hub.db.read() as session:
        ids, _ = findings.ids_for(session, actor, {"conflicts": shown, "gaps": []})
    resolves = []
    for i in resolved(shown, cut["remaining"], leaf):
        known = ids[i]
        resolves.append({"conflict": known["id"] if known else None,
                         "entry": {**shown[i], "scenarios": [leaf]}})
    focus = None
    if entries is not None:
        here = [e for e in entries if leaf in e["scenarios"]]
        focus = {"id": conflict, "resolved": not any(matches(e, r) for e in here
                                                     for r in cut["remaining"])}
    token = Token(leaf, conflict, limit, digest_of(cut), basis)
    report = {**cut, "preview": token.encode(), "conflict": conflict, "time_limit": limit,
              "resolves": resolves, "focus": focus}
    return Computed(current, resolution, after, token, report)


def preview(hub: Hub, actor: Actor, scenario: Any, conflict: Any = None,
            time_limit: Any = None) -> dict[str, Any]:
    """`POST /api/deconflict`: the moves, as the actor may see them, and what they resolve."""
    time_limit_of(time_limit)  # a bad request is refused before it is counted
    hub.take_analysis_slot(actor)
    computed = compute(hub, actor, scenario, conflict, time_limit)
    _record(hub, actor, computed)
    return computed.report


def _exposed(report: dict[str, Any], viewer: str) -> list[str]:
    """Partners whose hidden items or moves the preview tells the viewer of."""
    owners = set(report["hidden_moves"])
    for entry in report["remaining"] + report["elsewhere"]:
        owners |= {x["partner"] for x in entry["tasks"] if x.get("hidden")}
    for reasons in report["why"]:
        for reason in reasons:
            owners |= {x["partner"] for x in reason["items"] if x.get("hidden")}
    return sorted(owners - {viewer})


def _record(hub: Hub, actor: Actor, computed: Computed) -> None:
    """Audit each distinct preview a partner is shown, once (not on every request).

    Readable by the partner and by the owners of hidden items or moves it was
    told of; a short write of its own, after the computation.
    """
    digest = digest_of(["deconflict", computed.token.scenario, computed.token.digest])
    known = (actor.partner, digest)
    if known in hub.recorded:
        return

    def done(session: Session) -> bool:
        return session.scalar(select(AnalysisRecord.id).where(
            AnalysisRecord.partner == actor.partner, AnalysisRecord.digest == digest)) is not None

    with hub.db.read() as session:
        seen = done(session)
    if not seen:
        with hub.db.write() as session:
            if not done(session):
                session.add(AnalysisRecord(partner=actor.partner, digest=digest,
                                           head=computed.current.head))
                report = computed.report
                audit.append(session, action="deconflict.preview",
                             subject=f"partner:{actor.partner}", user_id=actor.user_id,
                             partner=actor.partner,
                             owners=[actor.partner, *_exposed(report, actor.partner)],
                             detail={"scenario": computed.token.scenario,
                                     "status": report["status"],
                                     "moves": len(report["moves"]), "result": digest})
    hub.remember_recorded(known)


# -- confirming ----------------------------------------------------------------------------


def _changed(before: dict[str, str], now: dict[str, str]) -> list[str]:
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))


def confirm(hub: Hub, actor: Actor, token_text: Any, reason: Any) -> str:
    """Store the resolution a preview showed and file its moves; its id.

    Raises ``Changed`` when what is stored no longer gives the preview shown.
    """
    allow(actions.may_contribute(actor.role, "resolutions"))
    token = Token.decode(token_text)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 5000:
        raise Invalid("reason", "say why, in at most 5000 characters")
    hub.take_analysis_slot(actor)
    try:
        again = compute(hub, actor, token.scenario, token.conflict, token.time_limit)
    except Invalid as exc:
        if exc.field != "conflict":
            raise
        raise Changed(f"{exc}; nothing was stored", [], None) from None
    if again.token.digest != token.digest:
        changed = _changed(token.basis, again.token.basis)
        raise Changed("the resolution is no longer the one previewed: the plans changed "
                      "since" + (f" ({', '.join(changed)})" if changed else "")
                      + "; nothing was stored. Read the new preview and confirm it.",
                      changed, again.report["preview"])
    resolution = again.resolution
    if not resolution.moves:
        raise Invalid("preview", "the preview has no moves to propose")
    rules = again.current.rules
    before = again.current.analysis()
    parties = sorted({actor.partner, *(m.partner for m in resolution.moves)})
    views = {p: again.report if p == actor.partner else
             cut_resolution(resolution, rules, p, after=again.after, before=before)
             for p in parties}
    views = {p: {k: v for k, v in view.items() if k not in EXTRAS} for p, view in views.items()}
    ws = again.current.workspace
    with hub.db.write() as session:
        if hub.heads(session).plans != again.current.heads.plans:
            raise Changed("the plans changed while the resolution was being confirmed; "
                          "nothing was stored. Preview again.", [], None)
        row = ResolutionRow(partner=actor.partner, author=actor.user_id,
                            scenario=token.scenario, conflict=token.conflict,
                            time_limit=int(token.time_limit * 1000),
                            head=again.current.heads.plans, status=resolution.status,
                            moves=[], views=views, reason=reason)
        session.add(row)
        session.flush()
        moves = []
        for m in resolution.moves:
            plan = ws.plan(m.plan)
            task = next(t for t in plan.tasks if t.id == m.task)
            seen = bool(rules.sees_fields(actor.partner, plan, task, MOVE_FIELDS))
            pid = _file(session, actor, row, again.current, m.plan, m.partner, m.task, m.to,
                        seen, reason)
            moves.append({"partner": m.partner, "plan": m.plan, "task": m.task,
                          "from": m.from_, "to": m.to, "proposal": pid})
        row.moves = moves
        audit.append(session, action="resolution.create", subject=f"resolution:{row.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=parties,
                     detail={"scenario": token.scenario})
        return row.id


def _file(session: Session, actor: Actor, row: ResolutionRow, current: Current, plan_id: str,
          owner: str, task: str, to: int, seen: bool, reason: str) -> str:
    """File one move as a proposal to the task's owner; its id.

    A move the asking partner may not see is filed as the owner's alone (the
    proposal's partner is the owner), so the asking partner is never shown it,
    nor told it exists; its text names the asking partner.
    """
    proposer = actor.partner if seen else owner
    text = (f"{actor.partner} asks for this move in resolution {row.id} "
            f"(scenario {row.scenario}): {reason}")
    p = Proposal(plan_id=plan_id, owner=owner, partner=proposer, author=actor.user_id,
                 base_version=current.versions[plan_id].number,
                 change={"kind": "move-start", "task": task, "start": format_time(to)},
                 reason=text if len(text) <= 6000 else text[:6000])
    session.add(p)
    session.flush()
    if row.conflict is not None:
        findings.link(session, actor, {"kind": "conflict", "ref": row.conflict}, "proposal",
                      p.id)
    audit.append(session, action="proposal.create", subject=f"proposal:{p.id}",
                 user_id=actor.user_id, partner=actor.partner if seen else None,
                 owners=sorted({proposer, owner}), detail={"resolution": row.id})
    if owner != actor.partner:
        session.add(Notification(partner=owner, text=(
            f"{actor.partner} proposes a change to {plan_id}: move-start, in resolution "
            f"{row.id}")))
    return p.id


# -- reading -------------------------------------------------------------------------------


def _iso(value: Any) -> str:
    return str(value.replace(tzinfo=UTC).isoformat(timespec="seconds")).replace("+00:00", "Z")


def _visible(session: Session, actor: Actor, resolution_id: Any) -> ResolutionRow:
    row = session.get(ResolutionRow, resolution_id) if isinstance(resolution_id, str) else None
    if row is None or actor.partner not in row.views:
        raise NotFound(resolution_id)
    return row


def get_resolution(hub: Hub, session: Session, actor: Actor,
                   resolution_id: str) -> dict[str, Any]:
    """A resolution as the actor's partner may see it: what it was told of the moves when
    the resolution was confirmed, and the proposals it may see, with their state."""
    row = _visible(session, actor, resolution_id)
    view = row.views[actor.partner]
    shown = {(m["plan"], m["task"]) for m in view["moves"]}
    proposals = []
    for m in row.moves:
        p = session.get(Proposal, m["proposal"])
        if (p is None or (m["plan"], m["task"]) not in shown
                or not exchanges.sees_proposal(actor.partner, p.partner, p.owner)):
            continue
        proposals.append({"id": p.id, "partner": m["partner"], "plan": m["plan"],
                          "task": m["task"], "from": m["from"], "to": m["to"],
                          "status": p.status, "draft": p.partner == p.owner == row.partner})
    about = None
    if row.conflict is not None:
        f = session.get(Finding, row.conflict)
        about = ({"kind": "conflict", "ref": row.conflict}
                 if f is not None and sees_finding(actor.partner, f.audience, f.former)
                 else {"kind": "conflict", "hidden": True})
    return {"id": row.id, "partner": row.partner, "scenario": row.scenario, "about": about,
            "reason": row.reason, "created": _iso(row.created), "resolution": view,
            "proposals": proposals}


def list_resolutions(hub: Hub, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The resolutions the actor's partner asked for or has moves in, newest first."""
    rows = session.scalars(select(ResolutionRow).order_by(ResolutionRow.created.desc(),
                                                          ResolutionRow.id))
    return [get_resolution(hub, session, actor, r.id) for r in rows if actor.partner in r.views]
