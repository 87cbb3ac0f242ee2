"""Crash safety, on SQLite and PostgreSQL: SIGKILL in the middle of concurrent writes.

`jointplan serve` runs as a real process. Writers post observations, import
changed plans and open threads at the same time; every write the server
acknowledged (2xx) is recorded with its id. The server is killed with
SIGKILL mid-stream and started again: every acknowledged write must be
there, every stored change must be whole (its rows and its audit entry, or
neither), every stored plan version must load, the audit chain must verify,
and the server must serve again.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.server.assemble import read_sources, stored_sources, without_dangling
from jointplan.server.hub import Hub
from jointplan.server.plans import import_folder
from jointplan.services.accounts import add_user, create_token
from jointplan.store.tables import AuditEntry, ObservationRow, PlanVersion, Thread
from tests.conftest import EXAMPLES
from tests.server.conftest import PASSWORD

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EXAMPLE = EXAMPLES / "northern-strait"
ACKNOWLEDGED_BEFORE_KILL = 4  # acknowledged writes of each kind before the kill
WRITE_SECONDS = 6.0  # at most; the kill comes as soon as every kind has enough


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(database_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`jointplan serve` in its own process; stopped (if still alive) on the way out."""
    port = _free_port()
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from jointplan.cli import main; main()", "serve",
             "--database-url", database_url, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the server exited: {log.read_text()}"
            try:
                if httpx.get(f"{base}/api/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the server did not start: {log.read_text()}"
            time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait(timeout=30)


def _prepare(database_url: str) -> dict[str, str]:
    """The example imported, one planner per partner; their API tokens."""
    hub = Hub(database_url)
    import_folder(hub, EXAMPLE)
    tokens = {}
    with hub.db.write() as session:
        for code in ("NOR", "SOU", "RRA"):
            name = f"{code.lower()}-planner"
            add_user(session, username=name, partner=code, role="planner", password=PASSWORD,
                     partners=("NOR", "SOU", "RRA"))
            tokens[code] = create_token(session, username=name, name="crash")[1]
    hub.db.engine.dispose()
    return tokens


def _sou_port(n: int) -> str:
    text = (EXAMPLE / "sou-port.yaml").read_text()
    return "\n".join(f"title: Port Aster, revision {n}" if line.startswith("title:") else line
                     for line in text.splitlines()) + "\n"


@dataclass
class Acknowledged:
    """Every write the server answered 2xx, by kind, and anything else it answered."""

    ids: dict[str, list[str]] = field(default_factory=lambda: {
        "observation": [], "version": [], "thread": []})
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enough(self) -> bool:
        with self.lock:
            return all(len(v) >= ACKNOWLEDGED_BEFORE_KILL for v in self.ids.values())


Write = Callable[[int], tuple[str, str, dict[str, Any]]]


def _writers() -> list[tuple[str, str, Write]]:
    """(partner, kind, n -> (path, id key, body)) for each writer thread."""
    return [
        ("NOR", "observation", lambda n: ("/api/observations", "id", {
            "indicator": "registration-surge", "seen": n % 2 == 0})),
        ("SOU", "observation", lambda n: ("/api/observations", "id", {
            "indicator": "war-risk-premium", "seen": n % 3 == 0})),
        ("SOU", "version", lambda n: ("/api/import", "versions", {
            "files": {"sou-port.yaml": _sou_port(n)}, "reason": f"revision {n}"})),
        ("RRA", "thread", lambda n: ("/api/threads", "id", {
            "subject": {"kind": "scenario", "ref": "baseline"}, "title": f"Shelter {n}",
            "text": "Where do the buses stop?", "share": ["SOU"]})),
    ]


def _write_until_refused(base: str, token: str, kind: str, write: Write, done: Acknowledged,
                         stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        n = 0
        while not stop.is_set():
            n += 1
            path, key, body = write(n)
            try:
                response = client.post(path, json=body)
            except httpx.TransportError:
                return  # the server is gone: this write was not acknowledged
            if response.is_success:
                value = response.json()[key]
                with done.lock:
                    done.ids[kind] += value if isinstance(value, list) else [value]
            else:
                with done.lock:
                    done.unexpected.append(f"{path}: {response.status_code} {response.text}")


def test_sigkill_during_concurrent_writes_loses_no_acknowledged_write(database_url, tmp_path):
    tokens = _prepare(database_url)
    log = tmp_path / "server.log"
    done, stop = Acknowledged(), threading.Event()

    with serving(database_url, log) as (proc, base):
        threads = [threading.Thread(target=_write_until_refused, daemon=True,
                                    args=(base, tokens[partner], kind, write, done, stop))
                   for partner, kind, write in _writers()]
        for t in threads:
            t.start()
        deadline = time.monotonic() + WRITE_SECONDS
        while not done.enough() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # in the middle of the writes
        proc.wait(timeout=30)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert done.unexpected == [], "a write was refused while the server was up"
    assert done.enough(), f"too few writes before the kill: {done.ids}"

    _assert_every_change_is_whole(database_url, done)
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", database_url])
    assert result.exit_code == 0, result.output

    with serving(database_url, log) as (_, base):
        _assert_served_again(base, tokens, done)


def _assert_every_change_is_whole(database_url: str, done: Acknowledged) -> None:
    hub = Hub(database_url, migrate=False)
    try:
        with hub.db.read() as session:
            entries = list(session.scalars(select(AuditEntry)))
            versions = list(session.scalars(select(PlanVersion)))
            observations = list(session.scalars(select(ObservationRow)))
            thread_ids = set(session.scalars(select(Thread.id)))
            joint = hub.joint(session)
            assert joint is not None

            # Every acknowledged write is there.
            assert set(done.ids["version"]) <= {v.id for v in versions}
            assert set(done.ids["observation"]) <= {o.id for o in observations}
            assert set(done.ids["thread"]) <= thread_ids

            # Every stored change is whole: its rows and its audit entry, or neither.
            def subjects(action: str, prefix: str) -> set[str]:
                return {e.subject.removeprefix(prefix) for e in entries if e.action == action}

            assert {str(e.detail["version"]) for e in entries if e.action == "plan.version"} \
                == {v.id for v in versions}
            assert subjects("observation.post", "observation:") \
                == {o.id for o in observations if o.author != "operator"}
            assert subjects("thread.create", "thread:") == thread_ids

            # Every stored plan version is whole: numbered without gaps, and it loads.
            by_plan: dict[str, list[PlanVersion]] = {}
            for v in versions:
                by_plan.setdefault(v.plan_id, []).append(v)
            latest = hub.latest_versions(session)
            for plan_id, rows in by_plan.items():
                assert sorted(v.number for v in rows) == list(range(1, len(rows) + 1))
                others = [latest[k].doc for k in sorted(latest) if k != plan_id]
                for v in rows:
                    assert v.doc is not None and v.doc["id"] == plan_id
                    read_sources(stored_sources(joint, without_dangling([*others, v.doc]), []))
            hub.current(session)  # and the whole stored workspace loads
    finally:
        hub.db.engine.dispose()


def _assert_served_again(base: str, tokens: dict[str, str], done: Acknowledged) -> None:
    def client(partner: str) -> httpx.Client:
        return httpx.Client(base_url=base, timeout=30,
                            headers={"Authorization": f"Bearer {tokens[partner]}"})

    with client("NOR") as nor, client("SOU") as sou, client("RRA") as rra:
        assert nor.get("/api/me").json()["partner"] == "NOR"
        history = {v["version"] for v in sou.get("/api/plans/sou-port/versions").json()}
        assert set(done.ids["version"]) <= history
        for thread_id in done.ids["thread"]:
            assert rra.get(f"/api/threads/{thread_id}").status_code == 200
        audited = {e["subject"] for e in nor.get("/api/audit").json()}
        audited |= {e["subject"] for e in sou.get("/api/audit").json()}
        assert {f"observation:{i}" for i in done.ids["observation"]} <= audited
        new = nor.post("/api/observations", json={"indicator": "registration-surge",
                                                  "seen": True})
        assert new.status_code == 201, new.text
        assert f"observation:{new.json()['id']}" in {
            e["subject"] for e in nor.get("/api/audit").json()}
