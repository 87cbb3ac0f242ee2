"""Each partner's `check` is made of the entries the write cut for the lasting findings.

The write that stores plans cuts every conflict and gap for every partner
(`server/findings.py`); the reads after it assemble each partner's `check`
from those entries instead of cutting the analysis again, and keep it per
stored state. These tests hold the assembled answer to the gate's own
`check_result`, and count that the cut is made once.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jointplan.analysis.occurrences import occurrences
from jointplan.analysis.run import Analysis, analyse
from jointplan.services.workspaces import load_checked
from jointplan.sharing import Rules
from jointplan.sharing import cut as cut_module
from jointplan.sharing import findings as findings_module
from jointplan.sharing.cut import check_result
from jointplan.sharing.findings import FindingCut
from tests.conftest import EXAMPLES

from .conftest import Server, fresh_database, start_server

GENERATE = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
PARTNERS = ("NOR", "SOU", "RRA")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("benchmarks_generate_cut", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        folder = tmp_path_factory.mktemp("cut") / "ws"
        module.generate(folder, 1500, 5)
    finally:
        del sys.modules[spec.name]
    return folder


@pytest.mark.parametrize("which", ["example", "generated"])
def test_a_check_from_the_findings_entries_is_the_gates_check(which, generated):
    folder = EXAMPLES / "northern-strait" if which == "example" else generated
    ws = load_checked(folder).workspace
    full, rules = analyse(ws), Rules(ws)
    partners = list(ws.partner_codes)
    found = occurrences(full)
    assert found, "a workspace without conflicts would prove nothing"
    # As the write does: every finding cut for every partner first, then each check.
    after_findings = FindingCut(full, rules)
    for occ in found:
        after_findings.shown(occ, partners)
    alone = FindingCut(full, rules)  # and a check with nothing cut before it
    for p in partners:
        expected = check_result(full, rules, p)
        assert after_findings.check(p) == expected
        assert alone.check(p) == expected
    assert any(check_result(full, rules, p)["conflicts"] for p in partners)


def test_observations_move_only_likelihoods_in_a_check_from_the_plans_entries():
    ws = load_checked(EXAMPLES / "northern-strait").workspace
    assert ws.observations, "the example has observations"
    plans_ws = replace(ws, _index={}, observations=())
    plans = analyse(plans_ws)
    with_obs = Analysis(replace(plans.compiled, workspace=ws), plans.leaves)
    cut = FindingCut(plans, Rules(plans_ws))
    for p in PARTNERS:
        mine = cut.check(p, with_obs, Rules(ws))
        assert mine == check_result(analyse(ws), Rules(ws), p)
        assert mine["likelihood"] != cut.check(p)["likelihood"]


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    # What is counted happens in the process, whatever the database (SQLite: quicker).
    started = start_server(fresh_database("sqlite", tmp_path), EXAMPLES / "northern-strait")
    yield started
    started.hub.db.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def cuts(monkeypatch) -> dict[str, int]:
    """Counts capacity conflicts cut for a viewer, and `check` objects assembled."""
    counts = {"entries": 0, "reports": 0}
    entries, report = cut_module.capacity_entries, cut_module.check_report

    def counted_entries(*args: Any) -> Any:
        counts["entries"] += 1
        return entries(*args)

    def counted_report(*args: Any) -> Any:
        counts["reports"] += 1
        return report(*args)

    for module in (cut_module, findings_module):
        monkeypatch.setattr(module, "capacity_entries", counted_entries)
        monkeypatch.setattr(module, "check_report", counted_report)
    return counts


def _checks(server: Server) -> dict[str, Any]:
    out = {}
    for p in PARTNERS:
        answer = server.client.get("/api/check", headers=server.as_(p))  # type: ignore[attr-defined]
        assert answer.status_code == 200, answer.text
        out[p] = answer.json()
    return out


def test_the_reads_after_a_plan_write_reuse_its_cut_and_repeated_reads_reuse_theirs(
        server, cuts):
    text = (EXAMPLES / "northern-strait" / "sou-port.yaml").read_text()
    answer = server.client.post("/api/import", headers=server.as_("SOU"), json={  # type: ignore[attr-defined]
        "files": {"sou-port.yaml": text.replace("title: ", "title: Renamed ", 1)},
        "reason": "renamed"})
    assert answer.status_code == 201, answer.text
    assert cuts["entries"] > 0  # the write cut the conflicts for its findings
    cuts["entries"] = 0
    first = _checks(server)
    assert cuts == {"entries": 0, "reports": len(PARTNERS)}
    again = _checks(server)
    assert again == first
    assert cuts == {"entries": 0, "reports": len(PARTNERS)}  # the kept cut, as it was


def test_a_caller_changing_its_answer_does_not_change_the_next(server):
    from jointplan.server.analysis import check_for

    from .test_analysis import _actor

    actor = _actor(server, "NOR")
    first = check_for(server.hub, actor)  # type: ignore[arg-type]
    assert first["conflicts"]
    kept = [dict(c) for c in first["conflicts"]]
    first["conflicts"].clear()
    first["workspace"] = "changed"
    second = check_for(server.hub, actor)  # type: ignore[arg-type]
    assert second["conflicts"] == kept and second["workspace"] != "changed"
