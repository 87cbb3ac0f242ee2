"""A server killed with SIGKILL mid-exercise loses and doubles no delivery.

`jointplan serve` runs as a real process; a controller starts a dense exercise
at x300 (five exercise minutes a second). The server is killed once some
injects are delivered and restarted (with two worker processes, each running
the delivery loop) a little later: every inject reaches each of its players
exactly once, with one audit entry each; those that fell due while no server
ran are delivered on restart, late; the audit chain verifies.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from jointplan.server.hub import Hub
from jointplan.store.audit import verify
from jointplan.store.tables import AuditEntry, DrillDelivery
from tests.conftest import EXAMPLES
from tests.server.conftest import database_url  # noqa: F401 - a fixture
from tests.server.serving import prepare, serving

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

INJECTS = 20
EVERY = 2  # exercise minutes between injects
SPEED = 300


def exercise() -> str:
    lines = ["jointplan: 1", "kind: exercise", "id: crash-drill", "title: Crash drill",
             "scenario: unrest-aster", "start: 2026-12-03T08:00Z", "participants:",
             "  - {partner: NOR, role: player}", "  - {partner: RRA, role: player}",
             "  - {partner: SOU, role: controller}", "injects:"]
    for n in range(INJECTS):
        to = ["NOR", "RRA"] if n % 3 == 0 else [["NOR"], ["RRA"]][n % 2]
        lines += [f"  - id: inj-{n:02d}", f"    at: T+{n * EVERY}m",
                  f"    to: [{', '.join(to)}]", "    from: Control", "    channel: message",
                  f"    text: Inject {n}."]
    return "\n".join(lines) + "\n"


def expected() -> set[tuple[str, str]]:
    out = set()
    for n in range(INJECTS):
        to = ["NOR", "RRA"] if n % 3 == 0 else [["NOR"], ["RRA"]][n % 2]
        out |= {(f"inj-{n:02d}", p) for p in to}
    return out


def _deliveries(base: str, token: str, exercise_id: str) -> int:
    r = httpx.get(f"{base}/api/exercises/{exercise_id}",
                  headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200, r.text
    return len(r.json()["deliveries"])


def test_a_kill_mid_exercise_loses_and_doubles_no_delivery(database_url, tmp_path):  # noqa: F811
    tokens = prepare(database_url, EXAMPLES / "northern-strait")
    sou = {"Authorization": f"Bearer {tokens['SOU']}"}
    log = tmp_path / "server.log"
    with serving(database_url, log) as (proc, base):
        made = httpx.post(f"{base}/api/exercises", json={"text": exercise()}, headers=sou)
        assert made.status_code == 201, made.text
        eid = made.json()["id"]
        for body in ({"action": "start"}, {"action": "speed", "speed": SPEED}):
            r = httpx.post(f"{base}/api/exercises/{eid}/control", json=body, headers=sou)
            assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while _deliveries(base, tokens["SOU"], eid) < 6:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    before = len(expected())
    time.sleep(2.5)  # ~12 exercise minutes fall due while no server runs
    with serving(database_url, log, "--workers", "2") as (_, base):
        deadline = time.monotonic() + 60
        while _deliveries(base, tokens["SOU"], eid) < before:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(1.5)  # both processes' loops run again: nothing more may appear
    hub = Hub(database_url, migrate=False)
    try:
        with hub.db.read() as session:
            rows = session.scalars(select(DrillDelivery).where(
                DrillDelivery.exercise_id == eid)).all()
            audited = [e.detail for e in session.scalars(select(AuditEntry).where(
                AuditEntry.action == "drill.deliver"))]
            assert not verify(session)
    finally:
        hub.db.engine.dispose()
    pairs = Counter((r.inject, r.partner) for r in rows)
    assert set(pairs) == expected() and set(pairs.values()) == {1}
    assert Counter((a["inject"], a["partner"]) for a in audited) == pairs
    late = [r for r in rows if r.sent - r.due >= EVERY]
    assert late, "nothing fell due while the server was down"
