"""Fields: unknown and missing keys, wrong types, times, windows, geometry, withhold."""

from __future__ import annotations

import pytest

from .conftest import PLAN_HEAD, WORKSPACE, Folder

TASKS = PLAN_HEAD + "objectives:\n  - {id: out, title: All out, by: T+4d}\ntasks:\n"
"""A valid plan up to its list of tasks."""


def plan_with_task(ws: Folder, task: str) -> str:
    return ws.write("nor-evac.yaml", TASKS + f"  - {{{task}}}\n")


GOOD_TASK = "id: a, title: A, start: T+30h, duration: 6h"


def test_the_good_task_used_below_loads(ws):
    plan_with_task(ws, GOOD_TASK)
    (task,) = ws.load().workspace.plans[0].tasks
    assert (task.start, task.duration.likely) == (1800, 360)


# -- keys ---------------------------------------------------------------------


@pytest.mark.parametrize(("task", "marker", "fragment"), [
    (GOOD_TASK + ", titel: B", "titel", "unknown key 'titel' in a task; did you mean 'title'?"),
    (GOOD_TASK + ", serve: [out]", "serve:", "did you mean 'serves'?"),
    (GOOD_TASK + ", colour: red", "colour", "unknown key 'colour' in a task; the keys of a "
     "task are id, title, start, duration"),
    (GOOD_TASK + ", 12: x", "12: x", "the key 12 must be a word"),
])
def test_an_unknown_key_is_located_with_the_closest_known_key(ws, task, marker, fragment):
    text = plan_with_task(ws, task)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


def test_an_unknown_top_level_key_of_the_workspace_suggests_the_right_one(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace("resources:", "resource:"))
    folder.assert_problem("workspace.yaml", text, "resource:",
                          "unknown key 'resource' in the workspace; did you mean 'resources'?")


def test_withhold_on_a_plan_says_where_it_is_allowed(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "withhold: {title: [SOU]}\n")
    ws.assert_problem("nor-evac.yaml", text, "withhold", "objectives, tasks, expectations and "
                      "provisions")


def test_extension_keys_are_accepted_and_a_plans_kept(ws):
    ws.write("workspace.yaml", WORKSPACE + "x-notes: drafted in 2026\n")
    ws.write("nor-evac.yaml", PLAN_HEAD + "x-source: {system: ops, ref: [1, 2]}\n"
             "objectives:\n  - {id: out, title: Out, by: T+4d, x-kpi: 3}\n"
             "tasks:\n  - {" + GOOD_TASK + ", x-cost: 1200, x-: ok}\n")
    plan = ws.load().workspace.plans[0]
    assert plan.extensions == {"x-source": {"system": "ops", "ref": [1, 2]}}
    assert plan.tasks[0].id == "a"


@pytest.mark.parametrize(("task", "key"), [
    ("id: a, title: A, duration: 6h", "start"),
    ("id: a, title: A, start: T+1h", "duration"),
    ("id: a, start: T+1h, duration: 6h", "title"),
    ("title: A, start: T+1h, duration: 6h", "id"),
])
def test_a_missing_required_key_is_reported_at_its_object(ws, task, key):
    text = plan_with_task(ws, task)
    ws.assert_problem("nor-evac.yaml", text, "{" + task[:5],
                      f"a task is missing the required key {key!r}")


def test_a_plan_without_an_owner_is_reported_at_the_top_of_the_file(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("owner: NOR\n", ""))
    ws.assert_problem("nor-evac.yaml", text, "jointplan",
                      "the plan is missing the required key 'owner'")


def test_a_workspace_without_scenarios_is_reported(folder):
    text = folder.write("workspace.yaml", WORKSPACE[:WORKSPACE.index("scenarios:")])
    folder.assert_problem("workspace.yaml", text, "jointplan",
                          "the workspace is missing the required key 'scenarios'")


def test_an_observation_without_seen_is_reported_at_the_observation(ws):
    text = ws.write("observations.yaml", "jointplan: 1\nkind: observations\nobservations:\n"
                    "  - {indicator: premium, at: 2026-11-20T08:00Z, by: SOU}\n")
    ws.assert_problem("observations.yaml", text, "{indicator",
                      "an observation is missing the required key 'seen'")


