"""`jointplan node`: each partner its own node, its peers, and signed releases between them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .output import usage
from .server import DatabaseUrl, _hub

node_app = typer.Typer(help="Run this server as one partner's node: its key, its peers, and "
                       "the signed releases exchanged with them.", no_args_is_help=True)
peers_app = typer.Typer(help="The peer nodes this node exchanges releases with.",
                        no_args_is_help=True)
node_app.add_typer(peers_app, name="peers")


def register(app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")


@node_app.command("init")
def node_init(partner: Annotated[str, typer.Option(help="The partner this node belongs to.")],
              key_file: Annotated[Path, typer.Option(
                  help="Where the private signing key is written (mode 0600); never "
                  "overwritten.")] = Path("jointplan-node.key"),
              database_url: DatabaseUrl = None) -> None:
    """Make this database PARTNER's node: create its Ed25519 signing key, print the public key."""
    from ..server.federation.keys import NodeError, init

    hub = _hub(database_url)
    with hub.db.write() as session:
        joint = hub.joint(session)
        partners = tuple(p["code"] for p in joint["partners"]) if joint else None
        try:
            public = init(session, partner=partner, key_file=key_file, partners=partners)
        except NodeError as exc:
            usage(f"{exc.field}: {exc}")
    typer.echo(f"node {partner}: key written to {key_file} (mode 0600)")
    typer.echo(f"public key: {public}")


@node_app.command("key")
def node_key(database_url: DatabaseUrl = None) -> None:
    """Print the node's partner and active public key: the line peers add with `--key`."""
    from ..server.federation.keys import NodeError, own_key

    hub = _hub(database_url)
    with hub.db.read() as session:
        try:
            key = own_key(session)
        except NodeError as exc:
            usage(str(exc))
    typer.echo(f"{key.owner} {key.public_key}")


@node_app.command("rotate-key")
def node_rotate_key(database_url: DatabaseUrl = None) -> None:
    """Replace the node's signing key; give peers the new public key (`node peers rotate`)."""
    from ..server.federation.keys import NodeError, rotate

    hub = _hub(database_url)
    with hub.db.write() as session:
        try:
            old, new = rotate(session)
        except NodeError as exc:
            usage(f"{exc.field}: {exc}")
    typer.echo(f"rotated {old[:16]}… out\npublic key: {new}")


@peers_app.command("add")
def peers_add(partner: Annotated[str, typer.Argument(help="The peer's partner code.")],
              key: Annotated[Path, typer.Option(help="A file with the peer's public key "
                                                "(what `node key` prints there).")],
              url: Annotated[str, typer.Option(help="The peer node's address, for "
                                               "`node sync`; empty for bundle files only.")]
              = "",
              database_url: DatabaseUrl = None) -> None:
    """Add a peer node with its public key and address, exchanged out of band."""
    from ..server.federation.keys import NodeError, add_peer, read_public_key

    hub = _hub(database_url)
    try:
        public = read_public_key(key)
        with hub.db.write() as session:
            joint = hub.joint(session)
            partners = tuple(p["code"] for p in joint["partners"]) if joint else None
            add_peer(session, partner=partner, public_key=public, url=url, partners=partners)
    except NodeError as exc:
        usage(str(exc) if exc.field == "key" else f"{exc.field}: {exc}")
    typer.echo(f"added peer {partner} ({public[:16]}…){' at ' + url if url else ''}")


@peers_app.command("list")
def peers_list(database_url: DatabaseUrl = None) -> None:
    """The peers, their addresses, and each key with its state."""
    from ..server.federation.keys import NodeError, peers

    hub = _hub(database_url)
    with hub.db.read() as session:
        try:
            found = peers(session)
        except NodeError as exc:
            usage(str(exc))
    for peer in found:
        typer.echo(f"{peer.partner}  {peer.url or '(bundle files only)'}")
        for key_id, public, state in peer.keys:
            typer.echo(f"  {state:<8} {public}  id {key_id}")


@peers_app.command("rotate")
def peers_rotate(partner: str,
                 key: Annotated[Path, typer.Option(help="A file with the peer's new key.")],
                 database_url: DatabaseUrl = None) -> None:
    """Replace a peer's key: bundles signed with its old key are refused from now on."""
    from ..server.federation.keys import NodeError, read_public_key, rotate_peer

    hub = _hub(database_url)
    try:
        public = read_public_key(key)
        with hub.db.write() as session:
            rotate_peer(session, partner=partner, public_key=public)
    except NodeError as exc:
        usage(str(exc) if exc.field == "key" else f"{exc.field}: {exc}")
    typer.echo(f"{partner}'s key is now {public[:16]}…")


@peers_app.command("revoke")
def peers_revoke(partner: str, database_url: DatabaseUrl = None) -> None:
    """Revoke every key of a peer: its bundles are refused until a new key is added."""
    from ..server.federation.keys import NodeError, revoke_peer

    hub = _hub(database_url)
    with hub.db.write() as session:
        try:
            count = revoke_peer(session, partner=partner)
        except NodeError as exc:
            usage(f"{exc.field}: {exc}")
    typer.echo(f"revoked {count} key(s) of {partner}")


