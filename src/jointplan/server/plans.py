"""Plans on the server: import all or nothing, versions, history and diff cut per partner."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..files import InvalidWorkspace, Problem, workspace_files
from ..files.yamlread import ReadError, read_document
from ..services.accounts import Actor
from ..sharing import Rules, exchanges
from ..sharing.view import export_files as view_files
from ..sharing.view import view_for
from ..store import audit
from ..store.tables import ObservationRow, PlanVersion, Setting
from .assemble import UPLOAD_NAME, Source, read_sources, stored_sources, without_dangling
from .findings import reconcile
from .hub import Forbidden, Hub, Invalid, NotFound, canonical

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
    read_sources(sources)  # every check first: nothing is stored unless all is well
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
        reconcile(hub, session)
    return counts


def _store_version(session: Session, doc: dict[str, Any], *, author: str, reason: str,
                   partner: str | None = None, status: str | None = None) -> PlanVersion:
    previous = session.scalar(select(PlanVersion).where(PlanVersion.plan_id == doc["id"])
                              .order_by(PlanVersion.number.desc()).limit(1))
    version = PlanVersion(plan_id=doc["id"], owner=doc["owner"],
                          number=_next_number(session, doc["id"]),
                          status=status or (previous.status if previous else "draft"),
                          doc=doc, author=author, reason=reason)
    session.add(version)
    session.flush()
    audit.append(session, action="plan.version", subject=f"plan:{doc['id']}",
                 user_id=None if author == "operator" else author, partner=partner,
                 owners=[doc["owner"]], detail={"version": version.id, "reason": reason,
                                                "status": version.status})
    return version


# -- a partner's import ---------------------------------------------------------


def import_files(hub: Hub, actor: Actor, files: list[Source], *, reason: str) -> dict[str, Any]:
    """A partner imports its own plans and observations, all or nothing.

    Its plans are checked against the workspace as it sees it: a reference to
    something it may not see is reported exactly like one to nothing.
    """
    if not actor.can_plan:
        raise Forbidden("only planners and admins import plans")
    if not files:
        raise Invalid("files", "no files were sent")
    problems: list[Problem] = []
    docs: list[tuple[Source, dict[str, Any]]] = []
    for f in files:
        if not UPLOAD_NAME.fullmatch(f.name):
            raise Invalid("files", f"{f.name!r} is not a file name jointplan reads; use "
                          "letters, digits, . _ - and .yaml, .yml or .json")
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
        others = [v.doc for k, v in sorted(current.versions.items())
                  if k not in uploaded_plans and v.doc is not None]
        seen_joint, seen_observations = _indicators_as_seen(
            joint, hub.observation_docs(session), current, actor)
        stored = stored_sources(seen_joint, without_dangling([*others, *uploaded_plans.values()])
                                [: len(others)], seen_observations)
        # The files as sent, so that problems point at the lines the user wrote.
        try:
            read_sources(stored + files)
        except InvalidWorkspace as exc:
            mine = {f.name for f in files}
            own = [_mask(p, current, actor) for p in exc.problems
                   if p.file in mine and not _server_sets_by(p)]
            # What is stored has no cycle, so a cycle is the upload's, wherever the reader
            # noticed it; stored, it would break every partner's reading of the workspace.
            own += [_mask(_blame_upload(p, docs), current, actor) for p in exc.problems
                    if p.file not in mine and p.message.startswith("dependency cycle: ")]
            if own:
                raise InvalidWorkspace(own) from None
        stored_ids = []
        for _, doc in docs:
            if doc["kind"] == "plan":
                stored_ids.append(_store_version(session, doc, author=actor.user_id,
                                                 reason=reason, partner=actor.partner).id)
            else:
                for obs in doc["observations"]:
                    session.add(ObservationRow(seq=_obs_seq(session), partner=actor.partner,
                                               doc=obs, author=actor.user_id))
                    session.flush()
                audit.append(session, action="observations.import", subject="observations",
                             user_id=actor.user_id, partner=actor.partner,
                             owners=[actor.partner], detail={"count": len(doc["observations"])})
        if uploaded_plans:
            reconcile(hub, session)
    return {"plans": sorted(uploaded_plans), "versions": stored_ids,
            "observations": sum(len(d["observations"]) for _, d in docs
                                if d["kind"] == "observations")}


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


def _blame_upload(problem: Problem, docs: list[tuple[Source, dict[str, Any]]]) -> Problem:
    """A problem found in a stored file, told at the uploaded plan file it runs through."""
    path = problem.message.partition(";")[0]
    plans = [(f.name, d.get("id")) for f, d in docs if d.get("kind") == "plan"]
    name = next((n for n, pid in plans if f"{pid}/" in path), plans[0][0] if plans else "")
    return Problem(name or docs[0][0].name, 1, 1, problem.message)


def _server_sets_by(problem: Problem) -> bool:
    return problem.message == "an observation is missing the required key 'by'"


_ANSWERS = re.compile(r"(provision '[^']*': answers '([^'/]*)/([^']*)'), an expectation of ")


def _mask(problem: Problem, current: Any, actor: Actor) -> Problem:
    """Problems name only what the importer may see.

    A cycle's path hides the tasks it may not see; an `answers` naming an
    expectation it may not see reads like one that does not exist.
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
    prefix = "dependency cycle: "
    if not problem.message.startswith(prefix):
        return problem
    plans = {p.id: p for p in current.workspace.plans}
    path, sep, rest = problem.message[len(prefix):].partition(";")
    names = path.split(" after ")
    shown = []
    for name in names:
        pid, _, tid = name.partition("/")
        plan = plans.get(pid)
        task = next((t for t in plan.tasks if t.id == tid), None) if plan else None
        if plan is None or plan.owner == actor.partner or (
                task is not None and rules.sees(actor.partner, plan, task)):
            shown.append(name)
        else:
            shown.append("(a task you may not see)")
    return Problem(problem.file, problem.line, problem.column,
                   prefix + " after ".join(shown) + sep + rest)


