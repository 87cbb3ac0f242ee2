"""People: users of a partner with a role, API tokens and browser sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import audit
from ..store.tables import BrowserSession, Token, User, now

ROLES = ("viewer", "planner", "admin")
SESSION_HOURS = 12
_hasher = PasswordHasher()
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")
# Verifying against a fixed hash when the user does not exist keeps sign-in
# time the same whether or not a name is known.
_DUMMY = _hasher.hash("not a password")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured, with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user of a partner, with a role."""

    user_id: str
    username: str
    partner: str
    role: str

    @property
    def can_plan(self) -> bool:
        return self.role in ("planner", "admin")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.partner, user.role)


def add_user(session: Session, *, username: str, partner: str, role: str, password: str,
             partners: tuple[str, ...]) -> Actor:
    if not _USERNAME.fullmatch(username):
        raise AccountError("username", "a username is 2-63 lowercase letters, digits, . _ -")
    if partner not in partners:
        raise AccountError("partner", f"{partner} is not a partner of the workspace")
    if role not in ROLES:
        raise AccountError("role", "role must be viewer, planner or admin")
    if len(password) < 8:
        raise AccountError("password", "a password has at least 8 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError("username", f"the user {username} exists already")
    user = User(username=username, partner=partner, role=role,
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.append(session, action="user.add", subject=f"user:{user.id}", user_id=None,
                 partner=partner, owners=[partner], detail={"username": username, "role": role})
    return _actor(user)


def create_token(session: Session, *, username: str, name: str) -> tuple[str, str]:
    """A new API token for a user: (token id, the secret, shown once)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError("username", f"no user {username}")
    secret = "jp_" + secrets.token_urlsafe(32)
    token = Token(user_id=user.id, name=name, digest=digest(secret))
    session.add(token)
    session.flush()
    audit.append(session, action="token.create", subject=f"token:{token.id}", user_id=user.id,
                 partner=user.partner, owners=[user.partner], detail={"name": name})
    return token.id, secret


def revoke_token(session: Session, *, token_id: str) -> None:
    token = session.get(Token, token_id)
    if token is None or token.revoked is not None:
        raise AccountError("token", f"no active token {token_id}")
    token.revoked = now()
    user = session.get(User, token.user_id)
    partner = user.partner if user else None
    audit.append(session, action="token.revoke", subject=f"token:{token.id}",
                 user_id=token.user_id, partner=partner, owners=[partner] if partner else [])


def actor_for_token(session: Session, secret: str) -> Actor | None:
    token = session.scalar(select(Token).where(Token.digest == digest(secret)))
    if token is None or token.revoked is not None:
        return None
    user = session.get(User, token.user_id)
    return _actor(user) if user else None


def verify_password(session: Session, *, username: str, password: str) -> str | None:
    """The user's id when the password is right, else None; only reads.

    Verifying costs tens of milliseconds on purpose: callers do it in a read,
    outside any write transaction, so a sign-in never holds up others' writes.
    """
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user.id if user is not None else None


def start_session(session: Session, *, user_id: str) -> tuple[Actor, str, str] | None:
    """A new browser session for a verified user: (actor, secret, csrf token); audited."""
    user = session.get(User, user_id)
    if user is None:
        return None
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(BrowserSession(user_id=user.id, digest=digest(secret), csrf=csrf,
                               expires=now() + timedelta(hours=SESSION_HOURS)))
    audit.append(session, action="login", subject=f"user:{user.id}", user_id=user.id,
                 partner=user.partner, owners=[user.partner])
    return _actor(user), secret, csrf


def sign_in(session: Session, *, username: str, password: str) -> tuple[Actor, str, str] | None:
    """Check a password; on success a new browser session: (actor, secret, csrf token)."""
    user_id = verify_password(session, username=username, password=password)
    return start_session(session, user_id=user_id) if user_id is not None else None


def actor_for_session(session: Session, secret: str) -> tuple[Actor, str] | None:
    """The actor and CSRF token of a live browser session."""
    row = session.scalar(select(BrowserSession).where(BrowserSession.digest == digest(secret)))
    if row is None or row.expires < now():
        return None
    user = session.get(User, row.user_id)
    return (_actor(user), row.csrf) if user else None


def sign_out(session: Session, secret: str) -> None:
    row = session.scalar(select(BrowserSession).where(BrowserSession.digest == digest(secret)))
    if row is not None:
        session.delete(row)
