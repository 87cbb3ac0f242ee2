"""Plans on the server: import all or nothing, versions, history and diff cut per partner."""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..files import InvalidWorkspace, Problem, workspace_files
from ..files.yamlread import ReadError, read_document
from ..model import Plan, TimecodeError, format_duration, parse_duration, parse_time
from ..model.workspace import Share
from ..services.accounts import Actor
from ..sharing import Rules, actions, exchanges
from ..sharing.handling import view_marking
from ..sharing.references import reference_problems
from ..sharing.view import export_files as view_files
from ..sharing.view import observations_for, plan_view_for, view_for
from ..store import audit
from ..store.tables import ObservationRow, PlanVersion, Setting, User
from .assemble import (
    UPLOAD_NAME,
    Source,
    read_sources,
    read_with_joint,
    stored_sources,
    without_dangling,
)
from .concurrency import etag_of_version, etag_of_view, require_base
from .findings import reconcile
from .hub import (
    LISTED,
    Current,
    Hub,
    Invalid,
    NotFound,
    Version,
    allow,
    canonical,
    doc_digest,
)
from .lapsing import add_breaks, judge_upload, stored_breaks, stored_model, tell_owners
from .limits import Limits

STATUSES = ("draft", "approved", "retired")


def _next_number(session: Session, plan_id: str) -> int:
    return int(session.scalar(select(func.max(PlanVersion.number))
                              .where(PlanVersion.plan_id == plan_id)) or 0) + 1


def _obs_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(ObservationRow.seq))) or 0) + 1


# -- the operator's import of a whole folder ------------------------------------


def import_folder(hub: Hub, folder: str | Path, *, reason: str = "imported") -> dict[str, int]:
    """Store a whole workspace folder (the operator's setup), all or nothing."""
    paths = workspace_files(Path(folder)) if Path(folder).is_dir() else []
    sources = [Source(p.name, p.read_bytes()) for p in paths]
    if not sources:
        raise InvalidWorkspace([Problem(str(folder), 1, 1, "no workspace files here")])
    loaded = read_sources(sources)  # every check first: nothing is stored unless all is well
    # The custodian holds every file: a reference its owner may not see is a problem here.
    problems = reference_problems(loaded.workspace, loaded.locator)
    if problems:
        raise InvalidWorkspace([Problem(PurePath(p.file).name, p.line, p.column, p.message)
                                for p in problems])
    docs = [canonical(read_document(s.data, is_json=s.name.endswith(".json")))
            for s in sources]
    counts = {"plans": 0, "observations": 0}
    with hub.db.write() as session:
        for doc in docs:
            if doc["kind"] == "workspace":
                row = session.get(Setting, "workspace")
                if row is None:
                    session.add(Setting(key="workspace", value=doc))
                else:
                    row.value = doc
                audit.append(session, action="workspace.import", subject=f"workspace:{doc['id']}",
                             user_id=None, partner=None, owners=[p["code"] for p in
                                                                  doc["partners"]])
        for doc in docs:
            if doc["kind"] == "plan":
                _store_version(session, doc, author="operator", reason=reason)
                counts["plans"] += 1
            elif doc["kind"] == "observations":
                for obs in doc["observations"]:
                    session.add(ObservationRow(seq=_obs_seq(session), partner=obs["by"], doc=obs,
                                               author="operator"))
                    session.flush()
                    counts["observations"] += 1
                audit.append(session, action="observations.import", subject="observations",
                             user_id=None, partner=None,
                             owners=sorted({o["by"] for o in doc["observations"]}),
                             detail={"count": len(doc["observations"])})
        joint = hub.joint(session)
        if joint is not None:
            plans = [v.doc for _, v in sorted(hub.latest_versions(session).items())]
            tell_owners(session, stored_model(joint, plans, [],  # type: ignore[arg-type]
                                              stored_breaks(session))[1])
        # The operator's setup: what it finds is the workspace's starting point, shown on
        # every dashboard, not news to notify (partners' later writes notify new conflicts).
        reconcile(hub, session, tell_new=False)
    return counts


