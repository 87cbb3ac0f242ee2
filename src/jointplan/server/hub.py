"""The server's core: the database, the current workspace model, and who may act.

The model of what is stored is built once per stored state and shared by
every partner and request: it is keyed by the heads of the audit chain (the
newest plan-changing and the newest observation-changing entry), so any
process can tell from the database whether its copy is current. A plan change
re-reads only the plan documents it has not read before; an observation
re-reads only the observations and keeps the plans and their analysis.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..analysis.run import Analysis, analyse
from ..files import Loaded
from ..model import Plan, Workspace
from ..sharing import Decision, Rules
from ..sharing.findings import Contents, FindingCut
from ..sharing.lapse import Reference, resolve
from ..store.db import READ_ONLY, Database, upgrade
from ..store.tables import AuditEntry, ObservationRow, PlanVersion, Setting
from ..store.tables import doc_digest as tables_digest
from .assemble import (
    Pieces,
    Source,
    read_sources,
    read_with_joint,
    stored_sources,
    without_references,
)
from .lapsing import stored_breaks, strip_documents
from .ratelimits import RateLimited, RateLimits, take_slot

__all__ = ["Current", "Forbidden", "Hub", "Invalid", "NotFound", "RateLimited", "Version"]

PLAN_CHANGES = ("workspace.import", "plan.version")
OBSERVATION_CHANGES = ("observations.import", "observation.post", "observation.amend")
MODEL_CHANGES = PLAN_CHANGES + OBSERVATION_CHANGES
"""Audit actions of the writes that change the model; analyses, logins and talk do not."""


class NotFound(Exception):
    """The object does not exist, or the actor may not see it: the two answer the same."""


class Forbidden(Exception):
    """The actor may see the object but not do this to it (e.g. edit another's plan)."""


def allow(decision: Decision) -> None:
    """Go on when the sharing gate allows the action; Forbidden with its reason otherwise."""
    if not decision:
        raise Forbidden(decision.reason)


class Invalid(ValueError):
    """A request that names a bad value; ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Version:
    """A stored plan version as plain data (safe to keep after its session closes)."""

    id: str
    plan_id: str
    owner: str
    number: int
    status: str
    doc: dict[str, Any] | None
    author: str
    reason: str
    created: Any
    digest: str | None = None
    """What the document says (`tables.doc_digest`), as stored with it; None if unknown."""

    @classmethod
    def of(cls, row: PlanVersion) -> Version:
        return cls(row.id, row.plan_id, row.owner, row.number, row.status, row.doc, row.author,
                   row.reason, row.created, row.digest)


@dataclass(frozen=True, order=True)
class Heads:
    """Where the stored model stands: the newest plan and observation changes (audit seqs)."""

    plans: int
    observations: int


@dataclass(frozen=True)
class Current:
    """The stored workspace at one moment, with what is derived from it computed once."""

    heads: Heads
    loaded: Loaded
    versions: dict[str, Version]
    plans: Loaded
    """The plans without observations: kept while only observations change."""
    plans_key: str
    """What the plans are (`plans_key`): equal keys, equal plans and views of them."""
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _recent: OrderedDict[Any, Any] = field(default_factory=OrderedDict, compare=False,
                                           repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)

    @property
    def head(self) -> int:
        return max(self.heads.plans, self.heads.observations)

    @property
    def workspace(self) -> Workspace:
        return self.loaded.workspace

    @property
    def rules(self) -> Rules:
        rules: Rules = self._once("rules", lambda: Rules(self.workspace))
        return rules

    def analysis(self) -> Analysis:
        """The full, uncut analysis of this state (every partner's cut starts from it)."""
        def build() -> Analysis:
            source = self._memo.get("plans analysis")
            if source is None:
                return analyse(self.workspace)
            plans: Analysis = source()  # shared with the write that stored these plans
            # The plans' analysis stands; the workspace it names carries the observations.
            return Analysis(replace(plans.compiled, workspace=self.workspace), plans.leaves)

        full: Analysis = self._once("analysis", build)
        return full

    def finding_cut(self) -> FindingCut | None:
        """Each partner's entries of this state's conflicts and gaps, made once and shared
        with the write that stored its plans (None where the state was not built so)."""
        source = self._memo.get("finding cut")
        made: FindingCut | None = source() if source is not None else None
        return made

    def visible_plans(self, partner: str) -> frozenset[str]:
        """Ids of the plans the partner sees anything of (whole, or items addressed to it)."""
        def build() -> frozenset[str]:
            rules = self.rules
            return frozenset(
                p.id for p in self.workspace.plans
                if rules.sees_plan(partner, p)
                or any(rules.sees(partner, p, x) for x in p.objectives)
                or any(rules.sees(partner, p, x) for x in p.tasks)
                or any(rules.sees(partner, p, x) for x in p.expects)
                or any(rules.sees(partner, p, x) for x in p.provides))

        seen: frozenset[str] = self._once(f"visible:{partner}", build)
        return seen

    def recent(self, key: Any, build: Any, *, keep: int = 32) -> Any:
        """``build()``, kept for the last ``keep`` keys asked of this state."""
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        value = build()
        with self._lock:
            self._recent[key] = value
            while len(self._recent) > keep:
                self._recent.popitem(last=False)
        return value

    def _once(self, key: str, build: Any) -> Any:
        if key not in self._memo:
            with self._lock:  # one build however many requests ask at once
                if key not in self._memo:
                    self._memo[key] = build()
        return self._memo[key]


def plans_key(joint: dict[str, Any], versions: dict[str, Version], breaks: list[Any]) -> str:
    """What the plans' model and analysis depend on: the joint part, what each plan's
    stored version says (its document, not its id: a new version that changes only the
    plan's status, kept beside the document, keeps the model, its analysis and every
    partner's view) and the references an import lapsed."""
    text = json.dumps([joint, sorted((k, doc_digest(v)) for k, v in versions.items()),
                       sorted(json.dumps(r.as_list()) for r in breaks)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def doc_digest(version: Version) -> str:
    """What a stored version's document says (`tables.doc_digest`): as stored with it, or
    made from the document where a row has none (one written by another tool)."""
    return version.digest or tables_digest(version.doc) or ""


class Hub:
    """One workspace server: storage, the model of what is stored, and limits."""

    def __init__(self, database_url: str | None = None, *, analyses_per_minute: int = 60,
                 analyses_per_partner_minute: int | None = None, migrate: bool = True) -> None:
        self.db = Database(database_url)
        if migrate:
            upgrade(self.db.engine)
        self.limits = RateLimits.of(analyses_per_minute, analyses_per_partner_minute)
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._current: Current | None = None
        self.pieces = Pieces()
        """Stored documents already read, by name and content (each is read once)."""
        self.builds = 0
        """How many models this process built (for tests and benchmarks)."""
        self._analyses: OrderedDict[str, Analysis] = OrderedDict()
        self._models: OrderedDict[str, Loaded] = OrderedDict()
        self._cuts: OrderedDict[str, FindingCut] = OrderedDict()
        self._strips: OrderedDict[str, tuple[Source, list[Reference]]] = OrderedDict()
        self._tokens: OrderedDict[str, tuple[Plan, dict[str, str]]] = OrderedDict()
        self._kept: dict[Any, OrderedDict[tuple[Any, ...], Any]] = {}
        self._making: dict[tuple[Any, ...], threading.Lock] = {}
        self.recorded: set[tuple[str, str]] = set()
        """(partner, result digest) known to be recorded: spares a lookup; the database decides."""

    # -- the stored workspace ---------------------------------------------------

    def joint(self, session: Session) -> dict[str, Any] | None:
        row = session.get(Setting, "workspace")
        return row.value if row else None

    def latest_versions(self, session: Session, known: dict[str, Version] | None = None
                        ) -> dict[str, Version]:
        """Each plan's newest version with its document.

        A version is never changed once stored, so a document already held (``known``,
        by default the current model's versions) is not read and decoded again.
        """
        if known is None:
            known = self._current.versions if self._current is not None else {}
        held = {v.id: v for v in known.values()}
        newest = (select(PlanVersion.plan_id, func.max(PlanVersion.number).label("n"))
                  .group_by(PlanVersion.plan_id).subquery())
        heads = session.execute(select(*LISTED).join(
            newest, (PlanVersion.plan_id == newest.c.plan_id)
            & (PlanVersion.number == newest.c.n))).all()
        # A new version that says what a held one of the same plan says (a status change)
        # takes that one's document: its own is not read and decoded again.
        said = {(v.plan_id, v.digest): v.doc for v in held.values() if v.digest is not None}
        missing = []
        for row in heads:
            if row.id in held:
                continue
            doc = said.get((row.plan_id, row.digest)) if row.digest is not None else None
            if doc is not None:
                held[row.id] = Version(row.id, row.plan_id, row.owner, row.number, row.status,
                                       doc, row.author, row.reason, row.created, row.digest)
            else:
                missing.append(row.id)
        if missing:
            for version_row in session.scalars(select(PlanVersion)
                                               .where(PlanVersion.id.in_(missing))):
                held[version_row.id] = Version.of(version_row)
        out = {}
        for row in heads:
            version = held.get(row.id)
            if version is not None and version.doc is not None:
                out[row.plan_id] = version
        return out

    def observation_docs(self, session: Session) -> list[dict[str, Any]]:
        # A corrected or retracted observation stays stored (and in its history), not counted.
        return [r.doc for r in session.scalars(select(ObservationRow)
                                               .where(ObservationRow.state == "current")
                                               .order_by(ObservationRow.seq))]

    def heads(self, session: Session) -> Heads:
        """The newest plan- and observation-changing audit entries (an index probe each).

        Asked by nearly every request: the statement is built once (`_heads_query`).
        """
        row = session.execute(_heads_query()).one()
        found = dict(zip(MODEL_CHANGES, (int(x or 0) for x in row), strict=True))
        return Heads(max(found[a] for a in PLAN_CHANGES),
                     max(found[a] for a in OBSERVATION_CHANGES))

    def head(self, session: Session) -> int:
        """The newest audit entry of a write that changes the workspace's model."""
        heads = self.heads(session)
        return max(heads.plans, heads.observations)

    def current(self, session: Session) -> Current:
        """The model of what is stored as ``session`` sees it (built once per state).

        A read session asks the heads once: the use cases a request calls each ask for
        the current model, and they all answer from one state (as a SQLite read
        transaction sees one snapshot; on PostgreSQL each statement would see the
        newest commits). A write session asks every time: it may have changed them.
        """
        reads_only = session.get_bind().get_execution_options().get(READ_ONLY, False)
        if reads_only and _SEEN in session.info:
            seen: Current = session.info[_SEEN]
            return seen
        made = self._current_of(session)
        if reads_only:
            session.info[_SEEN] = made
        return made

    def _current_of(self, session: Session) -> Current:
        heads = self.heads(session)
        cached = self._current
        if cached is not None and cached.heads == heads:
            return cached
        with self._build_lock:  # many requests after a write: one builds, the rest wait
            cached = self._current
            if cached is not None and cached.heads == heads:
                return cached
            current = self._build(session, heads, cached)
            self.builds += 1
            if cached is None or heads > cached.heads:  # an older snapshot never replaces it
                self._current = current
        return current

    def _build(self, session: Session, heads: Heads, previous: Current | None) -> Current:
        joint = self.joint(session)
        if joint is None:
            raise NotFound("no workspace has been imported yet")
        versions = self.latest_versions(session)
        breaks: list[Any] = []
        if previous is not None and previous.heads.plans == heads.plans:
            key = previous.plans_key
        else:
            breaks = stored_breaks(session)
            key = plans_key(joint, versions, breaks)
        if previous is not None and previous.plans_key == key:
            same_plans = True
            plans_loaded = previous.plans  # only observations or a status changed
        else:
            same_plans = False
            plans_loaded = self.plans_model(key, joint, versions, breaks)
        if previous is not None and previous.heads.observations == heads.observations:
            seen = previous.workspace.observations  # only plans changed: read none again
        else:
            docs = self.observation_docs(session)
            seen = (read_with_joint(stored_sources(joint, [], docs), self.pieces)
                    .workspace.observations if docs else ())
        loaded = plans_loaded
        if seen:
            loaded = Loaded(replace(plans_loaded.workspace, _index={}, observations=seen),
                            plans_loaded.locator)
        current = Current(heads, loaded, versions, plans_loaded, key)
        if not same_plans:
            plans_ws = plans_loaded.workspace
            current._memo["plans analysis"] = lambda: self.plans_analysis(key, plans_ws)
            contents = self.contents(joint, versions, plans_ws)
            current._memo["finding cut"] = lambda: self.finding_cut(key, plans_ws, contents)
        elif previous is not None:  # observations move only likelihoods; a status, nothing
            if "analysis" in previous._memo:
                old: Analysis = previous._memo["analysis"]
                current._memo["analysis"] = Analysis(
                    replace(old.compiled, workspace=current.workspace), old.leaves)
            for kept in ("plans analysis", "finding cut"):
                if kept in previous._memo:
                    current._memo[kept] = previous._memo[kept]
        return current

    def rules(self, session: Session) -> Rules:
        return self.current(session).rules

    def plans_model(self, key: str, joint: dict[str, Any], versions: dict[str, Version],
                    breaks: list[Any]) -> Loaded:
        """The plans ``key`` names (see ``plans_key``) as read, without observations, made once.

        The write that stores a plan version reads them to reconcile findings; the model
        built after it is committed reuses that read instead of making it again.
        """
        with self._lock:
            found = self._models.get(key)
            if found is not None:
                self._models.move_to_end(key)
                return found
        sources, written = [], []
        for k in sorted(versions):
            source, refs = self._stripped(versions[k])
            sources.append(source)
            written.extend(refs)
        # What `lapsing.stored_model` does, from each version's stripped file kept once.
        loaded = read_sources(stored_sources(joint, [], []) + sources, self.pieces)
        made = Loaded(resolve(loaded.workspace, written, breaks).workspace, loaded.locator)
        with self._lock:
            self._models[key] = made
            while len(self._models) > 4:
                self._models.popitem(last=False)
        return made

    def _stripped(self, version: Version) -> tuple[Source, list[Reference]]:
        """A stored version as read for the model: its file without `after` and `answers`,
        and those references (see `lapsing.strip_documents`), made once per version."""
        with self._lock:
            found = self._strips.get(version.id)
            if found is not None:
                self._strips.move_to_end(version.id)
                return found
        assert version.doc is not None
        docs, refs = strip_documents([version.doc])
        made = (stored_sources({}, docs, [])[1], refs)
        with self._lock:
            self._strips[version.id] = made
            while len(self._strips) > self.pieces.size:
                self._strips.popitem(last=False)
        return made

    def lend_read(self, version: Version, source: Source) -> None:
        """A write that has just read the file of the version it stores (``source``, read
        through ``pieces``) lends that read to the model, which reads the version without
        its references (`_stripped`): the written plan is parsed once, not twice."""
        piece = self.pieces.peek(source)
        if piece is None or piece.kind != "plan" or piece.problems or piece.plan is None:
            return
        if piece.plan.id != version.plan_id:
            return
        stripped, _ = self._stripped(version)
        if self.pieces.peek(stripped) is None:
            self.pieces.put(stripped, without_references(piece, stripped.name))

    def plans_analysis(self, key: str, workspace: Workspace) -> Analysis:
        """The full analysis of the plans ``key`` names (see ``plans_key``), made once.

        Keyed by content, so the write that stores a plan version (which analyses it to
        keep conflicts' lasting identities) and the model built after it share one; an
        analysis of a write that was rolled back is only never asked for again.
        """
        with self._lock:
            found = self._analyses.get(key)
            if found is not None:
                self._analyses.move_to_end(key)
                return found
        made = analyse(workspace)
        with self._lock:
            self._analyses[key] = made
            while len(self._analyses) > 4:
                self._analyses.popitem(last=False)
        return made

    def finding_cut(self, key: str, workspace: Workspace, contents: Contents) -> FindingCut:
        """Each partner's entries of the analysis of the plans ``key`` names, made once.

        The write that stores the plans cuts every conflict and gap for every partner
        to keep their lasting identities; each partner's `check` after it is made of
        those same entries (`FindingCut.check`), not cut again. Entries are kept by
        content (``contents``, see `plan_contents`): the newest cut lends the new one
        every entry whose conflict or gap and plans did not change, so a write cuts
        again only what it changed.
        """
        full = self.plans_analysis(key, workspace)
        with self._lock:
            found = self._cuts.get(key)
            if found is not None and found.analysis is full:
                self._cuts.move_to_end(key)
                return found
            newest = next(reversed(self._cuts.values()), None)
            made = FindingCut(full, Rules(full.compiled.workspace), contents,
                              newest.kept if newest is not None else None)
            self._cuts[key] = made
            while len(self._cuts) > 4:
                self._cuts.popitem(last=False)
            return made

    def contents(self, joint: dict[str, Any], versions: dict[str, Version],
                 workspace: Workspace) -> Contents:
        """What each item of the plans read from ``versions`` is, for keeping each partner's
        entries of a conflict or gap by content (see `sharing.findings.Contents`)."""
        items: dict[str, str] = {}
        keep = max(16, 3 * len(workspace.plans))  # each plan's last few versions
        for plan in workspace.plans:
            items.update(self._item_tokens(versions[plan.id].id, plan, keep))
        joint_text = json.dumps(joint, sort_keys=True)
        return Contents(hashlib.sha256(joint_text.encode()).hexdigest(), items)

    def _item_tokens(self, version_id: str, plan: Plan, keep: int) -> dict[str, str]:
        """A token for each task, provision and expectation of a stored version's plan.

        An item equal to the one of the same id in the plan's previous version read
        (with the plan's owner, share and other plan-wide fields unchanged) keeps that
        one's token; any other is named by this version (ids are never reused), so a
        token stands for one content of the item.
        """
        with self._lock:
            found = self._tokens.get(version_id)
            if found is not None:
                self._tokens.move_to_end(version_id)
                return found[1]
            base = next((kept for kept in reversed(self._tokens.values())
                         if kept[0].id == plan.id), None)
        before: dict[str, Any] = {}
        if base is not None and _plan_wide(base[0]) == _plan_wide(plan):
            before = {name: (item, base[1][name]) for name, item in _items(base[0])}
        made = {}
        for name, item in _items(plan):
            old = before.get(name)
            made[name] = old[1] if old is not None and old[0] == item else version_id
        with self._lock:
            self._tokens[version_id] = (plan, made)
            while len(self._tokens) > keep:
                self._tokens.popitem(last=False)
        return made

    KEPT = {"view": 16, "check": 16, "subjects": 16, "export": 64,
            "version view": 32, "simulate": 32}
    """How many of `kept`'s answers a hub keeps of each kind (a few stored states' worth;
    a whole partner's view of a large workspace is tens of megabytes); other kinds 128."""

    def kept(self, key: tuple[Any, ...], build: Any) -> Any:
        """``build()``, kept for the last keys of its kind (``key[0]``, see `KEPT`) asked of this
        hub, whatever state: kinds are kept apart, so many cheap answers of one kind
        never push out the costly ones of another.

        For what a key that names its inputs' content (`Current.plans_key`, a version's
        id, a partner) fully decides: it outlives the stored state that first asked,
        so a write that changes none of those inputs (an observation, a plan's status)
        costs no rebuild. What it returns is shared: read it, never change it. Made
        once however many requests ask at once: the others wait for the first.
        """
        with self._lock:
            kept = self._kept.setdefault(key[0], OrderedDict())
            if key in kept:
                kept.move_to_end(key)
                return kept[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in kept:  # made while this request waited
                    return kept[key]
            try:
                value = build()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            with self._lock:
                kept[key] = value
                self._making.pop(key, None)
                while len(kept) > self.KEPT.get(key[0], 128):
                    kept.popitem(last=False)
        return value

    def remember_recorded(self, key: tuple[str, str]) -> None:
        with self._lock:
            if len(self.recorded) >= 4096:
                self.recorded.clear()
            self.recorded.add(key)

    # -- limits -----------------------------------------------------------------

    def take_analysis_slot(self, actor: Any) -> None:
        """Analyses per user and per partner a minute are limited: deconfliction can be probed.

        Counted in the database (see ratelimits.py), so every process shares one count.
        """
        take_slot(self.db, self.limits, user_id=actor.user_id, partner=actor.partner)


_SEEN = "jointplan current"
"""Where a read session keeps the model it was answered from (`Hub.current`)."""


@functools.cache
def _heads_query() -> Any:
    """One statement for `Hub.heads`, built once (building it cost more than running it)."""
    def newest(action: str) -> Any:
        return (select(func.max(AuditEntry.seq)).where(AuditEntry.action == action)
                .scalar_subquery())

    return select(*(newest(a) for a in MODEL_CHANGES))


LISTED = (PlanVersion.id, PlanVersion.plan_id, PlanVersion.owner, PlanVersion.number,
          PlanVersion.status, PlanVersion.author, PlanVersion.reason, PlanVersion.created,
          PlanVersion.digest)
"""A version's columns but its document."""


def _plan_wide(plan: Plan) -> Plan:
    """A plan without its items: what of it applies to every item (owner, share, ...)."""
    return replace(plan, objectives=(), tasks=(), expects=(), provides=())


def _items(plan: Plan) -> Iterator[tuple[str, Any]]:
    """Each task, provision and expectation of a plan, named as occurrences name them."""
    for kind, items in (("task", plan.tasks), ("provision", plan.provides),
                        ("expectation", plan.expects)):
        for item in items:
            yield f"{kind}:{plan.id}/{item.id}", item


def canonical(doc: Any) -> Any:
    """Plain JSON values (documents read with positions become plain dicts and lists)."""
    return json.loads(json.dumps(doc))
