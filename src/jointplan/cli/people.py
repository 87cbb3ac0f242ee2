"""`users list|disable|enable|passwd` and `tokens list`: the operator's view of people."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .output import usage
from .server import DatabaseUrl, _hub, tokens_app, users_app

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register() -> None:
    """Nothing to do: the commands join `users` and `tokens` when this module is imported."""


def _table(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    cells = [[str(r[c]) if r[c] is not None else "-" for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    for line in ([c.upper() for c in columns], *cells):
        typer.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


@users_app.command("list")
def users_list(partner: Annotated[str | None, typer.Option(help="Only this partner's.")] = None,
               as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List users: partner, role, whether disabled, live tokens."""
    from ..services.accounts import list_users

    hub = _hub(database_url)  # kept: its connections close when it goes
    with hub.db.read() as session:
        rows = list_users(session, partner=partner)
    _table(rows, ["username", "partner", "role", "disabled", "tokens", "created"], as_json)


def _set_disabled(username: str, disabled: bool, database_url: str | None) -> None:
    from ..services.accounts import AccountError, set_disabled

    hub = _hub(database_url)  # kept: its connections close when it goes
    with hub.db.write() as session:
        try:
            set_disabled(session, username=username, disabled=disabled)
        except AccountError as exc:
            usage(str(exc))


@users_app.command("disable")
def users_disable(username: str, database_url: DatabaseUrl = None) -> None:
    """Disable a user: no sign-in, no API token works, its browser sessions end."""
    _set_disabled(username, True, database_url)
    typer.echo(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: str, database_url: DatabaseUrl = None) -> None:
    """Enable a disabled user again (its tokens work again unless revoked)."""
    _set_disabled(username, False, database_url)
    typer.echo(f"enabled {username}")


@users_app.command("passwd")
def users_passwd(username: str,
                 password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                                       confirmation_prompt=True,
                                                       help="At least 8 characters.")] = "",
                 database_url: DatabaseUrl = None) -> None:
    """Set a user's password; its browser sessions end (its API tokens stay)."""
    from ..services.accounts import AccountError, set_password

    hub = _hub(database_url)  # kept: its connections close when it goes
    with hub.db.write() as session:
        try:
            set_password(session, username=username, password=password)
        except AccountError as exc:
            usage(f"{exc.field}: {exc}")
    typer.echo(f"password of {username} changed")


@tokens_app.command("list")
def tokens_list(username: Annotated[str | None, typer.Argument(
                    help="Only this user's tokens.")] = None,
                as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """List API tokens (ids and names, never secrets), of one user or of all."""
    from ..services.accounts import AccountError, list_tokens

    hub = _hub(database_url)  # kept: its connections close when it goes
    with hub.db.read() as session:
        try:
            rows = list_tokens(session, username=username)
        except AccountError as exc:
            usage(str(exc))
    _table(rows, ["id", "username", "name", "created", "revoked"], as_json)