def _store_version(session: Session, doc: dict[str, Any], *, author: str, reason: str,
                   partner: str | None = None, status: str | None = None,
                   digest: str | None = None) -> PlanVersion:
    """A new version of ``doc``'s plan; ``digest``: the document's, when the caller knows
    it (a status change stores the document it holds), else made from it."""
    previous = session.scalar(select(PlanVersion.status)  # not its document
                              .where(PlanVersion.plan_id == doc["id"])
                              .order_by(PlanVersion.number.desc()).limit(1))
    version = PlanVersion(plan_id=doc["id"], owner=doc["owner"],
                          number=_next_number(session, doc["id"]),
                          status=status or previous or "draft",
                          doc=doc, author=author, reason=reason,
                          **({"digest": digest} if digest is not None else {}))
    session.add(version)
    session.flush()
    audit.append(session, action="plan.version", subject=f"plan:{doc['id']}",
                 user_id=None if author == "operator" else author, partner=partner,
                 owners=[doc["owner"]], detail={"version": version.id, "reason": reason,
                                                "status": version.status})
    return version


# -- a partner's import ---------------------------------------------------------


def import_files(hub: Hub, actor: Actor, files: list[Source], *, reason: str,
                 bases: dict[str, Any] | None = None) -> dict[str, Any]:
    """A partner imports its own plans and observations, all or nothing.

    Its plans are checked against the workspace as it sees it: a reference to
    something it may not see is reported exactly like one to nothing.
    ``bases`` maps a plan id to the version (or versions) the file was made
    from; a plan changed since is refused with ``Stale`` (see concurrency.py).
    """
    allow(actions.may_write(actor.role))
    if not files:
        raise Invalid("files", "no files were sent")
    problems: list[Problem] = []
    docs: list[tuple[Source, dict[str, Any]]] = []
    limits = Limits.from_environment()
    for f in files:
        if not UPLOAD_NAME.fullmatch(f.name):
            raise Invalid("files", f"{f.name!r} is not a file name jointplan reads; use "
                          "letters, digits, . _ - and .yaml, .yml or .json")
        if len(f.data) > limits.document_bytes:
            problems.append(Problem(f.name, 1, 1, limits.document_message(len(f.data))))
            continue
        try:
            doc = canonical(read_document(f.data, is_json=f.name.endswith(".json")))
        except ReadError as exc:
            problems.append(Problem(f.name, exc.line, exc.column, exc.message))
            continue
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == "plan" and doc.get("owner") != actor.partner:
            problems.append(Problem(f.name, 1, 1, f"you import as {actor.partner}; a plan you "
                                    f"import must have `owner: {actor.partner}`"))
        elif kind == "observations":
            for i, obs in enumerate(doc.get("observations") or []):
                if isinstance(obs, dict) and obs.get("by", actor.partner) != actor.partner:
                    problems.append(Problem(f.name, 1, 1, f"observation {i + 1}: you import "
                                            f"as {actor.partner}; the server records who "
                                            "observed, so leave out `by` or give your own"))
                elif isinstance(obs, dict):
                    obs["by"] = actor.partner
        elif kind == "workspace":
            problems.append(Problem(f.name, 1, 1, "the joint workspace file is set by the "
                                    "server's operator; import plans and observations"))
        docs.append((f, doc))
    if problems:
        raise InvalidWorkspace(problems)
    with hub.db.write() as session:
        current = hub.current(session)
        joint = hub.joint(session)
        assert joint is not None
        uploaded_plans = {d["id"]: d for _, d in docs if d.get("kind") == "plan"
                          and isinstance(d.get("id"), str)}
        for plan_id, base in (bases or {}).items():
            if plan_id not in uploaded_plans:
                raise Invalid("base_versions", f"{plan_id!r} is not a plan of this import")
            require_base(session, plan_id, current.versions.get(plan_id), base)
        others = [v.doc for k, v in sorted(current.versions.items())
                  if k not in uploaded_plans and v.doc is not None]
        seen_joint, seen_observations = _indicators_as_seen(
            joint, hub.observation_docs(session), current, actor)
        stored = {k: v.doc for k, v in current.versions.items()
                  if k in uploaded_plans and v.doc is not None}
        try:
            resolved, breaks = judge_upload(seen_joint, others, seen_observations, docs,
                                            stored, actor.partner, stored_breaks(session),
                                            pieces=hub.pieces)
        except InvalidWorkspace as exc:
            # The files as sent, so that problems point at the lines the user wrote.
            mine = {f.name for f in files}
            own = [_mask(p, current, actor) for p in exc.problems
                   if p.file in mine and not _server_sets_by(p)]
            if own:
                raise InvalidWorkspace(own) from None
            resolved, breaks = None, []
        stored_ids = []
        for source, doc in docs:
            if doc["kind"] == "plan":
                version = _store_version(session, doc, author=actor.user_id, reason=reason,
                                         partner=actor.partner)
                hub.lend_read(Version.of(version), source)  # the model reads it as just read
                stored_ids.append(version.id)
            else:
                for obs in doc["observations"]:
                    session.add(ObservationRow(seq=_obs_seq(session), partner=actor.partner,
                                               doc=obs, author=actor.user_id))
                    session.flush()
                audit.append(session, action="observations.import", subject="observations",
                             user_id=actor.user_id, partner=actor.partner,
                             owners=[actor.partner], detail={"count": len(doc["observations"])})
        if uploaded_plans:
            add_breaks(session, uploaded_plans, breaks)
        if resolved is not None:
            tell_owners(session, resolved)
        if uploaded_plans:
            reconcile(hub, session)
    return {"plans": sorted(uploaded_plans), "versions": stored_ids,
            "observations": sum(len(d["observations"]) for _, d in docs
                                if d["kind"] == "observations")}


