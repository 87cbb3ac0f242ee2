"""Hostile and malformed documents: each is refused with a located problem, nothing else."""

from __future__ import annotations

import json
import math

import pytest

from jointplan.files import yamlread
from jointplan.files.yamlread import ReadError, read_document

from .conftest import PLAN_HEAD, WORKSPACE, at

# -- tags ---------------------------------------------------------------------


@pytest.mark.parametrize("tagged", [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/apply:subprocess.check_call [[touch, "{marker}"]]',
    "!!python/object/new:os.system [touch {marker}]",
    "!!python/name:os.system",
    "!!python/object:argparse.Namespace {{path: {marker}}}",
    "!!binary aGVsbG8=",
    "!!set {{a, b}}",
    "!!omap [{{a: 1}}]",
    "!custom thing",
    "!!int '12'",
])
def test_tags_that_would_construct_objects_are_refused_and_nothing_runs(ws, tmp_path, tagged):
    marker = tmp_path / "pwned"
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "x-payload: " + tagged.format(marker=marker)
                    + "\n")
    problem = ws.assert_problem("nor-evac.yaml", text, "!", "is not allowed", nth=1)
    assert "plain data only" in problem.message
    assert not marker.exists()


def test_the_str_tag_is_allowed_and_any_other_refused_where_written(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("title: Evacuation",
                                                       "title: !!str Evacuation\n"
                                                       "x-a: !!python/none ''"))
    ws.assert_problem("nor-evac.yaml", text, "!!python/none", "tag:yaml.org,2002:python/none")


# -- aliases ------------------------------------------------------------------

