"""Engines and transactions for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from ..defaults import DEFAULT_DATABASE_URL as DEFAULT_URL

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "jointplan_read_only"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else $JOINTPLAN_DATABASE_URL, else a SQLite file."""
    url = url or os.environ.get("JOINTPLAN_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            # Durable commits (an acknowledged write survives a kill) and real
            # foreign keys; WAL lets readers work while one writer commits.
            dbapi.isolation_level = None
            cur = dbapi.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A write takes the lock up front (no deadlock upgrading a read lock);
            # a read only pins a snapshot, so it never waits for, or blocks, a
            # write — not even one the same request makes while reading.
            read = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration (`jointplan db upgrade`; also run on start)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """A database and the transactions the services run in."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                    expire_on_commit=False)
        self.is_postgres = self.engine.dialect.name == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One serialised write transaction: all of it commits, or none of it."""
        with self.sessions.begin() as session:
            if self.is_postgres:
                # Writes append to one audit chain; take turns so links never fork.
                session.execute(text("SELECT pg_advisory_xact_lock(7242)"))
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it never takes the write lock)."""
        with self.readers() as session:
            yield session
