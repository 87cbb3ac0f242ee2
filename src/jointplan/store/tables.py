"""The database tables. Plans are stored as immutable versions, never updated in place."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def doc_digest(doc: Any) -> str | None:
    """SHA-256 of a stored document as canonical JSON (None for no document): what a plan
    version says, so that versions that say the same are known to without reading them."""
    if doc is None:
        return None
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _digest_default(context: Any) -> str | None:
    return doc_digest(context.get_current_parameters().get("doc"))


def new_id() -> str:
    """An opaque, unguessable, never sequential id for addresses and responses.

    96 random bits in URL-safe base64; an id never begins with ``-``, so a
    command line never reads one as an option (``tokens revoke ID`` needs no
    ``--``)."""
    while True:
        value = secrets.token_urlsafe(12)
        if value[0] != "-":
            return value


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Setting(Base):
    """The joint part of the workspace (workspace.yaml) and other single values."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    partner: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    created: Mapped[datetime] = mapped_column(default=now)
    disabled: Mapped[datetime | None] = mapped_column(default=None)
    """When the operator disabled the user: no sign-in, no token, no session."""


class SignInFailure(Base):
    """Failed sign-ins per username (known or not), so every process throttles alike."""

    __tablename__ = "sign_in_failures"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class Token(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=now)
    revoked: Mapped[datetime | None] = mapped_column(default=None)


class BrowserSession(Base):
    """A signed-in browser; the cookie holds a secret whose SHA-256 is stored."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=now)
    expires: Mapped[datetime] = mapped_column()


class PlanVersion(Base):
    """One immutable version of a partner's plan, as the format writes it."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(String(128), index=True)
    owner: Mapped[str] = mapped_column(String(8), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    doc: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """None: the plan was withdrawn in this version."""
    digest: Mapped[str | None] = mapped_column(String(64), default=_digest_default)
    """`doc_digest` of ``doc``, made when the version is stored (migration 0012 made it for
    the versions stored before)."""
    author: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=now)


class ObservationRow(Base):
    __tablename__ = "observations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    partner: Mapped[str] = mapped_column(String(8))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(default=now)
    state: Mapped[str] = mapped_column(String(16), default="current", server_default="current")
    """current, corrected (a later row replaces it) or retracted: rows are never deleted."""


class Thread(Base):
    __tablename__ = "threads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[dict[str, Any]] = mapped_column(JSON)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    share: Mapped[list[Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(default=now)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    share: Mapped[list[Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(default=now)


class Proposal(Base):
    __tablename__ = "proposals"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(String(128), index=True)
    owner: Mapped[str] = mapped_column(String(8))
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    base_version: Mapped[int] = mapped_column(Integer)
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created: Mapped[datetime] = mapped_column(default=now)


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    asked: Mapped[list[Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(default=now)
    title: Mapped[str] = mapped_column(String(300), default="")
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    """When the partners asked should have answered (UTC)."""
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    """Set when the opener closes the decision; None while it is open."""
    closed: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(32), default=None)


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("decision_id", "partner"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), index=True)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    stance: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=now)


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("plan_id", "expectation", "partner"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(String(128))
    expectation: Mapped[str] = mapped_column(String(128))
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(default=now)


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner: Mapped[str] = mapped_column(String(8), index=True)
    text: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=now)
    kind: Mapped[str] = mapped_column(String(24), default="notice")
    link: Mapped[str | None] = mapped_column(String(300), default=None)
    """The page the notification is about, for the partner it is addressed to."""


class AuditEntry(Base):
    """One link of the hash chain: ``digest = sha256(previous digest + canonical body)``."""

    __tablename__ = "audit"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(String(32))
    partner: Mapped[str | None] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256))
    owners: Mapped[list[Any]] = mapped_column(JSON)
    """Partners whose data the entry is about: they may read it."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))


Index("ix_audit_partner", AuditEntry.partner)
Index("ix_audit_action_seq", AuditEntry.action, AuditEntry.seq)


class AnalysisRecord(Base):
    """An analysis result a partner was shown that named others' hidden counterparts.

    Recorded once per partner and distinct result (``digest`` of the cut report),
    not per view: what probing detection needs, without a write per page.
    """

    __tablename__ = "analysis_records"
    __table_args__ = (UniqueConstraint("partner", "digest"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    head: Mapped[int] = mapped_column(Integer)
    """The model head (newest model-changing audit entry) the result was computed at."""
    created: Mapped[datetime] = mapped_column(default=now)


class RateCounter(Base):
    """Requests counted per window (e.g. analyses per user per minute), shared by processes."""

    __tablename__ = "rate_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    """What is counted and for whom, e.g. ``user`` or ``partner``."""
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """The window's number: seconds since the epoch // window length."""
    count: Mapped[int] = mapped_column(Integer)