# -- reading plans --------------------------------------------------------------


def workspace_view(hub: Hub, session: Session, actor: Actor) -> dict[str, Any]:
    current = hub.current(session)
    view = view_for(current.workspace, actor.partner)
    for plan in view["plans"]:
        version = current.versions.get(plan["id"])
        if version is not None and "owner" in plan:
            plan["status"] = version.status
    return view


def plan_view(hub: Hub, session: Session, actor: Actor, plan_id: str) -> dict[str, Any]:
    """One plan as the actor's partner receives it; NotFound when it may see none of it."""
    for plan in workspace_view(hub, session, actor)["plans"]:
        if plan["id"] == plan_id:
            found: dict[str, Any] = plan
            return found
    raise NotFound(plan_id)


def _version_views(hub: Hub, session: Session, actor: Actor, plan_id: str
                   ) -> list[tuple[Any, dict[str, Any] | None]]:
    """Every version of a plan with the view the actor would have had of it."""
    current = hub.current(session)
    joint = hub.joint(session)
    assert joint is not None
    versions = list(session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                    .order_by(PlanVersion.number)))
    others = [v.doc for k, v in sorted(current.versions.items())
              if k != plan_id and v.doc is not None]
    out: list[tuple[Any, dict[str, Any] | None]] = []
    for version in versions:
        if version.doc is None:
            out.append((version, None))
            continue
        plans = without_dangling([*others, version.doc])
        loaded = read_sources(stored_sources(joint, plans, []))
        view = next((p for p in view_for(loaded.workspace, actor.partner)["plans"]
                     if p["id"] == plan_id), None)
        if view is not None and "owner" in view:
            view["status"] = version.status
        out.append((version, view))
    return out


def history(hub: Hub, session: Session, actor: Actor, plan_id: str) -> list[dict[str, Any]]:
    """The versions whose view changed for the actor's partner, oldest first."""
    out: list[dict[str, Any]] = []
    last: Any = None
    for version, view in _version_views(hub, session, actor, plan_id):
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
                               else None)})
    if not out:
        raise NotFound(plan_id)
    return out


