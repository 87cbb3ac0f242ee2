"""The audit log: an append-only hash chain written in the same transaction as the change.

Each entry's digest is SHA-256 over the previous entry's digest and the
entry's canonical JSON, so changing any byte, dropping, inserting or
reordering entries breaks the chain at a place `verify` names. A checkpoint
(`jointplan audit export`) kept outside the database also catches the loss
of the newest entries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import AuditEntry

GENESIS = "0" * 64


def _body(e: AuditEntry) -> bytes:
    return json.dumps({"seq": e.seq, "at": e.at, "user": e.user_id, "partner": e.partner,
                       "action": e.action, "subject": e.subject, "owners": e.owners,
                       "detail": e.detail}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def digest_of(previous: str, e: AuditEntry) -> str:
    return hashlib.sha256(previous.encode() + _body(e)).hexdigest()


def append(session: Session, *, action: str, subject: str, user_id: str | None,
           partner: str | None, owners: list[str], detail: dict[str, Any] | None = None
           ) -> AuditEntry:
    """Add the next link to the chain inside the caller's transaction."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.digest).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(seq=seq, at=datetime.now(UTC).isoformat(timespec="microseconds"),
                       user_id=user_id, partner=partner, action=action, subject=subject,
                       owners=sorted(set(owners)), detail=detail or {}, previous=previous,
                       digest="")
    entry.digest = digest_of(previous, entry)
    session.add(entry)
    session.flush()
    return entry


def latest(session: Session, action: str, subject: str) -> AuditEntry | None:
    """The newest entry of one action about one subject (None if there is none)."""
    found: AuditEntry | None = session.scalar(
        select(AuditEntry).where(AuditEntry.action == action, AuditEntry.subject == subject)
        .order_by(AuditEntry.seq.desc()).limit(1))
    return found


@dataclass(frozen=True)
class Break:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.message}"


def verify(session: Session, checkpoint: dict[str, Any] | None = None) -> list[Break]:
    """Every place the chain is broken; empty when it is whole."""
    breaks: list[Break] = []
    previous, expected_seq = GENESIS, 1
    digests: dict[int, str] = {}
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        if e.seq != expected_seq:
            breaks.append(Break(e.seq, f"expected entry {expected_seq} here: entries "
                                f"{expected_seq}..{e.seq - 1} are missing or renumbered"))
        if e.previous != previous:
            breaks.append(Break(e.seq, "does not follow the entry before it (an entry was "
                                "dropped, inserted or moved)"))
        if digest_of(e.previous, e) != e.digest:
            breaks.append(Break(e.seq, "its content was changed after it was written"))
        previous, expected_seq = e.digest, e.seq + 1
        digests[e.seq] = e.digest
    if checkpoint is not None:
        seq, digest = int(checkpoint["seq"]), str(checkpoint["digest"])
        if digests.get(seq) != digest:
            breaks.append(Break(seq, "does not match the checkpoint: the log was cut or "
                                "rewritten after the checkpoint was taken"))
    return breaks


def checkpoint(session: Session) -> dict[str, Any]:
    """The newest link, to keep outside the database."""
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return {"seq": last.seq if last else 0, "digest": last.digest if last else GENESIS,
            "at": datetime.now(UTC).isoformat(timespec="seconds")}
