"""The Typer application and the entry point that keeps tracebacks from users."""

from __future__ import annotations

import gc
import os
import sys

import typer

from .. import __version__
from . import check, deconflict, drill, formats, node, people, server, settings

app = typer.Typer(
    name="jointplan",
    help="Joint contingency planning between partners who keep their freedom of action.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jointplan {__version__}")
        raise typer.Exit()


ONE_SHOT = frozenset({"check", "validate", "view", "simulate"})
"""Commands that read a workspace and exit: the cyclic collector only slows them down."""


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Joint contingency planning between partners who keep their freedom of action."""
    if ctx.invoked_subcommand in ONE_SHOT:
        # Reading builds millions of small objects that all stay alive until the
        # process exits; the collector would rescan them and find nothing to free
        # (a 100k-task folder reads in about 60% of the time without it). Only
        # here, never in the library: a server lives on.
        gc.disable()


check.register(app)
formats.register(app)
deconflict.register(app)
drill.register(app)
server.register(app)
node.register(app)
settings.register(app)
people.register()
try:  # the simulation command needs the optional `sim` dependencies
    from . import simulate
except ImportError:  # pragma: no cover - depends on what is installed
    pass
else:
    simulate.register(app)


def main() -> None:
    """Run the CLI; an unexpected error is reported in one line, never as a traceback."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("jointplan: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        if os.environ.get("JOINTPLAN_DEBUG"):
            raise
        sys.stderr.write(f"jointplan: internal error: {type(exc).__name__}: {exc}\n"
                         "Set JOINTPLAN_DEBUG=1 to see where it happened, and please report it.\n")
        sys.exit(70)
