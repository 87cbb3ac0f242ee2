"""Nodes built from one workspace split by owner: each holds its partner's own files.

The joint part each node imports is ``workspace.yaml`` as its partner receives
it; its own plans and observations are the files of ``view --as`` it owns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from jointplan.server.federation import keys
from jointplan.server.federation.release import issue, receive
from jointplan.server.federation.setup import import_own
from jointplan.server.hub import Hub
from jointplan.services.workspaces import load_checked
from jointplan.sharing.view import export_files
from jointplan.store.tables import ReleaseHeld


def split(central: Path, out: Path) -> dict[str, Path]:
    """One folder per partner: workspace.yaml as it receives it, and what it owns."""
    ws = load_checked(central).workspace
    folders = {}
    for partner in ws.partner_codes:
        folder = out / partner
        folder.mkdir(parents=True)
        for name, doc in export_files(ws, partner).items():
            if doc.get("kind") == "plan" and doc.get("owner") != partner:
                continue
            if doc.get("kind") == "observations":
                doc = {**doc, "observations": [o for o in doc["observations"]
                                               if o["by"] == partner]}
                if not doc["observations"]:
                    continue
            (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False))
        folders[partner] = folder
    return folders


@dataclass
class Node:
    partner: str
    hub: Hub
    key_file: Path
    public: str

    def send(self, to: str) -> bytes:
        with self.hub.db.write() as session:
            return issue(self.hub, session, to).encode()

    def take(self, data: bytes, where: str = "bundle.json"):
        return receive(self.hub, data, where)


def make_nodes(central: Path, tmp: Path, *, urls: dict[str, str] | None = None
               ) -> dict[str, Node]:
    """A node per partner on its own SQLite file, every other node its peer."""
    folders = split(central, tmp / "split")
    nodes = {}
    for partner, folder in folders.items():
        hub = Hub(f"sqlite:///{tmp / (partner + '.db')}", analyses_per_minute=10_000)
        key_file = tmp / f"{partner}.key"
        with hub.db.write() as session:
            public = keys.init(session, partner=partner, key_file=key_file)
        import_own(hub, folder)
        nodes[partner] = Node(partner, hub, key_file, public)
    for node in nodes.values():
        with node.hub.db.write() as session:
            for other in nodes.values():
                if other is not node:
                    keys.add_peer(session, partner=other.partner, public_key=other.public,
                                  url=(urls or {}).get(other.partner, ""))
    return nodes


def exchange_all(nodes: dict[str, Node], rounds: int = 2) -> None:
    """Every node sends its release to every other, as files.

    A plan's reference to a peer's item holds on its owner's node only once that
    peer's release has arrived there: a second round carries it on.
    """
    for _ in range(rounds):
        for sender in nodes.values():
            for receiver in nodes.values():
                if receiver is not sender:
                    data = sender.send(receiver.partner)
                    with receiver.hub.db.read() as s:
                        held = s.get(ReleaseHeld, sender.partner)
                    if held is None or held.version < json.loads(data)["version"]:
                        receiver.take(data)