# -- scalar types -------------------------------------------------------------


@pytest.mark.parametrize(("task", "marker", "fragment"), [
    ("id: a, title: A, start: 30, duration: 6h", "30,",
     "task 'a': 'start' must be a time such as T+30h, written as text; got 30"),
    ("id: a, title: A, start: T+1h, duration: 6", "6}", "must be a duration such as 6h"),
    ("id: a, title: A, start: 30h, duration: 6h", "30h", "'30h' is not a time; write it like"),
    ("id: a, title: A, start: T+1h, duration: 6 h", "6 h", "is not a duration"),
    ("id: a, title: A, start: T+1h, duration: -2h", "-2h", "is not a duration"),
    (GOOD_TASK + ", exclusive: yes", "yes", "'exclusive' must be true or false; got 'yes'"),
    (GOOD_TASK + ", exclusive: ON", "ON", "must be true or false; got 'ON'"),
    (GOOD_TASK + ', exclusive: "true"', '"true"', "must be true or false; got 'true'"),
    (GOOD_TASK + ", exclusive: 1", "1}", "must be true or false; got 1"),
    (GOOD_TASK + ", commitment: maybe", "maybe",
     "'commitment' must be one of intent, planned, committed; got 'maybe'"),
    (GOOD_TASK + ", commitment: [planned]", "[planned]", "must be one of intent"),
    (GOOD_TASK + ", uses: {berth: 1.5}", "1.5", "must be a whole number >= 0; got 1.5"),
    (GOOD_TASK + ", uses: {berth: -1}", "-1", "must be a whole number >= 0; got -1"),
    (GOOD_TASK + ", uses: [berth]", "[berth]", "must map resource ids to whole numbers"),
    (GOOD_TASK + ", uses: {Berth: 1}", "Berth", "must be an id of lowercase letters"),
    ("id: a, title: 12, start: T+1h, duration: 6h", "12",
     "'title' must be text; got 12 — put it in quotes to make it text"),
    ("id: a, title: true, start: T+1h, duration: 6h", "true", "got true — put it in quotes"),
    ("id: a, title: '  ', start: T+1h, duration: 6h", "'  '", "'title' must be text"),
    (GOOD_TASK + ", after: cell", "cell", "'after' must be a list"),
    (GOOD_TASK + ", after: [Cell]", "Cell", "must name a task as TASK or PLAN/TASK; got 'Cell'"),
    (GOOD_TASK + ", after: [a/b/c]", "a/b/c", "must name a task as TASK or PLAN/TASK"),
    (GOOD_TASK + ", serves: out", "out}", "'serves' must be a list"),
    (GOOD_TASK + ", phase: {x: 1}", "{x: 1}", "'phase' must be text"),
    (GOOD_TASK + ", share: SOU", "SOU", "must be `all` or a list of partner codes"),
    (GOOD_TASK + ", share: [sou]", "sou", "must be a partner code of 2-8 capital letters, "
     "like 'NOR'; got 'sou'"),
    (GOOD_TASK + ", withhold: [uses]", "[uses]", "must map field names to lists of partner"),
    (GOOD_TASK + ", withhold: {uses: SOU}", "SOU", "'withhold' 'uses' must be a list"),
])
def test_a_value_of_the_wrong_type_is_located_with_what_would_be_right(ws, task, marker,
                                                                      fragment):
    text = plan_with_task(ws, task)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


@pytest.mark.parametrize(("head", "marker", "fragment"), [
    ("tlp: [red]", "[red]", "'tlp' must be one of clear, green, amber, amber+strict, red"),
    ("tlp: AMBER", "AMBER", "got 'AMBER'"),
    ("share: none", "none", "must be `all` or a list of partner codes"),
    ("scenarios: closure", "closure", "'scenarios' must be a list"),
    ("scenarios: []", "[]", "'scenarios' must name at least one scenario"),
    ("tasks: {a: 1}", "{a: 1}", "'tasks' must be a list"),
    ("objectives: [out]", "out]", "an objective must be a mapping of keys to values"),
])
def test_a_plan_field_of_the_wrong_type_is_located(ws, head, marker, fragment):
    text = ws.write("nor-evac.yaml", PLAN_HEAD.replace("scenarios: [closure]\n", "")
                    + ("" if head.startswith("scenarios") else "scenarios: [closure]\n")
                    + head + "\n")
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


