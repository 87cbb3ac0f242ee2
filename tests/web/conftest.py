"""Web page fixtures: a prepared SQLite database, a live server, Chromium via Playwright.

The browser is Debian's Chromium (`/usr/bin/chromium`); `playwright install`
cannot work here. Where ``CI=true`` a missing Chromium fails the run;
elsewhere the browser tests skip, saying what to install.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jointplan.api.deps import SESSION_COOKIE
from tests.conftest import EXAMPLES, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
PARTNERS = ("NOR", "SOU", "RRA")
ARTIFACTS = ROOT / "test-artifacts" / "web"


def username(partner: str) -> str:
    return f"{partner.lower()}-planner"


def prepare_database(path: Path) -> dict[str, str]:
    """A SQLite file with the northern-strait example and one planner per partner.

    Returns a browser-session secret per partner, signed in already, so that
    tests need not pay for hashing a password each time they sign in.
    """
    from jointplan.server.hub import Hub
    from jointplan.server.plans import import_folder
    from jointplan.services.accounts import add_user, sign_in

    hub = Hub(f"sqlite:///{path}")
    import_folder(hub, EXAMPLES / "northern-strait")
    secrets = {}
    with hub.db.write() as session:
        for code in PARTNERS:
            add_user(session, username=username(code), partner=code, role="planner",
                     password=PASSWORD, partners=PARTNERS)
            found = sign_in(session, username=username(code), password=PASSWORD)
            assert found is not None
            secrets[code] = found[1]
    hub.db.engine.dispose()
    return secrets


# -- plain HTTP (TestClient) ------------------------------------------------------


@dataclass
class Pages:
    """An app on a prepared database, and clients signed in as a partner."""

    hub: object
    app: object
    sessions: dict[str, str]

    def client(self, partner: str | None = None):  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        client = TestClient(self.app, follow_redirects=False)
        if partner is not None:
            client.cookies.set(SESSION_COOKIE, self.sessions[partner])
        return client


def sign_in(client, partner: str) -> str:  # type: ignore[no-untyped-def]
    """Sign a TestClient in through the form; returns the session's CSRF token."""
    form = client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    answer = client.post("/signin", data={"username": username(partner), "password": PASSWORD,
                                          "token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/plans").text)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="session")
def prepared(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One prepared database file, copied for each test (hashing passwords is slow)."""
    path = tmp_path_factory.mktemp("prepared") / "prepared.db"
    return path, prepare_database(path)


@pytest.fixture
def pages(prepared, tmp_path) -> Iterator[Pages]:
    from jointplan.api import create_app
    from jointplan.server.hub import Hub

    source, sessions = prepared
    copy = tmp_path / "pages.db"
    shutil.copyfile(source, copy)
    assert not Path(f"{source}-wal").exists() or not Path(f"{source}-wal").stat().st_size
    hub = Hub(f"sqlite:///{copy}", analyses_per_minute=10_000, migrate=False)
    yield Pages(hub, create_app(hub), sessions)
    hub.db.engine.dispose()


# -- a live server and a browser ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVE = """
import sys, uvicorn
from jointplan.api import create_app
from jointplan.server.hub import Hub
uvicorn.run(create_app(Hub(sys.argv[1], analyses_per_minute=1000)), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning", ws="none", lifespan="off")
"""


@contextlib.contextmanager
def serving(url: str, folder: Path) -> Iterator[str]:
    """The database at ``url`` served by uvicorn in a subprocess; yields its address and
    stops it on the way out (its log in ``folder``, shown if it does not start)."""
    port = _free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port)], stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/signin", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n"
                            + (folder / "server.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[str]:
    """A real server (uvicorn in a subprocess) on a fresh database; yields its address."""
    folder = tmp_path_factory.mktemp("live")
    prepare_database(folder / "live.db")
    with serving(f"sqlite:///{folder / 'live.db'}", folder) as base:
        yield base


def _chromium_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    problem = _chromium_missing()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI: {problem}")
        pytest.skip(f"browser tests need Chromium ({problem}): `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@functools.lru_cache
def hidden_texts(partner: str) -> frozenset[str]:
    """Titles, units, texts and `PLAN/TASK` names in the example that `partner` may not see.

    Computed with the sharing gate itself: everything the custodian sees, less
    anything that appears in the partner's view.
    """
    from jointplan.files import load_workspace
    from jointplan.sharing.view import view_for

    ws = load_workspace(EXAMPLES / "northern-strait").workspace
    everything, theirs = view_for(ws, None), view_for(ws, partner)
    seen = json.dumps(theirs, ensure_ascii=False)
    visible = {(p["id"], x["id"]) for p in theirs["plans"]
               for key in ("tasks", "expects", "provides") for x in p.get(key, [])}
    texts: set[str] = set()
    for plan in everything["plans"]:
        texts.add(plan["title"])
        for key in ("objectives", "tasks"):
            texts |= {x["title"] for x in plan.get(key, [])}
        texts |= {x["unit"] for x in plan.get("tasks", []) if "unit" in x}
        texts |= {x["what"] for key in ("expects", "provides") for x in plan.get(key, [])}
        texts |= {f"{plan['id']}/{x['id']}" for key in ("tasks", "expects", "provides")
                  for x in plan.get(key, []) if (plan["id"], x["id"]) not in visible}
    texts |= {i["title"] for i in everything["indicators"]}
    return frozenset(t for t in texts if t not in seen)


def leaks(body: str, partner: str) -> list[str]:
    """The hidden texts of `partner` that appear in a body (raw or HTML-escaped)."""
    return sorted(t for t in hidden_texts(partner) if t in body or html.escape(t) in body)
