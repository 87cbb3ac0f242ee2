"""The node's Ed25519 identity and its peers' keys (`jointplan node init`, `node peers`).

The private key is a 32-byte seed in a file of mode 0600 outside the
database; the database holds public keys only, each ``active``, ``rotated``
or ``revoked``. Every change is audited.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...store import audit
from ...store.tables import NodeIdentity, NodeKey, NodePeer, now

PARTNER = re.compile(r"[A-Z][A-Z0-9]{1,7}")
HEX_KEY = re.compile(r"[0-9a-f]{64}")


class NodeError(ValueError):
    """A refused node operation; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PeerInfo:
    partner: str
    url: str
    keys: list[tuple[str, str, str]]
    """(id, public key hex, state), oldest first."""


def _check_partner(code: str, field: str = "partner") -> str:
    if not PARTNER.fullmatch(code):
        raise NodeError(field, f"{code!r} is not a partner code (2-8 capitals and digits)")
    return code


def _write_seed(path: Path, seed: bytes) -> None:
    """Write the seed readable by its owner alone; an existing file is replaced atomically."""
    tmp = path.with_name(path.name + ".new")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, seed.hex().encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_signing_key(path: str | Path) -> SigningKey:
    p = Path(path)
    try:
        mode = p.stat().st_mode & 0o777
        text = p.read_text().strip()
    except OSError as exc:
        raise NodeError("key_file", f"{p}:1:1: cannot read the node's key: "
                        f"{exc.strerror}") from None
    if mode & 0o077:
        raise NodeError("key_file", f"{p}:1:1: the node's key is readable by others "
                        f"(mode {mode:o}); run chmod 600 {p}")
    if not HEX_KEY.fullmatch(text):
        raise NodeError("key_file", f"{p}:1:1: not a node key (64 hex digits)")
    return SigningKey(bytes.fromhex(text))


def read_public_key(path: str | Path) -> str:
    """A peer's public key from a file: 64 hex digits (``node key`` prints them)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise NodeError("key", f"{p}:1:1: cannot read: {exc.strerror}") from None
    words = text.split()
    key = words[-1].lower() if words else ""
    if not HEX_KEY.fullmatch(key):
        raise NodeError("key", f"{p}:1:1: not a public key (64 hex digits)")
    try:
        VerifyKey(bytes.fromhex(key))
    except Exception:  # noqa: BLE001 - any failure is a bad key
        raise NodeError("key", f"{p}:1:1: not an Ed25519 public key") from None
    return key


def identity(session: Session) -> NodeIdentity:
    row: NodeIdentity | None = session.scalar(select(NodeIdentity))
    if row is None:
        raise NodeError("node", "this database is not a node: run `jointplan node init "
                        "--partner CODE` first")
    return row


def own_key(session: Session) -> NodeKey:
    ident = identity(session)
    key = session.scalar(select(NodeKey).where(NodeKey.owner == ident.partner,
                                               NodeKey.state == "active"))
    if key is None:
        raise NodeError("node", "the node has no active key: run `jointplan node rotate-key`")
    return key


def signing_key(session: Session) -> tuple[str, SigningKey]:
    """The node's partner and its signing key; the file must match the active public key."""
    ident = identity(session)
    key = read_signing_key(ident.key_file)
    if key.verify_key.encode().hex() != own_key(session).public_key:
        raise NodeError("key_file", f"{ident.key_file}:1:1: this key is not the node's "
                        "active key")
    return ident.partner, key


def _audit(session: Session, action: str, subject: str, partner: str,
           detail: dict[str, object]) -> None:
    audit.append(session, action=action, subject=subject, user_id=None, partner=None,
                 owners=[partner], detail=detail)


def init(session: Session, *, partner: str, key_file: str | Path,
         partners: tuple[str, ...] | None = None) -> str:
    """Make this database partner ``partner``'s node; returns the new public key (hex)."""
    _check_partner(partner)
    if partners is not None and partner not in partners:
        raise NodeError("partner", f"{partner} is not a partner of the workspace; partners are "
                        + ", ".join(partners))
    if session.scalar(select(NodeIdentity)) is not None:
        raise NodeError("partner", "this database is already a node; rotate its key with "
                        "`jointplan node rotate-key`")
    path = Path(key_file).resolve()
    if path.exists():
        raise NodeError("key_file", f"{path}:1:1: a file is already there; the node's key "
                        "is never overwritten by init")
    signing = SigningKey.generate()
    public = signing.verify_key.encode().hex()
    session.add(NodeIdentity(partner=partner, key_file=str(path)))
    session.add(NodeKey(owner=partner, public_key=public))
    _audit(session, "node.init", f"node:{partner}", partner, {"key": public})
    session.flush()
    _write_seed(path, bytes(signing))  # last: a refused transaction leaves no key behind
    return public


