"""Pulling a peer's release over HTTP(S) (`jointplan node sync`), and answering such a pull.

The pull is a POST to the peer's ``/node/releases`` with a request signed
by this node's key: who asks, whom, when, and a fresh nonce. The peer answers
only a known, active peer, within five minutes of ``at``, and a nonce once;
what it answers is itself a signed bundle, checked here like a bundle file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...store.tables import NodePeer, ReleaseSeen
from ..hub import Hub
from ..ratelimits import first_in_period
from .keys import NodeError, identity, key_state, signing_key, verify
from .release import Imported, Refused, canonical_bytes, issue, receive

SKEW = timedelta(minutes=5)
log = logging.getLogger(__name__)


class Unreachable(NodeError):
    """Nothing answered at the peer's address (it may still be starting)."""


def signed_request(hub: Hub, peer: str, payload: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """An envelope to ``peer`` signed with this node's key over every field but the signature."""
    with hub.db.read() as session:
        me, key = signing_key(session)
    body = {**(payload or {}), "from": me, "to": peer,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "nonce": secrets.token_hex(16), "key": key.verify_key.encode().hex()}
    return {**body, "signature": key.sign(canonical_bytes(body)).signature.hex()}


def open_envelope(session: Session, request: dict[str, Any]) -> str:
    """The asking peer of a signed envelope; NodeError("request", …) when it is refused."""
    body = {k: v for k, v in request.items() if k != "signature"}

    def refuse(message: str) -> NodeError:
        return NodeError("request", message)

    me = identity(session).partner
    asker = str(body.get("from"))
    if body.get("to") != me:
        raise refuse(f"this node is {me}, not {body.get('to')}")
    if session.get(NodePeer, asker) is None:
        raise refuse(f"{asker} is not a peer of this node")
    known = key_state(session, str(body.get("key")))
    if known is None or known[0] != asker:
        raise refuse(f"the request is not signed by a key of {asker}'s known here")
    if known[1] != "active":
        raise refuse(f"the request is signed by a {known[1]} key of {asker}")
    if not verify(str(body["key"]), canonical_bytes(body), str(request.get("signature"))):
        raise refuse("bad signature on the request")
    try:
        at = datetime.fromisoformat(str(body.get("at")))
    except ValueError:
        raise refuse("`at` is not a time") from None
    if at.tzinfo is None or abs(datetime.now(UTC) - at) > SKEW:
        raise refuse("the request's time is more than five minutes off this node's clock")
    digest = hashlib.sha256(canonical_bytes(body)).hexdigest()
    if session.get(ReleaseSeen, digest) is not None:
        raise refuse("replayed request")
    session.add(ReleaseSeen(digest=digest, sender=asker, kind="request"))
    return asker


def answer(hub: Hub, request: dict[str, Any]) -> str:
    """The bundle for the peer that signed ``request``; NodeError("request", …) if refused."""
    with hub.db.write() as session:
        return issue(hub, session, open_envelope(session, request))


def post(url: str, path: str, payload: dict[str, Any], peer: str, *,
         timeout: float = 30.0) -> dict[str, Any]:
    """POST a signed envelope to a peer node; NodeError naming the address when it fails."""
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise NodeError("peer", f"{url}: {peer}'s node answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable("peer", f"{url}: cannot reach {peer}'s node: {reason}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise NodeError("peer", f"{url}: {peer}'s node did not answer JSON") from None
    if not isinstance(answer, dict):
        raise NodeError("peer", f"{url}: {peer}'s node did not answer an object")
    return answer


def peer_url(hub: Hub, peer: str) -> str:
    with hub.db.read() as session:
        identity(session)
        row = session.get(NodePeer, peer)
        if row is None:
            raise NodeError("peer", f"{peer} is not a peer of this node")
        if not row.url:
            raise NodeError("peer", f"{peer} has no address: exchange bundle files, or add "
                            "its address with `node peers add`")
        return row.url


def pull(hub: Hub, peer: str, *, timeout: float = 30.0) -> Imported:
    """Ask ``peer``'s node for its release to this node and take it (all or nothing)."""
    url = peer_url(hub, peer)
    answered = post(url, "/node/releases", signed_request(hub, peer), peer, timeout=timeout)
    bundle = answered.get("bundle")
    if not isinstance(bundle, str):
        raise Refused(f"{url}: refused: the answer is not a release")
    return receive(hub, bundle.encode("utf-8"), url, sync=True)


def peers_with_address(hub: Hub) -> list[str]:
    with hub.db.read() as session:
        return [p.partner for p in session.scalars(select(NodePeer).order_by(NodePeer.partner))
                if p.url]


def pull_due(hub: Hub, every: int, *, clock: float | None = None,
             timeout: float = 10.0) -> dict[str, Imported | NodeError]:
    """Pull each peer with an address whose turn has come: once per ``every`` seconds.

    The turn is a counter in the database (one per peer and window of ``every``
    seconds), so that several server processes pull each peer once, not once
    each. A refused or unreachable peer is one line in the log; nothing changes.
    """
    period = int((time.time() if clock is None else clock) // every)
    done: dict[str, Imported | NodeError] = {}
    for peer in peers_with_address(hub):
        if not first_in_period(hub.db, "node.pull", peer, period):
            continue  # another process has it this time
        try:
            done[peer] = result = pull(hub, peer, timeout=timeout)
            if not result.unchanged:
                log.info("node sync: %s", result.summary())
        except NodeError as exc:
            done[peer] = exc
            log.warning("node sync from %s: %s", peer, exc)
    return done


@dataclass
class SyncLoop:
    """A thread in each server process of a node that pulls its peers' releases
    every ``every`` seconds (`serve --sync-every`), the first one interval after start."""

    hub: Hub
    every: int

    def __post_init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        if self.every <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,),
                                        name="node-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            try:
                pull_due(self.hub, self.every)
            except Exception as exc:  # noqa: BLE001 - the loop outlives a database outage
                log.warning("node sync: %s: %s", type(exc).__name__, exc)
