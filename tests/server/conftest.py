"""Server fixtures: every server test runs on SQLite and on PostgreSQL.

PostgreSQL is this machine's (``JOINTPLAN_TEST_POSTGRES``, default
postgresql://postgres@127.0.0.1:5432/test). Where ``CI=true`` a missing
PostgreSQL fails the run; elsewhere those tests skip, saying what to start.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRES = os.environ.get("JOINTPLAN_TEST_POSTGRES",
                          "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"


def _postgres_ready() -> str | None:
    try:
        engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


def reset_postgres() -> None:
    engine = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_database(kind: str, folder: Path) -> str:
    """The URL of a fresh, empty database of ``kind`` (SQLite in ``folder``).

    PostgreSQL missing fails the run where ``CI=true``, and skips elsewhere.
    """
    if kind == "sqlite":
        return f"sqlite:///{folder / 'jointplan.db'}"
    problem = _postgres_ready()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES} ({problem}); start it with "
                    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
    reset_postgres()
    return POSTGRES


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind."""
    return fresh_database(request.param, tmp_path)


@dataclass
class Server:
    """A hub with a workspace imported, one planner per partner, and a client."""

    hub: object
    client: object
    tokens: dict[str, str]
    usernames: dict[str, str]

    def as_(self, partner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[partner]}"}


def start_server(database_url: str, folder: Path, *, roles: dict[str, str] | None = None,
                 analyses_per_minute: int = 10_000) -> Server:
    from fastapi.testclient import TestClient

    from jointplan.api import create_app
    from jointplan.server.hub import Hub
    from jointplan.server.plans import import_folder
    from jointplan.services.accounts import add_user, create_token

    hub = Hub(database_url, analyses_per_minute=analyses_per_minute)
    import_folder(hub, folder)
    tokens, usernames = {}, {}
    with hub.db.write() as session:
        joint = hub.joint(session)
        partners = tuple(p["code"] for p in joint["partners"])
        for code in partners:
            name = f"{code.lower()}-planner"
            add_user(session, username=name, partner=code,
                     role=(roles or {}).get(code, "planner"), password=PASSWORD,
                     partners=partners)
            tokens[code] = create_token(session, username=name, name="tests")[1]
            usernames[code] = name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = TestClient(create_app(hub))
    return Server(hub, client, tokens, usernames)
