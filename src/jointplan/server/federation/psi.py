"""Private deconfliction: a private set intersection of two nodes' unreleased uses.

The node that asks (the PSI client) sends its tokens blinded with its secret
key; the node that answers (the PSI server) returns them blinded again with
its own key, together with its own tokens blinded once (openmined-psi's
ECDH protocol), with fresh keys for every intersection: a token, though made
of names a peer could guess, never crosses in a form it can check a guess
against without the other node taking part. Only the asking node learns which
of its tokens are in both sets — nothing about the answering node's other
tokens but their number. A run is a coarse pass and a fine one
(deconflict.py); the asker then tells the answering node the collisions it
found, at bucket resolution ("collision with NOR on berth-aster around
T+1d–T+1d6h"); the answering node keeps only the claims that match tokens it
holds itself. Each run is logged on both nodes, told to both owners, and
limited in rate, because a node that offers made-up uses can probe.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import private_set_intersection.python as psi
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...model import Plan, Task, Workspace, format_time
from ...store import audit
from ...store.tables import Notification, PrivateOffer, PrivateRun, now
from ..hub import Hub
from .keys import NodeError, identity
from .tokens import (
    BUCKET,
    COARSE,
    Token,
    Where,
    coarse_tokens,
    hidden_tasks,
    places,
    tokens,
)

FPR = 1e-9
RUNS_PER_HOUR = 6
"""Private deconfliction runs per peer and hour, counting those either node started."""


@dataclass(frozen=True)
class Collision:
    kind: str
    scenario: str
    place: str
    start: int
    end: int
    overflow: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "scenario": self.scenario, "place": self.place,
                "start": self.start, "end": self.end, "overflow": self.overflow}

    @classmethod
    def of(cls, d: dict[str, Any]) -> Collision:
        return cls(str(d["kind"]), str(d["scenario"]), str(d["place"]), int(d["start"]),
                   int(d["end"]), int(d["overflow"]))

    def text(self, peer: str, area_names: Callable[[str], list[str]]) -> str:
        where = self.place if self.kind == "capacity" else (
            f"{', '.join(area_names(self.place)) or 'an area'} (cell {self.place})")
        extra = f", {self.overflow} over capacity" if self.kind == "capacity" else ""
        return (f"a collision with {peer} on {where} around {format_time(self.start)}–"
                f"{format_time(self.end)} in {self.scenario}{extra}")


def collisions(matched: Sequence[Token]) -> list[Collision]:
    """Matched tokens, summed per place and bucket (a capacity overflow is their count)."""
    counts: dict[tuple[str, str, str, int, int], int] = defaultdict(int)
    for t in matched:
        counts[(t.kind, t.scenario, t.place, t.bucket, t.size)] += 1
    return [Collision(kind, scenario, place, b, b + size, n if kind == "capacity" else 0)
            for (kind, scenario, place, b, size), n in sorted(counts.items())]


# -- the two sides of one intersection ------------------------------------------------


class Asker:
    """The PSI client: holds its secret key and token order between the two messages."""

    def __init__(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self._client = psi.client.CreateWithNewKey(True)

    def request(self) -> bytes:
        return bytes(self._client.CreateRequest(self.items).SerializeToString())

    def intersection(self, setup: bytes, response: bytes) -> list[str]:
        s, r = psi.ServerSetup(), psi.Response()
        s.ParseFromString(setup)
        r.ParseFromString(response)
        return [self.items[i] for i in sorted(self._client.GetIntersection(s, r))]


def answer_request(items: Sequence[str], request: bytes) -> tuple[bytes, bytes]:
    """The PSI server's two messages for a client's request: its setup and the response."""
    server = psi.server.CreateWithNewKey(True)
    req = psi.Request()
    try:
        req.ParseFromString(request)
    except Exception:  # noqa: BLE001 - any parse failure is a bad request
        raise NodeError("request", "not a private set intersection request") from None
    setup = server.CreateSetupMessage(FPR, len(req.encrypted_elements), list(items),
                                      psi.DataStructure.RAW)
    return (bytes(setup.SerializeToString()),
            bytes(server.ProcessRequest(req).SerializeToString()))


def intersect_plain(mine: Sequence[str], theirs: Sequence[str]) -> list[str]:
    """One intersection in one process (both roles): for the benchmark and tests."""
    asker = Asker(mine)
    setup, response = answer_request(theirs, asker.request())
    return asker.intersection(setup, response)


# -- what a node offers --------------------------------------------------------------


def set_offer(session: Session, plan_id: str, task: str, offer: bool) -> None:
    me = identity(session).partner
    row = session.get(PrivateOffer, (plan_id, task))
    if row is None:
        session.add(PrivateOffer(plan_id=plan_id, task=task, offer=offer))
    else:
        row.offer = offer
    audit.append(session, action="node.psi.offer", subject=f"plan:{plan_id}", user_id=None,
                 partner=None, owners=[me], detail={"task": task, "offer": offer})


def offers(session: Session) -> Callable[[str, str], bool]:
    """Offered unless said otherwise for the task, else for its plan; default: not offered."""
    rows = {(r.plan_id, r.task): r.offer for r in session.scalars(select(PrivateOffer))}

    def offered(plan_id: str, task_id: str) -> bool:
        if (plan_id, task_id) in rows:
            return rows[(plan_id, task_id)]
        return rows.get((plan_id, ""), False)
    return offered


@dataclass(frozen=True)
class Hidden:
    """This node's offered, unreleased tasks as ``peer`` would meet them."""

    workspace: Workspace
    tasks: list[tuple[Plan, Task]]
    me: str
    peer: str

    def coarse(self, *, asking: bool) -> dict[str, Token]:
        return coarse_tokens(self.workspace, self.tasks, asking=asking)

    def fine(self, only: set[Where] | None = None) -> dict[str, Token]:
        return tokens(self.workspace, self.tasks, self.me, self.peer, size=BUCKET, only=only)


