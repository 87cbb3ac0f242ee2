"""Deconfliction: optimal against brute force, rules kept, and `remaining` is what `check` finds.

Tiny workspaces are generated as model objects; brute force tries every start,
minute by minute, of every task that may move, so the solver's grid and its
lexicographic stages are checked, not assumed.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jointplan.analysis.deconflict import Options, deconflict
from jointplan.analysis.deconflict_problem import build_problem, overload, violations
from jointplan.model import (
    Area,
    Commitment,
    Duration,
    Objective,
    Partner,
    Plan,
    Provision,
    Resource,
    Scenario,
    Task,
    Workspace,
    format_time,
)
from jointplan.services.check import check_report
from jointplan.services.deconflict import deconflict_report

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FAST = Options(time_limit=5.0)


def _square(x: int) -> dict[str, Any]:
    x0 = 20.0 + x
    return {"type": "Polygon", "coordinates": [[[x0, 50.0], [x0 + 1.5, 50.0], [x0 + 1.5, 51.0],
                                                [x0, 51.0], [x0, 50.0]]]}


@st.composite
def tiny(draw: st.DrawFn) -> Workspace:
    """Two partners, one leaf, 2-4 tasks on one or two resources, small flex windows."""
    unit = draw(st.sampled_from([1, 2, 3]))
    n_res = draw(st.integers(1, 2))
    resources = tuple(Resource(f"r{i}", f"R{i}", draw(st.integers(0, 2))) for i in range(n_res))
    areas = (Area("a0", "A0", _square(0)), Area("a1", "A1", _square(1)))
    plans = []
    count = 0
    for owner in ("AAA", "BBB"):
        objectives = ()
        if draw(st.booleans()):
            objectives = (Objective("ob", "Objective", unit * draw(st.integers(4, 12))),)
        tasks: list[Task] = []
        for _ in range(draw(st.integers(1, 2))):
            count += 1
            start = unit * draw(st.integers(0, 6))
            dur = unit * draw(st.integers(0, 4))
            flex = None
            if draw(st.integers(0, 3)):
                flex = (start - unit * draw(st.integers(0, 1)),
                        start + unit * draw(st.integers(0, 1)))
            uses = {r.id: draw(st.integers(1, 2)) for r in resources if draw(st.booleans())}
            area = draw(st.sampled_from([None, "a0", "a1"]))
            after: tuple[str, ...] = ()
            if tasks and draw(st.booleans()):
                after = (tasks[-1].id,)
            tasks.append(Task(
                id=f"t{count}", title="task", start=start, duration=Duration.fixed(dur),
                flex=flex, after=after, uses=uses, area=area,
                exclusive=area is not None and draw(st.booleans()),
                commitment=draw(st.sampled_from(list(Commitment))),
                serves=("ob",) if objectives and draw(st.booleans()) else ()))
        provides = ()
        if draw(st.integers(0, 3)) == 0:
            a = unit * draw(st.integers(0, 6))
            provides = (Provision("pv", "AAA" if owner == "BBB" else "BBB", "what",
                                  (a, a + unit * draw(st.integers(1, 4))),
                                  {resources[0].id: 1}),)
        plans.append(Plan(f"{owner.lower()}-p", owner, "Plan", ("s0",), share="all",
                          objectives=objectives, tasks=tuple(tasks), provides=provides))
    return Workspace("tiny", "Tiny", (Partner("AAA", "A"), Partner("BBB", "B")), areas,
                     resources, (Scenario("s0", "S", 1.0),), plans=tuple(plans))


def brute_force(ws: Workspace) -> tuple[int, int, int] | None:
    """The least (overload, moved tasks, moved minutes) over every schedule, minute by minute."""
    p = build_problem(ws, "s0")
    choices = [range(r.lo, r.hi + 1) if r.movable else (r.start,) for r in p.rows]
    best = None
    for starts in itertools.product(*choices):
        if violations(p, starts):
            continue
        moved = [abs(s - r.start) for s, r in zip(starts, p.rows, strict=True) if s != r.start]
        cost = (overload(p, starts), len(moved), sum(moved))
        if best is None or cost < best:
            best = cost
    return best


@SETTINGS
@given(tiny())
def test_the_resolution_is_optimal_as_brute_force_finds(ws):
    r = deconflict(ws, "s0", FAST)
    want = brute_force(ws)
    if want is None:
        assert r.status == "none"
        assert r.moves == () and r.bound is None
        return
    assert r.status == "optimal"
    assert (r.cost.overload, r.cost.moved_tasks, r.cost.moved_minutes) == want
    assert r.bound == r.cost.overload
    assert violations(r.problem, r.starts) == []


@SETTINGS
@given(tiny())
def test_the_plain_model_finds_the_same_optimum(ws):
    plain = deconflict(ws, "s0", Options(time_limit=5.0, decompose=False, warm_start=False,
                                         only_connected=False))
    split = deconflict(ws, "s0", FAST)
    assert plain.status == split.status
    assert plain.cost == split.cost


@SETTINGS
@given(tiny())
def test_the_same_question_gets_the_same_moves(ws):
    assert deconflict(ws, "s0", FAST).moves == deconflict(ws, "s0", FAST).moves


def test_a_committed_task_and_a_task_without_flex_stay():
    berth = Resource("berth", "Berth", 1)
    tasks = (Task("fixed", "f", 0, Duration.fixed(60), uses={"berth": 1},
                  commitment=Commitment.COMMITTED, flex=(0, 120)),
             Task("rigid", "r", 0, Duration.fixed(60), uses={"berth": 1}),
             Task("loose", "l", 30, Duration.fixed(60), uses={"berth": 1}, flex=(0, 120)))
    ws = Workspace("w", "W", (Partner("AAA", "A"),), resources=(berth,),
                   scenarios=(Scenario("s0", "S", 1.0),),
                   plans=(Plan("aaa-p", "AAA", "P", ("s0",), tasks=tasks),))
    r = deconflict(ws, "s0", FAST)
    assert [(m.task, m.to) for m in r.moves] == [("loose", 60)]  # the nearest free hour
    # fixed and rigid overlap for an hour at 2 on a capacity of 1: 60 remains.
    assert r.cost.overload == 60 and r.status == "optimal"


def test_a_broken_after_is_mended_or_the_answer_is_none():
    tasks = (Task("first", "f", 0, Duration.fixed(60)),
             Task("then", "t", 30, Duration.fixed(60), after=("first",), flex=(0, 90)))
    ws = Workspace("w", "W", (Partner("AAA", "A"),), scenarios=(Scenario("s0", "S", 1.0),),
                   plans=(Plan("aaa-p", "AAA", "P", ("s0",), tasks=tasks),))
    r = deconflict(ws, "s0", FAST)
    assert [(m.task, m.from_, m.to) for m in r.moves] == [("then", 30, 60)]
    stuck = (tasks[0], Task("then", "t", 30, Duration.fixed(60), after=("first",)))
    ws = Workspace("w", "W", (Partner("AAA", "A"),), scenarios=(Scenario("s0", "S", 1.0),),
                   plans=(Plan("aaa-p", "AAA", "P", ("s0",), tasks=stuck),))
    r = deconflict(ws, "s0", FAST)
    assert r.status == "none" and r.moves == () and r.bound is None


# -- the differential on files: write the moves, check again ----------------------------


@st.composite
def folders(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """A small workspace as file documents (block YAML), with two leaves."""
    ws = draw(tiny())
    joint = {"jointplan": 1, "kind": "workspace", "id": "tiny", "title": "Tiny",
             "partners": [{"code": p.code, "name": p.name} for p in ws.partners],
             "areas": [{"id": a.id, "name": a.name, "geometry": a.geometry} for a in ws.areas],
             "resources": [{"id": r.id, "name": r.name, "capacity": r.capacity}
                           for r in ws.resources],
             "scenarios": [{"id": "s0", "title": "S0", "prior": 0.5},
                           {"id": "s1", "title": "S1", "prior": 0.5}]}
    files = {"workspace.yaml": joint}
    for plan in ws.plans:
        doc: dict[str, Any] = {"jointplan": 1, "kind": "plan", "id": plan.id,
                               "owner": plan.owner, "title": plan.title,
                               "scenarios": draw(st.sampled_from([["s0"], ["s0", "s1"]])),
                               "share": "all"}
        if plan.objectives:
            doc["objectives"] = [{"id": o.id, "title": o.title, "by": format_time(o.by)}
                                 for o in plan.objectives]
        doc["tasks"] = []
        for t in plan.tasks:
            task: dict[str, Any] = {"id": t.id, "title": t.title, "start": format_time(t.start),
                                    "duration": f"{t.duration.likely}m",
                                    "commitment": t.commitment.value}
            if t.flex:
                task["flex"] = [format_time(t.flex[0]), format_time(t.flex[1])]
            for key in ("after", "serves"):
                if getattr(t, key):
                    task[key] = list(getattr(t, key))
            if t.uses:
                task["uses"] = dict(t.uses)
            if t.area:
                task["area"] = t.area
                task["exclusive"] = t.exclusive
            doc["tasks"].append(task)
        if plan.provides:
            doc["provides"] = [{"id": v.id, "to": v.to, "what": v.what,
                                "window": [format_time(x) for x in v.window],
                                "uses": dict(v.uses)} for v in plan.provides]
        files[f"{plan.id}.yaml"] = doc
    return files


def _write(folder: Path, files: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in files.items():
        (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


@SETTINGS
@given(folders())
def test_writing_the_moves_into_the_files_leaves_exactly_the_remaining_conflicts(files):
    with tempfile.TemporaryDirectory(prefix="jointplan-dc-") as tmp:
        before = _write(Path(tmp) / "before", files)
        report = deconflict_report(before, None, "s0", FAST)
        moved = {(m["plan"], m["task"]): m["to"] for m in report["moves"]}
        for name, doc in files.items():
            for task in doc.get("tasks", []):
                if (doc["id"], task["id"]) in moved:
                    to = moved[(doc["id"], task["id"])]
                    assert task["commitment"] != "committed" and "flex" in task
                    task["start"] = format_time(to)
            files[name] = doc
        after = _write(Path(tmp) / "after", files)
        check = check_report(after, None)
        want = [{**c, "scenarios": ["s0"]} for c in check["conflicts"] if "s0" in c["scenarios"]]
        assert report["remaining"] == want
        assert len(report["why"]) == len(want)
        if report["status"] != "none":
            assert report["cost"]["overload"] == overload(
                build_problem(_load(after), "s0"), build_problem(_load(after), "s0").starts)
            _assert_rules_hold(_load(before), _load(after))
        before_check = check_report(before, None)
        old = {json_key(c) for c in before_check["conflicts"] if "s1" in c["scenarios"]}
        new = {json_key(c) for c in check["conflicts"] if "s1" in c["scenarios"]} - old
        assert {json_key(c) for c in report["elsewhere"]} == new
        assert all(c["scenarios"] == ["s1"] for c in report["elsewhere"])


def json_key(entry: dict[str, Any]) -> str:
    import json

    return json.dumps({k: v for k, v in entry.items() if k != "scenarios"}, sort_keys=True)


def _load(folder: Path) -> Workspace:
    from jointplan.services.workspaces import load_checked

    return load_checked(folder).workspace


def _assert_rules_hold(before: Workspace, after: Workspace) -> None:
    """Every `after` holds and no task serving an objective finishes later than it may."""
    tasks = {(p.id, t.id): t for p in after.plans for t in p.tasks}
    old = {(p.id, t.id): t for p in before.plans for t in p.tasks}
    for plan in after.plans:
        by = {o.id: o.by for o in plan.objectives}
        for t in plan.tasks:
            for ref in t.after:
                other, _, name = ref.rpartition("/")
                pred = tasks[(other or plan.id, name)]
                assert t.start >= pred.end, f"{plan.id}/{t.id} starts before {ref} ends"
            for s in t.serves:
                limit = max(by[s], old[(plan.id, t.id)].end)
                assert t.end <= limit, f"{plan.id}/{t.id} finishes after {s}"
            if t.start != old[(plan.id, t.id)].start:
                assert t.flex is not None and t.flex[0] <= t.start <= t.flex[1]
                assert t.commitment is not Commitment.COMMITTED
