"""The server's CLI as an operator meets it, on SQLite and PostgreSQL.

`db upgrade`, `db import`, `users add` and `tokens create|revoke`: exit 0 and
one line when all is well; exit 2 with a message that names what is wrong
(and, for files, where) when not — and then nothing is stored.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.store.db import database_url as full_url
from jointplan.store.tables import AuditEntry, Base, User
from tests.conftest import EXAMPLES
from tests.server.conftest import PASSWORD

EXAMPLE = EXAMPLES / "northern-strait"
runner = CliRunner()


def jointplan(url: str, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--database-url", url])
    # Whatever happens, a user never gets a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def db(database_url) -> Iterator[Any]:
    """An engine to look at what the CLI stored."""
    engine = create_engine(full_url(database_url))
    yield engine
    engine.dispose()


def _counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


@pytest.fixture
def imported(database_url) -> str:
    result = jointplan(database_url, "db", "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    return database_url


def test_db_upgrade_creates_every_table_and_can_run_again(database_url, db):
    for _ in range(2):
        result = jointplan(database_url, "db", "upgrade")
        assert result.exit_code == 0, result.output
        assert result.stdout == "database is up to date\n"
    tables = set(inspect(db).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} <= tables
    assert set(_counts(db).values()) == {0}


def test_db_import_of_the_example_says_what_it_stored(database_url, db):
    result = jointplan(database_url, "db", "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 6 plans and 6 observations\n"
    counts = _counts(db)
    assert (counts["plan_versions"], counts["observations"]) == (6, 6)


@pytest.fixture
def broken_folder(tmp_path) -> Path:
    """The example with one plan that names a scenario and a time that do not exist."""
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    plan = folder / "nor-shipping.yaml"
    plan.write_text(plan.read_text().replace("scenarios: [closure-long]",
                                             "scenarios: [closure-forever]")
                    .replace("start: T+1d\n", "start: 1d\n"))
    return folder


def test_db_import_of_an_invalid_folder_exits_2_with_located_problems_and_stores_nothing(
        database_url, db, broken_folder):
    jointplan(database_url, "db", "upgrade")
    result = jointplan(database_url, "db", "import", str(broken_folder))
    assert result.exit_code == 2
    plan = broken_folder / "nor-shipping.yaml"
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(re.escape(f"{plan}:") + r"\d+:\d+: .*closure-forever.*", lines[0])
    assert re.fullmatch(re.escape(f"{plan}:") + r"\d+:\d+: .*'start'.*T\+.*", lines[1])
    assert result.stdout == ""
    assert set(_counts(db).values()) == {0}


def test_a_failed_db_import_leaves_what_was_stored_before_untouched(imported, db,
                                                                    broken_folder):
    before = _counts(db)
    result = jointplan(imported, "db", "import", str(broken_folder))
    assert result.exit_code == 2
    assert _counts(db) == before


def test_db_import_of_a_folder_without_workspace_files_exits_2(database_url, db, tmp_path):
    result = jointplan(database_url, "db", "import", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'nowhere'}:1:1: no workspace files here\n"
    assert set(_counts(db).values()) == {0}


REFUSED_USERS = [
    (["ann", "--partner", "XYZ"], "partner: XYZ is not a partner of the workspace"),
    (["ann", "--partner", "NOR", "--password", "short"],
     "password: a password has at least 8 characters"),
    (["ann", "--partner", "NOR", "--role", "owner"], "role: role must be viewer, planner or admin"),
    (["Ann Smith", "--partner", "NOR"],
     "username: a username is 2-63 lowercase letters, digits, . _ -"),
    (["nor-planner", "--partner", "SOU"], "username: the user nor-planner exists already"),
]


def test_users_add_refuses_with_a_clear_message_and_stores_nothing(imported, db):
    assert jointplan(imported, "users", "add", "nor-planner", "--partner", "NOR",
                     "--password", PASSWORD).exit_code == 0
    before = _counts(db)
    for args, message in REFUSED_USERS:
        if "--password" not in args:
            args = [*args, "--password", PASSWORD]
        result = jointplan(imported, "users", "add", *args)
        assert (result.exit_code, result.stderr) == (2, f"jointplan: {message}\n"), args
    assert _counts(db) == before


def test_users_add_before_any_workspace_names_no_partner(database_url, db):
    result = jointplan(database_url, "users", "add", "ann", "--partner", "NOR",
                       "--password", PASSWORD)
    assert result.exit_code == 2
    assert result.stderr == "jointplan: partner: NOR is not a partner of the workspace\n"
    assert set(_counts(db).values()) == {0}


def test_users_add_says_who_was_added(imported, db):
    result = jointplan(imported, "users", "add", "sou-viewer", "--partner", "SOU",
                       "--role", "viewer", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "added sou-viewer (viewer of SOU)\n"
    with db.connect() as conn:
        user = conn.execute(select(User.partner, User.role, User.password_hash)).one()
    assert user[:2] == ("SOU", "viewer") and PASSWORD not in user.password_hash


def _client(url: str) -> Any:
    from fastapi.testclient import TestClient

    from jointplan.api import create_app
    from jointplan.server.hub import Hub

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return TestClient(create_app(Hub(url)))


def test_a_created_token_authenticates_until_it_is_revoked(imported, db):
    jointplan(imported, "users", "add", "rra-planner", "--partner", "RRA",
              "--password", PASSWORD)
    created = jointplan(imported, "tokens", "create", "rra-planner", "--name", "laptop")
    assert created.exit_code == 0, created.output
    match = re.fullmatch(r"token (\S+): (jp_\S+)\n", created.stdout)
    assert match is not None, created.stdout
    token_id, secret = match.groups()
    client = _client(imported)
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        me = client.get("/api/me", headers=headers)
        assert me.status_code == 200
        assert me.json() == {"username": "rra-planner", "partner": "RRA", "role": "planner"}

        revoked = jointplan(imported, "tokens", "revoke", token_id)
        assert revoked.exit_code == 0, revoked.output
        assert revoked.stdout == f"revoked {token_id}\n"
        assert client.get("/api/me", headers=headers).status_code == 401
        assert client.get("/api/workspace", headers=headers).status_code == 401
    finally:
        client.app.state.hub.db.engine.dispose()

    again = jointplan(imported, "tokens", "revoke", token_id)
    assert again.exit_code == 2
    assert again.stderr == f"jointplan: no active token {token_id}\n"
    with db.connect() as conn:
        actions = list(conn.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions[-2:] == ["token.create", "token.revoke"]


def test_tokens_for_nobody_or_of_nothing_exit_2(imported, db):
    before = _counts(db)
    made = jointplan(imported, "tokens", "create", "nobody")
    assert made.exit_code == 2
    assert made.stderr == "jointplan: no user nobody\n"
    revoked = jointplan(imported, "tokens", "revoke", "no-such-token")
    assert revoked.exit_code == 2
    assert revoked.stderr == "jointplan: no active token no-such-token\n"
    assert _counts(db) == before
