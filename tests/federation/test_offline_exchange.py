"""Bundles carried as files between two nodes, with the commands an operator types.

Two nodes (NOR and SOU, each its own SQLite file) are set up with `jointplan node`
commands in their own processes; NOR's release travels as a file. A tampered copy,
the same file again, and a file from a partner that is not a peer are refused with
the message of docs/federation.md and change nothing; a node refuses to import a plan
another partner owns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

EXAMPLE = EXAMPLES / "northern-strait"


def _cli(folder: Path, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINTPLAN_DATABASE_URL": f"sqlite:///{folder / who}.db"}
    return subprocess.run([sys.executable, "-c", "from jointplan.cli import main; main()",
                           *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


def _ok(folder: Path, who: str, *args: str) -> str:
    run = _cli(folder, who, *args)
    assert run.returncode == 0, (args, run.stdout, run.stderr)
    return run.stdout


def _plans(folder: Path, who: str) -> int:
    """How many plan versions the node holds (to see that a refusal changed nothing)."""
    import sqlite3

    with sqlite3.connect(folder / f"{who}.db") as db:
        return int(db.execute("select count(*) from plan_versions").fetchone()[0])


def test_a_release_carried_as_a_file_is_taken_and_a_bad_one_refused(tmp_path):
    for who in ("NOR", "SOU", "RRA"):
        _ok(tmp_path, who, "node", "init", "--partner", who, "--key-file", f"{who}.key")
        _ok(tmp_path, who, "node", "import", str(EXAMPLE))
        (tmp_path / f"{who}.pub").write_text(_ok(tmp_path, who, "node", "key"))
    _ok(tmp_path, "SOU", "node", "peers", "add", "NOR", "--key", "NOR.pub")
    _ok(tmp_path, "NOR", "node", "peers", "add", "SOU", "--key", "SOU.pub")
    _ok(tmp_path, "RRA", "node", "peers", "add", "SOU", "--key", "SOU.pub")
    said = _ok(tmp_path, "NOR", "node", "export-release", "--to", "SOU", "nor-sou.json")
    assert "release NOR → SOU version 1 written to nor-sou.json" in said
    before = _plans(tmp_path, "SOU")
    # altered after signing: refused, nothing changed
    bundle = json.loads((tmp_path / "nor-sou.json").read_text())
    bundle["version"] = 7
    (tmp_path / "tampered.json").write_text(json.dumps(bundle))
    refused = _cli(tmp_path, "SOU", "node", "import-release", "tampered.json")
    assert refused.returncode != 0 and "bad signature" in refused.stderr, refused.stderr
    # from a partner that is not a peer of SOU's node (RRA was never added there)
    _ok(tmp_path, "RRA", "node", "export-release", "--to", "SOU", "rra-sou.json")
    refused = _cli(tmp_path, "SOU", "node", "import-release", "rra-sou.json")
    assert refused.returncode != 0 and "is not a peer" in refused.stderr, refused.stderr
    # not a bundle at all: the file's line and column
    (tmp_path / "junk.json").write_text("{\n  nope")
    refused = _cli(tmp_path, "SOU", "node", "import-release", "junk.json")
    assert refused.returncode != 0 and "junk.json:2:" in refused.stderr, refused.stderr
    assert _plans(tmp_path, "SOU") == before
    # the real one is taken, once
    took = _ok(tmp_path, "SOU", "node", "import-release", "nor-sou.json")
    assert took.startswith("NOR version 1: added nor-evacuation"), took
    assert _plans(tmp_path, "SOU") > before
    again = _cli(tmp_path, "SOU", "node", "import-release", "nor-sou.json")
    assert again.returncode != 0 and "replayed" in again.stderr, again.stderr


def test_a_node_refuses_to_import_a_plan_another_partner_owns(tmp_path):
    _ok(tmp_path, "NOR", "node", "init", "--partner", "NOR", "--key-file", "NOR.key")
    _ok(tmp_path, "NOR", "node", "import", str(EXAMPLE))
    before = _plans(tmp_path, "NOR")
    refused = _cli(tmp_path, "NOR", "node", "import", str(EXAMPLES / "sou-node"))
    assert refused.returncode != 0 and "sou-reserve" in refused.stderr, refused.stderr
    assert _plans(tmp_path, "NOR") == before
