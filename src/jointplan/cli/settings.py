"""`settings`: the workspace's settings, read and set by the operator.

They call the server's own use cases (``server/t0.py``), as an admin's request
does; the operator's change is audited with no user.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .output import usage
from .server import DatabaseUrl, _hub

settings_app = typer.Typer(help="Show or change the workspace's settings.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(settings_app, name="settings")


@settings_app.command("t0-mode")
def t0_mode(mode: Annotated[str | None, typer.Argument(
        help="planner: any planner of a partner that may see a scenario declares its T0 "
        "(the default); joint: a planner's request opens a decision asking every partner "
        "that may see it, and T0 changes when all of them concur. Leave it out to show "
        "the setting.")] = None,
            database_url: DatabaseUrl = None) -> None:
    """Show or set how the workspace declares T0; a change is audited."""
    from ..server import t0
    from ..server.hub import Invalid

    hub = _hub(database_url)  # kept: its connections close when it goes
    if mode is None:
        with hub.db.read() as session:
            current = t0.mode_of(session)
        typer.echo(f"t0-mode: {current['mode']}"
                   + (f" (set {current['changed']})" if current["changed"] else " (default)"))
        return
    try:
        t0.set_mode(hub, None, mode)
    except Invalid as exc:
        usage(f"{exc.field}: {exc}")
    typer.echo(f"t0-mode: {mode}")