@node_app.command("import")
def node_import(folder: Annotated[Path, typer.Argument(help="workspace.yaml and this node's "
                                                       "own plans and observations.")],
                database_url: DatabaseUrl = None) -> None:
    """Import the node partner's own files; references to peers' plans wait for releases."""
    from ..files import InvalidWorkspace
    from ..server.federation.keys import NodeError
    from ..server.federation.setup import import_own
    from .output import invalid

    hub = _hub(database_url)
    try:
        counts = import_own(hub, folder)
    except InvalidWorkspace as exc:
        invalid(exc, False)
    except NodeError as exc:
        usage(str(exc))
    typer.echo(f"imported {counts['plans']} plans and {counts['observations']} observations")


@node_app.command("export-release")
def node_export_release(to: Annotated[str, typer.Option("--to", help="The peer it is for.")],
                        file: Annotated[Path, typer.Argument(help="Where to write the bundle.")],
                        database_url: DatabaseUrl = None) -> None:
    """Write the signed release for a peer to FILE, to carry where no network reaches."""
    import json

    from ..server.federation.keys import NodeError
    from ..server.federation.release import issue

    hub = _hub(database_url)
    try:
        with hub.db.write() as session:
            text = issue(hub, session, to)
    except NodeError as exc:
        usage(f"{exc.field}: {exc}")
    file.write_text(text + "\n", encoding="utf-8")
    bundle = json.loads(text)
    typer.echo(f"release {bundle['from']} → {to} version {bundle['version']} written to {file}")


@node_app.command("import-release")
def node_import_release(file: Annotated[Path, typer.Argument(help="A bundle from a peer.")],
                        database_url: DatabaseUrl = None) -> None:
    """Take a peer's signed release from FILE; anything wrong with it changes nothing."""
    from ..server.federation.keys import NodeError
    from ..server.federation.release import receive

    try:
        data = file.read_bytes()
    except OSError as exc:
        usage(f"{file}:1:1: cannot read: {exc.strerror}")
    hub = _hub(database_url)
    try:
        result = receive(hub, data, str(file))
    except NodeError as exc:
        usage(str(exc))
    typer.echo(result.summary())


@node_app.command("sync")
def node_sync(peer: Annotated[list[str] | None, typer.Argument(
                  help="Peers to pull from (default: every peer with an address).")] = None,
              wait: Annotated[int, typer.Option(
                  min=0, help="Seconds to keep trying a peer that cannot be reached yet "
                  "(a node still starting); a refusal is not tried again.")] = 0,
              database_url: DatabaseUrl = None) -> None:
    """Pull each peer's signed release to this node over HTTP(S); exit 1 if any is refused."""
    import time

    from ..server.federation.keys import NodeError
    from ..server.federation.sync import Unreachable, peers_with_address, pull

    hub = _hub(database_url)
    try:
        names = peer or peers_with_address(hub)
    except NodeError as exc:
        usage(str(exc))
    failed = False
    for name in names:
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    typer.echo(pull(hub, name).summary())
                    break
                except Unreachable:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.5)
        except NodeError as exc:
            typer.echo(f"jointplan: {name}: {exc}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)


@node_app.command("offer")
def node_offer(plan: Annotated[str, typer.Argument(help="A plan of this node's partner.")],
               task: Annotated[str, typer.Argument(help="One task of it (default: the whole "
                                                   "plan).")] = "",
               no: Annotated[bool, typer.Option("--no", help="Do not offer it.")] = False,
               database_url: DatabaseUrl = None) -> None:
    """Offer a plan or task to private deconfliction (or not, with --no; default: not offered)."""
    from ..server.federation.keys import NodeError, identity
    from ..server.federation.psi import set_offer

    hub = _hub(database_url)
    with hub.db.write() as session:
        try:
            me = identity(session).partner
            version = hub.latest_versions(session).get(plan)
            if version is None or version.owner != me:
                raise NodeError("plan", f"{plan} is not a plan of {me}'s on this node")
            tasks = {t.get("id") for t in (version.doc or {}).get("tasks", [])}
            if task and task not in tasks:
                raise NodeError("task", f"{plan} has no task {task}")
            set_offer(session, plan, task, not no)
        except NodeError as exc:
            usage(f"{exc.field}: {exc}")
    what = f"{plan}/{task}" if task else plan
    typer.echo(f"{what}: {'not ' if no else ''}offered to private deconfliction")


@node_app.command("deconflict")
def node_deconflict(peer: Annotated[str, typer.Argument(help="The peer to run it with.")],
                    database_url: DatabaseUrl = None) -> None:
    """Find collisions of unreleased uses with a peer by private set intersection."""
    from ..server.federation.deconflict import over_http, run
    from ..server.federation.keys import NodeError
    from ..server.federation.tokens import places

    hub = _hub(database_url)
    try:
        found = run(hub, peer, over_http(hub, peer))
    except NodeError as exc:
        usage(str(exc))
    with hub.db.read() as session:
        ws = hub.current(session).workspace
    for c in found:
        typer.echo(c.text(peer, lambda cell: places(ws, cell)))
    typer.echo(f"{len(found)} collision(s) with {peer}; both nodes logged the run")
