"""Generate docs/cli.md from the commands' own --help: `python -m jointplan.docgen`."""

from __future__ import annotations

import sys

from typer.testing import CliRunner

from .cli import app

COMMANDS = ("check", "deconflict", "validate", "view", "schema", "simulate", "export geojson",
            "export xlsx", "export csv", "export ical", "export stix", "import geojson",
            "import csv", "import xlsx", "import stix", "drill check", "drill schedule",
            "serve", "demo", "db upgrade",
            "db import", "users add", "users list", "users disable", "users enable",
            "users passwd", "tokens create", "tokens list", "tokens revoke", "settings t0-mode",
            "audit verify", "audit export", "node init", "node key", "node rotate-key",
            "node peers add",
            "node peers list", "node peers rotate", "node peers revoke", "node import",
            "node export-release", "node import-release", "node sync", "node offer",
            "node deconflict")
_ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env=_ENV, prog_name="jointplan")
    if result.exit_code != 0:
        raise RuntimeError(f"`jointplan {' '.join(args)} --help` failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.stdout.strip("\n").splitlines())


def commands() -> list[str]:
    """The commands this installation has, in the reference's order."""
    text = _help()
    return [c for c in COMMANDS if f" {c.split()[0]} " in text]


def cli_reference() -> str:
    """The CLI reference in Markdown, one section per command."""
    parts = ["# CLI reference", "",
             "Generated from `--help` by `make docs` (`python -m jointplan.docgen`); a test",
             "fails when this file and the commands disagree.", "",
             "```", _help(), "```"]
    for name in commands():
        parts += ["", f"## jointplan {name}", "", "```", _help(*name.split()), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(cli_reference())