def uploaded_plan_ids(files: list[Source]) -> list[str]:
    """The ids of the plans among uploaded files (files that do not read are left out:
    the import reports them)."""
    ids = []
    for f in files:
        try:
            doc = read_document(f.data, is_json=f.name.endswith(".json"))
        except ReadError:
            continue
        if isinstance(doc, dict) and doc.get("kind") == "plan" and isinstance(doc.get("id"), str):
            ids.append(str(doc["id"]))
    return ids


def _indicators_as_seen(joint: dict[str, Any], observations: list[dict[str, Any]],
                        current: Any, actor: Actor
                        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The joint file and stored observations with only the indicators the importer may see.

    An observation of an indicator it may not see then reads like one of an
    indicator that does not exist, and no hint names a hidden indicator.
    """
    rules = Rules(current.workspace)
    seen = {i.id for i in current.workspace.indicators
            if rules.sees_indicator(actor.partner, i)}
    indicators = [i for i in joint.get("indicators") or [] if i["id"] in seen]
    out = {k: v for k, v in joint.items() if k != "indicators"}
    return ({**out, "indicators": indicators} if indicators else out,
            [o for o in observations if o.get("indicator") in seen])


def _server_sets_by(problem: Problem) -> bool:
    return problem.message == "an observation is missing the required key 'by'"


_ANSWERS = re.compile(r"(provision '[^']*': answers '([^'/]*)/([^']*)'), an expectation of ")


def _mask(problem: Problem, current: Any, actor: Actor) -> Problem:
    """Problems name only what the importer may see.

    An `answers` naming an expectation it may not see reads like one that
    does not exist. (A cycle is told only when the importer sees all of it.)
    """
    rules = Rules(current.workspace)
    answers = _ANSWERS.match(problem.message)
    if answers is not None:
        plan = next((p for p in current.workspace.plans if p.id == answers.group(2)), None)
        exp = next((e for e in plan.expects if e.id == answers.group(3)), None) if plan else None
        if plan is None or exp is None or not rules.sees(actor.partner, plan, exp):
            return Problem(problem.file, problem.line, problem.column,
                           f"{answers.group(1)}: no such expectation")
        return problem
    return problem


# -- reading plans --------------------------------------------------------------


def workspace_view(hub: Hub, session: Session, actor: Actor) -> dict[str, Any]:
    """The partner's view of the workspace, a copy of its own: the caller may change it."""
    view: dict[str, Any] = copy.deepcopy(kept_view(hub, session, actor))
    return view


def kept_view(hub: Hub, session: Session, actor: Actor) -> dict[str, Any]:
    """The partner's view of the workspace, shared: read it, never change it (copy what
    you change; `workspace_view` gives a copy).

    Kept per stored state (`Current.recent`), and made of parts kept by what decides
    them (`Hub.kept`): the plans by what they say (`Current.plans_key`), each plan's
    status by its stored version, the observations by the state. A write that
    changes no plan (an observation, a plan's status) costs no new cut of the plans.
    """
    current = hub.current(session)
    view: dict[str, Any] = current.recent(("view", actor.partner),
                                          lambda: _view(hub, current, actor.partner))
    return view


def _base_view(hub: Hub, current: Current, partner: str) -> dict[str, Any]:
    """`view_for` of the state's plans, without observations or statuses, kept by content."""
    base: dict[str, Any] = hub.kept(("view", current.plans_key, partner),
                                    lambda: view_for(current.plans.workspace, partner))
    return base


def _view(hub: Hub, current: Current, partner: str) -> dict[str, Any]:
    base = _base_view(hub, current, partner)
    # Each plan with its status, kept apart: a status change makes one plan's entry anew
    # and leaves the others (and what was made of them, `api.typed.kept_json`) as they are.
    plans = [plan if status is None else hub.kept(
                 ("view plan", current.plans_key, partner, plan["id"], status),
                 lambda plan=plan, status=status: {**plan, "status": status})
             for plan, status in ((plan, _status(current, plan)) for plan in base["plans"])]
    return {**base, "plans": plans,
            "observations": observations_for(current.workspace, partner, current.rules)}


def _status(current: Current, plan: dict[str, Any]) -> str | None:
    """The stored status of a plan the viewer sees whole (None: it sees items only)."""
    version = current.versions.get(plan["id"])
    return version.status if version is not None and "owner" in plan else None


def marking(hub: Hub, session: Session, actor: Actor, plan_id: str | None = None) -> str:
    """The TLP a page carries: of one plan the actor sees (``plan_id``), or of all it may
    view (the dashboard and every page that draws from the whole view)."""
    current = hub.current(session)
    if plan_id is not None:
        if plan_id not in current.visible_plans(actor.partner):
            raise NotFound(plan_id)
        return current.workspace.plan(plan_id).tlp.value
    found: str = current.recent(("marking", actor.partner), lambda: view_marking(
        current.workspace, actor.partner, current.rules).value)
    return found


def plan_view(hub: Hub, session: Session, actor: Actor, plan_id: str) -> dict[str, Any]:
    """One plan as the actor's partner receives it, a copy of its own; NotFound when it
    may see none of it."""
    found: dict[str, Any] = copy.deepcopy(kept_plan_view(hub, session, actor, plan_id))
    return found


def kept_plan_view(hub: Hub, session: Session, actor: Actor, plan_id: str) -> dict[str, Any]:
    """`plan_view`, shared (the partner's kept view's entry): read it, never change it."""
    for plan in kept_view(hub, session, actor)["plans"]:
        if plan["id"] == plan_id:
            found: dict[str, Any] = plan
            return found
    raise NotFound(plan_id)


def plan_etag(hub: Hub, session: Session, actor: Actor, plan_id: str) -> str:
    """The ETag of a plan as the actor receives it: its owner gets the stored version's,
    to send back as If-Match; any other partner a digest of its view (kept by what
    decides the view: the plans' content, the partner and the plan's status)."""
    current = hub.current(session)
    version = current.versions.get(plan_id)
    view = kept_plan_view(hub, session, actor, plan_id)
    if version is not None and view.get("owner") == actor.partner:
        return etag_of_version(version.id)
    tag: str = hub.kept(("etag", current.plans_key, actor.partner, plan_id,
                         view.get("status")), lambda: etag_of_view(view))
    return tag


def _sees_plan_today(hub: Hub, session: Session, actor: Actor, plan_id: str) -> Current:
    """Today's share decides, before anything costly: hidden and missing answer alike."""
    current = hub.current(session)
    if plan_id not in current.visible_plans(actor.partner):
        raise NotFound(plan_id)
    return current


def _version_views(hub: Hub, session: Session, actor: Actor, plan_id: str
                   ) -> list[tuple[Version, dict[str, Any] | None]]:
    """Every version of a plan with the view the actor has of it under today's rules.

    Each version is set into today's workspace in place of the plan (nothing
    else is read again) and cut with today's shares as well as its own. The
    views are kept with the stored state for a while (a plan page asks twice).
    """
    current = _sees_plan_today(hub, session, actor, plan_id)

    def cut(version: Version) -> dict[str, Any] | None:
        """One version's view, without its status (None: withdrawn, or nothing seen)."""
        if version.doc is None:
            return None
        ws = current.plans.workspace
        docs = {k: v.doc for k, v in current.versions.items() if v.doc is not None}
        plan = _version_plan(hub, version, docs)
        if plan is None:
            return None
        if actor.partner != plan.owner:
            plan = _narrowed(plan, ws.plan(plan_id), ws.partner_codes)
        then = replace(ws, plans=tuple(plan if p.id == plan_id else p for p in ws.plans),
                       _index={})
        return plan_view_for(then, actor.partner, plan)

    def build() -> list[tuple[Version, dict[str, Any] | None]]:
        out: list[tuple[Version, dict[str, Any] | None]] = []
        # Each version's view is kept by what decides it: what the version says (a new
        # version that changes only the status says the same), today's plans
        # (`plans_key`) and the partner. Each document is read once (`Hub.kept`).
        for row in session.execute(select(*LISTED).where(PlanVersion.plan_id == plan_id)
                                   .order_by(PlanVersion.number)):
            version = Version(row.id, row.plan_id, row.owner, row.number, row.status, None,
                              row.author, row.reason, row.created, row.digest)
            stored = functools.cache(lambda vid=row.id: Version.of(
                session.get_one(PlanVersion, vid)))
            digest = row.digest or doc_digest(stored())
            view: dict[str, Any] | None = hub.kept(
                ("version view", digest, current.plans_key, actor.partner),
                lambda stored=stored: cut(stored()))
            if view is not None and "owner" in view:
                view = {**view, "status": version.status}
            out.append((version, view))
        return out

    views: list[tuple[Version, dict[str, Any] | None]] = current.recent(
        ("history", actor.partner, plan_id), build)
    return views




def _version_plan(hub: Hub, version: Version, docs: dict[str, dict[str, Any]]
                  ) -> Plan | None:
    """A stored version read on its own (once: the reader keeps it by content).

    References to what no longer exists lapse; only the plans it names are consulted.
    """
    doc = version.doc
    assert doc is not None
    named = {ref.rpartition("/")[0] for t in doc.get("tasks", []) for ref in t.get("after", [])}
    named |= {v["answers"].partition("/")[0] for v in doc.get("provides", [])
              if isinstance(v.get("answers"), str)}
    others = [docs[k] for k in sorted(named) if k in docs and k != doc["id"]]
    doc = without_dangling([*others, doc])[-1]
    piece = hub.pieces.get(Source(f"version-{version.id}.json", json.dumps(doc).encode()))
    return piece.plan


def _narrowed(plan: Plan, today: Plan, everyone: tuple[str, ...]) -> Plan:
    """An old version shared no wider than today's: each share the meet of both, withholds joined.

    Items that no longer exist keep their own share, within today's plan share.
    """
    all_ = frozenset(everyone)

    def members(share: Share) -> frozenset[str]:
        return frozenset() if share is None else all_ if share == "all" else frozenset(share)

    def meet(old: Share, new: Share, *, default: Share) -> Share:
        if old is None and new is None:
            return None
        both = members(default if old is None else old) & members(default if new is None else new)
        return tuple(sorted(both))

    def item(x: Any, now: dict[str, Any]) -> Any:
        other = now.get(x.id)
        if other is None:
            return x
        none: frozenset[str] = frozenset()
        withhold = {k: x.withhold.get(k, none) | other.withhold.get(k, none)
                    for k in {*x.withhold, *other.withhold}}
        return replace(x, share=meet(x.share, other.share, default="all"),
                          withhold=MappingProxyType(withhold))

    def items(kind: str) -> tuple[Any, ...]:
        now = {y.id: y for y in getattr(today, kind)}
        return tuple(item(x, now) for x in getattr(plan, kind))

    return replace(plan, share=meet(plan.share, today.share, default=None),
                   objectives=items("objectives"), tasks=items("tasks"),
                   expects=items("expects"), provides=items("provides"))


def _history(views: list[tuple[Version, dict[str, Any] | None]], actor: Actor,
             plan_id: str, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last: Any = None
    names = names or {}
    for version, view in views:
        if view is None or view == last:
            last = view if view is not None else last
            continue
        last = view
        out.append({"version": version.id, "at": version.created.replace(tzinfo=UTC)
                    .isoformat(timespec="seconds"), "partner": version.owner,
                    # Of a plan seen only through items addressed to it: nothing but its id.
                    "status": version.status if "owner" in view else None,
                    "reason": (version.reason if exchanges.sees_own_side(actor.partner,
                                                                         version.owner)
                               else None),
                    # Who made it: a person of the owner's side is named to that side only.
                    "by": (("operator" if version.author == "operator"
                            else names.get(version.author, ""))
                           if exchanges.sees_own_side(actor.partner, version.owner)
                           else None)})
    if not out:
        raise NotFound(plan_id)
    return out


def history(hub: Hub, session: Session, actor: Actor, plan_id: str) -> list[dict[str, Any]]:
    """The versions whose view changed for the actor's partner, oldest first, each with who
    made it (on the owner's side only) and why."""
    views = _version_views(hub, session, actor, plan_id)
    names = {u.id: u.username for u in session.scalars(
        select(User).where(User.id.in_({v.author for v, _ in views})))}
    return _history(views, actor, plan_id, names)


def version_view(hub: Hub, session: Session, actor: Actor, plan_id: str, version_id: str
                 ) -> dict[str, Any]:
    """One listed version of a plan as the actor's partner sees it; NotFound otherwise
    (a version not listed for it answers as one that does not exist)."""
    views = _version_views(hub, session, actor, plan_id)
    listed = {item["version"] for item in _history(views, actor, plan_id)}
    if version_id not in listed:
        raise NotFound(version_id)
    view = next(view for v, view in views if v.id == version_id)
    assert view is not None
    return view


def changes(hub: Hub, session: Session, actor: Actor, plan_id: str, old: str, new: str
            ) -> list[dict[str, Any]]:
    """What changed between two versions as the actor's partner sees them, per item and
    field, with how much a time or duration moved (``+2h``)."""
    views = _version_views(hub, session, actor, plan_id)
    visible = {item["version"] for item in _history(views, actor, plan_id)}
    for name, vid in (("from", old), ("to", new)):
        if vid not in visible:
            raise Invalid(name, f"no version {vid!r} of this plan")
    by_id = {v.id: view for v, view in views}
    return compare_views(by_id[old] or {}, by_id[new] or {})


ITEM_KINDS = (("objectives", "objective"), ("tasks", "task"), ("expects", "expectation"),
              ("provides", "provision"))


def compare_views(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per item (and for the plan itself): added, removed, or each changed field."""
    out: list[dict[str, Any]] = []
    plain = [k for k in dict.fromkeys([*before, *after])
             if k not in {k for k, _ in ITEM_KINDS} and k not in ("jointplan", "kind")]
    fields = _fields(before, after, plain)
    if fields:
        out.append({"kind": "plan", "id": str(after.get("id") or before.get("id")),
                    "change": "changed", "fields": fields})
    for key, kind in ITEM_KINDS:
        was = {x["id"]: x for x in before.get(key, [])}
        now = {x["id"]: x for x in after.get(key, [])}
        for iid in dict.fromkeys([*was, *now]):
            if iid not in was:
                out.append({"kind": kind, "id": iid, "change": "added",
                            "fields": _fields({}, now[iid], list(now[iid]))})
            elif iid not in now:
                out.append({"kind": kind, "id": iid, "change": "removed", "fields": []})
            else:
                fields = _fields(was[iid], now[iid], list(dict.fromkeys([*was[iid],
                                                                          *now[iid]])))
                if fields:
                    out.append({"kind": kind, "id": iid, "change": "changed", "fields": fields})
    return out


def _fields(a: dict[str, Any], b: dict[str, Any], keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for key in keys:
        if key == "id" or a.get(key) == b.get(key):
            continue
        entry: dict[str, Any] = {"field": key, "before": a.get(key), "after": b.get(key)}
        moved = _moved(key, a.get(key), b.get(key))
        if moved:
            entry["by"] = moved
        out.append(entry)
    return out


def _signed(minutes: int) -> str:
    return ("+" if minutes >= 0 else "-") + format_duration(abs(minutes))


def _moved(key: str, a: Any, b: Any) -> str:
    """How much a time, a window or a duration moved: ``+2h``; '' when not measurable."""
    try:
        if key == "start" and isinstance(a, str) and isinstance(b, str):
            return _signed(parse_time(b) - parse_time(a))
        if key in ("window", "by") and a is not None and b is not None:
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) == 2:
                ends = [_signed(parse_time(y) - parse_time(x)) for x, y in zip(a, b, strict=True)]
                return ends[0] if ends[0] == ends[1] else f"start {ends[0]}, end {ends[1]}"
            if isinstance(a, str) and isinstance(b, str):
                return _signed(parse_time(b) - parse_time(a))
        if key == "duration" and a is not None and b is not None:
            def likely(d: Any) -> int:
                return parse_duration(str(d["likely"] if isinstance(d, dict) else d))
            return _signed(likely(b) - likely(a))
    except (TimecodeError, KeyError, TypeError):
        return ""
    return ""


def diff(hub: Hub, session: Session, actor: Actor, plan_id: str, old: str, new: str) -> str:
    """A unified diff between two versions as the actor's partner sees them."""
    views = _version_views(hub, session, actor, plan_id)
    visible = {item["version"] for item in _history(views, actor, plan_id)}
    for name, vid in (("from", old), ("to", new)):
        if vid not in visible:
            raise Invalid(name, f"no version {vid!r} of this plan")
    by_id = {v.id: view for v, view in views}

    def lines(view: Any) -> list[str]:
        return yaml.safe_dump(view, sort_keys=False, allow_unicode=True).splitlines(True)

    return "".join(difflib.unified_diff(lines(by_id[old]), lines(by_id[new]),
                                        fromfile=f"{plan_id}@{old}", tofile=f"{plan_id}@{new}"))


def set_status(hub: Hub, actor: Actor, plan_id: str, status: str, reason: str,
               base: list[str] | str | None = None) -> str:
    """A new version with another status, made from ``base`` (None: unconditional)."""
    if status not in STATUSES:
        raise Invalid("status", "status must be draft, approved or retired")
    with hub.db.write() as session:
        current = hub.current(session)
        version = current.versions.get(plan_id)
        if version is None or not Rules(current.workspace).sees_plan(
                actor.partner, current.workspace.plan(plan_id)):
            raise NotFound(plan_id)
        allow(actions.may_edit(actor.partner, actor.role, version.owner))
        require_base(session, plan_id, version, base)
        assert version.doc is not None
        return _store_version(session, version.doc, author=actor.user_id, reason=reason,
                              partner=actor.partner, status=status,
                              digest=version.digest).id


def stored_document(hub: Hub, session: Session, actor: Actor, plan_id: str
                    ) -> tuple[str, dict[str, Any]]:
    """The owner's plan as stored (every field, `x-` keys included) and its version id.

    What the edit form changes: never the view, which leaves out what the
    owner did not write and normalises what it did.
    """
    current = hub.current(session)
    version = current.versions.get(plan_id)
    plan = next((p for p in current.workspace.plans if p.id == plan_id), None)
    if version is None or version.doc is None or plan is None \
            or not Rules(current.workspace).sees_plan(actor.partner, plan):
        raise NotFound(plan_id)
    allow(actions.may_edit(actor.partner, actor.role, version.owner))
    return version.id, copy.deepcopy(version.doc)


def new_version(hub: Hub, session: Session, actor: Actor, doc: dict[str, Any],
                reason: str) -> PlanVersion:
    """Store a changed plan of the actor's own, checked like an import (inside a write)."""
    current = hub.current(session)
    joint = hub.joint(session)
    assert joint is not None
    others = [v.doc for k, v in sorted(current.versions.items())
              if k != doc["id"] and v.doc is not None]
    stored = current.versions.get(doc["id"])
    source = Source(f"{doc['id']}.json", json.dumps(doc).encode())
    limits = Limits.from_environment()
    if len(source.data) > limits.document_bytes:
        raise InvalidWorkspace([Problem(source.name, 1, 1,
                                        limits.document_message(len(source.data)))])
    resolved, breaks = judge_upload(joint, others, hub.observation_docs(session),
                                    [(source, doc)],
                                    {doc["id"]: stored.doc} if stored and stored.doc else {},
                                    actor.partner, stored_breaks(session), pieces=hub.pieces)
    version = _store_version(session, doc, author=actor.user_id, reason=reason,
                             partner=actor.partner)
    hub.lend_read(Version.of(version), source)  # the model reads the plan as just read
    add_breaks(session, [doc["id"]], breaks)
    tell_owners(session, resolved)
    reconcile(hub, session)
    return version


OBSERVATION_KEYS = ("indicator", "at", "seen", "share")


def observation_doc(actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """An observation's document from a request's body, once the gate lets the actor report:
    the server, not the body, says who observed; ``at`` defaults to now."""
    for key in body:
        if key not in OBSERVATION_KEYS:
            raise Invalid(key, f"unknown field {key!r}; an observation has indicator, at, "
                          "seen and share")
    for key in ("indicator", "seen"):
        if key not in body:
            raise Invalid(key, f"{key} is required")
    allow(actions.may_contribute(actor.role, "observations"))
    doc = {**body, "by": actor.partner}
    doc.setdefault("at", datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    return doc


def post_observation(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    """A partner reports an indicator; the server, not the body, says who observed."""
    doc = observation_doc(actor, body)
    with hub.db.write() as session:
        current = hub.current(session)
        indicator = next((i for i in current.workspace.indicators
                          if i.id == body["indicator"]), None)
        if indicator is None or not current.rules.sees_indicator(actor.partner, indicator):
            raise Invalid("indicator", f"no indicator {body['indicator']!r}")
        joint = hub.joint(session)
        assert joint is not None
        try:  # the joint part read once (`hub.pieces`), the observation each time
            read_with_joint(stored_sources(joint, [], [doc]), hub.pieces)
        except InvalidWorkspace as exc:
            raise Invalid(_field(exc.problems[0].message), exc.problems[0].message) from None
        row = ObservationRow(seq=_obs_seq(session), partner=actor.partner, doc=doc,
                             author=actor.user_id)
        session.add(row)
        session.flush()
        audit.append(session, action="observation.post", subject=f"observation:{row.id}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner])
        return row.id


def _field(message: str) -> str:
    for key in ("at", "seen", "share", "indicator"):
        if f"'{key}'" in message or f"{key}:" in message:
            return key
    return "body"


def export_files(hub: Hub, session: Session, actor: Actor) -> dict[str, Any]:
    """The partner's view as plan files, with the most restrictive TLP of what they hold.

    Reading the files back and viewing them as the partner gives the same view.
    """
    view = kept_view(hub, session, actor)
    allow(actions.may_export(actor.partner, [(p["id"], p.get("owner", ""), p.get("tlp", ""))
                                             for p in view["plans"]]))
    tlp = actions.export_tlp(p.get("tlp", "amber") for p in view["plans"] if "owner" in p)
    with hub.db.write() as s:
        audit.append(s, action="export", subject=f"partner:{actor.partner}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"plans": [p["id"] for p in view["plans"]], "tlp": tlp})
    current = hub.current(session)
    partner = actor.partner

    def render() -> tuple[tuple[str, str], ...]:
        view = {**_base_view(hub, current, partner),
                "observations": observations_for(current.workspace, partner, current.rules)}
        files = view_files(current.workspace, partner, view=view)
        # A plan's file is decided by the plans and the partner (`_base_view`); the
        # workspace and observations files are small: kept by their content.
        return tuple((name, hub.kept(("export", current.plans_key, partner, name),
                                     lambda doc=doc: _yaml_text(doc))
                      if doc["kind"] == "plan" else _yaml_text(doc))
                     for name, doc in files.items())

    # Writing YAML is most of an export's cost: kept per stored state and partner,
    # and each plan's text by what decides it (an observation or a status changes none).
    rendered: tuple[tuple[str, str], ...] = current.recent(("export", partner), render)
    return {"tlp": tlp, "files": {name: f"# TLP:{tlp.upper()}\n" + text
                                  for name, text in rendered}}


_YAML_KEPT = 256
_yaml_texts: OrderedDict[str, str] = OrderedDict()
_yaml_lock = threading.Lock()


def _yaml_text(doc: Any) -> str:
    """``yaml.safe_dump(doc)`` as an export writes it, kept for the last files written.

    Keyed by the document's ``repr`` (which tells 1 from "1", 1.0 and True, unlike
    JSON), far cheaper to make than the YAML itself.
    """
    key = repr(doc)
    with _yaml_lock:
        found = _yaml_texts.get(key)
        if found is not None:
            _yaml_texts.move_to_end(key)
            return found
    text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    with _yaml_lock:
        _yaml_texts[key] = text
        while len(_yaml_texts) > _YAML_KEPT:
            _yaml_texts.popitem(last=False)
    return text
