"""People: list, disable, enable and re-password users; list tokens; failed sign-ins
audited and throttled in the database; expired sessions purged; what an admin may do.

On SQLite and PostgreSQL, through the CLI as the operator meets it and the API.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.server.hub import Hub
from jointplan.services import accounts
from jointplan.store.tables import AuditEntry, BrowserSession, SignInFailure, now
from tests.conftest import EXAMPLES
from tests.server.conftest import PASSWORD, Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"
runner = CliRunner()


def jointplan(url: str, *args: str, input: str | None = None) -> Any:
    result = runner.invoke(app, [*args, "--database-url", url], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def server(database_url) -> Server:
    s = start_server(database_url, EXAMPLE, roles={"RRA": "admin"})
    yield s
    s.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _login(server: Server, username: str, password: str = PASSWORD) -> Any:
    return server.client.post("/auth/login",  # type: ignore[attr-defined]
                              json={"username": username, "password": password})


def _audit(server: Server, action: str) -> list[AuditEntry]:
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_users_list_names_each_user_with_partner_role_and_tokens(server, database_url):
    result = jointplan(database_url, "users", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["username"]: r for r in json.loads(result.output)}
    assert rows["nor-planner"] == {**rows["nor-planner"], "partner": "NOR", "role": "planner",
                                   "disabled": None, "tokens": 1}
    assert rows["rra-planner"]["role"] == "admin"
    table = jointplan(database_url, "users", "list", "--partner", "SOU").output.splitlines()
    assert table[0].split()[:4] == ["USERNAME", "PARTNER", "ROLE", "DISABLED"]
    assert [line.split()[0] for line in table[1:]] == ["sou-planner"]


def test_a_disabled_user_cannot_sign_in_nor_use_a_token_until_enabled(server, database_url):
    nor = server.as_("NOR")
    c = server.client
    assert _login(server, "nor-planner").status_code == 200  # a live session too
    assert c.get("/api/me").status_code == 200
    result = jointplan(database_url, "users", "disable", "nor-planner")
    assert (result.exit_code, result.output) == (0, "disabled nor-planner\n")
    assert c.get("/api/me", headers=nor).status_code == 401
    assert c.get("/api/me").status_code == 401  # the session ended
    assert _login(server, "nor-planner").status_code == 401
    assert _audit(server, "user.disable")
    assert _audit(server, "login.failed")[-1].detail["why"] == "disabled"
    again = jointplan(database_url, "users", "disable", "nor-planner")
    assert again.exit_code == 2 and "disabled already" in again.output
    assert jointplan(database_url, "users", "enable", "nor-planner").exit_code == 0
    assert c.get("/api/me", headers=nor).status_code == 200
    assert _login(server, "nor-planner").status_code == 200


def test_passwd_changes_the_password_and_ends_the_sessions(server, database_url):
    c = server.client
    assert _login(server, "sou-planner").status_code == 200
    new = "a much better passphrase"
    result = jointplan(database_url, "users", "passwd", "sou-planner",
                       input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert c.get("/api/me").status_code == 401
    assert _login(server, "sou-planner").status_code == 401
    assert _login(server, "sou-planner", new).status_code == 200
    assert c.get("/api/me", headers=server.as_("SOU")).status_code == 200  # tokens stay
    short = jointplan(database_url, "users", "passwd", "sou-planner", input="short\nshort\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    missing = jointplan(database_url, "users", "passwd", "nobody", input=f"{new}\n{new}\n")
    assert missing.exit_code == 2 and "no user nobody" in missing.output


def test_tokens_list_shows_ids_and_names_never_secrets(server, database_url):
    secret = server.tokens["NOR"]
    everyone = jointplan(database_url, "tokens", "list", "--json")
    assert everyone.exit_code == 0 and secret not in everyone.output
    rows = json.loads(everyone.output)
    assert sorted(r["username"] for r in rows) == ["nor-planner", "rra-planner", "sou-planner"]
    nor = json.loads(jointplan(database_url, "tokens", "list", "nor-planner", "--json").output)
    assert [r["name"] for r in nor] == ["tests"] and nor[0]["revoked"] is None
    # Ids are opaque and may begin with "-": `--` ends the options.
    revoked = runner.invoke(app, ["tokens", "revoke", "--database-url", database_url, "--",
                                  nor[0]["id"]])
    assert revoked.exit_code == 0, revoked.output
    nor = json.loads(jointplan(database_url, "tokens", "list", "nor-planner", "--json").output)
    assert nor[0]["revoked"] is not None
    table = jointplan(database_url, "tokens", "list", "nor-planner").output
    assert table.splitlines()[0].split() == ["ID", "USERNAME", "NAME", "CREATED", "REVOKED"]
    missing = jointplan(database_url, "tokens", "list", "nobody")
    assert missing.exit_code == 2 and "no user nobody" in missing.output


@pytest.mark.parametrize("username", ["nor-planner", "no-such-user"])
def test_failed_sign_ins_are_audited_and_throttled_per_username(server, username):
    for _ in range(accounts.FAILURES_BEFORE_LOCK):
        assert _login(server, username, "wrong password").status_code == 401
    failed = _audit(server, "login.failed")
    assert [e.detail["failures"] for e in failed] == list(
        range(1, accounts.FAILURES_BEFORE_LOCK + 1))
    assert failed[-1].detail["locked"] is True
    # Locked: the right password too is refused, with when to come back; others sign in.
    locked = _login(server, username, PASSWORD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= accounts.LOCK.total_seconds() + 1
    assert _login(server, "sou-planner").status_code == 200
    if username == "nor-planner":  # NOR reads that someone tried its account
        entries = server.client.get("/api/audit", headers=server.as_("NOR")).json()
        assert any(e["action"] == "login.failed" for e in entries)
        others = server.client.get("/api/audit", headers=server.as_("SOU")).json()
        assert not any(e["action"] == "login.failed" for e in others)


def test_the_lock_is_kept_in_the_database_not_in_a_process(server, database_url):
    for _ in range(accounts.FAILURES_BEFORE_LOCK):
        _login(server, "nor-planner", "wrong password")
    other = Hub(database_url)  # another process's hub: the same lock
    try:
        with pytest.raises(accounts.Throttled), other.db.write() as session:
            accounts.sign_in(session, username="nor-planner", password=PASSWORD)
        with other.db.write() as session:  # the lock runs out: sign-in works again
            session.execute(update(SignInFailure).values(locked_until=now()))
        with other.db.write() as session:
            assert accounts.sign_in(session, username="nor-planner", password=PASSWORD)
            assert session.get(SignInFailure, "nor-planner") is None  # success resets it
    finally:
        other.db.engine.dispose()


def test_a_sign_in_purges_expired_sessions(server):
    assert _login(server, "nor-planner").status_code == 200
    assert _login(server, "sou-planner").status_code == 200
    hub = server.hub
    with hub.db.write() as session:  # type: ignore[attr-defined]
        session.execute(update(BrowserSession).values(expires=now() - timedelta(minutes=1)))
    assert _login(server, "rra-planner").status_code == 200
    with hub.db.read() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(BrowserSession)) == 1


def test_only_an_admin_reads_its_partners_people_and_tokens(server):
    c = server.client
    answer = c.get("/api/people", headers=server.as_("RRA"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [u["username"] for u in body["users"]] == ["rra-planner"]
    assert [t["username"] for t in body["tokens"]] == ["rra-planner"]
    assert server.tokens["RRA"] not in answer.text
    for partner in ("NOR", "SOU"):
        refused = c.get("/api/people", headers=server.as_(partner))
        assert refused.status_code == 403
        assert "only an admin" in refused.json()["detail"]