def rotate(session: Session) -> tuple[str, str]:
    """A new signing key in the same file; the old public key is marked rotated.

    Returns (old, new) public keys: peers must be given the new one
    (`node peers rotate`), and refuse bundles signed by the old one from then on.
    """
    ident = identity(session)
    old = own_key(session)
    signing = SigningKey.generate()
    public = signing.verify_key.encode().hex()
    old.state, old.changed = "rotated", now()
    session.add(NodeKey(owner=ident.partner, public_key=public))
    _audit(session, "node.key.rotate", f"node:{ident.partner}", ident.partner,
           {"old": old.public_key, "new": public})
    session.flush()
    _write_seed(Path(ident.key_file), bytes(signing))
    return old.public_key, public


def add_peer(session: Session, *, partner: str, public_key: str, url: str,
             partners: tuple[str, ...] | None = None) -> None:
    ident = identity(session)
    _check_partner(partner)
    if partners is not None and partner not in partners:
        raise NodeError("partner", f"{partner} is not a partner of the workspace; partners are "
                        + ", ".join(partners))
    if partner == ident.partner:
        raise NodeError("partner", f"{partner} is this node's own partner")
    if session.get(NodePeer, partner) is not None:
        raise NodeError("partner", f"{partner} is already a peer; change its key with "
                        "`jointplan node peers rotate`")
    if url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise NodeError("url", f"{url!r} is not an http(s) address")
    _new_peer_key(session, partner, public_key)
    session.add(NodePeer(partner=partner, url=url.rstrip("/")))
    _audit(session, "node.peer.add", f"peer:{partner}", ident.partner,
           {"key": public_key, "url": url})


def _new_peer_key(session: Session, partner: str, public_key: str) -> None:
    known = session.scalar(select(NodeKey).where(NodeKey.public_key == public_key))
    if known is not None:
        raise NodeError("key", f"this key is already known here ({known.owner}, {known.state})")
    session.add(NodeKey(owner=partner, public_key=public_key))
    session.flush()


def rotate_peer(session: Session, *, partner: str, public_key: str) -> None:
    """The peer's new key replaces its active one, which is refused from now on."""
    ident = identity(session)
    if session.get(NodePeer, partner) is None:
        raise NodeError("partner", f"{partner} is not a peer of this node")
    for key in session.scalars(select(NodeKey).where(NodeKey.owner == partner,
                                                     NodeKey.state == "active")):
        key.state, key.changed = "rotated", now()
    _new_peer_key(session, partner, public_key)
    _audit(session, "node.peer.rotate", f"peer:{partner}", ident.partner, {"key": public_key})


def revoke_peer(session: Session, *, partner: str) -> int:
    """Revoke every key of the peer that is not revoked yet: its bundles are refused."""
    ident = identity(session)
    if session.get(NodePeer, partner) is None:
        raise NodeError("partner", f"{partner} is not a peer of this node")
    keys = list(session.scalars(select(NodeKey).where(NodeKey.owner == partner,
                                                      NodeKey.state != "revoked")))
    for key in keys:
        key.state, key.changed = "revoked", now()
    _audit(session, "node.peer.revoke", f"peer:{partner}", ident.partner,
           {"keys": [k.public_key for k in keys]})
    return len(keys)


def peers(session: Session) -> list[PeerInfo]:
    identity(session)
    out = []
    for peer in session.scalars(select(NodePeer).order_by(NodePeer.partner)):
        keys = session.scalars(select(NodeKey).where(NodeKey.owner == peer.partner)
                               .order_by(NodeKey.created, NodeKey.id))
        out.append(PeerInfo(peer.partner, peer.url,
                            [(k.id, k.public_key, k.state) for k in keys]))
    return out


def key_state(session: Session, public_key: str) -> tuple[str, str] | None:
    """(owner, state) of a known public key, or None."""
    row = session.scalar(select(NodeKey).where(NodeKey.public_key == public_key))
    return (row.owner, row.state) if row is not None else None


def verify(public_key: str, message: bytes, signature: str) -> bool:
    try:
        VerifyKey(bytes.fromhex(public_key)).verify(message, bytes.fromhex(signature))
        return True
    except (BadSignatureError, ValueError):
        return False

