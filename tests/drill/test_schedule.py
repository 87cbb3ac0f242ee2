"""`drill schedule`: each rule of the timeline; generated drills against a plain model."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.files import InvalidWorkspace
from jointplan.files.exercise import problem_text
from jointplan.model import format_time
from jointplan.services.drill import schedule_report, schedule_schema
from tests.conftest import EXAMPLES
from tests.drill.conftest import HEAD
from tests.drill.plain_model import plain_schedule

runner = CliRunner()
TASKS = {"AAA": ("aaa-plan/a1", "aaa-plan/a2"), "BBB": ("bbb-plan/b1", "bbb-plan/b2")}


def _t(minutes: int) -> str:
    return format_time(minutes) if minutes else "T+0h"


def exercise_yaml(injects: list[dict]) -> str:
    """The exercise file for injects written as the plain model takes them."""
    lines = [HEAD.rstrip("\n"), "injects:"]
    for inj in injects:
        lines.append(f"  - id: {inj['id']}")
        if inj.get("at") is not None:
            lines.append(f"    at: {_t(inj['at'])}")
        else:
            how = "met" if inj["when_met"] else "missed"
            lines.append(f"    when: {{expectation: {inj['when_exp']}, {how}: true}}")
            if inj.get("delay") or inj.get("write_delay"):
                lines.append(f"    delay: {inj['delay']}m")
        lines += [f"    to: [{', '.join(inj['to'])}]", "    from: Control", "    channel: message",
                  "    text: Something happens."]
        if inj["expect"]:
            lines.append("    expect:")
            lines += [f"      - {{id: {e['id']}, partner: {e['partner']}, task: {e['task']}, "
                      f"by: {_t(e['by'])}}}" for e in inj["expect"]]
    return "\n".join(lines) + "\n"


def log_yaml(actions: list[dict]) -> str:
    return "".join(f"- {{partner: {a['partner']}, task: {a['task']}, at: {_t(a['at'])}}}\n"
                   for a in actions) or "[]\n"


def timed(iid, at, to=("AAA",), expect=()):
    return {"id": iid, "at": at, "to": list(to), "expect": list(expect)}


def cond(iid, exp, met, delay=0, to=("AAA",), expect=()):
    return {"id": iid, "when_exp": exp, "when_met": met, "delay": delay, "to": list(to),
            "expect": list(expect)}


def exp(eid, by, partner="AAA", task="aaa-plan/a1"):
    return {"id": eid, "partner": partner, "task": task, "by": by}


def act(at, partner="AAA", task="aaa-plan/a1"):
    return {"partner": partner, "task": task, "at": at}


@pytest.fixture
def run(workspace, write):
    def schedule(injects, actions=None):
        ex = write("ex.yaml", exercise_yaml(injects))
        log = write("log.yaml", log_yaml(actions)) if actions is not None else None
        return schedule_report(ex, workspace, log)
    return schedule


def results(report):
    return {e["id"]: (e["result"], e["late_by"]) for e in report["expectations"]}


def at(report, inject):
    return sorted({d["at"] for d in report["deliveries"] if d["inject"] == inject})


def test_the_example_schedule(tmp_path):
    report = schedule_report(EXAMPLES / "drills" / "aster-drill-1.yaml",
                             EXAMPLES / "northern-strait",
                             EXAMPLES / "drills" / "aster-drill-1-actions.yaml")
    assert report == {
        "deliveries": [{"inject": "inj-ministry", "partner": "NOR", "at": 0},
                       {"inject": "inj-ministry", "partner": "RRA", "at": 0},
                       {"inject": "inj-reminder", "partner": "NOR", "at": 150},
                       {"inject": "inj-crowd", "partner": "RRA", "at": 180}],
        "expectations": [{"id": "ex-cell", "partner": "NOR", "result": "late", "late_by": 45},
                         {"id": "ex-shelter", "partner": "RRA", "result": "met",
                          "late_by": None}]}
    jsonschema.validate(report, schedule_schema())


def test_met_at_exactly_by_late_after_missed_without(run):
    injects = [timed("i", 0, expect=[exp("e-exact", 60), exp("e-late", 30, task="aaa-plan/a2"),
                                     exp("e-none", 30, partner="BBB", task="bbb-plan/b1")])]
    report = run(injects, [act(60), act(75, task="aaa-plan/a2"), act(90, task="aaa-plan/a2")])
    assert results(report) == {"e-exact": ("met", None), "e-late": ("late", 45),
                               "e-none": ("missed", None)}


def test_the_earliest_action_counts(run):
    report = run([timed("i", 0, expect=[exp("e", 60)])], [act(90), act(20), act(70)])
    assert results(report) == {"e": ("met", None)}


def test_only_actions_at_or_after_the_delivery_count(run):
    injects = [timed("i", 100, expect=[exp("e", 200)]), timed("j", 100, expect=[
        exp("f", 200, task="aaa-plan/a2")])]
    report = run(injects, [act(99), act(100, task="aaa-plan/a2")])
    assert results(report) == {"e": ("missed", None), "f": ("met", None)}


def test_an_action_counts_only_with_its_partner_and_its_task(run):
    injects = [timed("i", 0, to=("AAA", "BBB"), expect=[exp("e", 60)])]
    report = run(injects, [act(10, task="aaa-plan/a2"), act(10, partner="BBB")])
    assert results(report) == {"e": ("missed", None)}


def test_a_missed_inject_fires_at_by_plus_delay_and_a_late_action_does_not_cancel_it(run):
    injects = [timed("i", 0, expect=[exp("e", 60)]), cond("r", "e", met=False, delay=30)]
    assert at(run(injects, []), "r") == [90]
    assert at(run(injects, [act(70)]), "r") == [90]  # late: still fires
    assert at(run(injects, [act(60)]), "r") == []  # met at by: never fires


def test_a_missed_inject_whose_by_precedes_the_delivery_fires_at_the_delivery(run):
    injects = [timed("i", 100, expect=[exp("e", 40)]), cond("r", "e", met=False, delay=5)]
    assert at(run(injects, [act(100)]), "r") == [105]
    assert results(run(injects, [act(100)]))["e"] == ("late", 60)


def test_a_met_inject_fires_at_the_meeting_action_plus_delay(run):
    injects = [timed("i", 10, expect=[exp("e", 60)]), cond("m", "e", met=True, delay=15)]
    assert at(run(injects, [act(5), act(50)]), "m") == [65]
    assert at(run(injects, [act(61)]), "m") == []  # late is not met


def test_delay_defaults_to_zero(run):
    injects = [timed("i", 0, expect=[exp("e", 60)]), cond("m", "e", met=True)]
    assert at(run(injects, [act(33)]), "m") == [33]


def test_chains_of_conditions_and_expectations_of_undelivered_injects(run):
    injects = [timed("i", 0, expect=[exp("e", 60)]),
               cond("m", "e", met=True, delay=10, expect=[exp("f", 120, task="aaa-plan/a2")]),
               cond("n", "f", met=False, delay=10, to=("BBB",)),
               cond("o", "f", met=True, to=("BBB",))]
    missed = run(injects, [])
    assert results(missed) == {"e": ("missed", None), "f": (None, None)}
    assert [d["inject"] for d in missed["deliveries"]] == ["i"]  # a when on no result: never
    met = run(injects, [act(30), act(200, task="aaa-plan/a2")])
    assert results(met)["f"] == ("late", 80)
    assert at(met, "m") == [40] and at(met, "n") == [130] and at(met, "o") == []


def test_deliveries_sort_by_time_then_inject_then_partner_by_code_point(run):
    injects = [timed("x1", 5, to=("BBB", "AAA")), timed("x-1", 5, to=("BBB",)),
               timed("a", 9, to=("AAA",)), timed("z", 0, to=("BBB",))]
    report = run(injects, [])
    assert [(d["at"], d["inject"], d["partner"]) for d in report["deliveries"]] == [
        (0, "z", "BBB"), (5, "x-1", "BBB"), (5, "x1", "AAA"), (5, "x1", "BBB"), (9, "a", "AAA")]
    assert report["expectations"] == []


def test_the_output_has_exactly_the_keys_of_the_contract(run):
    report = run([timed("i", 0, expect=[exp("e", 60)])], [act(61)])
    assert list(report) == ["deliveries", "expectations"]
    assert list(report["deliveries"][0]) == ["inject", "partner", "at"]
    assert list(report["expectations"][0]) == ["id", "partner", "result", "late_by"]
    jsonschema.validate(report, schedule_schema())


@pytest.mark.parametrize("log, expected", [
    ("- {partner: DDD, task: aaa-plan/a1, at: T+1h}\n",
     "log.yaml:1:13: an action: 'partner': DDD is not a player of the exercise"),
    ("- {partner: AAA, task: aaa-plan/secret, at: T+1h}\n",
     "log.yaml:1:24: an action: 'task': no task 'aaa-plan/secret' in the plans under test"),
    ("- {partner: AAA, task: bbb-calm/c1, at: T+1h}\n",
     "log.yaml:1:24: an action: 'task': no task 'bbb-calm/c1' in the plans under test"),
    ("- {partner: AAA, task: aaa-plan/a1, at: T-1h}\n",
     "log.yaml:1:41: an action: 'at' must be at or after T+0h (the exercise's start); got T-1h"),
    ("- {partner: AAA, task: aaa-plan/a1, at: 60}\n",
     "log.yaml:1:41: an action: 'at' must be a time such as T+30h, written as text; got 60"),
    ("- {partner: AAA, task: aaa-plan/a1, at: T+1h, note: x}\n",
     "log.yaml:1:47: unknown key 'note' in an action; the keys of an action are partner, "
     "task, at"),
    ("{partner: AAA}\n", "log.yaml:1:1: an actions log is a list of {partner, task, at}"),
])
def test_a_bad_log_is_located_and_exits_2(workspace, write, log, expected):
    ex = write("ex.yaml", exercise_yaml([timed("i", 0, expect=[exp("e", 60)])]))
    path = write("log.yaml", log)
    with pytest.raises(InvalidWorkspace) as info:
        schedule_report(ex, workspace, path)
    assert [problem_text(p).removeprefix(f"{path.parent}/") for p in info.value.problems] == [
        expected]
    run = runner.invoke(app, ["drill", "schedule", str(ex), str(workspace), "--actions",
                              str(path), "--json"])
    assert run.exit_code == 2
    assert json.loads(run.stdout)["problems"][0]["message"] == expected.split(": ", 1)[1]


def test_an_empty_log_is_no_log(workspace, write):
    ex = write("ex.yaml", exercise_yaml([timed("i", 0, expect=[exp("e", 60)])]))
    for text in ("", "[]\n", "# nothing yet\n"):
        log = write("log.yaml", text)
        assert schedule_report(ex, workspace, log) == schedule_report(ex, workspace, None)
    run = runner.invoke(app, ["drill", "schedule", str(ex), str(workspace), "--json"])
    assert run.exit_code == 0
    assert json.loads(run.stdout)["expectations"] == [
        {"id": "e", "partner": "AAA", "result": "missed", "late_by": None}]


# -- generated drills against the plain model -------------------------------------

IDS = ["a", "a-1", "a1", "b", "b-2", "zz", "m0", "m-0"]


@st.composite
def drills(draw):
    n = draw(st.integers(1, 6))
    inject_ids = draw(st.permutations(IDS))[:n]
    exp_ids = iter(draw(st.permutations([f"e{i}" for i in range(12)])))
    injects: list[dict] = []
    for iid in inject_ids:
        expect = []
        for _ in range(draw(st.integers(0, 2))):
            partner = draw(st.sampled_from(["AAA", "BBB"]))
            expect.append(exp(next(exp_ids), draw(st.integers(0, 240)), partner,
                              draw(st.sampled_from(TASKS[partner]))))
        to = draw(st.lists(st.sampled_from(["AAA", "BBB"]), min_size=1, max_size=2,
                           unique=True))
        earlier = [e["id"] for inj in injects for e in inj["expect"]]
        if earlier and draw(st.booleans()):
            inj = cond(iid, draw(st.sampled_from(earlier)), draw(st.booleans()),
                       draw(st.integers(0, 90)), to, expect)
            inj["write_delay"] = draw(st.booleans())
        else:
            inj = timed(iid, draw(st.integers(0, 240)), to, expect)
        injects.append(inj)
    order = draw(st.permutations(range(n)))  # conditions need not follow what they wait on
    injects = [injects[i] for i in order]
    # Times that sit on the edges (a delivery, a `by`, a minute after) as well as anywhere.
    edges = sorted({t + d for inj in injects for t in [inj.get("at") or 0]
                    + [e["by"] for e in inj["expect"]] for d in (0, 1)})
    times = st.one_of(st.integers(0, 400), st.sampled_from(edges))
    actions = draw(st.lists(st.builds(
        lambda p, k, t: act(t, p, TASKS[p][k]), st.sampled_from(["AAA", "BBB"]),
        st.integers(0, 1), times), max_size=8))
    return injects, actions


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drill=drills())
def test_schedule_agrees_with_a_plain_event_loop_on_generated_drills(workspace, tmp_path, drill):
    injects, actions = drill
    ex = tmp_path / "gen.yaml"
    log = tmp_path / "gen-log.yaml"
    ex.write_text(exercise_yaml(injects))
    log.write_text(log_yaml(actions))
    got = schedule_report(ex, workspace, log)
    assert got == plain_schedule(injects, actions)
    jsonschema.validate(got, schedule_schema())
