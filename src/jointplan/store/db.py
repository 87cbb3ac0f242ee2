"""Engines and transactions for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from ..defaults import DEFAULT_DATABASE_URL as DEFAULT_URL

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "jointplan_read_only"
WRITE_TURN = 7242
"""The PostgreSQL advisory lock writes take turns on (they append to one audit chain)."""
MIGRATION_TURN = 7243
"""The PostgreSQL advisory lock under which one process at a time migrates."""


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise SystemExit(f"{name}={value!r}: give a number of seconds, e.g. {default:g}") from None


def connect_timeout() -> float:
    """Seconds to wait for a PostgreSQL connection ($JOINTPLAN_DB_CONNECT_TIMEOUT, default 3)."""
    return _seconds("JOINTPLAN_DB_CONNECT_TIMEOUT", 3)


def statement_timeout() -> float:
    """Seconds one statement, or a wait for a lock, may take ($JOINTPLAN_DB_STATEMENT_TIMEOUT).

    PostgreSQL's `statement_timeout` and SQLite's busy timeout; default 10.
    """
    return _seconds("JOINTPLAN_DB_STATEMENT_TIMEOUT", 10)


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else $JOINTPLAN_DATABASE_URL, else a SQLite file."""
    url = url or os.environ.get("JOINTPLAN_DATABASE_URL") or DEFAULT_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


COUNTERS_SUFFIX = "-counters"
"""On SQLite, the counters' own database file is the main file's name with this added."""


def counters_url(url: str) -> str | None:
    """The SQLite file the counters (rate limits, turns) live in, beside the main file.

    ``None`` where they live in the main database: PostgreSQL (whose counting
    transactions take no turn, see `Database.tally`) and an in-memory SQLite
    database (one process only).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    path = parsed.database or ""
    if path in ("", ":memory:") or path.startswith("file:") or parsed.query.get("mode"):
        return None
    return parsed.set(database=path + COUNTERS_SUFFIX).render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, durable: bool = True) -> Engine:
    """An engine; on SQLite, ``durable=False`` commits without waiting for the disk
    (what a power cut may lose is the last commits, never the file's consistency)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": statement_timeout(),
                                                  "check_same_thread": False})
        synchronous = "FULL" if durable else "NORMAL"

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            # Durable commits (an acknowledged write survives a kill) and real
            # foreign keys; WAL lets readers work while one writer commits.
            dbapi.isolation_level = None
            cur = dbapi.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
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
    # A database that is down or hung answers within bounded time: the connection
    # attempt, each statement (and the wait for the write turn) and the wait for a
    # pooled connection all time out, and the server answers 503 (see api/faults.py).
    timeout_ms = int(statement_timeout() * 1000)
    return create_engine(url, pool_pre_ping=True, pool_timeout=statement_timeout(),
                         connect_args={"connect_timeout": max(1, round(connect_timeout())),
                                       "options": f"-c statement_timeout={timeout_ms}",
                                       "keepalives": 1, "keepalives_idle": 5,
                                       "keepalives_interval": 2, "keepalives_count": 3,
                                       "tcp_user_timeout": timeout_ms})


def is_outage(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable, hung or too busy (not a bug)."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def describe_fault(exc: BaseException) -> str:
    """One line naming a database failure, never a traceback."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first}"[:300]


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration (`jointplan db upgrade`; also run on start).

    However many processes start together, one migrates and the others wait,
    then find nothing left to do: on PostgreSQL under an advisory lock held by
    the migrating transaction, on SQLite under the write lock (`BEGIN IMMEDIATE`).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        sqlite = conn.connection.dbapi_connection if engine.dialect.name == "sqlite" else None
        if sqlite is not None:
            sqlite.execute("PRAGMA busy_timeout = 120000")  # another process may be migrating
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL statement_timeout = '120s'"))
                    conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_TURN})"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite is not None:
                sqlite.execute(f"PRAGMA busy_timeout = {int(statement_timeout() * 1000)}")


_WRITING: ContextVar[tuple[Database, Session] | None] = ContextVar("jointplan_writing",
                                                                   default=None)
"""The write transaction open on this thread of control, and its database."""


class Database:
    """A database and the transactions the services run in."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                    expire_on_commit=False)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        own = counters_url(self.url)
        self.counters_url = own
        """Where `tally` counts: a SQLite file of its own beside the main one, or None
        (the main database)."""
        self._counters: Engine | None = None
        self._counters_ready = False
        self._counters_lock = threading.Lock()

    def counters_engine(self) -> Engine:
        """The engine `tally` writes with (made, and its table created, on first use)."""
        if self.counters_url is None:
            return self.engine
        if not self._counters_ready:
            with self._counters_lock:
                if self._counters is None:
                    self._counters = make_engine(self.counters_url, durable=False)
                if not self._counters_ready:
                    from .tables import RateCounter

                    with self._counters.begin() as conn:  # BEGIN IMMEDIATE: one creates it
                        RateCounter.metadata.create_all(
                            conn, tables=[RateCounter.metadata.tables["rate_counters"]])
                    self._counters_ready = True
        assert self._counters is not None
        return self._counters

    def dispose(self) -> None:
        """Close every pooled connection (the main database's and the counters')."""
        self.engine.dispose()
        if self._counters is not None:
            self._counters.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One serialised write transaction: all of it commits, or none of it.

        A write opened inside another (on the same thread of control) joins it,
        so that what wraps a use case — e.g. keeping the answer under an
        Idempotency-Key — commits with it, or not at all.
        """
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        with self.sessions.begin() as session:
            if self.is_postgres:
                # Writes append to one audit chain; take turns so links never fork.
                session.execute(text(f"SELECT pg_advisory_xact_lock({WRITE_TURN})"))
            token = _WRITING.set((self, session))
            try:
                yield session
            finally:
                _WRITING.reset(token)

    @contextmanager
    def tally(self) -> Iterator[Session]:
        """A short write of counters (`rate_counters`) outside the audit chain.

        It never waits for the plan writes: on PostgreSQL it takes no turn (and
        its commit does not wait for the disk: `synchronous_commit = off`, so a
        crash may forget the last counts, never corrupt them); on a SQLite file
        the counters live in a database file of their own beside the main one
        (`counters_url`), with its own writer, so a count waits at most for
        another count, not for a plan write holding the main file's writer.
        Every process opening the same main file counts in the same counters
        file, so limits stay shared. Where the counters share the main database
        (PostgreSQL, in-memory SQLite), a tally inside a write joins that write.
        """
        if self.counters_url is not None:
            with Session(self.counters_engine(), expire_on_commit=False) as session, \
                    session.begin():
                yield session
            return
        joined = self._joined()
        if joined is not None:
            yield joined
            return
        with self.sessions.begin() as session:
            if self.is_postgres:
                session.execute(text("SET LOCAL synchronous_commit = off"))
            yield session

    @contextmanager
    def counts(self) -> Iterator[Session]:
        """A read of the counters `tally` writes."""
        if self.counters_url is None:
            with self.read() as session:
                yield session
            return
        with Session(self.counters_engine().execution_options(**{READ_ONLY: True}),
                     expire_on_commit=False) as session:
            yield session

    def _joined(self) -> Session | None:
        open_write = _WRITING.get()
        return open_write[1] if open_write is not None and open_write[0] is self else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it never takes the write lock)."""
        with self.readers() as session:
            yield session
