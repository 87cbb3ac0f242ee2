"""The app one server process serves, configured by the environment (`serve --workers N`).

`jointplan serve --workers N` migrates once, then starts N uvicorn processes
that each call :func:`app`. The same factory runs under any ASGI process
manager, e.g. `uvicorn --factory jointplan.api.worker:app --workers 4`.
Everything that spans requests (sessions, rate counts, which model is
current) is in the database, so the processes need share nothing else.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from ..server.collector import tune_for_serving
from ..server.hub import Hub
from ..server.ratelimits import PARTNER_FACTOR, PER_USER
from .app import create_app


def _number(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name}={value!r}: give a whole number") from None


def app() -> FastAPI:
    """A hub on $JOINTPLAN_DATABASE_URL with the limits of $JOINTPLAN_ANALYSES_PER_USER/_PARTNER
    (and, on a node, pulls every $JOINTPLAN_SYNC_EVERY seconds)."""
    tune_for_serving()  # a long-running process (see server/collector.py)
    per_user = _number("JOINTPLAN_ANALYSES_PER_USER", PER_USER)
    per_partner = _number("JOINTPLAN_ANALYSES_PER_PARTNER", per_user * PARTNER_FACTOR)
    # Migrating takes a lock, so processes starting together apply each migration once.
    hub = Hub(os.environ.get("JOINTPLAN_DATABASE_URL"), analyses_per_minute=per_user,
              analyses_per_partner_minute=per_partner)
    return create_app(hub, sync_every=_number("JOINTPLAN_SYNC_EVERY", 0))