class IdempotentResponse(Base):
    """A write's answer, kept under the client's ``Idempotency-Key`` to replay on retry."""

    __tablename__ = "idempotent_responses"
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the route and its arguments: the same key for another request is refused."""
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=now, index=True)


class Finding(Base):
    """A conflict or gap that lasts across plan versions (see `server/findings.py`).

    ``place``, ``items``, ``window`` and ``scenarios`` are what the full
    analysis last found, hidden items included: they are matched against the
    next analysis and never sent to anyone. What each partner is told is in
    ``views``, cut by the gate.
    """

    __tablename__ = "findings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    family: Mapped[str] = mapped_column(String(8), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    place: Mapped[list[Any]] = mapped_column(JSON)
    items: Mapped[list[Any]] = mapped_column(JSON)
    window: Mapped[list[Any]] = mapped_column(JSON)
    scenarios: Mapped[list[Any]] = mapped_column(JSON)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(24), default="open")
    audience: Mapped[list[Any]] = mapped_column(JSON)
    """The partners shown it (while present: now; once resolved: when last present)."""
    former: Mapped[list[Any]] = mapped_column(JSON)
    """Partners shown it before but not now: to them it reads as resolved."""
    views: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Partner -> the `check` entries it is (or, for a former partner, was last) told."""
    told: Mapped[list[Any]] = mapped_column(JSON)
    """`VIEWER>OWNER` pairs whose owner was told the viewer is shown its hidden items here."""
    digest: Mapped[str] = mapped_column(String(64), default="")
    """SHA-256 of what was last found and shown: a write rewrites only what changed."""
    created: Mapped[datetime] = mapped_column(default=now)
    changed: Mapped[datetime] = mapped_column(default=now)


class FindingEvent(Base):
    """One change of a finding's status: who (or the analysis), when, and why."""

    __tablename__ = "finding_events"
    __table_args__ = (UniqueConstraint("finding_id", "seq"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    partner: Mapped[str | None] = mapped_column(String(8))
    """None: set by the analysis (found, resolved, reopened)."""
    author: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    audience: Mapped[list[Any]] = mapped_column(JSON)
    """The partners that read this change: those shown the finding when it was made."""
    created: Mapped[datetime] = mapped_column(default=now)


class FindingLink(Base):
    """A proposal or decision made about a finding."""

    __tablename__ = "finding_links"
    __table_args__ = (UniqueConstraint("target_kind", "target_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(32))


# -- resolutions: deconfliction proposals on the server (server/resolutions.py) ---------


class ResolutionRow(Base):
    """A confirmed resolution: the solver's moves for one leaf, each filed as a proposal.

    ``moves`` holds every move, hidden ones included, with the proposal filed
    for it, and is never sent; what each partner of the resolution is told is
    in ``views`` (the gate's cut of the resolution for it, made when confirmed).
    """

    __tablename__ = "resolutions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    partner: Mapped[str] = mapped_column(String(8), index=True)
    """The partner that asked for it."""
    author: Mapped[str] = mapped_column(String(32))
    scenario: Mapped[str] = mapped_column(String(128))
    conflict: Mapped[str | None] = mapped_column(String(32), default=None)
    """The lasting conflict it was asked for, if any (``findings.id``)."""
    time_limit: Mapped[int] = mapped_column(Integer)
    """The solver's deterministic time limit, in milliseconds."""
    head: Mapped[int] = mapped_column(Integer)
    """The newest plan change (audit seq) the moves were computed on."""
    status: Mapped[str] = mapped_column(String(16))
    """The solver's status: optimal, feasible or none."""
    moves: Mapped[list[Any]] = mapped_column(JSON)
    views: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=now)


# -- real time: declared T0s, each user's time zone, calendar feeds (issues 11 and 12) ----


class T0Declaration(Base):
    """A top-level scenario declared at a real instant (T0), or that declaration withdrawn.

    Rows are never deleted: an undeclaration sets ``undeclared``; the current T0 of
    a scenario is its newest row not undeclared.
    """

    __tablename__ = "t0_declarations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    scenario: Mapped[str] = mapped_column(String(128), index=True)
    t0: Mapped[datetime] = mapped_column()
    """The instant, in UTC (stored without a zone, as every time here)."""
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=now)
    undeclared: Mapped[datetime | None] = mapped_column(default=None)
    undeclared_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decision_id: Mapped[str | None] = mapped_column(String(32), default=None)
    """The joint decision that declared it (0011); None when a planner declared it."""
    undeclared_decision: Mapped[str | None] = mapped_column(String(32), default=None)
    """The joint decision that withdrew it (0011)."""


class T0Preference(Base):
    """A user's time zone for real dates (IANA name; UTC when none is stored)."""

    __tablename__ = "t0_preferences"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))


