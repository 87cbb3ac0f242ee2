"""Private deconfliction between two nodes: the asking side and the answering side.

One run is three messages, each a signed envelope (sync.py), and counts once
against the rate limit (at the first):

1. ``/node/psi``: the coarse pass (1-day buckets). The asker's blinded tokens,
   one per bucket -> the answerer's setup and response; the asker learns which
   of its coarse buckets meet, and nothing more (one token each: met or not).
2. ``/node/psi/refine``: the fine pass (6-hour buckets) of the same run, only
   where coarse buckets met. The asker names those buckets and sends its fine
   tokens there, padded to ``budget`` -> the answerer's, padded the same; the
   asker learns the fine intersection: the collisions, with capacity overflows.
   Left out when no coarse bucket met.
3. ``/node/psi/result``: the collisions the asker found. The answerer keeps
   those at places and buckets where it has fine tokens itself, logs the run
   and tells its partner; it answers only that the run is logged, so a claim
   cannot be used to ask where it has hidden uses.

``send(path, envelope) -> answer`` carries them: over HTTP between nodes
(``post``), or in-process in tests, which capture every message both sides
receive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import private_set_intersection.python as psi
from sqlalchemy.orm import Session

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
    hidden,
    log_run,
    unb64,
)
from .sync import open_envelope, peer_url, post, signed_request
from .tokens import COARSE, Where, budget, padded, where

Send = Callable[[str, dict[str, Any]], dict[str, Any]]


def _answer(message: dict[str, Any], peer: str) -> tuple[bytes, bytes]:
    try:
        return unb64(message["setup"], "setup"), unb64(message["response"], "response")
    except (KeyError, TypeError):
        raise NodeError("peer", f"{peer}'s node did not answer a private intersection") from None


def run(hub: Hub, peer: str, send: Send) -> list[Collision]:
    """Find the collisions between this node's offered, unreleased uses and ``peer``'s."""
    with hub.db.read() as session:
        identity(session)
        check_rate(session, peer)
        mine = hidden(hub, session, peer)
    coarse = mine.coarse(asking=True)
    asker = Asker(padded(coarse, len(coarse)))  # the same tokens, in random order
    first = send("/node/psi", signed_request(hub, peer, {"request": b64(asker.request())}))
    try:
        run_id = str(first["run"])
    except (KeyError, TypeError):
        raise NodeError("peer", f"{peer}'s node did not answer a private intersection") from None
    met = {where(coarse[t]) for t in asker.intersection(*_answer(first, peer))}
    sent, found = len(coarse), []
    if met:
        fine = mine.fine(only=met)
        refiner = Asker(padded(fine, budget(mine.workspace, met)))
        second = send("/node/psi/refine", signed_request(hub, peer, {
            "run": run_id, "met": [list(m) for m in sorted(met)],
            "request": b64(refiner.request())}))
        matched = refiner.intersection(*_answer(second, peer))
        found = collisions([fine[t] for t in matched if t in fine])
        sent += len(refiner.items)
    send("/node/psi/result", signed_request(
        hub, peer, {"run": run_id, "collisions": [c.as_json() for c in found]}))
    with hub.db.write() as session:
        check_rate(session, peer)
        log_run(hub, session, peer, "asked", sent, found)
    return found


def answer_psi(hub: Hub, envelope: dict[str, Any]) -> dict[str, Any]:
    """The answering side of message 1, the coarse pass: a new run, logged and limited in
    rate (a write)."""
    with hub.db.write() as session:
        asker = open_envelope(session, envelope)
        check_rate(session, asker)
        theirs = hidden(hub, session, asker).coarse(asking=False)
        request = unb64(str(envelope.get("request", "")), "request")
        setup, response = answer_request(padded(theirs, len(theirs)), request)
        logged = log_run(hub, session, asker, "coarse", len(theirs), [],
                         asker_tokens=len(_parsed(request).encrypted_elements))
        return {"run": logged.id, "setup": b64(setup), "response": b64(response)}


def _parsed(request: bytes) -> Any:
    parsed = psi.Request()
    try:
        parsed.ParseFromString(request)
    except Exception:  # noqa: BLE001 - any parse failure is a bad request
        raise NodeError("request", "not a private set intersection request") from None
    return parsed


def _pending(session: Session, envelope: dict[str, Any], asker: str, roles: tuple[str, ...]
             ) -> PrivateRun:
    row = session.get(PrivateRun, str(envelope.get("run")))
    if row is None or row.peer != asker or row.role not in roles:
        raise NodeError("run", "no such private deconfliction run awaits this message")
    return row


def _met(envelope: dict[str, Any]) -> set[Where]:
    try:
        met = {(str(kind), str(scenario), str(place), int(day))
               for kind, scenario, place, day in envelope.get("met", [])}
    except (TypeError, ValueError):
        raise NodeError("met", "`met` is not a list of [kind, scenario, place, day]") from None
    if any(kind not in ("capacity", "area") or day % COARSE for kind, _, _, day in met):
        raise NodeError("met", "`met` names a bucket that is not a coarse one")
    return met


def answer_refine(hub: Hub, envelope: dict[str, Any]) -> dict[str, Any]:
    """The answering side of message 2: the fine pass of a run, where coarse buckets met.

    Part of the run message 1 started (not counted again), once per run. Both sides
    pad to the same ``budget``: an asker that names more buckets sends as many tokens."""
    with hub.db.write() as session:
        asker = open_envelope(session, envelope)
        row = _pending(session, envelope, asker, ("coarse",))
        met = _met(envelope)
        mine = hidden(hub, session, asker)
        size = budget(mine.workspace, met)
        request = unb64(str(envelope.get("request", "")), "request")
        parsed = _parsed(request)
        if len(parsed.encrypted_elements) != size:
            raise NodeError("request", f"the refine request holds "
                            f"{len(parsed.encrypted_elements)} tokens; the buckets that met "
                            f"take {size}")
        setup, response = answer_request(padded(mine.fine(only=met), size), request)
        row.role, row.tokens = "refined", row.tokens + size
        return {"run": row.id, "setup": b64(setup), "response": b64(response)}


def answer_result(hub: Hub, envelope: dict[str, Any]) -> dict[str, Any]:
    """The answering side of message 3: keeps the claims that match its own fine tokens,
    and says only that the run is logged."""
    with hub.db.write() as session:
        asker = open_envelope(session, envelope)
        row = _pending(session, envelope, asker, ("coarse", "refined"))
        try:
            claimed = [Collision.of(c) for c in envelope.get("collisions", [])]
        except (KeyError, TypeError, ValueError):
            raise NodeError("collisions", "`collisions` are not collisions") from None
        own = collisions(list(hidden(hub, session, asker).fine().values()))
        places = {(c.kind, c.scenario, c.place, c.start, c.end) for c in own}
        confirmed = [c for c in claimed if (c.kind, c.scenario, c.place, c.start, c.end)
                     in places]
        log_run(hub, session, asker, "answered", row.tokens, confirmed, run=row)
        return {"run": row.id}


def over_http(hub: Hub, peer: str) -> Send:
    url = peer_url(hub, peer)
    return lambda path, envelope: post(url, path, envelope, peer)
