"""`serve`, `db`, `users`, `tokens` and `audit`: running the joint workspace server."""

from __future__ import annotations

import json
import sys
import weakref
from pathlib import Path
from typing import Annotated, Any

import typer

from ..defaults import DEFAULT_DATABASE_URL as DEFAULT_URL
from ..files import InvalidWorkspace, Problem
from .output import invalid, usage

# The server's libraries (SQLAlchemy, Alembic, FastAPI) load only when a
# server command runs, so that `check` starts quickly.

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="JOINTPLAN_DATABASE_URL",
    help=f"SQLAlchemy URL: a SQLite file (default {DEFAULT_URL}) or postgresql://...")]

db_app = typer.Typer(help="Create or upgrade the database, and import workspaces into it.",
                     no_args_is_help=True)
users_app = typer.Typer(help="Manage the people who sign in.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Verify and export the hash-chained audit log.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(audit_app, name="audit")


def _hub(url: str | None):  # type: ignore[no-untyped-def]
    from ..server.hub import Hub

    hub = Hub(url)
    # Close the connections once the command is done with the hub, also when the CLI
    # runs in-process (tests): otherwise they are only closed by the garbage collector.
    weakref.finalize(hub, hub.db.dispose)
    return hub


def serve(database_url: DatabaseUrl = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          workers: Annotated[int, typer.Option(
              min=1, help="Server processes behind the one address; they share "
              "nothing but the database (meant for PostgreSQL).")] = 1,
          analyses_per_user: Annotated[int, typer.Option(
              min=1, envvar="JOINTPLAN_ANALYSES_PER_USER",
              help="Analyses and simulations one user may run a minute.")] = 60,
          analyses_per_partner: Annotated[int | None, typer.Option(
              min=1, envvar="JOINTPLAN_ANALYSES_PER_PARTNER",
              help="Analyses and simulations all users of one partner may run a minute "
              "(default: ten users' worth).")] = None,
          sync_every: Annotated[int, typer.Option(
              min=0, envvar="JOINTPLAN_SYNC_EVERY",
              help="On a node: pull each peer's release every this many seconds, the "
              "first one interval after start (0: only `node sync` pulls).")] = 0) -> None:
    """Run the server (migrations are applied on start, once, under a lock)."""
    import os

    import uvicorn

    from ..server.collector import tune_for_serving
    from ..server.hub import Hub

    url = database_url
    if workers == 1:
        tune_for_serving()
        from ..api import create_app

        hub = Hub(url, analyses_per_minute=analyses_per_user,
                  analyses_per_partner_minute=analyses_per_partner)
        weakref.finalize(hub, hub.db.dispose)
        _check_node(hub, sync_every)
        uvicorn.run(create_app(hub, sync_every=sync_every), host=host, port=port,
                    log_level="warning")
        return
    hub = _hub(url)  # migrate once, before the processes start
    _check_node(hub, sync_every)
    hub.db.dispose()
    os.environ["JOINTPLAN_SYNC_EVERY"] = str(sync_every)
    os.environ["JOINTPLAN_ANALYSES_PER_USER"] = str(analyses_per_user)
    if analyses_per_partner is not None:
        os.environ["JOINTPLAN_ANALYSES_PER_PARTNER"] = str(analyses_per_partner)
    if url:
        os.environ["JOINTPLAN_DATABASE_URL"] = url
    uvicorn.run("jointplan.api.worker:app", factory=True, workers=workers, host=host,
                port=port, log_level="warning")


def _check_node(hub, sync_every: int) -> None:  # type: ignore[no-untyped-def]
    """`--sync-every` is for a node: refuse it on a database that is not one."""
    from ..server.federation.keys import NodeError, identity

    if sync_every:
        with hub.db.read() as session:
            try:
                identity(session)
            except NodeError as exc:
                usage(f"--sync-every: {exc}")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply every migration."""
    _hub(database_url)
    typer.echo("database is up to date")


@db_app.command("import")
def db_import(folder: Annotated[Path, typer.Argument(help="A workspace folder.")],
              database_url: DatabaseUrl = None) -> None:
    """Import a whole workspace folder as the operator: all or nothing."""
    from ..server.plans import import_folder

    try:
        counts = import_folder(_hub(database_url), folder)
    except InvalidWorkspace as exc:
        # Name each file by its path, as `jointplan check` does, not by its bare name.
        invalid(InvalidWorkspace([
            Problem(str(folder / p.file), p.line, p.column, p.message)
            if (folder / p.file).is_file() else p for p in exc.problems]), False)
    typer.echo(f"imported {counts['plans']} plans and {counts['observations']} observations")


@users_app.command("add")
def users_add(username: str, partner: Annotated[str, typer.Option(help="Partner code.")],
              role: Annotated[str, typer.Option(help="viewer, planner or admin.")] = "planner",
              password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                                    help="At least 8 characters.")] = "",
              database_url: DatabaseUrl = None) -> None:
    """Add a user who acts for a partner."""
    from ..services.accounts import AccountError, add_user

    hub = _hub(database_url)
    with hub.db.write() as session:
        joint = hub.joint(session)
        partners = tuple(p["code"] for p in joint["partners"]) if joint else ()
        try:
            add_user(session, username=username, partner=partner, role=role,
                     password=password, partners=partners)
        except AccountError as exc:
            usage(f"{exc.field}: {exc}")
    typer.echo(f"added {username} ({role} of {partner})")


@tokens_app.command("create")
def tokens_create(username: str,
                  name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
                  database_url: DatabaseUrl = None) -> None:
    """Create an API token for a user; the secret is printed once."""
    from ..services.accounts import AccountError, create_token

    hub = _hub(database_url)
    with hub.db.write() as session:
        try:
            token_id, secret = create_token(session, username=username, name=name)
        except AccountError as exc:
            usage(str(exc))
    typer.echo(f"token {token_id}: {secret}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke an API token by its id."""
    from ..services.accounts import AccountError, revoke_token

    hub = _hub(database_url)
    with hub.db.write() as session:
        try:
            revoke_token(session, token_id=token_id)
        except AccountError as exc:
            usage(str(exc))
    typer.echo(f"revoked {token_id}")


@audit_app.command("verify")
def audit_verify(checkpoint: Annotated[Path | None, typer.Option(
                     help="A checkpoint from `audit export` to compare with.")] = None,
                 database_url: DatabaseUrl = None) -> None:
    """Check the audit chain; exit 1 and name each break when it was tampered with."""
    point = None
    if checkpoint is not None:
        try:
            point = json.loads(checkpoint.read_text())
            point = {"seq": int(point["seq"]), "digest": str(point["digest"])}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            usage(f"cannot read the checkpoint {checkpoint}: {exc!s}; a checkpoint is the "
                  "JSON `jointplan audit export` prints, with `seq` and `digest`")
    hub = _hub(database_url)
    with hub.db.read() as session:
        from ..store import audit as audit_chain

        breaks = audit_chain.verify(session, point)
        head = audit_chain.checkpoint(session)
    if breaks:
        for b in breaks:
            sys.stderr.write(f"{b}\n")
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {head['seq']} entries, head {head['digest'][:16]}")


@audit_app.command("export")
def audit_export(database_url: DatabaseUrl = None) -> None:
    """Print a checkpoint (the newest entry's digest) to keep outside the database."""
    hub = _hub(database_url)
    with hub.db.read() as session:
        from ..store import audit as audit_chain

        sys.stdout.write(json.dumps(audit_chain.checkpoint(session)) + "\n")


def demo(folder: Annotated[Path, typer.Argument(help="The workspace to serve.")] = Path(
             "examples/northern-strait"),
         database: Annotated[Path, typer.Option(help="SQLite file, recreated each run.")] = Path(
             ".demo/jointplan-demo.db"),
         host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
         no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up and print the "
                                                "sign-ins, but do not start the server.")]
         = False,
         exercise: Annotated[Path | None, typer.Option(
             "--exercise", help="An exercise file to load, ready for its controller to start "
             "(make demo loads examples/drills/aster-drill-1.yaml).")] = None) -> None:
    """Serve an example workspace on a fresh SQLite file, with a sign-in for each partner."""
    import secrets

    from ..server.plans import import_folder
    from ..services.accounts import add_user, create_token
    from ..store.db import COUNTERS_SUFFIX

    database.parent.mkdir(parents=True, exist_ok=True)
    for name in ("", COUNTERS_SUFFIX):  # a fresh file: its counters start afresh too
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{name}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    hub = _hub(url)
    try:
        import_folder(hub, folder)
    except InvalidWorkspace as exc:
        invalid(exc, False)
    lines = []
    with hub.db.write() as session:
        joint = hub.joint(session)
        partners = tuple(p["code"] for p in joint["partners"]) if joint else ()
        for code in partners:
            username, password = f"{code.lower()}-planner", secrets.token_urlsafe(9)
            add_user(session, username=username, partner=code, role="planner",
                     password=password, partners=partners)
            _, token = create_token(session, username=username, name="demo")
            lines.append((code, username, password, token))
    address = f"http://{host}:{port}/"
    drill = _demo_exercise(hub, exercise, lines) if exercise is not None else None
    typer.echo(f"\njointplan demo: {folder} on {database}\n")
    if no_serve:  # nothing listens: say how to serve it, not to open an address
        typer.echo(f"Not serving (--no-serve). Serve it with: jointplan serve --database-url "
                   f"{url} --port {port}\nthen open {address} and sign in as:")
    else:
        typer.echo(f"Open {address} and sign in as:")
    for code, username, password, _ in lines:
        typer.echo(f"  {code:<6} user {username:<14} password {password}")
    typer.echo("\nAPI tokens (one per partner), e.g.:")
    for code, _, _, token in lines:
        typer.echo(f"  curl -H 'Authorization: Bearer {token}' {address}api/check   # as {code}")
    if drill is not None:
        typer.echo(f"\nEXERCISE EXERCISE EXERCISE: {drill[1]} at {address}exercises/{drill[0]}"
                   f"\n  {drill[2]} controls it (start, speed x60, inject); "
                   f"{', '.join(drill[3])} play.")
    if no_serve:
        return
    typer.echo("\nPress Ctrl-C to stop.")
    import uvicorn

    from ..api import create_app

    uvicorn.run(create_app(hub), host=host, port=port, log_level="warning")


def _demo_exercise(hub: Any, path: Path, lines: list[tuple[str, str, str, str]]
                   ) -> tuple[str, str, str, list[str]]:
    """The exercise loaded as its first controller's planner: (id, title, controller, players)."""
    from ..files.exercise import InvalidExercise, problem_text
    from ..server import exercises
    from ..services.accounts import actor_for_token

    try:
        text = path.read_text(encoding="utf-8")
        from ..files.exercise import read_exercise_source
        ex = read_exercise_source(path.name, text.encode("utf-8")).exercise
        controller = ex.with_role("controller")[0]
        token = next(t for code, _, _, t in lines if code == controller)
        with hub.db.read() as session:
            actor = actor_for_token(session, token)
        assert actor is not None  # its token was made just now
        exercise_id = exercises.create(hub, actor, path.name, text)
    except InvalidExercise as exc:
        for p in exc.problems:
            sys.stderr.write(problem_text(p) + "\n")
        raise typer.Exit(2) from None
    except OSError as exc:
        usage(f"--exercise {path}: {exc.strerror}")
    return exercise_id, ex.title, controller, list(ex.with_role("player"))