BILLION_LAUGHS = """\
x-lol:
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit(ws):
    # Sizes grow ninefold a line; the first *f takes the expansion past a million.
    text = ws.write("nor-evac.yaml", PLAN_HEAD + BILLION_LAUGHS)
    problem = ws.assert_problem("nor-evac.yaml", text, "*f", "aliases expand this document", nth=1)
    assert "1,000,000" in problem.message


def test_aliases_within_the_limit_are_read_as_their_anchors(ws):
    ws.write("nor-evac.yaml", PLAN_HEAD + "share: &s [SOU, RRA]\n"
             "objectives:\n  - {id: out, title: Out, by: T+4d, share: *s}\n")
    plan = ws.load().workspace.plans[0]
    assert plan.share == ("SOU", "RRA")
    assert plan.objectives[0].share == ("SOU", "RRA")


def test_an_alias_without_an_anchor_is_located(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "share: *nothing\n")
    ws.assert_problem("nor-evac.yaml", text, "*nothing", "names no anchor")


# -- nesting ------------------------------------------------------------------


def test_flow_nesting_just_past_the_limit_is_refused_at_the_level_past_it(ws):
    # The file's mapping is level 1, so the 64th bracket opens level 65.
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "x-deep: " + "[" * 70 + "]" * 70 + "\n")
    line, column = at(text, "[[", nth=1)
    problem = ws.problem()
    assert (problem.line, problem.column) == (line, column + 63)
    assert "nesting deeper than 64 levels" in problem.message


def test_flow_nesting_thousands_deep_is_refused_within_the_brackets(ws):
    # libyaml scans ahead through flow brackets and stops at its own bound.
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n")
    line, column = at(text, "[[", nth=1)
    problem = ws.problem()
    assert problem.line == line
    assert column + 63 <= problem.column < column + 5000
    assert problem.message.startswith("nesting deeper than 64 levels")


def test_block_sequences_thousands_deep_are_refused(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "x-deep:\n  " + "- " * 5000 + "x\n")
    line, column = at(text, "- -", nth=1)
    problem = ws.problem()
    assert (problem.line, problem.column) == (line, column + 2 * 63)
    assert "nesting deeper than 64 levels" in problem.message


def test_block_mappings_nested_deeper_than_the_limit_are_refused(ws):
    deep = "".join("  " * i + "k:\n" for i in range(1, 300))
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "x-deep:\n" + deep + "  " * 300 + "v\n")
    # x-deep's value is level 2, so the mapping on the 64th `k:` line is level 65.
    line, _ = at(text, "x-deep")
    problem = ws.problem()
    assert (problem.line, problem.column) == (line + 64, 2 * 64 + 1)
    assert "nesting deeper than 64 levels" in problem.message


def test_json_nesting_far_deeper_than_python_recursion_is_located(folder):
    folder.write("workspace.json", "[" * 100_000 + "]" * 100_000)
    problem = folder.problem()
    assert problem.line == 1 and 65 <= problem.column <= 100_000
    assert problem.message.startswith("nesting deeper than 64 levels")


def test_json_nesting_just_past_the_limit_is_located_at_the_level_past_it(folder):
    folder.write("workspace.json", "[" * 70 + "]" * 70)
    problem = folder.problem()
    assert (problem.line, problem.column) == (1, 65)


# -- duplicate keys -----------------------------------------------------------


def test_a_duplicate_key_in_a_flow_mapping_is_an_error_not_last_wins(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "tasks:\n"
                    "  - {id: a, title: A, start: T+0h, duration: 2h, start: T+5h}\n")
    ws.assert_problem("nor-evac.yaml", text, "start: T+5h", "the key 'start' is repeated "
                      "(first at line 8)")


def test_a_duplicate_top_level_key_is_an_error(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "title: Again\n")
    ws.assert_problem("nor-evac.yaml", text, "title: Again", "keys must be unique")


def test_a_duplicate_key_in_json_is_located(folder):
    text = folder.write("workspace.json", '{"jointplan": 1,\n "kind": "workspace",\n'
                        ' "kind": "plan"}\n')
    folder.assert_problem("workspace.json", text, '"kind": "plan"',
                          "the key 'kind' is repeated (first at line 2)")


# -- bytes and size -----------------------------------------------------------


def test_bytes_that_are_not_utf8_are_located_at_the_bad_byte(ws):
    ws.write("nor-evac.yaml", PLAN_HEAD.encode() + b"x-note: caf\xe9\n")
    problem = ws.problem()
    assert (problem.line, problem.column) == (7, 12)
    assert "not UTF-8" in problem.message and "0xe9" in problem.message
    assert "save it as UTF-8" in problem.message


def test_the_column_of_a_bad_byte_counts_characters_not_bytes(ws):
    ws.write("nor-evac.yaml", PLAN_HEAD.encode() + "x-note: ñandú ".encode() + b"\xff\n")
    problem = ws.problem()
    assert (problem.line, problem.column) == (7, 15)


def test_a_utf8_byte_order_mark_is_accepted(ws):
    ws.write("nor-evac.yaml", b"\xef\xbb\xbf" + PLAN_HEAD.encode())
    assert ws.load().workspace.plans[0].id == "nor-evac"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(ws, monkeypatch):
    monkeypatch.setattr(yamlread, "MAX_FILE_BYTES", 100)
    ws.write("workspace.yaml", WORKSPACE)
    problems = ws.problems()
    assert [(p.file, p.line, p.column) for p in problems] == [(ws.file("workspace.yaml"), 1, 1)]
    size = len(WORKSPACE.encode())
    assert f"the file is {size:,} bytes; the limit is 100" in problems[0].message
    assert "Split it" in problems[0].message


def test_the_size_limit_applies_to_documents_given_as_bytes(monkeypatch):
    monkeypatch.setattr(yamlread, "MAX_FILE_BYTES", 10)
    with pytest.raises(ReadError, match="the limit is 10"):
        read_document(b"a: 1\nb: 2\nc: 3\n")


# -- documents ----------------------------------------------------------------


def test_a_second_document_in_a_file_is_refused_where_it_starts(ws):
    text = ws.write("nor-evac.yaml", "---\n" + PLAN_HEAD + "---\n" + PLAN_HEAD)
    ws.assert_problem("nor-evac.yaml", text, "---", "a file holds one document", nth=2)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n...\n"])
def test_an_empty_file_is_located_at_its_start(ws, text):
    ws.write("nor-evac.yaml", text)
    problem = ws.problem()
    assert (problem.file, problem.line, problem.column) == (ws.file("nor-evac.yaml"), 1, 1)
    assert "empty" in problem.message and "jointplan: 1" in problem.message


def test_broken_yaml_syntax_is_located(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "tasks: [{id: a, title: A\n")
    problem = ws.problem()
    assert problem.message.startswith("not valid YAML")
    assert problem.line > at(text, "tasks")[0] - 1


# -- YAML 1.2 core schema -----------------------------------------------------


@pytest.mark.parametrize(("plain", "value"), [
    ("NO", "NO"), ("ON", "ON"), ("yes", "yes"), ("off", "off"), ("y", "y"), ("Yes", "Yes"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
    ("~", None), ("null", None), ("Null", None), ("", None),
    ("0o17", 15), ("0x1F", 31), ("017", 17), ("+12", 12), ("-3", -3),
    ("1_000", "1_000"), ("12:30", "12:30"), ("2026-11-20", "2026-11-20"),
    ("1e3", 1000.0), (".5", 0.5), ("-.inf", -math.inf), (".Inf", math.inf),
    ("0b101", "0b101"), ("T+30h", "T+30h"), ("6h", "6h"),
])
def test_plain_scalars_resolve_by_the_yaml_1_2_core_schema(plain, value):
    doc = read_document(f"v: {plain}\n".encode())
    assert doc["v"] == value
    assert type(doc["v"]) is type(value)


def test_nan_and_quoted_scalars(ws):
    doc = read_document(b"a: .nan\nb: 'true'\nc: \"12\"\nd: ! 12\n")
    assert math.isnan(doc["a"])
    assert (doc["b"], doc["c"], doc["d"]) == ("true", "12", "12")


def test_a_partner_coded_NO_stays_NO(folder):  # noqa: N802 - the code is the point
    folder.write("workspace.yaml", WORKSPACE.replace("code: SOU", "code: NO")
                 .replace("holder: SOU", "holder: NO").replace("owner: SOU", "owner: NO"))
    assert folder.load().workspace.partner_codes == ("NOR", "NO", "RRA")


# -- JSON ---------------------------------------------------------------------


def test_a_json_workspace_and_plan_load_like_yaml(folder):
    workspace = {
        "jointplan": 1, "kind": "workspace", "id": "strait", "title": "Strait",
        "partners": [{"code": "NOR", "name": "Norland"}, {"code": "SOU", "name": "Sudmark"}],
        "resources": [{"id": "berth", "name": "Berths", "capacity": 4}],
        "scenarios": [{"id": "calm", "title": "Calm", "prior": 1}],
    }
    plan = {
        "jointplan": 1, "kind": "plan", "id": "nor-evac", "owner": "NOR", "title": "Evac/uation",
        "scenarios": ["calm"], "share": "all",
        "tasks": [{"id": "a", "title": "A", "start": "T+1h", "duration": "90m",
                   "uses": {"berth": 2}, "exclusive": True}],
    }
    folder.write("workspace.json", json.dumps(workspace, indent="\t"))
    # JSON may escape a solidus; YAML must read it the same.
    folder.write("nor-evac.json", json.dumps(plan, separators=(",", ":")).replace("/", "\\/"))
    ws = folder.load().workspace
    assert ws.resources[0].capacity == 4
    assert ws.scenarios[0].prior == 1.0
    (task,) = ws.plans[0].tasks
    assert (task.start, task.duration.likely, dict(task.uses), task.exclusive) == (
        60, 90, {"berth": 2}, True)
    assert ws.plans[0].title == "Evac/uation"
    assert ws.plans[0].share == "all"


def test_invalid_json_is_located(folder):
    text = folder.write("workspace.json", '{\n  "jointplan": 1\n  "kind": "workspace"\n}\n')
    folder.assert_problem("workspace.json", text, '"kind"', "not valid JSON: Expecting ','")


def test_yaml_that_is_not_json_in_a_json_file_is_refused(folder):
    text = folder.write("workspace.json", "jointplan: 1\nkind: workspace\n")
    folder.assert_problem("workspace.json", text, "jointplan", "not valid JSON")


def test_a_json_string_value_is_never_resolved_to_a_boolean(ws):
    ws.write("observations.json", json.dumps({
        "jointplan": 1, "kind": "observations",
        "observations": [{"indicator": "premium", "at": "2026-11-20T08:00Z",
                          "seen": "true", "by": "SOU"}]}))
    problem = ws.problem()
    assert problem.file == ws.file("observations.json")
    assert "must be true or false; got 'true'" in problem.message
