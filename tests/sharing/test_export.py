"""A partner's view as files: reading them back gives the same view, and nothing more."""

from __future__ import annotations

import pytest
import yaml

from jointplan.files import InvalidWorkspace
from jointplan.services.workspaces import load_checked
from jointplan.sharing.view import export_files, view_for
from tests.conftest import CONTRACT, EXAMPLES, JOINT, write_workspace

FOLDERS = [EXAMPLES / "northern-strait", *sorted(d for d in CONTRACT.iterdir() if d.is_dir())]


def _write(folder, files):
    return write_workspace(folder, {name: yaml.safe_dump(doc, sort_keys=False)
                                    for name, doc in files.items()})


@pytest.mark.parametrize("source", FOLDERS, ids=lambda p: p.name)
def test_exporting_and_reading_back_gives_the_same_view_for_every_partner(source, tmp_path):
    ws = load_checked(source).workspace
    for partner in ws.partner_codes:
        copy = load_checked(_write(tmp_path / partner, export_files(ws, partner))).workspace
        assert view_for(copy, partner) == view_for(ws, partner), partner


def test_the_copy_holds_nothing_the_partner_may_not_see(tmp_path):
    source = EXAMPLES / "northern-strait"
    ws = load_checked(source).workspace
    for partner in ws.partner_codes:
        text = yaml.safe_dump(export_files(ws, partner))
        seen = yaml.safe_dump(view_for(ws, partner))
        for plan in ws.plans:
            for task in plan.tasks:
                if task.title not in seen:
                    assert task.title not in text, (partner, plan.id, task.id)


def test_a_received_copy_may_leave_out_required_fields_it_lists(tmp_path):
    plan = """\
jointplan: 1
kind: plan
id: aaa-copy
owner: AAA
title: A received copy
scenarios: [s1]
share: all
tasks:
  - {id: t, title: Timed elsewhere, duration: 2h, uses: {dock: 1}, withheld: [start]}
  - {id: u, start: T+1h, duration: 1h, withheld: [title]}
"""
    ws = load_checked(write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT,
                                                        "aaa-copy.yaml": plan})).workspace
    t, u = ws.plans[0].tasks
    assert t.withheld == ("start",) and u.withheld == ("title",)
    view = view_for(ws, "BBB")["plans"][0]["tasks"]
    assert "start" not in view[0] and view[0]["withheld"] == ["start"]
    assert "title" not in view[1]


@pytest.mark.parametrize(("task", "message"), [
    ("{id: t, title: T, start: T+1h, duration: 1h, withheld: [start]}",
     "'start' is listed under 'withheld' but given"),
    ("{id: t, title: T, start: T+1h, duration: 1h, withheld: [share]}",
     "'withheld' cannot name 'share'"),
    ("{id: t, title: T, duration: 1h}", "missing the required key 'start'"),
])
def test_withheld_is_checked(tmp_path, task, message):
    plan = ("jointplan: 1\nkind: plan\nid: aaa-copy\nowner: AAA\ntitle: Copy\n"
            f"scenarios: [s1]\ntasks:\n  - {task}\n")
    folder = write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT, "aaa-copy.yaml": plan})
    with pytest.raises(InvalidWorkspace) as exc:
        load_checked(folder)
    assert any(message in p.message for p in exc.value.problems), exc.value.problems
