"""`--t0 SCENARIO=ISO` on `check` and `simulate`: real dates (UTC) beside T+ in the tables."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from jointplan.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
FOLDER = str(EXAMPLES / "northern-strait")


def test_check_shows_real_dates_for_the_declared_scenario_only():
    plain = runner.invoke(app, ["check", FOLDER, "--as", "NOR"])
    dated = runner.invoke(app, ["check", FOLDER, "--as", "NOR",
                                "--t0", "strait-closure=2026-11-20T09:00+01:00"],
                          env={"COLUMNS": "200"})
    assert plain.exit_code == dated.exit_code == 0, dated.output
    assert "UTC" not in plain.output
    # a window under the closure reads T+… (2026-11-2… UTC); one under another scenario not
    assert re.search(r"T\+\S+ \(2026-1[12]-\d\d \d\d:\d\d UTC\)", dated.output), dated.output
    closure = dated.output.split("Scenario closure-long")[1].split("Scenario ")[0]
    assert "UTC" in closure
    if "Scenario unrest-aster" in dated.output:
        unrest = dated.output.split("Scenario unrest-aster")[1].split("Coverage")[0]
        assert "UTC" not in unrest


def test_simulate_shows_real_dates_and_a_bad_t0_is_a_usage_error():
    dated = runner.invoke(app, ["simulate", FOLDER, "--as", "SOU", "--scenario", "unrest-aster",
                                "--samples", "50", "--t0", "unrest-aster=2026-11-20T08:00Z"],
                          env={"COLUMNS": "200"})
    assert dated.exit_code == 0, dated.output
    assert re.search(r"T\+\S+ \(2026-11-2\d \d\d:\d\d UTC\)", dated.output), dated.output
    bad = runner.invoke(app, ["check", FOLDER, "--t0", "closure-long=2026-11-20T08:00Z"])
    assert bad.exit_code == 2 and "strait-closure" in bad.output
    bad = runner.invoke(app, ["check", FOLDER, "--t0", "baseline=2026-11-20T08:00"])
    assert bad.exit_code == 2 and "zone" in bad.output
