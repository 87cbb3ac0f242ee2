"""`simulate` as partners meet it: the cut, the leaves, Dask, the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jointplan.analysis.dag import compile_network
from jointplan.analysis.montecarlo import Focus, prepare, simulate
from jointplan.cli import app
from jointplan.services.simulate import (
    dask_client,
    leaves_for,
    run_on_client,
    simulate_workspace,
)
from jointplan.services.workspaces import load_checked
from tests.conftest import JOINT, write_workspace

runner = CliRunner()

ALPHA = """\
jointplan: 1
kind: plan
id: aaa-ops
owner: AAA
title: Alpha operations
scenarios: [s1]
share: [BBB, CCC]
objectives:
  - {id: open-done, title: Prepared, by: T+3h}
  - {id: secret-done, title: Followed up, by: T+5h, share: [CCC]}
tasks:
  - {id: prep, title: Prepare, start: T+0h, duration: {likely: 1h, min: 30m, max: 3h},
     serves: [open-done]}
  - {id: follow, title: Follow up, start: T+1h, duration: 1h, after: [prep],
     flex: [T+1h, T+2h], withhold: {flex: [BBB]}, serves: [secret-done]}
  - {id: secret, title: Secret, start: T+1h, duration: 2h, uses: {dock: 1}, share: [CCC]}
  - {id: after-secret, title: After the secret, start: T+3h, duration: 1h, after: [secret]}
  - {id: secret-big, title: Big secret, start: T+5h, duration: 1h, uses: {dock: 3},
     share: [CCC]}
"""

BRAVO = """\
jointplan: 1
kind: plan
id: bbb-dock
owner: BBB
title: Bravo at the dock
scenarios: [s1]
tasks:
  - {id: unload, title: Unload, start: T+1h30m, duration: 1h, uses: {dock: 1}}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_workspace(tmp_path_factory.mktemp("sim") / "ws",
                           {"workspace.yaml": JOINT, "aaa-ops.yaml": ALPHA,
                            "bbb-dock.yaml": BRAVO})


def report(folder, viewer, **kw):
    [run] = simulate_workspace(folder, viewer, "s1", samples=kw.pop("samples", 2000), **kw)
    return run.report


def names(rep):
    return {f"{t['plan']}/{t['task']}" for t in rep["tasks"]}


# -- the cut ----------------------------------------------------------------------


def test_the_report_has_the_contract_shape(folder):
    rep = report(folder, "AAA", seed=7)
    assert list(rep) == ["workspace", "as", "scenario", "samples", "seed", "objectives",
                         "tasks", "resources"]
    assert (rep["workspace"], rep["as"], rep["scenario"], rep["samples"], rep["seed"]) == (
        "test-ws", "AAA", "s1", 2000, 7)
    prep = next(t for t in rep["tasks"] if t["task"] == "prep")
    assert list(prep) == ["partner", "plan", "task", "criticality", "p_flex_breach", "finish"]
    assert list(prep["finish"]) == ["mean", "p50", "p90"]
    done = next(o for o in rep["objectives"] if o["objective"] == "open-done")
    assert list(done) == ["plan", "objective", "by", "p_met", "finish"] and done["by"] == 180


def test_a_task_is_named_only_when_its_timing_and_its_predecessors_are_visible(folder):
    assert names(report(folder, "BBB")) == {"aaa-ops/prep", "aaa-ops/follow",
                                            "bbb-dock/unload"}
    assert names(report(folder, "CCC")) == {"aaa-ops/prep", "aaa-ops/follow",
                                            "aaa-ops/secret", "aaa-ops/after-secret",
                                            "aaa-ops/secret-big"}
    assert names(report(folder, None)) == names(report(folder, "CCC")) | {"bbb-dock/unload"}


def test_hidden_items_are_never_named_but_still_count(folder):
    rep = report(folder, "BBB")
    assert "secret" not in json.dumps(rep)
    [dock] = rep["resources"]  # the overlap with AAA's hidden task counts ...
    assert dock == {"resource": "dock", "p_over": 1.0, "expected_overrun": 1.0}
    follow = next(t for t in rep["tasks"] if t["task"] == "follow")
    assert follow["criticality"] == 1.0  # ... and so does the objective BBB may not see
    assert [o["objective"] for o in rep["objectives"]] == ["open-done"]


