"""`jointplan serve` as real processes on loopback, for the crash, process and fault tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from jointplan.server.hub import Hub
from jointplan.server.plans import import_folder
from jointplan.services.accounts import add_user, create_token
from tests.server.conftest import PASSWORD

PARTNERS = ("NOR", "SOU", "RRA")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(database_url: str, log: Path, *options: str
            ) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`jointplan serve` in its own process; stopped (if still alive) on the way out."""
    port = free_port()
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from jointplan.cli import main; main()", "serve",
             "--database-url", database_url, "--port", str(port), *options],
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


def prepare(database_url: str, folder: Path) -> dict[str, str]:
    """A workspace imported, one planner per partner; their API tokens."""
    hub = Hub(database_url)
    import_folder(hub, folder)
    tokens = {}
    with hub.db.write() as session:
        for code in PARTNERS:
            name = f"{code.lower()}-planner"
            add_user(session, username=name, partner=code, role="planner", password=PASSWORD,
                     partners=PARTNERS)
            tokens[code] = create_token(session, username=name, name="processes")[1]
    hub.db.engine.dispose()
    return tokens
