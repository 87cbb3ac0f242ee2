"""A node's analysis equals the central server's for its partner, on what is released to it.

Generated workspaces are split by owner into three nodes that exchange their
releases; each node's server answers `check` for its partner. The central
server, holding everything, answers the same partner on the files it would
export to it (its received copy, `GET /api/export`): conflicts, gaps,
coverage and likelihoods must be the same. Likelihoods and coverage do not
depend on hidden plans' demand, so they must also equal the central server's
direct answer. (The direct answer's conflicts and gaps also count hidden
items, which only private deconfliction can bring to a node.)
"""

from __future__ import annotations

import json
import shutil

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import select

from jointplan.files.yamlread import read_document
from jointplan.server.analysis import check_for
from jointplan.server.hub import Hub, canonical
from jointplan.server.plans import import_folder
from jointplan.services.accounts import Actor, add_user
from jointplan.services.check import check_workspace
from jointplan.services.workspaces import load_checked
from jointplan.sharing import Rules
from jointplan.sharing.view import export_files
from jointplan.store.tables import User
from tests.conftest import EXAMPLES
from tests.federation.nodes import exchange_all, make_nodes
from tests.strategies import workspaces

PARTS = ("conflicts", "gaps", "coverage", "likelihood")


def _planner(hub: Hub, partner: str, partners: tuple[str, ...]) -> Actor:
    with hub.db.write() as session:
        add_user(session, username=f"{partner.lower()}-planner", partner=partner,
                 role="planner", password="correct horse battery", partners=partners)
    with hub.db.read() as session:
        user = session.scalar(select(User).where(User.partner == partner))
    return Actor(user.id, user.username, partner, "planner")


def _federable(folder) -> None:
    """Drop the observations a partner made of an indicator it may not see: on its own node
    such an observation cannot exist (the node knows only the indicators it may see)."""
    ws = load_checked(folder).workspace
    visible = {(i.id, p) for i in ws.indicators for p in ws.partner_codes
               if Rules(ws).sees_indicator(p, i)}
    for path in folder.glob("*.yaml"):
        doc = canonical(read_document(path.read_bytes()))
        if isinstance(doc, dict) and doc.get("kind") == "observations":
            doc["observations"] = [o for o in doc["observations"]
                                   if (o["indicator"], o["by"]) in visible]
            path.unlink()
            path.with_suffix(".json").write_text(json.dumps(doc))


def _compare(folder, tmp) -> None:
    _federable(folder)
    central_ws = load_checked(folder).workspace
    partners = central_ws.partner_codes
    central = Hub(f"sqlite:///{tmp / 'central.db'}", analyses_per_minute=10_000)
    import_folder(central, folder)
    nodes = make_nodes(folder, tmp)
    exchange_all(nodes)
    for partner, node in nodes.items():
        mine = check_for(node.hub, _planner(node.hub, partner, partners))
        direct = check_for(central, _planner(central, partner, partners))
        copy = tmp / f"copy-{partner}"
        copy.mkdir()
        for name, doc in export_files(central_ws, partner).items():
            (copy / name).write_text(yaml.safe_dump(doc, sort_keys=False))
        released = check_workspace(load_checked(copy).workspace, partner)
        for part in PARTS:
            assert mine[part] == released[part], (partner, part)
        assert mine["likelihood"] == direct["likelihood"], partner
        assert mine["coverage"] == direct["coverage"], partner


def test_each_node_of_the_example_answers_as_the_central_server_for_its_partner(tmp_path):
    shutil.copytree(EXAMPLES / "northern-strait", tmp_path / "central")
    _compare(tmp_path / "central", tmp_path)


@settings(max_examples=4, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(generated=workspaces())
def test_nodes_of_generated_workspaces_answer_as_the_central_server(tmp_path_factory,
                                                                    generated):
    tmp = tmp_path_factory.mktemp("gen")
    _compare(generated.write(tmp / "central"), tmp)