def test_excess_counts_only_at_the_viewers_own_moments(folder):
    # Between T+5h and T+6h the hidden big task overruns the dock by 2, while
    # BBB's unloading is long over: BBB is told of the overrun of 1 it is part of.
    assert report(folder, None)["resources"][0]["expected_overrun"] == 2.0
    assert report(folder, "AAA")["resources"][0]["expected_overrun"] == 2.0
    assert report(folder, "BBB")["resources"][0]["expected_overrun"] == 1.0
    assert report(folder, "CCC")["resources"] == []  # none of CCC's items use it


def test_a_withheld_flex_keeps_its_breach_figure_back(folder):
    def follow(viewer):
        return next(t for t in report(folder, viewer)["tasks"] if t["task"] == "follow")
    assert "p_flex_breach" not in follow("BBB")
    assert 0 < follow("AAA")["p_flex_breach"] < 1  # prep may finish after T+2h


def test_figures_do_not_depend_on_who_looks(folder):
    def prep(viewer):
        return next(t for t in report(folder, viewer)["tasks"] if t["task"] == "prep")
    assert prep("AAA") == prep("BBB") == prep(None)


# -- which leaves -----------------------------------------------------------------


def test_without_a_scenario_the_viewers_own_leaves_are_simulated(folder):
    ws = load_checked(folder).workspace
    assert leaves_for(ws, "AAA", None) == ("s1",)
    assert leaves_for(ws, None, None) == ("s1",)
    assert leaves_for(ws, "CCC", "s2") == ("s2",)
    with pytest.raises(ValueError, match="CCC has no plan with tasks.*--scenario: s1, s2"):
        leaves_for(ws, "CCC", None)
    with pytest.raises(ValueError, match="no scenario 'nowhere'.*s1, s2"):
        leaves_for(ws, "AAA", "nowhere")


# -- Dask -------------------------------------------------------------------------


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_gives_identical_results_on_one_two_and_three_workers(folder, processes):
    """With worker processes, the model, the focus and every tally cross a process
    boundary by pickling, as they do when users run `--workers N`."""
    ws = load_checked(folder).workspace
    model = prepare(compile_network(ws, "s1"), 11)
    focus = Focus.everything(model.network)
    local = simulate(model, focus, 3000, batch=256)
    expected = report(folder, "BBB", samples=3000, seed=11)
    for workers in (1, 2, 3):
        with dask_client(workers, None, processes=processes) as client:
            assert run_on_client(client, model, focus, 3000, batch=256).same_as(local)
            [run] = simulate_workspace(folder, "BBB", "s1", samples=3000, seed=11,
                                       client=client)
            assert run.report == expected


# -- the command line -------------------------------------------------------------


def test_the_command_prints_the_contract_json(folder):
    result = runner.invoke(app, ["simulate", str(folder), "--as", "BBB", "--scenario", "s1",
                                 "--samples", "2000", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == report(folder, "BBB")


def test_the_command_prints_tables_and_writes_plots(folder, tmp_path):
    result = runner.invoke(app, ["simulate", str(folder), "--as", "AAA", "--samples", "500",
                                 "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert "aaa-ops/open-done" in result.stdout and "dock" in result.stdout
    written = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert written == ["s1--criticality.png", "s1--finish--aaa-ops--open-done.png",
                       "s1--finish--aaa-ops--secret-done.png", "s1--load--dock.png"]
    assert all((tmp_path / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in written)


@pytest.mark.parametrize(("args", "message"), [
    (["--as", "ZZZ"], "ZZZ is not a partner"),
    (["--scenario", "nowhere"], "no scenario 'nowhere'"),
    (["--as", "CCC"], "CCC has no plan with tasks"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
])
def test_a_bad_option_exits_2_with_one_clear_line(folder, args, message):
    result = runner.invoke(app, ["simulate", str(folder), *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_an_invalid_workspace_exits_2_with_every_problem_located(tmp_path):
    broken = write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT, "aaa-x.yaml": (
        "jointplan: 1\nkind: plan\nid: aaa-x\nowner: AAA\ntitle: X\nscenarios: [s9]\n"
        "tasks:\n  - {id: a, title: A, start: 30h, duration: 1h}\n")})
    result = runner.invoke(app, ["simulate", str(broken), "--json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == len(result.stderr.strip().splitlines()) >= 2
    assert all(line.startswith(str(broken / "aaa-x.yaml") + ":")
               for line in result.stderr.strip().splitlines())
