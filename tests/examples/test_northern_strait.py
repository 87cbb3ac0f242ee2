"""The bundled example, examples/northern-strait, as each partner is told it.

The golden files in ``golden/northern-strait/`` hold the exact
``jointplan check --as CODE --json`` object for NOR, SOU and RRA, and
``all.json`` for the custodian (no ``--as``). When the example or the format's
rules change on purpose, regenerate them and review the diff::

    JOINTPLAN_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/examples

Regenerating rewrites the files and then fails on purpose, so a run that
regenerates can never pass by accident; run the tests again without the
variable to see them pass.

The other tests check that the example still shows what it is there to
show (every conflict and gap kind, hidden counterparts, cut windows,
differing likelihoods), and that nothing a partner may not see reaches it.
Who may see what is worked out here from the YAML files directly, not from
the project's sharing code, so the two can disagree.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.services.check import check_report
from tests.conftest import EXAMPLES

FOLDER = EXAMPLES / "northern-strait"
GOLDEN = Path(__file__).parent / "golden" / "northern-strait"
PARTNERS = ("NOR", "SOU", "RRA")
VIEWERS = (*PARTNERS, None)
REGENERATE = os.environ.get("JOINTPLAN_REGENERATE_GOLDEN") == "1"
CONFLICT_KINDS = ("capacity", "area")
GAP_KINDS = ("unanswered", "late", "early", "short")
# Fields that put a task into each kind of conflict (plan-format.md, "Who sees what").
CONFLICT_FIELDS = {"capacity": ("start", "duration", "uses"),
                   "area": ("start", "duration", "area", "exclusive")}

runner = CliRunner()


def _golden_path(viewer: str | None) -> Path:
    return GOLDEN / f"{viewer or 'all'}.json"


def _invoke(*args: str) -> str:
    # Wide enough that rich never folds an id across two lines of a table.
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _report(viewer: str | None) -> dict[str, Any]:
    return check_report(FOLDER, viewer)


# -- golden files ------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: v or "all")
def test_check_matches_the_golden_file(viewer):
    report = _report(viewer)
    path = _golden_path(viewer)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        pytest.fail(f"regenerated {path}; review the diff and run again without "
                    "JOINTPLAN_REGENERATE_GOLDEN")
    assert path.exists(), f"{path} is missing; set JOINTPLAN_REGENERATE_GOLDEN=1 to write it"
    assert report == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: v or "all")
def test_the_cli_prints_the_golden_json(viewer):
    args = ["check", str(FOLDER), "--json"] + (["--as", viewer] if viewer else [])
    assert json.loads(_invoke(*args)) == _report(viewer)


# -- what the example is there to show ----------------------------------------


def test_validate_accepts_the_example():
    out = _invoke("validate", str(FOLDER))
    assert out.startswith("northern-strait: valid (3 partners,")


def test_every_conflict_and_gap_kind_shows_for_some_partner():
    reports = {p: _report(p) for p in PARTNERS}
    for kind in CONFLICT_KINDS:
        assert any(c["kind"] == kind for r in reports.values() for c in r["conflicts"]), kind
    for kind in GAP_KINDS:
        assert any(g["kind"] == kind for r in reports.values() for g in r["gaps"]), kind


def test_every_partner_sees_both_conflict_kinds():
    for p in PARTNERS:
        assert {c["kind"] for c in _report(p)["conflicts"]} == set(CONFLICT_KINDS), p


def _hidden(conflict: dict[str, Any]) -> list[str]:
    return [t["partner"] for t in conflict["tasks"] if t.get("hidden")]


def test_some_partner_gets_hidden_counterparts_in_both_kinds_of_conflict():
    for kind in CONFLICT_KINDS:
        assert any(_hidden(c) for p in PARTNERS for c in _report(p)["conflicts"]
                   if c["kind"] == kind), kind


def test_a_capacity_conflict_with_hidden_items_is_cut_to_the_viewers_own_minutes():
    full = {(c["resource"], tuple(c["scenarios"])): c["window"]
            for c in _report(None)["conflicts"] if c["kind"] == "capacity"}
    cut = [c for p in PARTNERS for c in _report(p)["conflicts"]
           if c["kind"] == "capacity" and _hidden(c)
           and c["window"] != full[(c["resource"], tuple(c["scenarios"]))]]
    assert cut, "no partner is shown a cut window"
    for c in cut:
        a, b = full[(c["resource"], tuple(c["scenarios"]))]
        assert a <= c["window"][0] < c["window"][1] <= b


def test_an_area_conflict_does_not_list_the_area_of_a_hidden_counterpart():
    areas = _task_areas()
    for p in PARTNERS:
        for c in _report(p)["conflicts"]:
            if c["kind"] != "area":
                continue
            named = {areas[(t["plan"], t["task"])] for t in c["tasks"] if not t.get("hidden")}
            assert set(c["areas"]) == named, (p, c)
    assert any(_hidden(c) for c in _report("RRA")["conflicts"] if c["kind"] == "area")


def test_the_three_partners_likelihoods_differ():
    figures = [_report(p)["likelihood"] for p in PARTNERS]
    assert figures[0] != figures[1] != figures[2] != figures[0]


def test_the_latest_observation_counts_by_real_time_not_by_text_or_order(tmp_path):
    # RRA's "not seen" report reads later (08:00+02:00) and is listed last,
    # but SOU's "seen" report (06:30Z) is later in real time and is the one
    # that counts: dropping RRA's report changes nothing, dropping SOU's does.
    def without(marker: str) -> dict[str, Any]:
        folder = tmp_path / marker.replace(":", "")
        shutil.copytree(FOLDER, folder)
        obs = folder / "observations.yaml"
        lines = obs.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [x for x in lines if marker not in x]
        assert len(kept) == len(lines) - 1
        obs.write_text("".join(kept), encoding="utf-8")
        return check_report(folder, "SOU")["likelihood"]

    now = _report("SOU")["likelihood"]
    assert without("war-risk-premium, at: 2026-11-21T08:00+02:00") == now
    assert without("war-risk-premium, at: 2026-11-21T06:30Z") != now


# -- no leaks: who may see what, worked out from the YAML here -----------------


def _documents() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    workspace, plans = None, []
    for path in sorted(FOLDER.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["kind"] == "workspace":
            workspace = doc
        elif doc["kind"] == "plan":
            plans.append(doc)
    assert workspace is not None
    return workspace, plans


def _members(share: Any, everyone: set[str]) -> set[str]:
    if share is None:
        return set()
    return set(everyone) if share == "all" else set(share)


def _items(plan: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(key, item) for key in ("objectives", "tasks", "expects", "provides")
            for item in plan.get(key, [])]


def _may_see(viewer: str, plan: dict[str, Any], key: str, item: dict[str, Any],
             everyone: set[str]) -> bool:
    if viewer == plan["owner"]:
        return True
    if key == "expects" and item["from"] == viewer:
        return True
    if key == "provides" and item["to"] == viewer:
        return True
    if viewer not in _members(plan.get("share"), everyone):
        return False
    return item.get("share") is None or viewer in _members(item["share"], everyone)


def _withheld(viewer: str, plan: dict[str, Any], item: dict[str, Any]) -> set[str]:
    if viewer == plan["owner"]:
        return set()
    return {field for field, who in (item.get("withhold") or {}).items() if viewer in who}


def _unseen(viewer: str) -> list[str]:
    """Ids and titles of everything in a plan file that ``viewer`` may not see at all."""
    workspace, plans = _documents()
    everyone = {p["code"] for p in workspace["partners"]}
    out = []
    for plan in plans:
        seen_any = False
        for key, item in _items(plan):
            if _may_see(viewer, plan, key, item, everyone):
                seen_any = True
            else:
                out += [item["id"], item.get("title") or item["what"]]
        whole = viewer == plan["owner"] or viewer in _members(plan.get("share"), everyone)
        if not whole:
            out.append(plan["title"])
            if not seen_any:
                out.append(plan["id"])
    return out


def _task_areas() -> dict[tuple[str, str], str | None]:
    _, plans = _documents()
    return {(p["id"], t["id"]): t.get("area") for p in plans for t in p.get("tasks", [])}


def test_every_partner_has_something_it_may_not_see():
    for p in PARTNERS:
        assert _unseen(p), p


@pytest.mark.parametrize("viewer", PARTNERS)
def test_nothing_unseen_reaches_check_or_view(viewer):
    outputs = {
        "check --json": _invoke("check", str(FOLDER), "--as", viewer, "--json"),
        "check": _invoke("check", str(FOLDER), "--as", viewer),
        "view": _invoke("view", str(FOLDER), "--as", viewer),
        "view --format json": _invoke("view", str(FOLDER), "--as", viewer, "--format", "json"),
    }
    for secret in _unseen(viewer):
        for name, text in outputs.items():
            assert secret not in text, f"{secret!r} reached {viewer} through {name}"


@pytest.mark.parametrize("viewer", PARTNERS)
def test_withheld_fields_are_absent_from_view_and_never_name_a_task_in_check(viewer):
    workspace, plans = _documents()
    everyone = {p["code"] for p in workspace["partners"]}
    view = json.loads(_invoke("view", str(FOLDER), "--as", viewer, "--format", "json"))
    viewed = {(p["id"], key, x["id"]): x for p in view["plans"]
              for key in ("objectives", "tasks", "expects", "provides") for x in p.get(key, [])}
    report = json.loads(_invoke("check", str(FOLDER), "--as", viewer, "--json"))
    named = [(c["kind"], t) for c in report["conflicts"] for t in c["tasks"]
             if not t.get("hidden")]
    checked = 0
    for plan in plans:
        for key, item in _items(plan):
            if not _may_see(viewer, plan, key, item, everyone):
                continue
            kept = _withheld(viewer, plan, item)
            doc = viewed[(plan["id"], key, item["id"])]
            for field in kept:
                checked += 1
                assert field not in doc, (viewer, plan["id"], item["id"], field)
                assert field in doc["withheld"], (viewer, plan["id"], item["id"], field)
            if key != "tasks":
                continue
            for kind, entry in named:
                if (entry["plan"], entry.get("task")) != (plan["id"], item["id"]):
                    continue
                assert not kept.intersection(CONFLICT_FIELDS[kind]), (viewer, kind, entry)
                assert ("commitment" in entry) == ("commitment" not in kept), (viewer, entry)
    if viewer == "NOR":
        assert checked == 0  # NOR's partners withhold nothing from it
    else:
        assert checked > 0


def test_a_task_with_a_withheld_field_is_hidden_in_that_kind_of_conflict():
    # SOU sees nor-evacuation/casualty-care but not its `uses`; RRA sees
    # nor-evacuation/assembly-point but not its `area`.
    sou = json.dumps(_report("SOU")["conflicts"])
    rra = json.dumps(_report("RRA")["conflicts"])
    assert "casualty-care" not in sou and "assembly-point" not in rra
    assert "aster-old-town" not in rra
