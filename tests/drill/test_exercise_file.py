"""The exercise file: strict reading, located problems, references through the gate, MSEL."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from openpyxl import Workbook
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.files import InvalidWorkspace
from jointplan.files.exercise import exercise_schema, problem_text
from jointplan.services.drill import load_drill
from tests.conftest import EXAMPLES
from tests.drill.conftest import HEAD

runner = CliRunner()

INJECT = """\
injects:
  - id: start
    at: T+0h
    to: [AAA, BBB]
    from: Control (simulated)
    channel: message
    text: It begins.
    expect:
      - {id: ex-a, partner: AAA, task: aaa-plan/a1, by: T+1h}
"""


def problems(exercise, workspace) -> list[str]:
    with pytest.raises(InvalidWorkspace) as info:
        load_drill(exercise, workspace)
    folder = f"{exercise.parent}/"
    return [problem_text(p).removeprefix(folder) for p in info.value.problems]


def test_a_valid_exercise_reads_into_the_model(workspace, write):
    path = write("ex.yaml", HEAD + "x-note: kept\n" + INJECT)
    checked = load_drill(path, workspace)
    ex = checked.exercise
    assert ex.id == "drill" and ex.scenario == "storm-long"
    assert ex.start.isoformat() == "2026-12-03T08:00:00+00:00"
    assert ex.with_role("player") == ("AAA", "BBB")
    assert ex.extensions == {"x-note": "kept"}
    (inject,) = ex.injects
    assert inject.to == ("AAA", "BBB") and inject.at == 0 and inject.when is None
    assert inject.expect[0].by == 60 and inject.expect[0].task == "aaa-plan/a1"


def test_the_example_exercise_is_valid_and_matches_its_schema():
    path = EXAMPLES / "drills" / "aster-drill-1.yaml"
    load_drill(path, EXAMPLES / "northern-strait")
    jsonschema.Draft202012Validator.check_schema(exercise_schema())
    jsonschema.validate(json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str)),
                        exercise_schema())


@pytest.mark.parametrize("change, expected", [
    (("  - {partner: CCC, role: controller}\n", ""),
     "ex.yaml:8:3: an exercise needs at least one controller among its participants"),
    (("  - {partner: DDD, role: evaluator}\n", "  - {partner: AAA, role: observer}\n"),
     "ex.yaml:11:15: participant AAA is listed twice; each partner takes part once, with one "
     "role (first as player)"),
    (("role: evaluator", "role: judge"),
     "ex.yaml:11:26: participant DDD: 'role' must be one of player, controller, evaluator, "
     "observer; got 'judge'"),
    (("scenario: storm-long", "scenario: storm"),
     "ex.yaml:5:11: the exercise: 'scenario': storm is not a leaf scenario; exercise one of "
     "its leaves: storm-long, storm-short"),
    (("scenario: storm-long", "scenario: strom-long"),
     "ex.yaml:5:11: the exercise: 'scenario': no scenario 'strom-long' in drill-ws; did you "
     "mean 'storm-long'?"),
    (("partner: DDD", "partner: EEE"),
     "ex.yaml:11:15: participant EEE: no partner EEE in drill-ws; partners are AAA, BBB, CCC, "
     "DDD"),
    (("title: A drill", "titel: A drill"),
     "ex.yaml:1:1: the exercise is missing the required key 'title'"),
    (("start: 2026-12-03T08:00Z", "start: 2026-12-03T08:00"),
     "ex.yaml:6:8: the exercise: 'start' must be an ISO 8601 time with a zone, like "
     "2026-11-20T08:00Z; got '2026-12-03T08:00'"),
])
def test_the_header_and_participants_are_checked(workspace, write, change, expected):
    text = (HEAD + INJECT).replace(*change)
    assert expected in problems(write("ex.yaml", text), workspace)


def test_an_unknown_key_is_named_with_the_closest_one(workspace, write):
    text = HEAD + INJECT.replace("channel: message", "chanel: message")
    found = problems(write("ex.yaml", text), workspace)
    assert "ex.yaml:17:5: unknown key 'chanel' in an inject; did you mean 'channel'?" in found


@pytest.mark.parametrize("change, expected", [
    (("    at: T+0h\n", ""), "ex.yaml:13:5: inject 'start' needs `at` (a time) or `when` "
     "(a condition)"),
    (("    at: T+0h\n", "    at: T+0h\n    delay: 5m\n"),
     "ex.yaml:15:12: inject 'start': `delay` is only for a conditional inject (with `when`); "
     "a timed inject says its time in `at`"),
    (("at: T+0h", "at: T-1h"), "ex.yaml:14:9: inject 'start': 'at' must be at or after T+0h "
     "(the exercise's start); got T-1h"),
    (("to: [AAA, BBB]", "to: [AAA, AAA]"), "ex.yaml:15:15: inject 'start': 'to' names AAA "
     "twice"),
    (("to: [AAA, BBB]", "to: [AAA, DDD]"), "ex.yaml:15:15: inject 'start': 'to': DDD is not a "
     "player of the exercise"),
    (("channel: message", "channel: fax"), "ex.yaml:17:14: inject 'start': 'channel' must be "
     "one of message, call, media, situation; got 'fax'"),
    (("    text: It begins.\n", ""), "ex.yaml:13:5: an inject is missing the required "
     "key 'text'"),
    (("by: T+1h}", "by: T+1x}"), "ex.yaml:20:57: expectation 'ex-a': 'by': 'T+1x' is not a "
     "time; write it like T+30h, T+1d6h, T-2d or T+90m"),
    (("partner: AAA, task", "partner: BBB, task"), "ex.yaml:20:29: expectation 'ex-a': "
     "'partner': BBB does not own aaa-plan (its owner is AAA); the partner expected to act "
     "owns the task's plan"),
    (("partner: AAA, task", "partner: DDD, task"), "ex.yaml:20:29: expectation 'ex-a': "
     "'partner': DDD is not a player of the exercise"),
    (("aaa-plan/a1", "aaa-plan/a9"), "ex.yaml:20:40: expectation 'ex-a': 'task': no task "
     "'aaa-plan/a9'"),
    (("task: aaa-plan/a1", "task: bbb-calm/c1"), "ex.yaml:20:40: expectation 'ex-a': 'task': "
     "bbb-calm is not active in storm-long, so it is not under test in this exercise"),
    (("by: T+1h}", "by: T+1h, objective: eo-x}"), "ex.yaml:20:74: expectation 'ex-a': no "
     "exercise objective 'eo-x' in `objectives`"),
])
def test_each_inject_rule_is_checked(workspace, write, change, expected):
    text = HEAD + INJECT.replace(*change)
    assert expected in problems(write("ex.yaml", text), workspace)


def test_a_task_hidden_from_a_controller_reads_like_a_missing_one(workspace, write):
    hidden = problems(write("a.yaml", HEAD + INJECT.replace("aaa-plan/a1", "aaa-plan/secret")),
                      workspace)
    missing = problems(write("a.yaml", HEAD + INJECT.replace("aaa-plan/a1", "aaa-plan/nosuch")),
                       workspace)
    assert hidden == [m.replace("nosuch", "secret") for m in missing]
    assert hidden == ["a.yaml:20:40: expectation 'ex-a': 'task': no task 'aaa-plan/secret'"]


def test_an_objective_hidden_from_a_controller_reads_like_a_missing_one(workspace, write):
    def objective(name: str) -> list[str]:
        text = (HEAD + "objectives:\n  - {id: eo, title: T, plan: aaa-plan, objective: "
                + name + "}\n" + INJECT)
        return problems(write("o.yaml", text), workspace)

    assert load_drill(write("ok.yaml", HEAD + "objectives:\n  - {id: eo, title: T, plan: "
                            "aaa-plan, objective: safe}\n" + INJECT), workspace)
    assert objective("quiet") == [m.replace("nosuch", "quiet") for m in objective("nosuch")]
    assert objective("quiet") == ["o.yaml:13:51: exercise objective 'eo': 'objective': no "
                                  "objective 'quiet' in aaa-plan"]
    # Every controller must see it: with DDD (who sees it) as a second controller, still hidden.
    text = (HEAD.replace("role: evaluator", "role: controller") + "objectives:\n  - {id: eo, "
            "title: T, plan: aaa-plan, objective: quiet}\n" + INJECT)
    assert problems(write("o2.yaml", text), workspace) == [
        "o2.yaml:13:51: exercise objective 'eo': 'objective': no objective 'quiet' in aaa-plan"]


CONDITIONAL = """\
  - id: {id}
    when: {{expectation: {on}, {how}: true}}
    to: [BBB]
    from: Control
    channel: call
    text: Follow-up.
    expect:
      - {{id: ex-{id}, partner: BBB, task: bbb-plan/b1, by: T+3h}}
