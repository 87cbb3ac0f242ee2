"""Load shedding: a bounded number of requests in flight per process, a short wait, then 503.

Without a bound, requests queue without end under overload and every one of
them is late; with it, the server keeps answering those it admits on time and
tells the rest to come back (`503` with `Retry-After`), and it recovers by
itself as soon as the load falls. Static files are never shed.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_AFTER = 2
"""Seconds a shed client is asked to wait."""
BUSY = json.dumps({"detail": "the server is busy; try again shortly"}).encode()


@dataclass(frozen=True)
class Shedding:
    """How much one process takes on ($JOINTPLAN_MAX_IN_FLIGHT, $JOINTPLAN_QUEUE_WAIT)."""

    max_in_flight: int = 12
    """Requests one process works on at once; the rest wait."""
    queue_wait: float = 0.25
    """Seconds a request may wait for its turn before it is shed."""
    max_waiting: int = 48
    """Requests that may wait at once; beyond that, new ones are shed at once."""

    @classmethod
    def from_env(cls) -> Shedding:
        base = cls()
        try:
            return cls(int(os.environ.get("JOINTPLAN_MAX_IN_FLIGHT") or base.max_in_flight),
                       float(os.environ.get("JOINTPLAN_QUEUE_WAIT") or base.queue_wait),
                       int(os.environ.get("JOINTPLAN_MAX_WAITING") or base.max_waiting))
        except ValueError as exc:
            raise SystemExit(f"JOINTPLAN_MAX_IN_FLIGHT, JOINTPLAN_QUEUE_WAIT, "
                             f"JOINTPLAN_MAX_WAITING: {exc}") from None


class LoadShedder:
    """ASGI middleware admitting at most ``max_in_flight`` requests at once."""

    def __init__(self, app: ASGIApp, shedding: Shedding | None = None) -> None:
        self.app = app
        self.shedding = shedding or Shedding.from_env()
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made in the server's event loop
            self._slots = asyncio.Semaphore(self.shedding.max_in_flight)
        slots = self._slots
        if not await self._admit(slots):
            self.shed += 1
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _admit(self, slots: asyncio.Semaphore) -> bool:
        if not slots.locked():
            await slots.acquire()
            return True
        if self.waiting >= self.shedding.max_waiting:
            return False
        self.waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), self.shedding.queue_wait)
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1


async def _busy(send: Send) -> None:
    headers: list[Any] = [(b"content-type", b"application/json"),
                          (b"content-length", str(len(BUSY)).encode()),
                          (b"retry-after", str(RETRY_AFTER).encode())]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": BUSY})
