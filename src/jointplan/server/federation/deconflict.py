"""Private deconfliction between two nodes: the asking side and the answering side.

Two messages each way, each a signed envelope (sync.py):

1. ``/node/psi``: the asker's blinded tokens -> the answerer's setup and response;
2. ``/node/psi/result``: the collisions the asker found -> those the answerer confirms.

``send(path, envelope) -> answer`` carries them: over HTTP between nodes
(``post``), or in-process in tests, which capture every message both sides
receive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...store.tables import PrivateRun
from ..hub import Hub
from .keys import NodeError, identity
from .psi import (
    Asker,
    Collision,
    answer_request,
    b64,
    check_rate,
    collisions,
    log_run,
    node_tokens,
    unb64,
)
from .sync import open_envelope, peer_url, post, signed_request

Send = Callable[[str, dict[str, Any]], dict[str, Any]]


def run(hub: Hub, peer: str, send: Send) -> list[Collision]:
    """Find the collisions between this node's offered, unreleased uses and ``peer``'s."""
    with hub.db.read() as session:
        identity(session)
        check_rate(session, peer)
        mine = node_tokens(hub, session, peer)
    items = sorted(mine)
    asker = Asker(items)
    first = send("/node/psi", signed_request(hub, peer, {"request": b64(asker.request())}))
    try:
        run_id = str(first["run"])
        setup, response = unb64(first["setup"], "setup"), unb64(first["response"], "response")
    except (KeyError, TypeError):
        raise NodeError("peer", f"{peer}'s node did not answer a private intersection") from None
    found = collisions([mine[t] for t in asker.intersection(setup, response)])
    second = send("/node/psi/result", signed_request(
        hub, peer, {"run": run_id, "collisions": [c.as_json() for c in found]}))
    confirmed = [Collision.of(c) for c in second.get("collisions", [])]
    found = [c for c in found if c in confirmed]
    with hub.db.write() as session:
        check_rate(session, peer)
        log_run(hub, session, peer, "asked", len(items), found)
    return found


def answer_psi(hub: Hub, envelope: dict[str, Any]) -> dict[str, Any]:
    """The answering side of message 1: logged as a run, limited in rate (a write)."""
    with hub.db.write() as session:
        asker = open_envelope(session, envelope)
        check_rate(session, asker)
        theirs = node_tokens(hub, session, asker)
        setup, response = answer_request(sorted(theirs),
                                         unb64(str(envelope.get("request", "")), "request"))
        logged = log_run(hub, session, asker, "answered", len(theirs), [])
        return {"run": logged.id, "setup": b64(setup), "response": b64(response)}


def answer_result(hub: Hub, envelope: dict[str, Any]) -> dict[str, Any]:
    """The answering side of message 2: keeps the claims that match its own tokens."""
    with hub.db.write() as session:
        asker = open_envelope(session, envelope)
        row = session.get(PrivateRun, str(envelope.get("run")))
        if row is None or row.peer != asker or row.role != "answered" or row.collisions:
            raise NodeError("run", "no such private deconfliction run awaits a result")
        try:
            claimed = [Collision.of(c) for c in envelope.get("collisions", [])]
        except (KeyError, TypeError, ValueError):
            raise NodeError("collisions", "`collisions` are not collisions") from None
        own = collisions(list(node_tokens(hub, session, asker).values()))
        places = {(c.kind, c.scenario, c.place, c.start, c.end) for c in own}
        confirmed = [c for c in claimed if (c.kind, c.scenario, c.place, c.start, c.end)
                     in places]
        session.delete(row)
        session.flush()
        log_run(hub, session, asker, "answered", row.tokens, confirmed)
        return {"collisions": [c.as_json() for c in confirmed]}


def over_http(hub: Hub, peer: str) -> Send:
    url = peer_url(hub, peer)
    return lambda path, envelope: post(url, path, envelope, peer)
