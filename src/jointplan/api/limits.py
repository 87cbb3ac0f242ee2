"""Refuse a request body larger than the server's limit, before any route reads it."""

from __future__ import annotations

import json
from typing import Any

from ..server.limits import Limits

Scope = dict[str, Any]


class TooLarge(Exception):
    pass


class RequestSizeLimit:
    """ASGI middleware: 413, naming the limit, for a body over ``limits.request_bytes``.

    A declared `Content-Length` is refused at once; a body sent without one is
    counted as it arrives.
    """

    def __init__(self, app: Any, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        most = self.limits.request_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > most:
            await self._refuse(send, int(declared))
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > most:
                    raise TooLarge
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:
                raise
            await self._refuse(send, None)

    async def _refuse(self, send: Any, size: int | None) -> None:
        body = json.dumps({"detail": self.limits.request_message(size)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
