"""Shared output helpers: problems to standard error, JSON to standard output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..files import InvalidWorkspace

if TYPE_CHECKING:
    from ..files import Loaded

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
    """A bad option value: one line on standard error, exit 2.

    With ``--json`` every command prints the same object: ``problems`` (as a
    file problem, without a location) and ``error``, the message alone, which
    ``check`` and ``simulate`` printed before ``problems`` was added."""
    sys.stderr.write(f"jointplan: {message}\n")
    if as_json:
        print_json({"problems": [{"message": message}], "error": message})
    raise typer.Exit(EXIT_INVALID)


def load_as(folder: Path, partner: str | None, as_json: bool = False) -> Loaded:
    """The workspace folder read and checked for ``--as partner``; exit 2 on any problem."""
    from ..services.workspaces import load_checked, require_partner

    try:
        loaded = load_checked(folder)
        require_partner(loaded, partner)
    except InvalidWorkspace as exc:
        invalid(exc, as_json)
    except ValueError as exc:
        usage(str(exc), as_json)
    return loaded
