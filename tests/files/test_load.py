"""A workspace folder: headers, ids, references, cycles, the scenario tree, the model built."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jointplan.files import InvalidWorkspace, Problem, load_workspace
from jointplan.model import Commitment, Duration, Tlp

from .conftest import PLAN_HEAD, WORKSPACE, at

SOU_PLAN = """\
jointplan: 1
kind: plan
id: sou-port
owner: SOU
title: Port security
scenarios: [closure]
share: all
tasks:
  - {id: close, title: Close the port, start: T+2h, duration: 4h}
expects:
  - {id: ferry-help, from: NOR, what: A ferry, window: [T+1h, T+9h]}
"""

# -- headers and files ----------------------------------------------------------


def test_a_folder_without_a_workspace_file_is_reported_at_the_folder(folder):
    folder.write("nor-evac.yaml", PLAN_HEAD)
    problem = folder.problem()
    assert (problem.file, problem.line, problem.column) == (str(folder.path), 1, 1)
    assert "no workspace file" in problem.message and "kind: workspace" in problem.message


def test_an_empty_folder_has_no_workspace_file(folder):
    assert "no workspace file" in folder.problem().message


def test_a_folder_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(InvalidWorkspace) as caught:
        load_workspace(tmp_path / "nowhere")
    assert [p.message for p in caught.value.problems] == ["no such folder"]


def test_only_yaml_and_json_files_that_are_not_hidden_are_read(ws):
    ws.write("notes.txt", "not a plan")
    ws.write(".draft.yaml", "jointplan: 2\n")
    ws.write("README.md", "# hello")
    assert ws.load().workspace.id == "strait"


def test_two_workspace_files_are_reported_at_the_second(ws):
    text = ws.write("workspace2.yaml", WORKSPACE)
    ws.assert_problem("workspace2.yaml", text, "jointplan",
                      "a second workspace file; a folder holds one, and workspace.yaml is "
                      "the first")


@pytest.mark.parametrize(("version", "marker", "fragment"), [
    ("2", "2", "`jointplan` is the format version, the number 1; got 2"),
    ("true", "true", "got true"),
    ("1.0", "1.0", "got 1.0"),
    ("'1'", "'1'", "got '1'"),
    ("[1]", "[1]", "got a list"),
    ("", " \n", "got nothing (null)"),
])
def test_a_version_other_than_1_is_refused(ws, version, marker, fragment):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("jointplan: 1", f"jointplan: {version}"))
    ws.assert_problem("nor-evac.yaml", text, marker, fragment, nth=1)


@pytest.mark.parametrize(("text", "marker", "fragment"), [
    ("kind: plan\nid: nor-evac\n", "kind", "missing `jointplan: 1` (the format version)"),
    ("jointplan: 1\nid: nor-evac\n", "jointplan", "missing `kind:`"),
    ("jointplan: 1\nkind: plans\n", "plans", "`kind` must be workspace, plan or observations; "
     "got 'plans'"),
    ("jointplan: 1\nkind: {a: 1}\n", "{a", "got a mapping"),
    ("- jointplan: 1\n- kind: plan\n", "- jointplan", "a file must be a mapping of keys to "
     "values that starts with `jointplan: 1` and `kind:`; this one is a list"),
    ("[1, 2]\n", "[1", "this one is a list"),
    ("hello\n", "hello", "this one is the single value 'hello'"),
    ("~\n", "~", "the file is empty"),
])
def test_a_file_without_a_good_header_is_located(ws, text, marker, fragment):
    ws.write("nor-evac.yaml", text)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


def test_a_broken_file_does_not_also_claim_the_workspace_file_is_missing(folder):
    text = folder.write("workspace.yaml", "jointplan: 1\nkind: workspace\n" + "title: a\n" * 2)
    folder.assert_problem("workspace.yaml", text, "title: a", "the key 'title' is repeated",
                          nth=2)


# -- ids ------------------------------------------------------------------------


def test_an_id_used_twice_in_a_plan_is_reported_at_the_second(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "objectives:\n  - {id: out, title: O, "
                    "by: T+1d}\ntasks:\n  - {id: out, title: A, start: T+0h, duration: 1h}\n")
    ws.assert_problem("nor-evac.yaml", text, "out", "the id 'out' is used twice in this file "
                      "(first at line 8); ids are unique within their file", nth=2)


def test_an_id_used_twice_in_the_workspace_is_reported_at_the_second(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace("{id: berth,", "{id: port,"))
    folder.assert_problem("workspace.yaml", text, "port,", "the id 'port' is used twice in "
                          "this file (first at line 10)")


def test_a_plan_id_used_by_two_files_is_reported_at_the_second_naming_the_first(ws):
    ws.write("a.yaml", PLAN_HEAD)
    text = ws.write("b.yaml", PLAN_HEAD.replace("title: Evacuation", "title: Copy"))
    ws.assert_problem("b.yaml", text, "nor-evac", "the plan id 'nor-evac' is already used by "
                      "a.yaml; give each plan its own id")


def test_a_plan_id_must_begin_with_its_owners_code(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("id: nor-evac", "id: evac"))
    ws.assert_problem("nor-evac.yaml", text, "evac\n", "the plan id 'evac' must begin with its "
                      "owner's code in lower case and a hyphen, like 'nor-evac'")


def test_a_plan_id_of_another_partner_is_refused(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("id: nor-evac", "id: sou-evac"))
    ws.assert_problem("nor-evac.yaml", text, "sou-evac", "must begin with its owner's code")


# -- references -----------------------------------------------------------------


@pytest.mark.parametrize(("body", "marker", "fragment"), [
    ("share: [SOU, XYZ]\n", "XYZ", "plan 'nor-evac': share: no partner 'XYZ' in the "
     "workspace; known: NOR, RRA, SOU"),
    ("share: [SUO]\n", "SUO", "no partner 'SUO' in the workspace; did you mean 'SOU'?"),
    ("expects:\n  - {id: e, from: XYZ, what: W, window: [T+0h, T+1h]}\n", "XYZ",
     "expectation 'e': from: no partner 'XYZ'"),
    ("provides:\n  - {id: p, to: XYZ, what: W, window: [T+0h, T+1h]}\n", "XYZ",
     "provision 'p': to: no partner 'XYZ'"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, uses: {crane: 1}}\n", "crane",
     "task 'a': uses: no resource 'crane' in the workspace; known: berth"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, area: dock}\n", "dock",
     "task 'a': area: no area 'dock' in the workspace; known: port"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, area: prot}\n", "prot",
     "did you mean 'port'?"),
    ("expects:\n  - {id: e, from: SOU, what: W, window: [T+0h, T+1h], uses: {crane: 2}}\n",
     "crane", "expectation 'e': uses: no resource 'crane'"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, after: [nope]}\n", "nope",
     "task 'a': after 'nope': no such task"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, after: [sou-port/nope]}\n",
     "sou-port/nope", "task 'a': after 'sou-port/nope': no such task"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, after: [rra-x/close]}\n",
     "rra-x/close", "after 'rra-x/close': no such task"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, after: [a]}\n", "a]",
     "task 'a' cannot come after itself"),
    ("tasks:\n  - {id: a, title: A, start: T+0h, duration: 1h, after: [nor-evac/a]}\n",
     "nor-evac/a", "task 'a' cannot come after itself"),
    ("objectives:\n  - {id: out, title: O, by: T+1d}\ntasks:\n  - {id: a, title: A, "
     "start: T+0h, duration: 1h, serves: [out, in]}\n", "in]",
     "task 'a': serves 'in', which is not an objective of 'nor-evac'"),
    ("provides:\n  - {id: p, to: SOU, what: W, window: [T+0h, T+1h], answers: sou-port/nope}\n",
     "sou-port/nope", "provision 'p': answers 'sou-port/nope': no such expectation"),
    ("provides:\n  - {id: p, to: SOU, what: W, window: [T+0h, T+1h], answers: nope}\n",
     "nope", "provision 'p': 'answers' must be PLAN/EXPECTATION; got 'nope'"),
    ("provides:\n  - {id: p, to: RRA, what: W, window: [T+0h, T+1h], "
     "answers: sou-port/ferry-help}\n", "sou-port/ferry-help",
     "answers 'sou-port/ferry-help', an expectation of SOU addressed to NOR; a provision "
     "answers only what its `to` partner (RRA) expects of its owner (NOR)"),
])
def test_an_unresolved_reference_in_a_plan_is_located(ws, body, marker, fragment):
    ws.write("sou-port.yaml", SOU_PLAN)
    text = ws.write("nor-evac.yaml", PLAN_HEAD + body)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


def test_answers_to_an_expectation_addressed_to_another_partner_is_refused(ws):
    ws.write("sou-port.yaml", SOU_PLAN.replace("from: NOR", "from: RRA"))
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "provides:\n  - {id: p, to: SOU, what: W, "
                    "window: [T+0h, T+1h], answers: sou-port/ferry-help}\n")
    ws.assert_problem("nor-evac.yaml", text, "sou-port/ferry-help",
                      "an expectation of SOU addressed to RRA")


def test_references_across_plans_that_resolve_load(ws):
    ws.write("sou-port.yaml", SOU_PLAN)
    ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n  - {id: a, title: A, start: T+9h, "
             "duration: 1h, after: [sou-port/close]}\nprovides:\n  - {id: p, to: SOU, "
             "what: W, window: [T+1h, T+9h], answers: sou-port/ferry-help}\n")
    nor = ws.load().workspace.plan("nor-evac")
    assert nor.tasks[0].after == ("sou-port/close",)
    assert nor.provides[0].answers == "sou-port/ferry-help"


def test_a_task_that_could_not_be_read_is_not_also_reported_missing(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
                    "  - {id: a, title: A, start: T+0h, duration: soon}\n"
                    "  - {id: b, title: B, start: T+0h, duration: 1h, after: [a]}\n")
    ws.assert_problem("nor-evac.yaml", text, "soon", "'soon' is not a duration")


def test_an_expectation_that_could_not_be_read_is_not_also_reported_missing(ws):
    ws.write("sou-port.yaml", SOU_PLAN.replace("window: [T+1h, T+9h]", "window: [T+9h, T+1h]"))
    ws.write("nor-evac.yaml", PLAN_HEAD + "provides:\n  - {id: p, to: SOU, what: W, "
             "window: [T+0h, T+1h], answers: sou-port/ferry-help}\n")
    problem = ws.problem()
    assert problem.file == ws.file("sou-port.yaml")
    assert "ends before it starts" in problem.message


@pytest.mark.parametrize(("old", "new", "marker", "fragment"), [
    ("holder: SOU", "holder: XYZ", "XYZ", "resource 'berth': holder: no partner 'XYZ'"),
    ("owner: SOU", "owner: XYZ", "XYZ", "indicator 'premium': owner: no partner 'XYZ'"),
    ("closure: 0.8}", "closure: 0.8, nope: 0.5}", "nope",
     "indicator 'premium': likelihood: no scenario 'nope' in the workspace"),
    ("parent: closure, title: Long", "parent: closur, title: Long", "closur,",
     "scenario 'long': parent: no scenario 'closur' in the workspace; did you mean 'closure'?"),
])
def test_an_unresolved_reference_in_the_workspace_is_located(folder, old, new, marker,
                                                              fragment):
    text = folder.write("workspace.yaml", WORKSPACE.replace(old, new))
    problems = folder.problems()
    line, column = at(text, marker)
    located = [p for p in problems if (p.line, p.column) == (line, column)]
    assert len(located) == 1 and fragment in located[0].message, "\n".join(map(str, problems))
    if "parent" not in old:
        assert problems == located


def test_a_plan_for_an_unknown_scenario_is_located(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("[closure]", "[closure, strike]"))
    ws.assert_problem("nor-evac.yaml", text, "strike", "plan 'nor-evac': scenarios: no "
                      "scenario 'strike' in the workspace; known: calm, closure, long, short")


def test_an_observation_of_an_unknown_indicator_is_located(ws):
    text = ws.write("observations.yaml", "jointplan: 1\nkind: observations\nobservations:\n"
                    "  - {indicator: premum, at: 2026-11-20T08:00Z, seen: true, by: SOU}\n")
    ws.assert_problem("observations.yaml", text, "premum", "an observation: indicator: no "
                      "indicator 'premum' in the workspace; did you mean 'premium'?")


# -- dependency cycles ----------------------------------------------------------


def test_a_dependency_cycle_is_reported_once_with_its_path(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
                    "  - {id: x, title: X, start: T+0h, duration: 1h, after: [y]}\n"
                    "  - {id: y, title: Y, start: T+0h, duration: 1h, after: [z]}\n"
                    "  - {id: z, title: Z, start: T+0h, duration: 1h, after: [x]}\n")
    problem = ws.assert_problem("nor-evac.yaml", text, "x]", "remove one of these `after`")
    assert problem.message.startswith(
        "dependency cycle: nor-evac/x after nor-evac/y after nor-evac/z after nor-evac/x; ")


def test_a_two_task_cycle_reads_as_the_brief_example(ws):
    ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
             "  - {id: x, title: X, start: T+0h, duration: 1h, after: [y]}\n"
             "  - {id: y, title: Y, start: T+0h, duration: 1h, after: [x]}\n")
    assert ws.problem().message.startswith(
        "dependency cycle: nor-evac/x after nor-evac/y after nor-evac/x;")


def test_a_dependency_cycle_across_plans_is_reported(ws):
    sou = ws.write("sou-port.yaml", SOU_PLAN.replace("duration: 4h}", "duration: 4h, "
                                                     "after: [nor-evac/a]}"))
    ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
             "  - {id: a, title: A, start: T+0h, duration: 1h, after: [b]}\n"
             "  - {id: b, title: B, start: T+0h, duration: 1h, after: [sou-port/close]}\n")
    problem = ws.assert_problem("sou-port.yaml", sou, "nor-evac/a", "dependency cycle")
    assert problem.message.startswith("dependency cycle: nor-evac/a after nor-evac/b after "
                                      "sou-port/close after nor-evac/a;")


def test_a_cycle_is_reported_alongside_other_problems(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "share: [XYZ]\ntasks:\n"
                    "  - {id: x, title: X, start: T+0h, duration: 1h, after: [x2]}\n"
                    "  - {id: x2, title: X, start: T+0h, duration: 1h, after: [x]}\n")
    problems = ws.problems()
    assert [(p.line, p.column) for p in problems] == [at(text, "XYZ"), at(text, "x]}")]
    assert problems[1].message.startswith("dependency cycle: ")


def test_a_diamond_of_dependencies_is_not_a_cycle(ws):
    ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
             "  - {id: a, title: A, start: T+0h, duration: 1h}\n"
             "  - {id: b, title: B, start: T+1h, duration: 1h, after: [a]}\n"
             "  - {id: c, title: C, start: T+1h, duration: 1h, after: [a]}\n"
             "  - {id: d, title: D, start: T+2h, duration: 1h, after: [b, c, a]}\n")
    assert [t.after for t in ws.load().workspace.plans[0].tasks] == [
        (), ("a",), ("a",), ("b", "c", "a")]


# -- the scenario tree --------------------------------------------------------------


def test_a_scenario_that_is_its_own_parent_is_located_at_its_parent(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace(
        "{id: calm, title: Calm, prior: 0.6}", "{id: calm, title: Calm, prior: 0.6, "
        "parent: calm}").replace("prior: 0.4}", "prior: 1.0}"))
    folder.assert_problem("workspace.yaml", text, "calm}", "scenario 'calm' names itself as "
                          "its parent; a top-level scenario has no `parent`")


def test_a_cycle_of_scenario_parents_is_reported_once_with_its_path(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace(
        "{id: closure, title: Closure, prior: 0.4}",
        "{id: closure, title: Closure, prior: 0.4, parent: long}").replace(
        "prior: 0.6}", "prior: 1}").replace(
        "  - {id: short, parent: closure, title: Short closure, prior: 0.5}\n",
        "  - {id: short, parent: closure, title: Short closure, prior: 0.5}\n"
        "  - {id: under, parent: long, title: Under the cycle, prior: 1}\n"))
    # closure's parent is long, long's closure: one problem, at the parent that closes it.
    folder.assert_problem("workspace.yaml", text, "closure, title: Long", "scenario parents "
                          "form a cycle: closure -> long -> closure (each arrow points to a "
                          "parent); the scenarios must form a tree")


@pytest.mark.parametrize(("old", "new", "marker", "fragment"), [
    ("prior: 0.4}", "prior: 0.3}", "0.6", "the priors of the top-level scenarios (calm, "
     "closure) sum to 0.9; they must sum to 1"),
    ("Short closure, prior: 0.5", "Short closure, prior: 0.6", "0.5}",
     "the priors of the children of 'closure' (long, short) sum to 1.1; they must sum to 1"),
])
def test_sibling_priors_must_sum_to_1(folder, old, new, marker, fragment):
    text = folder.write("workspace.yaml", WORKSPACE.replace(old, new))
    folder.assert_problem("workspace.yaml", text, marker, fragment, nth=1)


def test_priors_within_a_thousandth_of_1_are_accepted(folder):
    folder.write("workspace.yaml", WORKSPACE.replace("prior: 0.4}", "prior: 0.3995}")
                 .replace("Short closure, prior: 0.5", "Short closure, prior: 0.5009"))
    assert [s.prior for s in folder.load().workspace.scenarios] == [0.6, 0.3995, 0.5, 0.5009]


def test_priors_just_past_a_thousandth_are_refused(folder):
    folder.write("workspace.yaml", WORKSPACE.replace("prior: 0.4}", "prior: 0.3985}"))
    assert "sum to 0.9985" in folder.problem().message


def test_a_bad_prior_is_not_also_reported_as_a_bad_sum(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace("prior: 0.4}", "prior: high}"))
    folder.assert_problem("workspace.yaml", text, "high", "must be a probability")


def test_an_indicator_must_name_every_top_level_scenario(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace("{calm: 0.1, closure: 0.8}",
                                                            "{closure: 0.8, long: 0.9}"))
    folder.assert_problem("workspace.yaml", text, "{closure", "indicator 'premium': likelihood "
                          "must name every top-level scenario; add calm")


# -- every problem together ---------------------------------------------------------


def test_problems_from_several_files_are_reported_together_and_sorted(ws):
    b = ws.write("b-plan.yaml", PLAN_HEAD.replace("nor-evac", "nor-b") + "tlp: pink\n"
                 "tasks:\n  - {id: t, title: T, start: T+0h, duration: 1h, area: dock}\n")
    a = ws.write("a-plan.yaml", PLAN_HEAD.replace("nor-evac", "nor-a").replace(
        "scenarios: [closure]", "scenarios: [closed]") + "share: [sou]\n")
    o = ws.write("observations.yaml", "jointplan: 1\nkind: observations\nobservations:\n"
                 "  - {indicator: premium, at: 2026-11-20, seen: true, by: SOU}\n")
    ws.write("workspace.yaml", WORKSPACE.replace("capacity: 4", "capacity: many"))
    with pytest.raises(InvalidWorkspace) as caught:
        ws.load()
    problems = caught.value.problems
    expected = [
        (ws.file("a-plan.yaml"), *at(a, "closed")),
        (ws.file("a-plan.yaml"), *at(a, "sou]")),
        (ws.file("b-plan.yaml"), *at(b, "pink")),
        (ws.file("b-plan.yaml"), *at(b, "dock")),
        (ws.file("observations.yaml"), *at(o, "2026-11-20")),
        (ws.file("workspace.yaml"), *at(WORKSPACE, "4, holder")),
    ]
    assert [(p.file, p.line, p.column) for p in problems] == expected
    assert problems == sorted(problems)
    assert str(caught.value).splitlines() == [str(p) for p in problems]
    assert all(re.fullmatch(r"[^:]+:\d+:\d+: .+", line) for line in str(caught.value).split("\n"))


def test_a_problem_prints_and_serialises_with_its_location():
    problem = Problem("ws/a.yaml", 3, 14, "something is wrong; write it right")
    assert str(problem) == "ws/a.yaml:3:14: something is wrong; write it right"
    assert problem.as_json() == {"file": "ws/a.yaml", "line": 3, "column": 14,
                                 "message": "something is wrong; write it right"}


# -- a good workspace -----------------------------------------------------------------

GOOD_PLAN = PLAN_HEAD + """\
share: [SOU, RRA]
tlp: amber+strict
x-source: exercise
objectives:
  - {id: all-out, title: All out, by: T+4d, share: [SOU], withhold: {by: [SOU]}}
