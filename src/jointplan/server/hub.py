"""The server's core: the database, the current workspace model, and who may act."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..files import Loaded
from ..model import Workspace
from ..sharing import Rules
from ..store.db import Database, upgrade
from ..store.tables import AuditEntry, ObservationRow, PlanVersion, Setting
from .assemble import lapse_hidden_references, read_sources, stored_sources, without_dangling
from .ratelimits import RateLimited, RateLimits, take_slot

__all__ = ["Current", "Forbidden", "Hub", "Invalid", "NotFound", "RateLimited", "Version"]

MODEL_CHANGES = ("workspace.import", "plan.version", "observations.import", "observation.post")
"""Audit actions of the writes that change the model; analyses, logins and talk do not."""


class NotFound(Exception):
    """The object does not exist, or the actor may not see it: the two answer the same."""


class Forbidden(Exception):
    """The actor may see the object but not do this to it (e.g. edit another's plan)."""


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

    @classmethod
    def of(cls, row: PlanVersion) -> Version:
        return cls(row.id, row.plan_id, row.owner, row.number, row.status, row.doc, row.author,
                   row.reason, row.created)


@dataclass(frozen=True)
class Current:
    """The stored workspace at one moment."""

    head: int
    loaded: Loaded
    versions: dict[str, Version]

    @property
    def workspace(self) -> Workspace:
        return self.loaded.workspace


class Hub:
    """One workspace server: storage, the model of what is stored, and limits."""

    def __init__(self, database_url: str | None = None, *, analyses_per_minute: int = 60,
                 analyses_per_partner_minute: int | None = None, migrate: bool = True) -> None:
        self.db = Database(database_url)
        if migrate:
            upgrade(self.db.engine)
        self.limits = RateLimits.of(analyses_per_minute, analyses_per_partner_minute)
        self._lock = threading.Lock()
        self._current: Current | None = None

    # -- the stored workspace ---------------------------------------------------

    def joint(self, session: Session) -> dict[str, Any] | None:
        row = session.get(Setting, "workspace")
        return row.value if row else None

    def latest_versions(self, session: Session) -> dict[str, Version]:
        newest = (select(PlanVersion.plan_id, func.max(PlanVersion.number).label("n"))
                  .group_by(PlanVersion.plan_id).subquery())
        rows = session.scalars(select(PlanVersion).join(
            newest, (PlanVersion.plan_id == newest.c.plan_id)
            & (PlanVersion.number == newest.c.n)))
        return {v.plan_id: Version.of(v) for v in rows if v.doc is not None}

    def observation_docs(self, session: Session) -> list[dict[str, Any]]:
        return [r.doc for r in session.scalars(select(ObservationRow).order_by(ObservationRow.seq))]

    def head(self, session: Session) -> int:
        """The newest audit entry of a write that changes the workspace's model."""
        return int(session.scalar(select(func.max(AuditEntry.seq))
                                  .where(AuditEntry.action.in_(MODEL_CHANGES))) or 0)

    def current(self, session: Session) -> Current:
        """The model of what is stored now (cached until a write changes it)."""
        head = self.head(session)
        cached = self._current
        if cached is not None and cached.head == head:
            return cached
        joint = self.joint(session)
        if joint is None:
            raise NotFound("no workspace has been imported yet")
        versions = self.latest_versions(session)
        plans = without_dangling([versions[k].doc for k in sorted(versions)])  # type: ignore[misc]
        loaded = lapse_hidden_references(read_sources(stored_sources(
            joint, plans, self.observation_docs(session))))
        current = Current(head, loaded, versions)
        with self._lock:
            self._current = current
        return current

    def rules(self, session: Session) -> Rules:
        return Rules(self.current(session).workspace)

    # -- limits -----------------------------------------------------------------

    def take_analysis_slot(self, actor: Any) -> None:
        """Analyses per user and per partner a minute are limited: deconfliction can be probed.

        Counted in the database (see ratelimits.py), so every process shares one count.
        """
        take_slot(self.db, self.limits, user_id=actor.user_id, partner=actor.partner)


def canonical(doc: Any) -> Any:
    """Plain JSON values (documents read with positions become plain dicts and lists)."""
    return json.loads(json.dumps(doc))
