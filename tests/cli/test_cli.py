"""The CLI as a user meets it: exit codes, located problems, no tracebacks, every format."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from jointplan import cli
from jointplan.cli import app
from tests.conftest import CONTRACT, JOINT, write_workspace

runner = CliRunner()

BROKEN_PLAN = """\
jointplan: 1
kind: plan
id: aaa-broken
owner: AAA
title: Broken
scenarios: [s1, nowhere]
tasks:
  - {id: a, title: A, start: 30h, duration: 1h}
"""


@pytest.fixture
def broken(tmp_path):
    return write_workspace(tmp_path / "ws", {"workspace.yaml": JOINT,
                                             "aaa-broken.yaml": BROKEN_PLAN})


def test_an_invalid_workspace_exits_2_with_every_problem_located(broken):
    result = runner.invoke(app, ["check", str(broken), "--as", "AAA"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    plan = broken / "aaa-broken.yaml"
    assert f"{plan}:6:17: plan 'aaa-broken': scenarios: no scenario 'nowhere'" in lines[0]
    assert lines[1].startswith(f"{plan}:8:30: task 'a': 'start'")
    assert "T+30h" in lines[1]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_with_json_the_problems_are_also_printed_as_json(broken):
    result = runner.invoke(app, ["check", str(broken), "--json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(6, 17), (8, 30)]
    assert all(p["file"].endswith("aaa-broken.yaml") for p in problems)


def test_validate_reports_a_valid_workspace_in_one_line():
    result = runner.invoke(app, ["validate", str(CONTRACT / "window-cut")])
    assert result.exit_code == 0
    assert result.stdout.strip() == ("window-cut: valid (3 partners, 2 plans, 3 tasks, "
                                     "0 observations)")


def test_an_unknown_partner_is_a_usage_error_without_traceback():
    result = runner.invoke(app, ["check", str(CONTRACT / "window-cut"), "--as", "ZZZ"])
    assert result.exit_code == 2
    assert "ZZZ is not a partner of window-cut; partners are AAA, BBB, CCC" in result.stderr


def test_a_missing_folder_is_reported_like_any_other_problem(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope'}:1:1: no such folder"


def test_check_tables_name_only_what_the_partner_may_see():
    result = runner.invoke(app, ["check", str(CONTRACT / "window-cut"), "--as", "BBB"])
    assert result.exit_code == 0
    assert "bbb-supply/lift" in result.stdout
    assert "AAA: hidden" in result.stdout
    assert "aaa-port" not in result.stdout and "unload" not in result.stdout
    assert "T+13h20m" in result.stdout


def test_view_leaves_out_hidden_plans_and_marks_withheld_fields():
    result = runner.invoke(app, ["view", str(CONTRACT / "withheld-fields"), "--as", "BBB",
                                 "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    flights = doc["plans"][0]["tasks"][0]
    assert flights["id"] == "flights" and flights["withheld"] == ["uses"]
    assert "uses" not in flights and "withhold" not in flights
    assert "share" not in doc["plans"][0]


def test_view_in_yaml_reads_back_as_the_same_document():
    as_yaml = runner.invoke(app, ["view", str(CONTRACT / "window-cut"), "--as", "CCC"])
    as_json = runner.invoke(app, ["view", str(CONTRACT / "window-cut"), "--as", "CCC",
                                  "--format", "json"])
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)
    assert [p["id"] for p in json.loads(as_json.stdout)["plans"]] == ["bbb-supply"]


def test_view_refuses_an_unknown_format():
    result = runner.invoke(app, ["view", str(CONTRACT / "window-cut"), "--as", "AAA",
                                 "--format", "xml"])
    assert result.exit_code == 2
    assert "--format must be yaml or json" in result.stderr


def test_the_schema_is_valid_and_accepts_every_contract_file():
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(CONTRACT.glob("*/*.yaml"))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.load(path.read_text(), Loader=_Yaml12)))
        assert not errors, (path, errors[0].message)


def test_the_schema_rejects_an_unknown_key():
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    doc = {"jointplan": 1, "kind": "observations", "observations": [], "extra": 1}
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)
    doc = {"jointplan": 1, "kind": "observations", "observations": [], "x-note": 1}
    assert jsonschema.Draft202012Validator(schema).is_valid(doc)


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("jointplan.cli.check.check_report", boom)
    monkeypatch.setattr(sys, "argv", ["jointplan", "check", str(CONTRACT / "window-cut")])
    monkeypatch.delenv("JOINTPLAN_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: disk on fire" in err
    assert "Traceback" not in err


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("jointplan ")


class _Yaml12(yaml.SafeLoader):
    """Enough of YAML 1.2 for the contract files: `NO` and `ON` stay strings."""


_Yaml12.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12.add_implicit_resolver("tag:yaml.org,2002:bool", __import__("re").compile(
    r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


# -- deconflict ------------------------------------------------------------------------

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "northern-strait")


@pytest.mark.parametrize(("args", "message"), [
    (["--scenario", "strait-closure"], "strait-closure is not a leaf scenario"),
    (["--scenario", "nowhere"], "nowhere is not a scenario"),
    (["--scenario", "unrest-aster", "--as", "XYZ"], "XYZ is not a partner"),
    (["--scenario", "unrest-aster", "--objective", "soonest"], "--objective must be"),
])
def test_deconflict_refuses_a_bad_option_with_exit_2_and_a_message(args, message):
    result = runner.invoke(app, ["deconflict", EXAMPLE, *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""
    result = runner.invoke(app, ["deconflict", EXAMPLE, *args, "--json"])
    assert result.exit_code == 2
    assert message in json.loads(result.stdout)["problems"][0]["message"]


def test_deconflict_prints_moves_and_what_remains():
    result = runner.invoke(app, ["deconflict", EXAMPLE, "--scenario", "unrest-aster",
                                 "--as", "NOR", "--time-limit", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "nor-evacuation/charter-flights" in result.stdout
    assert "Remaining conflicts" in result.stdout


def test_deconflict_with_the_makespan_objective_adds_the_latest_finish():
    result = runner.invoke(app, ["deconflict", EXAMPLE, "--scenario", "unrest-aster", "--json",
                                 "--objective", "makespan", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc["makespan"], int) and doc["status"] in ("optimal", "feasible")


def test_an_unknown_schema_is_refused():
    result = runner.invoke(app, ["schema", "nothing"])
    assert result.exit_code == 2 and "plan, exercise, deconflict or drill-schedule" in result.stderr


@pytest.mark.parametrize("command", [
    ["check"], ["simulate", "--scenario", "unrest-aster", "--samples", "100"],
    ["deconflict", "--scenario", "unrest-aster"],
])
def test_every_command_prints_one_object_for_a_bad_option(command):
    result = runner.invoke(app, [command[0], EXAMPLE, *command[1:], "--as", "XYZ", "--json"])
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert set(body) == {"problems", "error"}
    assert "XYZ is not a partner" in body["error"]
    assert body["problems"] == [{"message": body["error"]}]