@pytest.mark.parametrize(("old", "new", "marker", "fragment"), [
    ("capacity: 4", "capacity: 4.5", "4.5", "'capacity' must be a whole number >= 0"),
    ("capacity: 4", "capacity: '4'", "'4'", "got '4'"),
    ("capacity: 4", "capacity: true", "true", "got true"),
    ("prior: 0.6}", "prior: 60%}", "60%", "must be a probability between 0 and 1; got '60%'"),
    ("prior: 0.6}", "prior: 1.5}", "1.5", "got 1.5"),
    ("prior: 0.6}", "prior: .nan}", ".nan", "got nan"),
    ("calm: 0.1", "calm: -0.1", "-0.1", "'likelihood' 'calm' must be a probability"),
    ("likelihood: {calm: 0.1, closure: 0.8}", "likelihood: [calm, closure]", "[calm",
     "'likelihood' must map scenario ids to probabilities"),
    ("id: strait", "id: Northern_Strait", "Northern_Strait",
     "the workspace: 'id' must be an id of lowercase letters, digits and hyphens, like "
     "'port-aster'; got 'Northern_Strait'"),
    ("id: port\n", "id: port_aster\n", "port_aster", "must be an id of lowercase letters"),
    ("id: berth,", "id: -berth,", "-berth", "got '-berth'"),
    ("code: NOR", "code: nor", "nor,", "a partner's 'code' must be a partner code of 2-8 "
     "capital letters, like 'NOR'; got 'nor'"),
    ("code: RRA", "code: RELIEFAGCY", "RELIEFAGCY", "got 'RELIEFAGCY'"),
    ("code: RRA", "code: R2", "R2", "got 'R2'"),
    ("holder: SOU", "holder: Sou", "Sou", "resource 'berth': 'holder' must be a partner code"),
    ("partners:\n  - {code: NOR, name: Norland}", "partners:\n  - NOR", "NOR\n",
     "a partner must be a mapping of keys to values"),
])
def test_a_workspace_field_of_the_wrong_type_is_located(folder, old, new, marker, fragment):
    assert old in WORKSPACE
    text = folder.write("workspace.yaml", WORKSPACE.replace(old, new, 1))
    folder.assert_problem("workspace.yaml", text, marker, fragment)


def test_a_partner_listed_twice_is_located_at_the_second(folder):
    text = folder.write("workspace.yaml", WORKSPACE.replace(
        "  - {code: RRA, name: Relief Agency}", "  - {code: NOR, name: Again}"))
    folder.assert_problem("workspace.yaml", text, "NOR, name: Again",
                          "the partner NOR is listed twice")


# -- times, windows, durations -------------------------------------------------


@pytest.mark.parametrize(("task", "marker", "fragment"), [
    ("id: a, title: A, start: T+50h, duration: 6h, flex: [T+24h, T+40h]", "[T+24h",
     "task 'a': 'flex' [T+1d, T+1d16h] must hold the start T+2d2h; widen the window"),
    ("id: a, title: A, start: T+10h, duration: 6h, flex: [T+24h, T+40h]", "[T+24h",
     "must hold the start"),
    ("id: a, title: A, start: T+30h, duration: 6h, flex: [T+40h, T+24h]", "[T+40h",
     "'flex' ends before it starts"),
    ("id: a, title: A, start: T+30h, duration: 6h, flex: [T+24h]", "[T+24h",
     "'flex' must be a list of two times, like [T+24h, T+40h]"),
    ("id: a, title: A, start: T+30h, duration: 6h, flex: [T+24h, 40]", "40]",
     "'flex' must be a time such as T+30h, written as text; got 40"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 6h, max: 12h}", "{likely",
     "'duration' must have min <= likely <= max"),
    ("id: a, title: A, start: T+30h, duration: {likely: 14h, min: 6h, max: 12h}", "{likely",
     "min <= likely <= max"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 2h}", "{likely",
     "'duration' is missing max; give likely, min and max, or a single duration"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 2h, max: 6h, mode: 3h}",
     "mode", "unknown key 'mode' in task 'a': 'duration'; a three-point duration has likely"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 2h, max: 6h, 1: 3h}",
     "1: 3h", "unknown key 1 in task 'a': 'duration'"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 2h, max: 6h, ~: 3h}",
     "~: 3h", "unknown key 'null' in task 'a': 'duration'"),
    ("id: a, title: A, start: T+30h, duration: {likely: 4h, min: 2h, max: 6}", "6}",
     "'duration' max must be a duration such as 6h, written as text; got 6"),
])
def test_a_bad_time_window_or_duration_is_located(ws, task, marker, fragment):
    text = plan_with_task(ws, task)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


