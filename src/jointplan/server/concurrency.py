"""Optimistic concurrency: a plan write names the version it was made from.

The API takes the version as an ``If-Match`` header holding the plan's ETag
(``"VERSION-ID"``, as ``GET /api/plans/{id}`` answers it to the owner) or as
``base_versions`` in an import; the pages send ``base_version`` in every form
that changes a plan. A write made from a version that is no longer the
newest is refused with ``Stale`` (409), saying which versions were stored
since; nothing is overwritten silently.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.tables import PlanVersion
from .hub import Invalid, Version


class Stale(Exception):
    """The plan changed since the version a write was made from (409)."""

    def __init__(self, plan_id: str, base: str, current: str,
                 since: list[dict[str, Any]], why: str = "") -> None:
        super().__init__(f"{plan_id} changed since version {base}: {len(since)} newer "
                         f"version(s), the current one is {current}; nothing was stored"
                         + (f" ({why})" if why else "") + ". Read the plan again and "
                         "make the change on the current version.")
        self.plan_id, self.base, self.current, self.since = plan_id, base, current, since


def etag_of_version(version_id: str) -> str:
    """The strong ETag of a stored version: what the owner sends back as If-Match."""
    return f'"{version_id}"'


def etag_of_view(view: Any) -> str:
    """A weak ETag of what a partner receives of another's plan (it cannot write it)."""
    text = json.dumps(view, sort_keys=True, separators=(",", ":"))
    return f'W/"{hashlib.sha256(text.encode()).hexdigest()[:24]}"'


def parse_if_match(header: str | None) -> list[str] | None:
    """The version ids an If-Match header names (``*``: any); None when there is none."""
    if header is None or not header.strip():
        return None
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            raise Invalid("header.If-Match", "If-Match takes the plan's strong ETag, as GET "
                          "/api/plans/{id} answers it to its owner")
        tags.append(tag.strip('"'))
    if not all(tags):
        raise Invalid("header.If-Match", "If-Match names a version: \"VERSION-ID\"")
    return tags


def _entry(row: PlanVersion) -> dict[str, Any]:
    return {"version": row.id, "partner": row.owner, "status": row.status,
            "reason": row.reason,
            "at": row.created.replace(tzinfo=UTC).isoformat(timespec="seconds")}


def versions_since(session: Session, plan_id: str, base: str) -> list[dict[str, Any]]:
    """The versions of a plan stored after ``base`` (all of them if ``base`` is not one)."""
    rows = list(session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                .order_by(PlanVersion.number)))
    numbers = {r.id: r.number for r in rows}
    after = numbers.get(base, 0)
    return [_entry(r) for r in rows if r.number > after]


def require_base(session: Session, plan_id: str, current: Version | None,
                 base: list[str] | str | None) -> None:
    """Go on when ``base`` names the plan's current version (or is None: unconditional).

    Call it inside the write transaction, after the gate allowed the write.
    """
    if base is None:
        return
    bases = [base] if isinstance(base, str) else base
    if current is not None and ("*" in bases or current.id in bases):
        return
    named = next((b for b in bases if b != "*"), "*")
    if current is None:
        raise Stale(plan_id, named, "(none: the plan is not stored)", [])
    raise Stale(plan_id, named, current.id, versions_since(session, plan_id, named))
