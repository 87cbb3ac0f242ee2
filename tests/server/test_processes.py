"""Many processes on one database: consistent answers, one shared limit, one migration.

Two `jointplan serve` processes (real uvicorn processes on loopback) share
one PostgreSQL database, as two machines behind one address would: a write
acknowledged by one is in the very next read from the other, and the
analysis limit is counted once across both. `serve --workers 2` starts two
processes behind one port. Four processes migrating a fresh database at once
apply each migration once (PostgreSQL advisory lock; SQLite write lock).
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from jointplan.server.ratelimits import WINDOW
from jointplan.store.db import database_url as full_url
from tests.conftest import EXAMPLES
from tests.server.conftest import fresh_database
from tests.server.serving import prepare, serving

EXAMPLE = EXAMPLES / "northern-strait"
PER_USER = 6


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})


def _sou_port(n: int) -> str:
    text = (EXAMPLE / "sou-port.yaml").read_text()
    return "\n".join(f"title: Port Aster, revision {n}" if line.startswith("title:") else line
                     for line in text.splitlines()) + "\n"


@pytest.fixture
def postgres(tmp_path) -> str:
    return fresh_database("postgresql", tmp_path)


def test_two_processes_on_one_database_answer_consistently_and_share_one_limit(
        postgres, tmp_path):
    tokens = prepare(postgres, EXAMPLE)
    log = tmp_path / "server.log"
    limit = ("--analyses-per-user", str(PER_USER))
    with ExitStack() as stack:
        a = stack.enter_context(serving(postgres, log, *limit))[1]
        b = stack.enter_context(serving(postgres, log, *limit))[1]
        nor_a, nor_b = (stack.enter_context(_client(x, tokens["NOR"])) for x in (a, b))
        sou_a, sou_b = (stack.enter_context(_client(x, tokens["SOU"])) for x in (a, b))
        # A write acknowledged by one process is in the next read from the other.
        for n in range(1, 6):
            at = f"2026-04-0{n}T10:00:00Z"
            posted = nor_a.post("/api/observations", json={
                "indicator": "registration-surge", "seen": n % 2 == 0, "at": at})
            assert posted.status_code == 201, posted.text
            seen = nor_b.get("/api/workspace").json()["observations"]
            assert any(o["at"] == at for o in seen), f"observation {n} not seen by B"
            imported = (sou_b if n % 2 else sou_a).post("/api/import", json={
                "files": {"sou-port.yaml": _sou_port(n)}, "reason": f"revision {n}"})
            assert imported.status_code == 201, imported.text
            for reader in (sou_a, sou_b):
                plan = reader.get("/api/plans/sou-port").json()
                assert plan["title"] == f"Port Aster, revision {n}"

        # One limit across both processes, counted in the database.
        if time.time() % WINDOW > WINDOW - 15:  # not astride a window's turn
            time.sleep(WINDOW - time.time() % WINDOW + 0.5)
        answers = [(nor_a if i % 2 else nor_b).get("/api/check").status_code
                   for i in range(PER_USER)]
        assert answers == [200] * PER_USER
        for reader in (nor_a, nor_b):
            refused = reader.get("/api/check")
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
        assert sou_b.get("/api/check").status_code == 200  # another user is not refused


def test_serve_with_two_workers_starts_two_processes_behind_one_port(postgres, tmp_path):
    tokens = prepare(postgres, EXAMPLE)
    with serving(postgres, tmp_path / "server.log", "--workers", "2") as (proc, base):
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, children
        with _client(base, tokens["RRA"]) as rra:
            for _ in range(10):
                assert rra.get("/api/plans").status_code == 200
            assert rra.get("/api/check").status_code == 200


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from jointplan.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(cfg).get_current_head())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_processes_starting_together_migrate_once(kind, tmp_path):
    url = fresh_database(kind, tmp_path)
    go = tmp_path / "go"
    # Each process loads everything first and waits for one signal, so that they
    # really do migrate at the same moment.
    start = ("import sys, time, pathlib\n"
             "from jointplan.cli import main\n"
             "import jointplan.server.hub, jointplan.cli.server, alembic.command\n"
             f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.01)\n"
             "sys.argv = ['jointplan', 'db', 'upgrade', '--database-url', sys.argv[1]]\n"
             "main()\n")
    procs = [subprocess.Popen([sys.executable, "-c", start, url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(4)]
    time.sleep(3)
    go.touch()
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
        assert b"database is up to date" in out
    engine = create_engine(full_url(url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (_head(),)]
    finally:
        engine.dispose()
