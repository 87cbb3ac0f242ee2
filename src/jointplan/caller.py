"""Who is asking: a bearer token or a browser session (with CSRF on writes)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .server.hub import Hub
from .services.accounts import Actor, actor_for_session, actor_for_token

SESSION_COOKIE = "jointplan_session"
CSRF_HEADER = "x-csrf-token"
bearer = HTTPBearer(auto_error=False, description="An API token: `jointplan tokens create`")


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def current_actor(request: Request, hub: HubDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(bearer)]) -> Actor:
    """The signed-in actor, or 401. Cookie sessions must send the CSRF token on writes."""
    with hub.db.read() as session:
        if credentials is not None:
            actor = actor_for_token(session, credentials.credentials)
            if actor is not None:
                return actor
            raise HTTPException(401, "invalid or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        secret = request.cookies.get(SESSION_COOKIE)
        found = actor_for_session(session, secret) if secret else None
    if found is None:
        raise HTTPException(401, "sign in or send a bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    actor, csrf = found
    request.state.csrf = csrf  # the pages put it in their forms
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Starlette's State keeps attributes in its own dict, not in __dict__.
        sent = request.headers.get(CSRF_HEADER) or getattr(request.state, "csrf_form", "")
        if not hmac.compare_digest(str(sent), csrf):
            raise HTTPException(403, "missing or wrong CSRF token")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