class T0Request(Base):
    """A request to declare a scenario's T0, or to withdraw it, put to a joint decision (0011).

    Made when the workspace declares T0 by joint decision (the ``t0_mode``
    setting): the decision (same id) asks every partner that may see the
    scenario; T0 changes only when all of them concur.
    """

    __tablename__ = "t0_requests"
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    """``declare`` or ``undeclare``."""
    scenario: Mapped[str] = mapped_column(String(128), index=True)
    t0: Mapped[datetime | None] = mapped_column(default=None)
    """The instant asked for, in UTC (None for an undeclaration)."""
    reason: Mapped[str] = mapped_column(Text, default="")
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open``, ``accepted`` (T0 changed) or ``not accepted`` (closed without it)."""
    created: Mapped[datetime] = mapped_column(default=now)


class CalendarFeed(Base):
    """A read-only calendar subscription secret (scope ``calendar``); only its SHA-256 is kept."""

    __tablename__ = "t0_calendar_feeds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=now)
    revoked: Mapped[datetime | None] = mapped_column(default=None)


# -- collaboration: notifications read, observations corrected or retracted (0008) --------


class NotificationRead(Base):
    """One person has read one notification (the state is per user, not per partner)."""

    __tablename__ = "collab_notification_reads"
    __table_args__ = (UniqueConstraint("notification_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    created: Mapped[datetime] = mapped_column(default=now)


class ObservationAmendment(Base):
    """A correction or retraction of an observation, by its reporter, with the reason."""

    __tablename__ = "collab_observation_amendments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    observation_id: Mapped[str] = mapped_column(ForeignKey("observations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """correct or retract"""
    replacement_id: Mapped[str | None] = mapped_column(String(32), default=None)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=now)


# -- federation: each partner its own node (server/federation/) -------------------


class NodeKey(Base):
    """An Ed25519 public key: the node's own (``owner`` = its partner) or a peer's.

    The node's private key never enters the database: it is a file of mode 0600
    whose path ``NodeIdentity.key_file`` names. ``state`` is ``active`` (signs,
    or verifies that peer's bundles), ``rotated`` (replaced) or ``revoked``.
    """

    __tablename__ = "federation_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(8), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created: Mapped[datetime] = mapped_column(default=now)
    changed: Mapped[datetime] = mapped_column(default=now)


class NodeIdentity(Base):
    """The partner this node belongs to (one row)."""

    __tablename__ = "federation_node"
    partner: Mapped[str] = mapped_column(String(8), primary_key=True)
    key_file: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=now)


class NodePeer(Base):
    """A peer node: its partner code and the address its releases are pulled from."""

    __tablename__ = "federation_peers"
    partner: Mapped[str] = mapped_column(String(8), primary_key=True)
    url: Mapped[str] = mapped_column(Text, default="")
    added: Mapped[datetime] = mapped_column(default=now)


class ReleaseSent(Base):
    """The newest release this node signed for a peer: version, content and bundle."""

    __tablename__ = "federation_sent"
    receiver: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the canonical files: a new version only when they change."""
    bundle: Mapped[str] = mapped_column(Text)


class ReleaseHeld(Base):
    """The newest release held from a peer (rollback below it is refused)."""

    __tablename__ = "federation_held"
    sender: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    received: Mapped[datetime] = mapped_column(default=now)


class ReleaseSeen(Base):
    """Every bundle digest and request nonce accepted once: a replay is refused."""

    __tablename__ = "federation_seen"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=now)


