"""The lapse rules on plain models: what holds, what lapses, which cycles are told or broken."""

from __future__ import annotations

from typing import Any

from jointplan.model import Duration, Plan, Task, Workspace
from jointplan.model.workspace import Partner
from jointplan.sharing.lapse import (
    Reference,
    find_cycle,
    judge_cycles,
    references,
    resolve,
    without_references,
)

PARTNERS = ("AAA", "BBB", "CCC")


def _task(tid: str, *after: str, share: Any = None) -> Task:
    return Task(tid, tid, 0, Duration.fixed(60), after=tuple(after), share=share)


def _workspace(*plans: Plan) -> Workspace:
    return Workspace("w", "W", tuple(Partner(c, c) for c in PARTNERS), plans=plans)


def _split(ws: Workspace) -> tuple[Workspace, list[Reference]]:
    ids = [p.id for p in ws.plans]
    return without_references(ws, ids), references(ws, ids)


def _after(ws: Workspace, plan: str, task: str) -> tuple[str, ...]:
    return next(t for t in ws.plan(plan).tasks if t.id == task).after


def test_a_reference_to_a_task_its_owner_no_longer_sees_lapses_and_the_rest_hold() -> None:
    ws = _workspace(Plan("aaa-p", "AAA", "A", ("s",), share=["CCC"],
                         tasks=(_task("a1"),)),
                    Plan("bbb-p", "BBB", "B", ("s",), share="all",
                         tasks=(_task("b0"), _task("b1", "b0", "aaa-p/a1"))))
    bare, written = _split(ws)
    resolved = resolve(bare, written)
    assert _after(resolved.workspace, "bbb-p", "b1") == ("b0",)
    assert [(r.owner, r.target) for r in resolved.lapsed] == [("BBB", "aaa-p/a1")]
    assert "aaa-p/a1" in resolved.lapsed[0].lapsed_notice()


def test_a_reference_to_a_task_shared_with_its_owner_holds() -> None:
    ws = _workspace(Plan("aaa-p", "AAA", "A", ("s",), share="all", tasks=(_task("a1"),)),
                    Plan("bbb-p", "BBB", "B", ("s",), tasks=(_task("b1", "aaa-p/a1"),)))
    bare, written = _split(ws)
    resolved = resolve(bare, written)
    assert _after(resolved.workspace, "bbb-p", "b1") == ("aaa-p/a1",) and not resolved.lapsed


def test_find_cycle_gives_the_edges_along_it() -> None:
    refs = [Reference("p", "a", "after", 0, "b", "AAA"),
            Reference("p", "b", "after", 0, "q/c", "AAA"),
            Reference("q", "c", "after", 0, "p/a", "BBB")]
    edges: dict[str, list[Reference]] = {}
    for r in refs:
        edges.setdefault(r.source, []).append(r)
    cycle = find_cycle(edges)
    assert cycle is not None and set(cycle) == set(refs)
    edges["q/c"] = []
    assert find_cycle(edges) is None


def _cycle_workspace(ccc_share: Any) -> tuple[Workspace, list[Reference]]:
    ws = _workspace(
        Plan("aaa-p", "AAA", "A", ("s",), share="all", tasks=(_task("a1", "bbb-p/b1"),)),
        Plan("bbb-p", "BBB", "B", ("s",), share="all", tasks=(_task("b1", "ccc-p/c1"),)),
        Plan("ccc-p", "CCC", "C", ("s",), share=ccc_share, tasks=(_task("c1", "aaa-p/a1"),)))
    return ws, references(ws)


def test_a_cycle_the_importer_sees_whole_is_refused_from_its_own_edge() -> None:
    ws, live = _cycle_workspace("all")
    judgement = judge_cycles(ws, live, "AAA")
    assert [[r.source for r in c] for c in judgement.refused] == [["aaa-p/a1", "bbb-p/b1",
                                                                     "ccc-p/c1"]]
    assert not judgement.breaks


def test_a_cycle_through_a_hidden_task_is_broken_at_the_edges_the_importer_cannot_see() -> None:
    ws, live = _cycle_workspace(["BBB"])
    judgement = judge_cycles(ws, live, "AAA")
    assert not judgement.refused
    assert sorted(r.source for r in judgement.breaks) == ["bbb-p/b1", "ccc-p/c1"]
    bare = without_references(ws, [p.id for p in ws.plans])
    resolved = resolve(bare, live, judgement.breaks)
    assert _after(resolved.workspace, "aaa-p", "a1") == ("bbb-p/b1",)
    assert {r.owner for r in resolved.lapsed} == {"BBB", "CCC"}
    # Once AAA's edge is gone, the broken edges no longer close a cycle and hold again.
    without_aaa = [r for r in live if r.owner != "AAA"]
    again = resolve(bare, without_aaa, judgement.breaks)
    assert not again.lapsed


def test_any_cycle_left_in_what_is_stored_is_broken_rather_than_refused() -> None:
    ws, live = _cycle_workspace("all")
    bare = without_references(ws, [p.id for p in ws.plans])
    resolved = resolve(bare, live)
    assert resolved.lapsed and find_cycle({}) is None
    kept = references(resolved.workspace)
    edges: dict[str, list[Reference]] = {}
    for r in kept:
        edges.setdefault(r.source, []).append(r)
    assert find_cycle(edges) is None
