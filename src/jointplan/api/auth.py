"""Signing in and out with a browser session (a secure cookie and a CSRF token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from ..server.hub import Hub
from ..services import accounts
from ..services.accounts import Actor
from ..store import audit
from .deps import SESSION_COOKIE, HubDep
from .schemas import LoginIn

router = APIRouter(prefix="/auth", tags=["people"])


@router.post("/login")
def login(body: LoginIn, request: Request, response: Response, hub: HubDep) -> dict[str, Any]:
    """Start a browser session; the answer carries the CSRF token to send on writes."""
    found = sign_in(hub, body.username, body.password)
    if found is None:
        raise HTTPException(401, "wrong username or password")
    actor, secret, csrf = found
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=accounts.SESSION_HOURS * 3600)
    return {"username": actor.username, "partner": actor.partner, "csrf": csrf}


def sign_in(hub: Hub, username: str, password: str) -> tuple[Actor, str, str] | None:
    """Verify in a read (argon2 is slow on purpose), then start the session in a short write."""
    with hub.db.read() as session:
        user_id = accounts.verify_password(session, username=username, password=password)
    if user_id is None:
        return None
    with hub.db.write() as session:
        return accounts.start_session(session, user_id=user_id)


@router.post("/logout", status_code=204)
def logout(request: Request, hub: HubDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with hub.db.write() as session:
            found = accounts.actor_for_session(session, secret)
            accounts.sign_out(session, secret)
            if found is not None:  # ending a session is a write: it is audited like login
                actor = found[0]
                audit.append(session, action="logout", subject=f"user:{actor.user_id}",
                             user_id=actor.user_id, partner=actor.partner,
                             owners=[actor.partner])
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response