class PrivateOffer(Base):
    """What this node offers to private deconfliction: a plan (``task`` empty) or a task."""

    __tablename__ = "federation_offers"
    plan_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    task: Mapped[str] = mapped_column(String(128), primary_key=True, default="")
    offer: Mapped[bool] = mapped_column(Boolean)


class PrivateRun(Base):
    """One private set intersection run with a peer, logged on both nodes."""

    __tablename__ = "federation_psi_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    peer: Mapped[str] = mapped_column(String(8), index=True)
    role: Mapped[str] = mapped_column(String(8))
    """``asked`` (this node started it) or ``answered``."""
    tokens: Mapped[int] = mapped_column(Integer)
    collisions: Mapped[list[Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=now)


# -- drills (live exercises; see server/exercises.py) -------------------------


class DrillExercise(Base):
    """An exercise run on the server: its file, who controls it, and its clock.

    The clock reads ``anchor_minutes`` exercise minutes at ``anchor_wall`` (UTC)
    and, while ``state`` is ``running``, advances ``speed`` exercise minutes per
    real minute from there.
    """

    __tablename__ = "drill_exercises"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(128))
    """The exercise file's own id."""
    title: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The exercise file as plain JSON (read again by the strict reader)."""
    controllers: Mapped[list[Any]] = mapped_column(JSON)
    players: Mapped[list[Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="ready", index=True)
    speed: Mapped[int] = mapped_column(Integer, default=1)
    anchor_wall: Mapped[datetime | None] = mapped_column(default=None)
    anchor_minutes: Mapped[float] = mapped_column(default=0.0)
    created: Mapped[datetime] = mapped_column(default=now)


class DrillDelivery(Base):
    """One inject delivered to one player: written once, with its audit entry."""

    __tablename__ = "drill_deliveries"
    __table_args__ = (UniqueConstraint("exercise_id", "inject", "partner"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exercise_id: Mapped[str] = mapped_column(ForeignKey("drill_exercises.id"), index=True)
    inject: Mapped[str] = mapped_column(String(128))
    partner: Mapped[str] = mapped_column(String(8), index=True)
    due: Mapped[int] = mapped_column(Integer)
    """Exercise minutes at which it was due."""
    sent: Mapped[float] = mapped_column()
    """Exercise minutes on the clock when it was delivered (later than due after a restart)."""
    from_: Mapped[str] = mapped_column("sender", Text)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=now)


class DrillAction(Base):
    """A player's logged action or response, at an exercise time."""

    __tablename__ = "drill_actions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exercise_id: Mapped[str] = mapped_column(ForeignKey("drill_exercises.id"), index=True)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    task: Mapped[str | None] = mapped_column(String(260), default=None)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(default=now)


class DrillRating(Base):
    """An evaluator's HSEEP rating of an expectation or exercise objective, with notes.

    The newest rating of a target counts; earlier ones stay as its history.
    """

    __tablename__ = "drill_ratings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exercise_id: Mapped[str] = mapped_column(ForeignKey("drill_exercises.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """expectation or objective."""
    target: Mapped[str] = mapped_column(String(128))
    rating: Mapped[str] = mapped_column(String(2))
    """P, S, M or U (HSEEP)."""
    notes: Mapped[str] = mapped_column(Text)
    partner: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(default=now)


class DrillImprovement(Base):
    """An improvement item of an after-action report: owner partner, due date, status."""

    __tablename__ = "drill_improvements"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exercise_id: Mapped[str] = mapped_column(ForeignKey("drill_exercises.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    """strength or improvement (an area for improvement)."""
    owner: Mapped[str] = mapped_column(String(8))
    due: Mapped[str] = mapped_column(String(10))
    """An ISO date."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    proposal_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created: Mapped[datetime] = mapped_column(default=now)