def diff(hub: Hub, session: Session, actor: Actor, plan_id: str, old: str, new: str) -> str:
    """A unified diff between two versions as the actor's partner sees them."""
    views = {v.id: view for v, view in _version_views(hub, session, actor, plan_id)}
    visible = {item["version"] for item in history(hub, session, actor, plan_id)}
    for name, vid in (("from", old), ("to", new)):
        if vid not in visible:
            raise Invalid(name, f"no version {vid!r} of this plan")

    def lines(view: Any) -> list[str]:
        return yaml.safe_dump(view, sort_keys=False, allow_unicode=True).splitlines(True)

    return "".join(difflib.unified_diff(lines(views[old]), lines(views[new]),
                                        fromfile=f"{plan_id}@{old}", tofile=f"{plan_id}@{new}"))


def set_status(hub: Hub, actor: Actor, plan_id: str, status: str, reason: str) -> str:
    if status not in STATUSES:
        raise Invalid("status", "status must be draft, approved or retired")
    with hub.db.write() as session:
        current = hub.current(session)
        version = current.versions.get(plan_id)
        if version is None or not Rules(current.workspace).sees_plan(
                actor.partner, current.workspace.plan(plan_id)):
            raise NotFound(plan_id)
        if version.owner != actor.partner or not actor.can_plan:
            raise Forbidden("only the owner's planners change a plan")
        assert version.doc is not None
        return _store_version(session, version.doc, author=actor.user_id, reason=reason,
                              partner=actor.partner, status=status).id


def new_version(hub: Hub, session: Session, actor: Actor, doc: dict[str, Any],
                reason: str) -> PlanVersion:
    """Store a changed plan of the actor's own, checked like an import (inside a write)."""
    current = hub.current(session)
    joint = hub.joint(session)
    assert joint is not None
    plans = without_dangling([*(v.doc for k, v in sorted(current.versions.items())
                                if k != doc["id"] and v.doc is not None), doc])
    read_sources(stored_sources(joint, plans, hub.observation_docs(session)))
    version = _store_version(session, doc, author=actor.user_id, reason=reason,
                             partner=actor.partner)
    reconcile(hub, session)
    return version


def post_observation(hub: Hub, actor: Actor, body: dict[str, Any]) -> str:
    """A partner reports an indicator; the server, not the body, says who observed."""
    allowed = {"indicator", "at", "seen", "share"}
    for key in body:
        if key not in allowed:
            raise Invalid(key, f"unknown field {key!r}; an observation has indicator, at, "
                          "seen and share")
    for key in ("indicator", "seen"):
        if key not in body:
            raise Invalid(key, f"{key} is required")
    doc = {**body, "by": actor.partner}
    doc.setdefault("at", datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    with hub.db.write() as session:
        current = hub.current(session)
        indicator = next((i for i in current.workspace.indicators
                          if i.id == body["indicator"]), None)
        if indicator is None or not Rules(current.workspace).sees_indicator(actor.partner,
                                                                            indicator):
            raise Invalid("indicator", f"no indicator {body['indicator']!r}")
        joint = hub.joint(session)
        assert joint is not None
        try:
            read_sources(stored_sources(joint, [], [doc]))
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
    view = workspace_view(hub, session, actor)
    ranks = ["clear", "green", "amber", "amber+strict", "red"]
    tlps = [p.get("tlp", "amber") for p in view["plans"] if "owner" in p]
    refused = [p["id"] for p in view["plans"]
               if p.get("tlp") == "red" and p.get("owner") != actor.partner]
    if refused:
        raise Forbidden("plans marked red may be viewed but not exported by other partners: "
                        + ", ".join(refused))
    tlp = max(tlps, key=ranks.index) if tlps else "clear"
    with hub.db.write() as s:
        audit.append(s, action="export", subject=f"partner:{actor.partner}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"plans": [p["id"] for p in view["plans"]], "tlp": tlp})
    files = view_files(hub.current(session).workspace, actor.partner)
    return {"tlp": tlp, "files": {name: f"# TLP:{tlp.upper()}\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True) for name, doc in files.items()}}
