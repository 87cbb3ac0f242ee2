"""The docs are tested: every command, format field, package and environment variable is
documented, and the README's commands run as written."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jointplan.docgen import cli_reference, commands
from jointplan.files.fields import OBJECTS, WITHHOLDABLE
from jointplan.services.check import check_report
from tests.conftest import ROOT


def test_the_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is out of date: run `make docs`")


def test_every_command_is_in_the_readme_and_the_reference():
    readme = (ROOT / "README.md").read_text()
    for name in commands():
        assert f"jointplan {name}" in readme, name
        assert f"## jointplan {name}" in cli_reference()


def test_every_format_field_is_documented():
    text = (ROOT / "docs" / "format.md").read_text()
    for kind, fields in OBJECTS.items():
        for key in fields:
            assert f"`{key}`" in text, f"{kind}.{key} is not in docs/format.md"
    for kind, fields in WITHHOLDABLE.items():
        for key in fields:
            assert f"`{key}`" in text, f"withhold {kind}.{key}"


def test_the_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


# -- the layout ---------------------------------------------------------------------

SRC = ROOT / "src" / "jointplan"


def _readme_layout() -> dict[str, int]:
    """Package or module name -> its row in the README's layout table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, int] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            for name in re.findall(r"`([a-z_]+)(?:/|\.py)`", cells[1]):
                rows[name] = int(cells[0])
    return rows