def test_a_bad_start_is_not_also_reported_as_outside_the_flex(ws):
    text = plan_with_task(ws, "id: a, title: A, start: soon, duration: 6h, flex: [T+1h, T+2h]")
    ws.assert_problem("nor-evac.yaml", text, "soon", "'soon' is not a time")


def test_a_window_ending_before_it_starts_is_located(ws):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + "expects:\n  - {id: berth-need, from: SOU, "
                    "what: A berth, window: [T+48h, T+24h]}\n")
    ws.assert_problem("nor-evac.yaml", text, "[T+48h",
                      "expectation 'berth-need': 'window' ends before it starts")


@pytest.mark.parametrize(("at", "fragment"), [
    ("2026-11-20T08:00", "must be an ISO 8601 time with a zone, like 2026-11-20T08:00Z; "
     "got '2026-11-20T08:00'"),
    ("2026-11-20", "got '2026-11-20'"),
    ("'20 Nov 2026'", "got '20 Nov 2026'"),
    ("1763625600", "got 1763625600"),
    ("2026-13-20T08:00Z", "got '2026-13-20T08:00Z'"),
])
def test_an_observation_time_without_a_zone_or_unreadable_is_located(ws, at, fragment):
    text = ws.write("observations.yaml", "jointplan: 1\nkind: observations\nobservations:\n"
                    f"  - {{indicator: premium, at: {at}, seen: true, by: SOU}}\n")
    ws.assert_problem("observations.yaml", text, at, fragment)


@pytest.mark.parametrize("seen", ["yes", "no", "'true'", "1", "~"])
def test_an_observation_flag_must_be_true_or_false(ws, seen):
    text = ws.write("observations.yaml", "jointplan: 1\nkind: observations\nobservations:\n"
                    f"  - {{indicator: premium, at: 2026-11-20T08:00Z, seen: {seen}, by: SOU}}\n")
    ws.assert_problem("observations.yaml", text, seen + ", by",
                      "an observation: 'seen' must be true or false")


# -- withhold -----------------------------------------------------------------


@pytest.mark.parametrize(("withhold", "marker", "fragment"), [
    ("{id: [SOU]}", "id: [SOU]", "task 'a': 'withhold' cannot name 'id' on a task"),
    ("{share: [SOU]}", "share", "cannot name 'share' on a task"),
    ("{withhold: [SOU]}", "withhold: [", "cannot name 'withhold' on a task"),
    ("{titel: [SOU]}", "titel", "cannot name 'titel' on a task; did you mean 'title'?"),
    ("{colour: [SOU]}", "colour", "it may name title, start, duration, flex"),
    ("{uses: [sou]}", "sou", "must be a partner code"),
    ("{uses: [XYZ]}", "XYZ", "task 'a': withhold: no partner 'XYZ' in the workspace"),
])
def test_withhold_names_only_fields_that_may_be_withheld(ws, withhold, marker, fragment):
    text = plan_with_task(ws, GOOD_TASK + ", withhold: " + withhold)
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


@pytest.mark.parametrize(("item", "marker", "fragment"), [
    ("expects:\n  - {id: need, from: SOU, what: A berth, window: [T+1h, T+2h], "
     "withhold: {what: [RRA, SOU]}}", "SOU]}",
     "expectation 'need': withhold cannot name SOU, the partner it is addressed to"),
    ("provides:\n  - {id: seats, to: RRA, what: Seats, window: [T+1h, T+2h], "
     "withhold: {window: [RRA]}}", "RRA]}",
     "provision 'seats': withhold cannot name RRA, the partner it is addressed to"),
])
def test_withhold_cannot_name_the_partner_an_expectation_or_provision_is_addressed_to(
        ws, item, marker, fragment):
    text = ws.write("nor-evac.yaml", PLAN_HEAD + item + "\n")
    ws.assert_problem("nor-evac.yaml", text, marker, fragment)