def hidden(hub: Hub, session: Session, peer: str) -> Hidden:
    me = identity(session).partner
    current = hub.current(session)
    if peer not in current.workspace.partner_codes:
        raise NodeError("peer", f"{peer} is not a partner of the workspace")
    tasks = hidden_tasks(current.workspace, current.rules, me, peer, offers(session))
    return Hidden(current.workspace, tasks, me, peer)


def node_tokens(hub: Hub, session: Session, peer: str, *, size: int = BUCKET,
                only: set[Where] | None = None) -> dict[str, Token]:
    h = hidden(hub, session, peer)
    return tokens(h.workspace, h.tasks, h.me, peer, size=size, only=only)


def check_rate(session: Session, peer: str) -> None:
    since = now() - timedelta(hours=1)
    count = session.scalar(select(func.count()).select_from(PrivateRun).where(
        PrivateRun.peer == peer, PrivateRun.at >= since)) or 0
    if count >= RUNS_PER_HOUR:
        raise NodeError("rate", f"{count} private deconfliction runs with {peer} in the last "
                        f"hour; at most {RUNS_PER_HOUR} (it can be probed)")


def log_run(hub: Hub, session: Session, peer: str, role: str, count: int,
            found: list[Collision], *, run: PrivateRun | None = None,
            asker_tokens: int | None = None) -> PrivateRun:
    """Log a run (or, given ``run``, its end): a row, an audit entry, a notification to
    this node's partner for each collision (``asker_tokens``: how many the asking node
    sent in the coarse pass, so that a probing run shows). ``role``: ``asked``,
    ``answered``, or while an answered run awaits the asker's refine request and result,
    ``coarse``/``refined``."""
    me = identity(session).partner
    ws = hub.current(session).workspace
    if run is None:
        run = PrivateRun(peer=peer, role=role, tokens=count,
                         collisions=[c.as_json() for c in found])
        session.add(run)
    else:
        run.role, run.tokens, run.collisions = role, count, [c.as_json() for c in found]
    session.flush()
    for c in found:
        session.add(Notification(partner=me, text=c.text(peer, lambda cell: places(ws, cell))))
    audit.append(session, action="node.psi.run", subject=f"peer:{peer}", user_id=None,
                 partner=None, owners=[me],
                 detail={"run": run.id, "role": role, "tokens": count,
                         "collisions": [c.as_json() for c in found],
                         **({} if asker_tokens is None else {"asker_tokens": asker_tokens})})
    return run


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise NodeError(field, f"`{field}` is not base64") from None


__all__ = ["BUCKET", "COARSE", "Asker", "Collision", "answer_request", "collisions"]