tasks:
  - id: crisis-cell
    title: Activate crisis cell
    start: T+0h
    duration: 2h
  - id: ferry-run
    title: Ferry run
    phase: evacuation
    unit: NOR consular team
    start: T+1d6h
    duration: {likely: 6h, min: 4h, max: 12h}
    flex: [T+24h, T+40h]
    after: [crisis-cell, sou-port/close]
    uses: {berth: 1}
    area: port
    exclusive: true
    commitment: committed
    serves: [all-out]
    share: [SOU]
    withhold: {uses: [SOU], area: [SOU, RRA]}
  - {id: early, title: Early, start: T-2d, duration: 90m, commitment: intent}
expects:
  - {id: berth-need, from: SOU, what: A berth, uses: {berth: 1}, window: [T+24h, T+48h]}
provides:
  - id: seats
    to: SOU
    what: Seats
    window: [T+12h, T+96h]
    answers: sou-port/ferry-help
    withhold: {uses: [RRA]}
"""

OBSERVATIONS = """\
jointplan: 1
kind: observations
observations:
  - {indicator: premium, at: 2026-11-20T08:00Z, seen: true, by: SOU, share: all}
  - {indicator: premium, at: "2026-11-21T09:30+02:00", seen: false, by: SOU}
"""


def test_a_good_workspace_loads_into_the_expected_model(ws):
    ws.write("nor-evac.yaml", GOOD_PLAN)
    ws.write("sou-port.yaml", SOU_PLAN)
    ws.write("observations.yaml", OBSERVATIONS)
    loaded = ws.load()
    w = loaded.workspace
    assert (w.id, w.title, w.partner_codes) == ("strait", "Northern Strait", ("NOR", "SOU", "RRA"))
    assert w.areas[0].geometry == {"type": "Polygon", "coordinates": [[
        [24.10, 59.40], [24.16, 59.40], [24.16, 59.44], [24.10, 59.44], [24.10, 59.40]]]}
    assert (w.resources[0].id, w.resources[0].capacity, w.resources[0].holder) == (
        "berth", 4, "SOU")
    assert [(s.id, s.prior, s.parent) for s in w.scenarios] == [
        ("calm", 0.6, None), ("closure", 0.4, None), ("long", 0.5, "closure"),
        ("short", 0.5, "closure")]
    assert w.leaves() == ("calm", "long", "short")
    assert dict(w.indicators[0].likelihood) == {"calm": 0.1, "closure": 0.8}
    assert w.indicators[0].share == "all"
    assert [p.id for p in w.plans] == ["nor-evac", "sou-port"]

    nor = w.plan("nor-evac")
    assert (nor.owner, nor.title, nor.scenarios, nor.share, nor.tlp) == (
        "NOR", "Evacuation", ("closure",), ("SOU", "RRA"), Tlp.AMBER_STRICT)
    assert nor.extensions == {"x-source": "exercise"}
    (objective,) = nor.objectives
    assert (objective.by, objective.share, dict(objective.withhold)) == (
        5760, ("SOU",), {"by": frozenset({"SOU"})})

    cell, ferry, early = nor.tasks
    assert (cell.start, cell.duration, cell.end) == (0, Duration(120, 120, 120), 120)
    assert cell.commitment is Commitment.PLANNED and cell.share is None
    assert not cell.exclusive and dict(cell.withhold) == {}
    assert ferry.start == 1800
    assert ferry.duration == Duration(likely=360, low=240, high=720, three_point=True)
    assert ferry.end == 2160
    assert ferry.flex == (1440, 2400)
    assert ferry.after == ("crisis-cell", "sou-port/close")
    assert dict(ferry.uses) == {"berth": 1}
    assert (ferry.area, ferry.exclusive, ferry.commitment) == ("port", True,
                                                               Commitment.COMMITTED)
    assert (ferry.serves, ferry.phase, ferry.unit, ferry.share) == (
        ("all-out",), "evacuation", "NOR consular team", ("SOU",))
    assert dict(ferry.withhold) == {"uses": frozenset({"SOU"}), "area": frozenset({"SOU", "RRA"})}
    assert all(isinstance(v, frozenset) for v in ferry.withhold.values())
    assert (early.start, early.duration.likely, early.commitment) == (-2880, 90,
                                                                      Commitment.INTENT)

    (need,) = nor.expects
    assert (need.from_, need.window, dict(need.uses)) == ("SOU", (1440, 2880), {"berth": 1})
    (seats,) = nor.provides
    assert (seats.to, seats.window, seats.answers) == ("SOU", (720, 5760), "sou-port/ferry-help")
    assert dict(seats.withhold) == {"uses": frozenset({"RRA"})}

    first, second = w.observations
    assert first.at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert second.at == datetime(2026, 11, 21, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert (first.seen, first.share, second.seen, second.share) == (True, "all", False, None)

    place = loaded.locator.places
    assert place[("task", "nor-evac", "ferry-run")] == (
        ws.file("nor-evac.yaml"), *at(GOOD_PLAN, "id: ferry-run"))
    assert place[("after", "nor-evac", "ferry-run", "1")] == (
        ws.file("nor-evac.yaml"), *at(GOOD_PLAN, "sou-port/close"))


# -- nothing but InvalidWorkspace ever escapes -------------------------------------------

_VALUE = re.compile(r"(?<=: )[^,{}\[\]\n]+|(?<=\[)[^,{}\[\]\n]+|(?<=, )[^,:{}\[\]\n]+(?=[,\]])")
_REPLACEMENTS = ["[]", "{}", "~", "-1", "true", "'x'", "{a: [1]}", "T+1h", "ALL", "1e400"]


def _mutations(text: str) -> list[str]:
    out = []
    for match in _VALUE.finditer(text):
        for new in _REPLACEMENTS:
            out.append(text[:match.start()] + new + text[match.end():])
    return out


@pytest.mark.parametrize("name", ["workspace.yaml", "nor-evac.yaml", "observations.yaml"])
def test_any_single_wrong_value_gives_located_problems_and_nothing_else(folder, name):
    files = {"workspace.yaml": WORKSPACE, "nor-evac.yaml": GOOD_PLAN,
             "sou-port.yaml": SOU_PLAN, "observations.yaml": OBSERVATIONS}
    for other, text in files.items():
        folder.write(other, text)
    mutations = _mutations(files[name])
    assert len(mutations) > 100
    for text in mutations:
        folder.write(name, text)
        try:
            folder.load()
        except InvalidWorkspace as exc:
            assert exc.problems, text
            for p in exc.problems:
                assert p.line >= 1 and p.column >= 1 and p.message, text


@pytest.mark.parametrize("name", ["workspace.yaml", "nor-evac.yaml"])
def test_any_truncation_gives_located_problems_and_nothing_else(folder, name):
    files = {"workspace.yaml": WORKSPACE, "nor-evac.yaml": GOOD_PLAN,
             "sou-port.yaml": SOU_PLAN}
    for other, text in files.items():
        folder.write(other, text)
    text = files[name]
    for end in range(0, len(text), 7):
        folder.write(name, text[:end])
        try:
            folder.load()
        except InvalidWorkspace as exc:
            assert exc.problems