# -- geometry -----------------------------------------------------------------

SQUARE = "[[24.10, 59.40], [24.16, 59.40], [24.16, 59.44], [24.10, 59.44], [24.10, 59.40]]"


def with_geometry(folder: Folder, geometry: str) -> str:
    old = WORKSPACE[WORKSPACE.index("geometry: "):WORKSPACE.index("\nresources:")]
    return folder.write("workspace.yaml", WORKSPACE.replace(old, "geometry: " + geometry))


@pytest.mark.parametrize(("geometry", "marker", "fragment"), [
    ("{type: Polygon, coordinates: [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}", "{type",
     "the area 'port' is not a valid polygon: Self-intersection"),
    ("{type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]]}", "[[0, 0]",
     "area 'port': 'geometry': a ring of the area 'port' must end where it starts"),
    ("{type: Polygon, coordinates: [[[0, 0], [1, 0], [0, 0]]]}", "[[0, 0]",
     "a ring of the area 'port' needs at least 4 positions"),
    ("{type: Polygon, coordinates: [[[0, 0], [200, 0], [1, 1], [0, 0]]]}", "[200",
     "[200.0, 0.0] is not a WGS84 longitude/latitude"),
    ("{type: Polygon, coordinates: [[[0, 0], [1, -91], [1, 1], [0, 0]]]}", "[1, -91]",
     "is not a WGS84 longitude/latitude"),
    ("{type: Polygon, coordinates: [[[0, 0], [1], [1, 1], [0, 0]]]}", "[1]",
     "a position is [longitude, latitude] in degrees; got [1]"),
    ("{type: Polygon, coordinates: [[[0, 0], [1, '0'], [1, 1], [0, 0]]]}", "[1, '0']",
     "a position is [longitude, latitude]"),
    ("{type: Polygon, coordinates: [[[0, 0], [1, .nan], [1, 1], [0, 0]]]}", "[1, .nan]",
     "a position is [longitude, latitude]"),
    ("{type: Polygon, coordinates: [[[0, 0], [0, 0], [0, 0], [0, 0]]]}", "{type",
     "the area 'port' is not a valid polygon"),
    ("{type: Point, coordinates: [0, 0]}", "{type", "must be a GeoJSON Polygon or MultiPolygon"),
    ("{type: Polygon}", "{type", "has no coordinates"),
    ("{type: Polygon, coordinates: []}", "[]", "has no coordinates"),
    ("{type: Polygon, coordinates: [[]]}", "[]]", "a ring of the area 'port' needs at least"),
    ("{type: MultiPolygon, coordinates: [[]]}", "[]]", "a polygon is a list of rings"),
    ("{type: MultiPolygon, coordinates: [x]}", "{type", "a polygon is a list of rings"),
    ("{type: Polygon, coordinates: " + f"[{SQUARE}], crs: x" + "}", "{type",
     "has keys GeoJSON geometries do not: crs"),
    ("[[24.1, 59.4]]", "[[24.1", "must be a GeoJSON Polygon or MultiPolygon"),
    ("{type: MultiPolygon, coordinates: " + f"[[{SQUARE}], [{SQUARE}]]" + "}", "{type",
     "the area 'port' is not a valid polygon"),
])
def test_bad_geometry_is_located_and_names_the_area(folder, geometry, marker, fragment):
    text = with_geometry(folder, geometry)
    folder.assert_problem("workspace.yaml", text, marker, fragment)


def test_a_multipolygon_and_a_polygon_with_a_hole_load(folder):
    hole = "[[24.12, 59.41], [24.14, 59.41], [24.14, 59.43], [24.12, 59.43], [24.12, 59.41]]"
    with_geometry(folder, "{type: MultiPolygon, coordinates: [[" + SQUARE + ", " + hole
                  + "], [[[0, 0], [1, 0], [1, 1], [0, 0]]]]}")
    (area,) = folder.load().workspace.areas
    assert area.geometry["type"] == "MultiPolygon"
    assert area.geometry["coordinates"][0][1][0] == [24.12, 59.41]
    assert area.geometry["coordinates"][1] == [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]
