"""Signing in and out with a browser session (a secure cookie and a CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from ..services import accounts
from .deps import SESSION_COOKIE, HubDep
from .responses import SignedIn
from .schemas import LoginIn

router = APIRouter(prefix="/auth", tags=["people"])


@router.post("/login", response_model=SignedIn)
def login(body: LoginIn, request: Request, response: Response, hub: HubDep) -> SignedIn:
    """Start a browser session; the answer carries the CSRF token to send on writes."""
    try:
        found = accounts.sign_in_with(hub.db, username=body.username, password=body.password)
    except accounts.Throttled as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) \
            from None
    if found is None:
        raise HTTPException(401, "wrong username or password")
    actor, secret, csrf = found
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=accounts.SESSION_HOURS * 3600)
    return SignedIn(username=actor.username, partner=actor.partner, csrf=csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, hub: HubDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with hub.db.write() as session:
            accounts.sign_out(session, secret)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response
