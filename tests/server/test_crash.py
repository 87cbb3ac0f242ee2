"""Crash safety, on SQLite and PostgreSQL: SIGKILL in the middle of concurrent writes.

`jointplan serve` runs as a real process. Four writers post observations,
import changed plans and open threads at the same time, each write with an
Idempotency-Key, and every third write sent twice (a client's retry); every
write the server acknowledged (2xx) is recorded with its id. The server is
killed with SIGKILL mid-stream and started again: every acknowledged write
must be there, every stored change must be whole (its rows and its audit
entry, or neither), every stored plan version must load, the audit chain
must verify, and the server must serve again. Each writer then retries the
write the kill left unanswered, with its key: afterwards every write sent
is stored exactly once — nothing lost, nothing doubled.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.server.assemble import read_sources, stored_sources, without_dangling
from jointplan.server.hub import Hub
from jointplan.store.tables import AuditEntry, ObservationRow, PlanVersion, Thread
from tests.conftest import EXAMPLES
from tests.server.serving import prepare, serving

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EXAMPLE = EXAMPLES / "northern-strait"
ACKNOWLEDGED_BEFORE_KILL = 4  # acknowledged writes of each kind before the kill
WRITE_SECONDS = 6.0  # at most; the kill comes as soon as every kind has enough


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

    def add(self, kind: str, value: Any) -> None:
        with self.lock:
            self.ids[kind] += value if isinstance(value, list) else [value]


Write = Callable[[int], tuple[str, str, dict[str, Any]]]


def _at(n: int) -> str:
    """A time that marks the n-th observation, so that a doubled one would show."""
    return f"2026-03-{1 + n // 86400:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"


def _writers() -> list[tuple[str, str, Write]]:
    """(partner, kind, n -> (path, id key, body)) for each of the four writer threads."""
    return [
        ("NOR", "observation", lambda n: ("/api/observations", "id", {
            "indicator": "registration-surge", "seen": n % 2 == 0, "at": _at(n)})),
        ("SOU", "observation", lambda n: ("/api/observations", "id", {
            "indicator": "war-risk-premium", "seen": n % 3 == 0, "at": _at(n)})),
        ("SOU", "version", lambda n: ("/api/import", "versions", {
            "files": {"sou-port.yaml": _sou_port(n)}, "reason": f"revision {n}"})),
        ("RRA", "thread", lambda n: ("/api/threads", "id", {
            "subject": {"kind": "scenario", "ref": "baseline"}, "title": f"Shelter {n}",
            "text": "Where do the buses stop?", "share": ["SOU"]})),
    ]


@dataclass
class Writer:
    """One writer thread: every write carries an Idempotency-Key; every third is sent twice."""

    base: str
    token: str
    name: str
    kind: str
    write: Write
    sent: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of every write sent (answered or not)."""
    unanswered: tuple[str, str, str, dict[str, Any]] | None = None
    """(key, path, id key, body) of the write the kill left without an answer."""

    def client(self, base: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=base or self.base, timeout=30,
                            headers={"Authorization": f"Bearer {self.token}"})

    def run(self, done: Acknowledged, stop: threading.Event) -> None:
        with self.client() as client:
            n = 0
            while not stop.is_set():
                n += 1
                path, id_key, body = self.write(n)
                key = f"{self.name}-{n}"
                self.sent.append(body)
                for attempt in range(2 if n % 3 == 0 else 1):
                    try:
                        response = client.post(path, json=body,
                                               headers={"Idempotency-Key": key})
                    except httpx.TransportError:
                        # The server is gone: this write was not acknowledged.
                        self.unanswered = (key, path, id_key, body)
                        return
                    if not response.is_success:
                        with done.lock:
                            done.unexpected.append(f"{path}: {response.status_code} "
                                                   f"{response.text}")
                        break
                    if attempt == 1 and response.headers.get("idempotency-replayed") != "true":
                        with done.lock:
                            done.unexpected.append(f"{path}: a retry was not replayed")
                    done.add(self.kind, response.json()[id_key])

    def retry(self, base: str, done: Acknowledged) -> None:
        """After the restart, send the unanswered write again with its key."""
        if self.unanswered is None:
            return
        key, path, id_key, body = self.unanswered
        with self.client(base) as client:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
        assert response.is_success, response.text
        done.add(self.kind, response.json()[id_key])


def test_sigkill_during_concurrent_writes_loses_no_acknowledged_write_and_doubles_none(
        database_url, tmp_path):
    tokens = prepare(database_url, EXAMPLE)
    log = tmp_path / "server.log"
    done, stop = Acknowledged(), threading.Event()

    with serving(database_url, log) as (proc, base):
        writers = [Writer(base, tokens[partner], f"{partner}-{kind}", kind, write)
                   for partner, kind, write in _writers()]
        threads = [threading.Thread(target=w.run, daemon=True, args=(done, stop))
                   for w in writers]
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
        for w in writers:  # a client retries what was left unanswered, with the same key
            w.retry(base, done)
        _assert_served_again(base, tokens, done)
    _assert_every_change_is_whole(database_url, done)
    _assert_nothing_doubled(database_url, writers)


def _assert_nothing_doubled(database_url: str, writers: list[Writer]) -> None:
    """Each write sent, however often, is stored at most once; retried ones exactly once."""
    hub = Hub(database_url, migrate=False)
    try:
        with hub.db.read() as session:
            stored = {
                "observation": Counter((o.doc["indicator"], o.doc["at"]) for o in
                                       session.scalars(select(ObservationRow))
                                       if o.author != "operator"),
                "version": Counter(v.reason for v in session.scalars(
                    select(PlanVersion).where(PlanVersion.author != "operator"))),
                "thread": Counter(t.title for t in session.scalars(select(Thread))),
            }
    finally:
        hub.db.engine.dispose()

    def mark(kind: str, body: dict[str, Any]) -> Any:
        return {"observation": lambda: (body.get("indicator"), body.get("at")),
                "version": lambda: body.get("reason"), "thread": lambda: body.get("title")}[kind]()

    for w in writers:
        counts = stored[w.kind]
        for body in w.sent:
            assert counts[mark(w.kind, body)] <= 1, f"{w.name}: {mark(w.kind, body)} doubled"
        # Every write but the one cut short was answered; the retried one is now stored too.
        for body in w.sent:
            assert counts[mark(w.kind, body)] == 1, f"{w.name}: {mark(w.kind, body)} missing"


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
