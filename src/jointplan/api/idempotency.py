"""`Idempotency-Key` on writes: a retried write is answered again, never done twice.

A client that sent a write and got no answer (a timeout, a dropped
connection, a server killed mid-request) cannot know whether it was stored.
It may send the same request again with the same `Idempotency-Key` header:
the answer to a write is stored under the key, for the user who sent it, in
the same transaction as the write itself — so either both are stored or
neither — and a retry gets that answer back (with `Idempotency-Replayed:
true`) instead of writing again. A refused write (4xx) stores nothing, and
its retry is simply tried again. Keys are kept for 24 hours.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from fastapi import Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from ..server.hub import Hub
from ..services.accounts import Actor
from ..store.tables import IdempotentResponse, now

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,128}")
_SENT: ContextVar[str | None] = ContextVar("jointplan_idempotency_key", default=None)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class KeyReader:
    """ASGI middleware: makes the request's Idempotency-Key known to the route it reaches."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = next((v.decode("latin-1") for k, v in scope["headers"]
                    if k == b"idempotency-key"), None)
        token = _SENT.set(key)
        try:
            await self.app(scope, receive, send)
        finally:
            _SENT.reset(token)


class IdempotentRoute(APIRoute):
    """A route whose writes honour Idempotency-Key (the API router's route class)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if WRITES & set(kwargs.get("methods") or ()):
            endpoint = _idempotent(endpoint, path, kwargs.get("status_code") or 200)
        super().__init__(path, endpoint, **kwargs)


def _idempotent(endpoint: Callable[..., Any], path: str, status: int) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(**kwargs: Any) -> Any:
        key = _SENT.get()
        if key is None:
            return endpoint(**kwargs)
        if not _KEY.fullmatch(key):
            raise RequestValidationError([{
                "loc": ("header", HEADER.lower()), "type": "value_error",
                "msg": f"{HEADER} must be 1 to 128 visible ASCII characters"}])
        hub = next(v for v in kwargs.values() if isinstance(v, Hub))
        actor = next(v for v in kwargs.values() if isinstance(v, Actor))
        fingerprint = _fingerprint(path, kwargs)
        # One write transaction around the use case (which joins it): the answer is
        # stored with the write, and two retries at once take turns.
        with hub.db.write() as session:
            stored = session.get(IdempotentResponse, (actor.user_id, key))
            if stored is not None and stored.created >= now() - KEEP:
                if stored.fingerprint != fingerprint:
                    raise RequestValidationError([{
                        "loc": ("header", HEADER.lower()), "type": "value_error",
                        "msg": f"this {HEADER} was used for a different request; "
                               "use a new key for a new write"}])
                return Response(stored.body, status_code=stored.status,
                                media_type=stored.media_type,
                                headers={"Idempotency-Replayed": "true"})
            result = endpoint(**kwargs)
            _keep(session, actor.user_id, key, fingerprint, status, result)
        return result

    return run


def _fingerprint(path: str, kwargs: dict[str, Any]) -> str:
    args = {name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            for name, value in sorted(kwargs.items())
            if not isinstance(value, Hub | Actor) and _plain(value)}
    text = json.dumps([path, args], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | BaseModel)


def _keep(session: Session, user_id: str, key: str, fingerprint: str, status: int,
          result: Any) -> None:
    session.execute(delete(IdempotentResponse).where(
        IdempotentResponse.created < now() - KEEP))
    if isinstance(result, Response):
        body = bytes(result.body).decode("utf-8")
        status, media = result.status_code, result.media_type or "application/octet-stream"
    else:
        body, media = json.dumps(jsonable_encoder(result)), "application/json"
    session.merge(IdempotentResponse(user_id=user_id, key=key, fingerprint=fingerprint,
                                     status=status, body=body, media_type=media, created=now()))
