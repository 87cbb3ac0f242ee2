"""Analyses per user and per partner, counted in the database so every process shares them.

Deconfliction can be probed (book a resource over the whole horizon to map
hidden use), so a user, and a partner as a whole, may run only so many
analyses and simulations a minute. The counts live in the database, one row
per (who, minute), so that N processes allow the limit once, not N times,
and a restart resets nothing. A refused request is not counted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..store.db import Database

WINDOW = 60
"""Seconds in one counting window."""
PER_USER = 60
"""Analyses and simulations one user may run a window (the default)."""
PARTNER_FACTOR = 10
"""A partner as a whole may run this many users' worth (the default)."""


class RateLimited(Exception):
    """Too many requests; ``retry_after`` is the whole seconds until the window turns."""

    def __init__(self, message: str, retry_after: int = WINDOW) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimits:
    per_user: int = PER_USER
    per_partner: int = PER_USER * PARTNER_FACTOR

    @classmethod
    def of(cls, per_user: int, per_partner: int | None = None) -> RateLimits:
        return cls(per_user, per_partner if per_partner is not None
                   else per_user * PARTNER_FACTOR)


def take_slot(db: Database, limits: RateLimits, *, user_id: str, partner: str,
              clock: float | None = None) -> None:
    """Count one analysis for the user and its partner, or raise RateLimited (counting none)."""
    now = time.time() if clock is None else clock
    period = int(now // WINDOW)
    retry_after = max(1, math.ceil((period + 1) * WINDOW - now))
    with db.tally() as session:
        for scope, key, limit, whom in (
                ("user", user_id, limits.per_user, "user"),
                ("partner", partner, limits.per_partner, f"partner ({partner})")):
            if _bump(session, scope, key, period) > limit:
                # Raising rolls the whole count back: a refused request is not counted.
                raise RateLimited(f"at most {limit} analyses a minute per {whom}; try again "
                                  f"in {retry_after} s", retry_after)


_BUMP = text(
    "INSERT INTO rate_counters (scope, key, period, count) VALUES (:scope, :key, :period, 1) "
    "ON CONFLICT (scope, key, period) DO UPDATE SET count = rate_counters.count + 1 "
    "RETURNING count")
"""One upsert, the same on SQLite (3.35 and later) and PostgreSQL, written once: it runs
for every analysis, and building it with the ORM cost more than running it."""
_DROP_OLDER = text("DELETE FROM rate_counters WHERE scope = :scope AND key = :key "
                   "AND period < :period")


def _bump(session: Session, scope: str, key: str, period: int) -> int:
    """Add one to a counter and return it; the first count of a window drops older ones."""
    where = {"scope": scope, "key": key, "period": period}
    count = int(session.execute(_BUMP, where).scalar_one())
    if count == 1:
        session.execute(_DROP_OLDER, where)
    return count


def first_in_period(db: Database, scope: str, key: str, period: int) -> bool:
    """Count one event for (scope, key) in ``period``: True for the first of every process."""
    with db.tally() as session:
        return _bump(session, scope, key, period) == 1
