"""People: users of a partner with a role, API tokens and browser sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..sharing import actions
from ..store import audit
from ..store.tables import BrowserSession, SignInFailure, Token, User, now

ROLES = actions.ROLES
SESSION_HOURS = 12
FAILURES_BEFORE_LOCK = 5
"""Failed sign-ins for one username within FAILURE_WINDOW before it is locked for LOCK."""
FAILURE_WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
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


class Throttled(Exception):
    """Too many failed sign-ins for a username: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins for this username; try again in "
                         f"{retry_after} seconds")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user of a partner, with a role."""

    user_id: str
    username: str
    partner: str
    role: str

    @property
    def can_plan(self) -> bool:
        """May write for its partner (the gate's answer for its role)."""
        return actions.may_write(self.role).allowed


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


_TOKEN_USER = (select(User).join(Token, Token.user_id == User.id)
               .where(Token.digest == bindparam("digest"), Token.revoked.is_(None),
                      User.disabled.is_(None)))
"""The active user of an unrevoked token: one statement, built once (asked per request)."""


def actor_for_token(session: Session, secret: str) -> Actor | None:
    user = session.scalar(_TOKEN_USER, {"digest": digest(secret)})
    return _actor(user) if user is not None else None


def sign_in(session: Session, *, username: str, password: str) -> tuple[Actor, str, str] | None:
    """Check a password; on success a new browser session: (actor, secret, csrf token).

    In one transaction: for callers that hold one already (the CLI, tests).
    The server uses ``sign_in_with``, which verifies outside any write.
    """
    check_not_locked(session, username)
    user_id, why = verify_password(session, username=username, password=password)
    return finish_sign_in(session, username=username, user_id=user_id, why=why)


def sign_in_with(db: Any, *, username: str, password: str) -> tuple[Actor, str, str] | None:
    """Sign in against a ``store.db.Database``: verify in a read (argon2 is slow on
    purpose), then record the outcome in a short write, so a sign-in never holds up
    others' writes.

    A failure is audited and counted per username in the database (known
    names and unknown alike); after FAILURES_BEFORE_LOCK within FAILURE_WINDOW
    the name is locked for LOCK and ``Throttled`` is raised, even for the
    right password. A disabled user cannot sign in. Expired sessions are
    purged on the way.
    """
    with db.read() as session:
        check_not_locked(session, username)
        user_id, why = verify_password(session, username=username, password=password)
    with db.write() as session:
        return finish_sign_in(session, username=username, user_id=user_id, why=why)


def check_not_locked(session: Session, username: str) -> None:
    """Raise ``Throttled`` while too many failed sign-ins lock the name."""
    failures = session.get(SignInFailure, _failure_key(username))
    moment = now()
    if failures is not None and failures.locked_until is not None \
            and failures.locked_until > moment:
        raise Throttled(max(1, int((failures.locked_until - moment).total_seconds()) + 1))


def verify_password(session: Session, *, username: str, password: str
                    ) -> tuple[str | None, str]:
    """(the user's id, "") when the password is right and the user enabled, else
    (the user's id or None, why); only reads."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
        right = user is not None
    except (VerificationError, InvalidHashError):
        right = False
    if user is None or not right:
        return (user.id if user is not None else None), "wrong password"
    if user.disabled is not None:
        return user.id, "disabled"
    return user.id, ""


def finish_sign_in(session: Session, *, username: str, user_id: str | None,
                   why: str) -> tuple[Actor, str, str] | None:
    """Record a verified sign-in (a new session) or a failed one (counted, audited)."""
    purge_expired_sessions(session)
    key = _failure_key(username)
    failures = session.get(SignInFailure, key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or why:
        _failed(session, key, failures, user, why or "wrong password")
        return None
    check_not_locked(session, username)  # a lock taken meanwhile still holds
    if failures is not None:
        session.delete(failures)
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(BrowserSession(user_id=user.id, digest=digest(secret), csrf=csrf,
                               expires=now() + timedelta(hours=SESSION_HOURS)))
    audit.append(session, action="login", subject=f"user:{user.id}", user_id=user.id,
                 partner=user.partner, owners=[user.partner])
    return _actor(user), secret, csrf


def _failure_key(username: str) -> str:
    return username.strip().lower()[:64]


def _failed(session: Session, key: str, row: SignInFailure | None, user: User | None,
            why: str) -> None:
    """Count a failed sign-in, lock the name when there were too many, and audit it."""
    moment = now()
    if row is None:
        row = SignInFailure(username=key, failures=0, first=moment)
        session.add(row)
    elif moment - row.first > FAILURE_WINDOW:
        row.failures, row.first, row.locked_until = 0, moment, None
    row.failures += 1
    if row.failures >= FAILURES_BEFORE_LOCK:
        row.locked_until = moment + LOCK
    session.flush()
    # The user's own partner reads that someone tried its account; an unknown name
    # is recorded for the operator alone (it may be a password typed in the wrong box).
    audit.append(session, action="login.failed",
                 subject=f"user:{user.id}" if user is not None else "login",
                 user_id=user.id if user is not None else None,
                 partner=user.partner if user is not None else None,
                 owners=[user.partner] if user is not None else [],
                 detail={"why": why if user is not None else "unknown username",
                         "failures": row.failures,
                         "locked": row.locked_until is not None})


def purge_expired_sessions(session: Session) -> int:
    """Delete browser sessions past their expiry; how many there were."""
    rows = list(session.scalars(select(BrowserSession).where(BrowserSession.expires < now())))
    for row in rows:
        session.delete(row)
    return len(rows)


def actor_for_session(session: Session, secret: str) -> tuple[Actor, str] | None:
    """The actor and CSRF token of a live browser session."""
    row = session.scalar(select(BrowserSession).where(BrowserSession.digest == digest(secret)))
    if row is None or row.expires < now():
        return None
    user = session.get(User, row.user_id)
    return (_actor(user), row.csrf) if user is not None and user.disabled is None else None


def sign_out(session: Session, secret: str) -> None:
    """End a browser session; ending a live one is a write, audited like signing in."""
    row = session.scalar(select(BrowserSession).where(BrowserSession.digest == digest(secret)))
    if row is None:
        return
    user = session.get(User, row.user_id)
    live = row.expires >= now()
    session.delete(row)
    if user is not None and live:
        audit.append(session, action="logout", subject=f"user:{user.id}", user_id=user.id,
                     partner=user.partner, owners=[user.partner])


# -- the operator's and admins' view of people -------------------------------------


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError("username", f"no user {username}")
    return user


def _end_sessions(session: Session, user: User) -> int:
    rows = list(session.scalars(select(BrowserSession).where(
        BrowserSession.user_id == user.id)))
    for row in rows:
        session.delete(row)
    return len(rows)


def set_disabled(session: Session, *, username: str, disabled: bool) -> None:
    """Disable a user (no sign-in, no token, its sessions end) or enable it again."""
    user = _user(session, username)
    if disabled == (user.disabled is not None):
        raise AccountError("username", f"{username} is {'disabled' if disabled else 'enabled'}"
                           " already")
    user.disabled = now() if disabled else None
    if disabled:
        _end_sessions(session, user)
    audit.append(session, action="user.disable" if disabled else "user.enable",
                 subject=f"user:{user.id}", user_id=None, partner=user.partner,
                 owners=[user.partner], detail={"username": username})


def set_password(session: Session, *, username: str, password: str) -> None:
    """Change a user's password; its browser sessions end (tokens stay)."""
    user = _user(session, username)
    if len(password) < 8:
        raise AccountError("password", "a password has at least 8 characters")
    user.password_hash = _hasher.hash(password)
    _end_sessions(session, user)
    failures = session.get(SignInFailure, username.lower())
    if failures is not None:
        session.delete(failures)
    audit.append(session, action="user.password", subject=f"user:{user.id}", user_id=None,
                 partner=user.partner, owners=[user.partner], detail={"username": username})


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def list_users(session: Session, *, partner: str | None = None) -> list[dict[str, Any]]:
    """Users (of one partner, or all), with their role, state and live token count."""
    query = select(User).order_by(User.partner, User.username)
    if partner is not None:
        query = query.where(User.partner == partner)
    users = list(session.scalars(query))
    live: dict[str, int] = {}
    for token in session.scalars(select(Token).where(Token.revoked.is_(None))):
        live[token.user_id] = live.get(token.user_id, 0) + 1
    return [{"username": u.username, "partner": u.partner, "role": u.role,
             "disabled": _when(u.disabled), "created": _when(u.created),
             "tokens": live.get(u.id, 0)} for u in users]


def list_tokens(session: Session, *, username: str | None = None,
                partner: str | None = None) -> list[dict[str, Any]]:
    """API tokens (never their secrets), of one user, one partner or all."""
    users = {u.id: u for u in session.scalars(select(User))}
    if username is not None:
        wanted = {_user(session, username).id}
    else:
        wanted = {i for i, u in users.items() if partner is None or u.partner == partner}
    rows = session.scalars(select(Token).where(Token.user_id.in_(wanted))
                           .order_by(Token.created, Token.id))
    return [{"id": t.id, "username": users[t.user_id].username, "name": t.name,
             "created": _when(t.created), "revoked": _when(t.revoked)} for t in rows]