"""


def test_conditional_injects_may_not_wait_on_each_other_in_a_cycle(workspace, write):
    text = (HEAD + INJECT + CONDITIONAL.format(id="one", on="ex-two", how="missed")
            + CONDITIONAL.format(id="two", on="ex-one", how="met"))
    assert problems(write("c.yaml", text), workspace) == [
        "c.yaml:30:25: inject 'two': conditional injects wait on each other in a cycle: one -> "
        "two -> one (each arrow points to the inject whose expectation it waits on); none of "
        "them can fire"]
    self_wait = HEAD + INJECT + CONDITIONAL.format(id="one", on="ex-one", how="met")
    assert problems(write("s.yaml", self_wait), workspace)[0].startswith(
        "s.yaml:22:25: inject 'one': conditional injects wait on each other in a cycle: one -> one")


@pytest.mark.parametrize("when, expected", [
    ("{expectation: ex-a, missed: false}", "ex.yaml:22:39: inject 'one': 'when': 'missed' must "
     "be true; got false (say `met: true` for the other case)"),
    ("{expectation: ex-a, missed: true, met: true}", "ex.yaml:22:11: inject 'one': 'when' must "
     "say `missed: true` or `met: true`, one of them"),
    ("{expectation: ex-zz, met: true}", "ex.yaml:22:25: inject 'one': when: no expectation "
     "'ex-zz' in the exercise; did you mean 'ex-a'?"),
])
def test_a_when_names_an_expectation_and_one_case(workspace, write, when, expected):
    inject = CONDITIONAL.format(id="one", on="X", how="met").replace(
        "{expectation: X, met: true}", when)
    assert expected in problems(write("ex.yaml", HEAD + INJECT + inject), workspace)


def test_inject_expectation_and_objective_ids_are_unique_in_the_file(workspace, write):
    text = (HEAD + "objectives:\n  - {id: eo, title: A}\n  - {id: eo, title: B}\n" + INJECT
            + INJECT.removeprefix("injects:\n"))
    found = problems(write("u.yaml", text), workspace)
    assert "u.yaml:14:10: the objective id 'eo' is used twice; objective ids are unique in " \
           "the file" in found
    assert "u.yaml:24:9: the inject id 'start' is used twice; inject ids are unique in the " \
           "file" in found
    assert "u.yaml:31:14: the expectation id 'ex-a' is used twice; expectation ids are " \
           "unique in the file" in found


def test_a_file_of_another_kind_is_refused(workspace, write):
    assert problems(write("p.yaml", "jointplan: 1\nkind: plan\n"), workspace) == [
        "p.yaml:2:7: `kind` must be exercise for an exercise file; got 'plan'"]
    assert problems(write("b.yaml", "jointplan: 1\nkind: exercise\nid: [\n"), workspace)[0] \
        .startswith("b.yaml:4:1: not valid YAML")


# -- MSEL -----------------------------------------------------------------------

MSEL_ROWS = [
    ["id", "at", "when", "delay", "to", "from", "channel", "text", "expect"],
    ["m-first", "T+1h", "", "", "AAA, BBB", "Control", "message", "First",
     "ex-m AAA aaa-plan/a2 T+2h"],
    ["m-then", "", "missed ex-m", "15m", "AAA", "Control", "call", "Where are you?", ""],
]


def test_injects_come_from_a_csv_msel(workspace, write, tmp_path):
    import csv
    with (tmp_path / "msel.csv").open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(MSEL_ROWS)
    checked = load_drill(write("m.yaml", HEAD + "msel: msel.csv\n" + INJECT), workspace)
    ids = [i.id for i in checked.exercise.injects]
    assert ids == ["start", "m-first", "m-then"]
    then = checked.exercise.injects[2]
    assert then.when is not None and then.when.expectation == "ex-m" and then.delay == 15
    assert checked.exercise.injects[1].expect[0].by == 120


def test_injects_come_from_an_xlsx_msel_and_problems_name_the_cell(workspace, write, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "injects"
    rows = [list(r) for r in MSEL_ROWS]
    rows[1][1] = "T+1q"          # B2: a bad time
    rows[2][4] = "AAA DDD"       # E3: DDD is not a player (a reference, checked later)
    rows[2][6] = "pigeon"        # G3: a bad channel
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / "msel.xlsx")
    found = problems(write("m.yaml", HEAD + "msel: msel.xlsx\n" + INJECT), workspace)
    assert found == [
        "injects!B2: 'T+1q' is not a time; write it like T+30h, T+1d6h, T-2d or T+90m",
        "injects!G3: must be one of message, call, media, situation; got 'pigeon'"]
    rows[1][1], rows[2][6] = "T+1h", "call"
    book = Workbook()
    book.active.title = "injects"
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "msel.xlsx")
    assert problems(write("m.yaml", HEAD + "msel: msel.xlsx\n" + INJECT), workspace) == [
        "injects!E3: inject 'm-then': 'to': DDD is not a player of the exercise"]


def test_drill_check_exits_0_or_2(workspace, write):
    good = write("g.yaml", HEAD + INJECT)
    bad = write("b.yaml", HEAD + INJECT.replace("aaa-plan/a1", "aaa-plan/secret"))
    run = runner.invoke(app, ["drill", "check", str(good), str(workspace)])
    assert run.exit_code == 0 and "drill: valid (4 participants, 1 injects" in run.stdout
    run = runner.invoke(app, ["drill", "check", str(bad), str(workspace)])
    assert run.exit_code == 2 and run.stdout == ""
    assert run.stderr == f"{bad}:20:40: expectation 'ex-a': 'task': no task 'aaa-plan/secret'\n"


def test_every_exercise_field_is_documented_and_in_the_schema():
    from jointplan.files.exercise import EXERCISE_OBJECTS
    text = (EXAMPLES.parent / "docs" / "format.md").read_text()
    schema = exercise_schema()
    for kind, fields in EXERCISE_OBJECTS.items():
        for key in fields:
            assert f"`{key}`" in text, f"{kind}.{key} is not in docs/format.md"
            assert key in schema["$defs"][kind]["properties"]


def test_schema_prints_the_exercise_and_the_schedule_schemas():
    for of, marker in (("exercise", "inject"), ("drill-schedule", "deliveries")):
        run = runner.invoke(app, ["schema", of])
        assert run.exit_code == 0 and marker in run.stdout
        jsonschema.Draft202012Validator.check_schema(json.loads(run.stdout))


def test_the_demo_loads_the_example_exercise(tmp_path):
    from jointplan.server.hub import Hub
    from jointplan.store.tables import DrillExercise

    database = tmp_path / "demo.db"
    run = runner.invoke(app, ["demo", str(EXAMPLES / "northern-strait"), "--no-serve",
                              "--database", str(database), "--exercise",
                              str(EXAMPLES / "drills" / "aster-drill-1.yaml")])
    assert run.exit_code == 0, run.output
    assert "EXERCISE EXERCISE EXERCISE: Aster unrest" in run.stdout
    assert "SOU controls it" in run.stdout and "NOR, RRA play" in run.stdout
    hub = Hub(f"sqlite:///{database}", migrate=False)
    try:
        with hub.db.read() as session:
            rows = session.query(DrillExercise).all()
            assert [(r.key, r.state) for r in rows] == [("aster-drill-1", "ready")]
    finally:
        hub.db.engine.dispose()
