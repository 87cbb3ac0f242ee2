"""Shared output helpers: problems to standard error, JSON to standard output."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from ..files import InvalidWorkspace

EXIT_INVALID = 2


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def invalid(exc: InvalidWorkspace, as_json: bool) -> NoReturn:
    """Print every problem as FILE:LINE:COLUMN: message and exit 2."""
    for problem in exc.problems:
        sys.stderr.write(f"{problem}\n")
    if as_json:
        print_json({"problems": [p.as_json() for p in exc.problems]})
    raise typer.Exit(EXIT_INVALID)


def usage(message: str, as_json: bool = False) -> NoReturn:
    """A bad option value: one line on standard error, exit 2."""
    sys.stderr.write(f"jointplan: {message}\n")
    if as_json:
        print_json({"error": message})
    raise typer.Exit(EXIT_INVALID)
