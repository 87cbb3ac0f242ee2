"""Plan history and diff: every version read on its own, cut by today's share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jointplan.files import load_workspace
from jointplan.sharing.view import view_for
from tests.conftest import EXAMPLES

from .conftest import Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"


@pytest.fixture
def server(database_url) -> Iterator[Server]:
    started = start_server(database_url, EXAMPLE)
    yield started
    started.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _get(server: Server, partner: str, path: str, **params: str) -> Any:
    return server.client.get(path, headers=server.as_(partner), params=params)  # type: ignore[attr-defined]


def _import(server: Server, partner: str, name: str, text: str) -> None:
    answer = server.client.post("/api/import", headers=server.as_(partner), json={  # type: ignore[attr-defined]
        "files": {name: text}, "reason": "changed"})
    assert answer.status_code == 201, answer.text


def _edited(name: str, old: str, new: str) -> str:
    text = (EXAMPLE / name).read_text()
    assert old in text
    return text.replace(old, new, 1)


def _reference_view(tmp: Path, partner: str, plan: str, text: str) -> dict[str, Any]:
    """The plan as the partner sees it when the folder holds this version (the old way)."""
    tmp.mkdir()
    for f in EXAMPLE.iterdir():
        (tmp / f.name).write_bytes(f.read_bytes())
    (tmp / f"{plan}.yaml").write_text(text)
    view = view_for(load_workspace(tmp).workspace, partner)
    return next(p for p in view["plans"] if p["id"] == plan)


def test_history_and_diff_follow_each_version_as_the_partner_sees_it(server, tmp_path):
    v2 = _edited("sou-port.yaml", "title: ", "title: Renamed ")
    _import(server, "SOU", "sou-port.yaml", v2)
    for partner in ("NOR", "RRA"):
        versions = _get(server, partner, "/api/plans/sou-port/versions")
        assert versions.status_code == 200, versions.text
        ids = [v["version"] for v in versions.json()]
        assert len(ids) == 2
        diff = _get(server, partner, "/api/plans/sou-port/diff", **{"from": ids[0], "to": ids[1]})
        assert diff.status_code == 200
        new_title = _reference_view(tmp_path / partner, partner, "sou-port", v2)["title"]
        assert f"+title: {new_title}" in diff.text
        assert diff.text.count("\n+") - diff.text.count("\n+++") == 1
        # The newest version's view is what the partner is shown of the plan today.
        assert _get(server, partner, "/api/plans/sou-port").json()["title"] == new_title


def _same_as_missing(server: Server, partner: str, path: str, **params: str) -> None:
    hidden = _get(server, partner, path.format(plan="rra-shelter"), **params)
    missing = _get(server, partner, path.format(plan="no-such-plan"), **params)
    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
    assert hidden.status_code == 404


def test_history_after_a_share_narrows_answers_exactly_like_a_missing_plan(server):
    before = _get(server, "SOU", "/api/plans/rra-shelter/versions")
    assert before.status_code == 200
    old = before.json()[0]["version"]
    _import(server, "RRA", "rra-shelter.yaml",
            _edited("rra-shelter.yaml", "share: [NOR, SOU]", "share: [NOR]"))
    new = _get(server, "NOR", "/api/plans/rra-shelter/versions").json()[-1]["version"]
    _same_as_missing(server, "SOU", "/api/plans/{plan}")
    _same_as_missing(server, "SOU", "/api/plans/{plan}/versions")
    _same_as_missing(server, "SOU", "/api/plans/{plan}/diff", **{"from": old, "to": old})
    _same_as_missing(server, "SOU", "/api/plans/{plan}/diff", **{"from": old, "to": new})
    # NOR still sees the plan and its history.
    assert _get(server, "NOR", "/api/plans/rra-shelter/versions").status_code == 200


def test_an_old_version_is_cut_by_todays_share_of_each_item(server):
    from jointplan.server import plans

    from .test_analysis import _actor

    seen = _get(server, "SOU", "/api/plans/rra-shelter").json()
    task = seen["tasks"][0]["id"]
    text = (EXAMPLE / "rra-shelter.yaml").read_text()
    marker = f"  - id: {task}\n"
    assert marker in text
    _import(server, "RRA", "rra-shelter.yaml",
            text.replace(marker, marker + "    share: [NOR]\n", 1))
    assert task not in {t["id"] for t in _get(server, "SOU", "/api/plans/rra-shelter")
                        .json().get("tasks", [])}
    hub = server.hub
    with hub.db.read() as session:  # type: ignore[attr-defined]
        views = plans._version_views(hub, session, _actor(server, "SOU"), "rra-shelter")  # type: ignore[arg-type]
        nor = plans._version_views(hub, session, _actor(server, "NOR"), "rra-shelter")  # type: ignore[arg-type]
    assert len(views) == 2
    for _, view in views:
        assert view is not None and task not in {t["id"] for t in view.get("tasks", [])}
    # NOR, still in the task's share, sees it in both versions.
    assert all(task in {t["id"] for t in view.get("tasks", [])} for _, view in nor if view)
