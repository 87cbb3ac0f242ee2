"""`jointplan node init|key|rotate-key` and `node peers`: identity and peers, audited.

The private key is a 0600 file outside the database; the database holds public
keys only; a refused command changes nothing.
"""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import create_engine, select

from jointplan.store.db import database_url as full_url
from jointplan.store.tables import AuditEntry, NodeKey
from tests.conftest import EXAMPLES
from tests.server.test_cli_server import jointplan

EXAMPLE = EXAMPLES / "northern-strait"


def _node(url: str, partner: str, key: Path) -> str:
    assert jointplan(url, "db", "import", str(EXAMPLE)).exit_code == 0
    run = jointplan(url, "node", "init", "--partner", partner, "--key-file", str(key))
    assert run.exit_code == 0, run.output
    return run.output.split("public key: ")[1].strip()


def _rows(url: str, model) -> list:
    engine = create_engine(full_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(model)))
    finally:
        engine.dispose()


def test_init_writes_a_private_key_only_its_owner_reads_and_keeps_it_out_of_the_database(
        database_url, tmp_path):
    key = tmp_path / "nor.key"
    public = _node(database_url, "NOR", key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    seed = key.read_text().strip()
    assert len(seed) == 64 and seed != public
    stored = _rows(database_url, NodeKey)
    assert [(r.owner, r.public_key, r.state) for r in stored] == [("NOR", public, "active")]
    assert all(seed not in str(tuple(r)) for r in _rows(database_url, AuditEntry))
    assert jointplan(database_url, "node", "key").output.strip() == f"NOR {public}"
    # init never overwrites a key, nor makes a second identity
    again = jointplan(database_url, "node", "init", "--partner", "NOR", "--key-file",
                      str(tmp_path / "other.key"))
    assert again.exit_code == 2 and "already a node" in again.output
    assert not (tmp_path / "other.key").exists()


def test_init_refuses_a_partner_the_workspace_does_not_have(database_url, tmp_path):
    assert jointplan(database_url, "db", "import", str(EXAMPLE)).exit_code == 0
    run = jointplan(database_url, "node", "init", "--partner", "XYZ", "--key-file",
                    str(tmp_path / "k"))
    assert run.exit_code == 2 and "XYZ is not a partner" in run.output
    assert not (tmp_path / "k").exists() and _rows(database_url, NodeKey) == []


def test_peers_are_added_listed_rotated_and_revoked_with_an_audit_entry_each(
        database_url, tmp_path):
    _node(database_url, "NOR", tmp_path / "nor.key")
    sou = tmp_path / "sou.pub"
    sou.write_text("SOU " + "ab" * 32 + "\n")
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    run = jointplan(database_url, "node", "peers", "add", "SOU", "--key", str(bad))
    assert run.exit_code == 2 and f"{bad}:1:1: not a public key" in run.output
    run = jointplan(database_url, "node", "peers", "add", "SOU", "--key", str(sou),
                    "--url", "http://127.0.0.1:8221")
    assert run.exit_code == 0, run.output
    again = jointplan(database_url, "node", "peers", "add", "SOU", "--key", str(sou))
    assert again.exit_code == 2 and "already a peer" in again.output
    listed = jointplan(database_url, "node", "peers", "list").output
    assert "SOU  http://127.0.0.1:8221" in listed and f"active   {'ab' * 32}" in listed
    new = tmp_path / "sou2.pub"
    new.write_text("cd" * 32)
    assert jointplan(database_url, "node", "peers", "rotate", "SOU", "--key",
                     str(new)).exit_code == 0
    assert jointplan(database_url, "node", "peers", "revoke", "SOU").exit_code == 0
    states = {r.public_key: r.state for r in _rows(database_url, NodeKey) if r.owner == "SOU"}
    assert states == {"ab" * 32: "revoked", "cd" * 32: "revoked"}  # every key it had
    actions = [r.action for r in _rows(database_url, AuditEntry)]
    assert [a for a in actions if a.startswith("node.")] == [
        "node.init", "node.peer.add", "node.peer.rotate", "node.peer.revoke"]
    assert jointplan(database_url, "audit", "verify").exit_code == 0


def test_rotating_the_node_key_replaces_the_file_and_marks_the_old_key(database_url, tmp_path):
    key = tmp_path / "nor.key"
    old = _node(database_url, "NOR", key)
    old_seed = key.read_text()
    run = jointplan(database_url, "node", "rotate-key")
    assert run.exit_code == 0, run.output
    new = run.output.split("public key: ")[1].strip()
    assert new != old and key.read_text() != old_seed
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    states = {r.public_key: r.state for r in _rows(database_url, NodeKey)}
    assert states == {old: "rotated", new: "active"}
    assert jointplan(database_url, "node", "key").output.strip() == f"NOR {new}"
