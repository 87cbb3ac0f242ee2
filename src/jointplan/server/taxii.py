"""TAXII 2.1 reading for the signed-in partner: one collection, its STIX export, paged.

Each partner sees exactly one collection, of what it may see: the objects of
its STIX export (``formats.stix``), cut by the gate and less what it received
marked red. Another partner's collection answers like one that does not exist.

``date_added`` is the object's own time — a sighting's ``last_seen``, the fixed
creation time for everything else — never the time of anything the server did,
so a poll shows no trace of what others did out of the partner's sight. A
client polling with ``added_after`` thus gets sightings observed after its last
poll; one posted later with an earlier time is found by reading again from the
start (objects keep their ids, so nothing is duplicated).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..formats.stix import CREATED, NAMESPACE, export_stix
from ..services.accounts import Actor
from ..sharing.handling import export_view
from .hub import Hub, Invalid, NotFound

MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
MAX_PAGE = 1000
Doc = dict[str, Any]


def collection_id(workspace_id: str, partner: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{workspace_id}/taxii-collection/{partner}"))


def collection(hub: Hub, session: Session, actor: Actor, wanted: str | None = None) -> Doc:
    """The actor's partner's collection; NotFound for any other id."""
    ws_id = hub.current(session).workspace.id
    cid = collection_id(ws_id, actor.partner)
    if wanted is not None and wanted != cid:
        raise NotFound(wanted)
    return {"id": cid, "title": f"{ws_id}: what {actor.partner} may see",
            "description": "Indicators and sightings shared with this partner, as STIX 2.1 "
                           "with TLP 2.0 markings.",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}


@dataclass(frozen=True)
class Page:
    objects: list[Doc]
    more: bool
    next: str | None
    first: str | None
    last: str | None


def _added(obj: Doc) -> str:
    return str(obj.get("last_seen") or CREATED)


def _cursor(offset: int, added_after: str | None) -> str:
    raw = json.dumps([offset, added_after]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(text: str, added_after: str | None) -> int:
    try:
        offset, after = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        raise Invalid("next", "next is not a cursor this server handed out") from None
    if not isinstance(offset, int) or offset < 0 or after != added_after:
        raise Invalid("next", "next belongs to another query; repeat its added_after")
    return offset


def _instant(text: str) -> str:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("added_after", f"{text!r} is not a timestamp") from None
    if when.tzinfo is None:
        raise Invalid("added_after", "give the zone, e.g. 2026-11-20T08:00:00Z")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def objects(hub: Hub, session: Session, actor: Actor, wanted: str, *,
            added_after: str | None = None, limit: int | None = None,
            next_: str | None = None) -> Page:
    """One page of the collection's objects, oldest ``date_added`` first."""
    collection(hub, session, actor, wanted)
    ws = hub.current(session).workspace
    bundle = export_stix(export_view(ws, actor.partner), ws, datetime(2020, 1, 1, tzinfo=UTC))
    ranked = sorted(bundle["objects"], key=lambda o: (_added(o), o["id"]))
    if added_after is not None:
        after = _instant(added_after)
        ranked = [o for o in ranked if _added(o) > after]
    start = _uncursor(next_, added_after) if next_ else 0
    size = min(limit or MAX_PAGE, MAX_PAGE)
    page = ranked[start:start + size]
    more = start + size < len(ranked)
    return Page(page, more, _cursor(start + size, added_after) if more else None,
                _added(page[0]) if page else None, _added(page[-1]) if page else None)