def _imports() -> dict[str, set[str]]:
    """Package or top-level module -> the other ones it imports (anywhere in its code)."""
    out: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        here = parts[0].removesuffix(".py")
        package = list(parts[:-1])  # the package the module is in, below jointplan
        found = out.setdefault(here, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative: `from ..files import x`, `from .. import web`
                    module = package[:len(package) - node.level + 1]
                    module += node.module.split(".") if node.module else []
                elif (node.module or "").split(".")[0] == "jointplan":
                    module = (node.module or "").split(".")[1:]
                else:
                    continue
                targets = [module] if module else [[a.name] for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name.split(".")[1:] for a in node.names
                           if a.name.startswith("jointplan.")]
            else:
                continue
            found.update(t[0] for t in targets if t and t[0] != here)
    return out


def test_the_readme_layout_names_every_package_and_the_real_direction_of_imports():
    rows = _readme_layout()
    present = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    present |= {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    assert present - set(rows) == set(), "packages missing from the README's layout"
    assert set(rows) - present == set(), "the README's layout names what does not exist"
    imports = _imports()
    assert imports["web"] >= {"caller", "server"} and "api" not in imports["web"]
    assert imports["analysis"] == {"model"}
    upward = sorted(f"{a} (row {rows[a]}) imports {b} (row {rows[b]})"
                    for a, targets in imports.items() if a in rows
                    for b in targets if b in rows and rows[b] < rows[a])
    assert upward == [], "imports against the README's direction"


# -- environment variables ----------------------------------------------------------


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    pattern = re.compile(r"""(?:environ\.get\(|getenv\(|environ\[|envvar=)\s*["']([A-Z_]+)["']""")
    names = set()
    for folder in ("src", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    assert {"JOINTPLAN_DEBUG", "JOINTPLAN_DATABASE_URL", "CI"} <= names
    names.discard("PATH")  # the tests' own, to find the installed command
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


# -- the README's commands, run as a user would ---------------------------------------


def _commands(heading: str) -> list[str]:
    """The command lines of the first code block under ``heading``, comments dropped."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split(heading, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    block = block.replace("\\\n", " ")
    return [" ".join(re.sub(r"\s#.*$", "", line).split()) for line in block.splitlines()
            if line.strip()]


@pytest.fixture
def user_folder(tmp_path):
    """An empty folder with `.venv/bin/jointplan` and `examples/`, as in a checkout."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "jointplan").symlink_to(Path(sys.executable).with_name("jointplan"))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def _run(folder: Path, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{folder / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "JOINTPLAN_DATABASE_URL": f"sqlite:///{folder / 'readme.db'}"}
    return subprocess.run(["sh", "-c", command], cwd=folder, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_the_commands_of_using_it_run_as_written(user_folder):
    commands = _commands("## Using it")
    assert len(commands) == 8 and all(c.startswith(".venv/bin/jointplan ") for c in commands)
    expected = json.loads(json.dumps(check_report(ROOT / "examples" / "northern-strait", "NOR")))
    for command in commands:
        run = _run(user_folder, command)
        assert run.returncode == 0, (command, run.stdout, run.stderr)
        words = command.split()
        if words[1] == "check" and "--json" in words:
            assert json.loads(run.stdout) == expected
        elif words[1] == "check":
            assert "northern-strait as seen by NOR" in run.stdout
        elif words[1] == "validate":
            assert "northern-strait: valid" in run.stdout
        elif words[1] == "view":
            assert yaml.safe_load(run.stdout)["as"] == "SOU"
        elif words[1:3] == ["schema", "deconflict"]:
            assert "moves" in json.loads(run.stdout)["properties"]
        elif words[1] == "schema":
            assert json.loads((user_folder / "jointplan.schema.json").read_text())["$schema"]
        elif words[1] == "deconflict":
            assert "unrest-aster" in run.stdout
        elif words[1] == "simulate":
            assert sorted((user_folder / "out").glob("unrest-aster--*.png"))
        else:
            pytest.fail(f"no check for the README's command: {command}")


def test_the_server_commands_run_as_written(user_folder):
    commands = _commands("## The joint workspace server")
    assert [" ".join(c.split()[1:3]) for c in commands] == [
        "serve --database-url", "serve --workers", "db upgrade", "db import", "users add",
        "users list", "users disable", "users enable", "users passwd", "tokens create",
        "tokens list", "tokens revoke", "settings t0-mode", "audit export", "audit verify",
        "demo"]
    token = None
    for command in commands:
        words = command.split()
        if words[1] == "serve":
            continue  # a server that runs until stopped: the server tests start it
        if words[1] == "demo":
            command += " --no-serve"
        if token:
            command = command.replace("TOKEN_ID", token)
        # A password is asked for, and asked again to confirm where it is set anew.
        run = _run(user_folder, command, stdin="correct horse battery\n" * 2)
        assert run.returncode == 0, (command, run.stdout, run.stderr)
        if words[1:3] == ["tokens", "create"]:
            token = re.match(r"token (\S+): ", run.stdout).group(1)
        elif words[1:3] == ["tokens", "revoke"]:
            assert run.stdout.strip() == f"revoked {token}"
        elif words[1:3] == ["users", "add"]:
            assert "added alice (planner of NOR)" in run.stdout
        elif words[1:3] == ["users", "list"]:
            assert "alice" in run.stdout
        elif words[1:3] == ["users", "passwd"]:
            assert "password of alice changed" in run.stdout
        elif words[1:3] == ["tokens", "list"]:
            assert token is not None and token in run.stdout
        elif words[1:3] == ["settings", "t0-mode"]:
            assert run.stdout == "t0-mode: joint\n"
        elif words[1:3] == ["audit", "export"]:
            assert json.loads((user_folder / "checkpoint.json").read_text())["seq"] > 0
        elif words[1:3] == ["audit", "verify"]:
            assert run.stdout.startswith("audit chain intact")
        elif words[1] == "demo":
            assert "nor-planner" in run.stdout
            # a token for every partner, and no "Open" of an address nothing listens on
            assert all(f"# as {code}" in run.stdout for code in ("NOR", "SOU", "RRA"))
            assert "Open http" not in run.stdout and "--no-serve" in run.stdout
    assert token is not None


def _block(heading: str) -> str:
    """The first code block under ``heading``, exactly as written."""
    readme = (ROOT / "README.md").read_text()
    return readme.split(heading, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]


def _central_answers(folder: Path, log: Path, partners: tuple[str, ...]
                     ) -> dict[str, tuple[dict, dict]]:
    """A central server holding the same workspace (the example and `examples/sou-node`),
    set up with the README's server commands: per partner, its `check` and the `check` of
    the files it exports to that partner (what it releases to it)."""
    import httpx

    from jointplan.services.check import check_workspace
    from jointplan.services.workspaces import load_checked
    from tests.server.serving import serving

    central = folder / "central"
    shutil.copytree(ROOT / "examples" / "northern-strait", central)
    shutil.copy(ROOT / "examples" / "sou-node" / "sou-reserve.yaml", central)
    setup = [".venv/bin/jointplan db upgrade", ".venv/bin/jointplan db import central"] + [
        f".venv/bin/jointplan users add {p.lower()}-central --partner {p} --role planner "
        f"--password central-{p}" for p in partners]
    for command in setup:
        run = _run(folder, command)
        assert run.returncode == 0, (command, run.stdout, run.stderr)
    answers = {}
    with serving(f"sqlite:///{folder / 'readme.db'}", log) as (_, url):
        for who in partners:
            with httpx.Client(base_url=url, timeout=60) as client:
                signed = client.post("/auth/login", json={
                    "username": f"{who.lower()}-central", "password": f"central-{who}"})
                assert signed.status_code == 200, signed.text
                direct = client.get("/api/check").json()
                files = client.get("/api/export").json()["files"]
            copy = folder / f"released-to-{who}"
            copy.mkdir()
            for name, text in files.items():
                (copy / name).write_text(text)
            released = json.loads(json.dumps(
                check_workspace(load_checked(copy).workspace, who)))
            answers[who] = (direct, released)
    return answers


def test_the_three_nodes_run_as_written(user_folder, tmp_path_factory):
    """The README's three nodes, run as one script on free ports: each planner signs in to
    its own node and sees its plans, what the others released, the conflicts among them —
    the central server's answers for what is released to it, the central server being
    another `jointplan serve` of the same workspace — and the blind collision."""
    import signal
    import socket

    import httpx

    from jointplan.services.workspaces import load_checked
    from jointplan.sharing.view import view_for

    ports = {}
    for who in ("NOR", "SOU", "RRA"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports[who] = s.getsockname()[1]
    env = {**os.environ, "NODES": " ".join(f"{w}:{p}" for w, p in ports.items())}
    env.pop("JOINTPLAN_DATABASE_URL", None)
    log = tmp_path_factory.mktemp("log") / "block.log"
    with log.open("w") as out:
        script = subprocess.Popen(["sh", "-c", _block("### Three nodes on this machine")],
                                  cwd=user_folder, env=env, stdout=out, stderr=out,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert script.wait(timeout=480) == 0, log.read_text()  # slow on a loaded machine
        said = log.read_text()
        assert "1 collision(s) with SOU" in said, said
        central = load_checked(ROOT / "examples" / "northern-strait").workspace
        answers = _central_answers(user_folder, log.with_name("central.log"), tuple(ports))
        for who, port in ports.items():
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                signed = client.post("/auth/login", json={
                    "username": f"{who.lower()}-planner", "password": f"planner-of-{who}"})
                assert signed.status_code == 200, signed.text
                plans = {p["id"]: p for p in client.get("/api/plans").json()}
                notices = [n["text"] for n in client.get("/api/notifications").json()]
                checked = client.get("/api/check")
            # the node's conflicts, gaps, coverage and likelihoods are the central server's
            # answers for what is released to its partner; coverage and likelihoods are also
            # the central server's direct answer (its conflicts and gaps count hidden items)
            assert checked.status_code == 200, checked.text
            mine, (direct, released) = checked.json(), answers[who]
            for part in ("conflicts", "gaps", "coverage", "likelihood"):
                assert mine[part] == released[part], (who, part, mine[part], released[part])
            assert mine["likelihood"] == direct["likelihood"], who
            assert mine["coverage"] == direct["coverage"], who
            expected = {p["id"]: p for p in view_for(central, who)["plans"]}
            own = {"sou-reserve"} if who == "SOU" else set()
            # its own plans in full and exactly what the others released to it
            assert set(plans) == set(expected) | own, who
            assert {k for k, p in plans.items() if p.get("owner") == who} == {
                p.id for p in central.plans if p.owner == who} | own
            for plan_id, plan in expected.items():
                assert plans[plan_id].get("title") == plan.get("title"), (who, plan_id)
            told = [t for t in notices if "a collision with" in t]
            if who in ("NOR", "SOU"):
                peer = "SOU" if who == "NOR" else "NOR"
                assert told == [f"a collision with {peer} on berth-aster around T+1d–T+1d6h "
                                "in closure-long, 1 over capacity"], notices
            else:
                assert told == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, signal.SIGTERM)  # the servers the block left running
