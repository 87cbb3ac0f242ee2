"""Large groups: the relaxation bound is a true bound and the search keeps every rule.

The path of ``deconflict_lns`` normally starts above ``LARGE`` tasks; here the
threshold is lowered to 0 so that the tiny generated workspaces, whose optimum
brute force finds, take it.
"""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jointplan.analysis.deconflict as deconflict_module
import jointplan.analysis.deconflict_lns as lns_module
from jointplan.analysis.deconflict import Options, deconflict, variable_groups
from jointplan.analysis.deconflict_lns import _cost, _take_back, _whole, group_bound
from jointplan.analysis.deconflict_model import solve_component
from jointplan.analysis.deconflict_problem import build_problem, overload, violations
from jointplan.model import Workspace

from ..benchmarks.test_deconflict_benches import _load
from .test_deconflict import SETTINGS, brute_force, tiny

FAST = Options(time_limit=2.0)


def _kept(ws: Workspace) -> Workspace:
    """The workspace less every ``after`` its written starts break: the search starts there."""
    plans = []
    for plan in ws.plans:
        ends = {t.id: t.end for t in plan.tasks}
        plans.append(replace(plan, tasks=tuple(
            replace(t, after=tuple(a for a in t.after if t.start >= ends[a]))
            for t in plan.tasks)))
    return replace(ws, plans=tuple(plans))


searched = st.one_of(tiny().map(_kept), tiny())


@SETTINGS
@given(searched, st.sampled_from(["whole", "too large", "too little time"]))
def test_the_search_keeps_every_rule_and_its_bound_is_below_the_optimum(ws, whole):
    """With ``whole``, the group's time is enough for the whole group's model too; "too large"
    is a group whose whole model would exceed ``INDEXED_LIMIT``, which takes the relaxations."""
    want = brute_force(ws)
    with patch.object(deconflict_module, "LARGE", 0), \
            patch.object(lns_module, "WHOLE_MIN", 100.0 if whole == "too little time" else 0.0), \
            patch.object(lns_module, "INDEXED_LIMIT", -1 if whole == "too large" else 10**9):
        r = deconflict(ws, "s0", FAST)
        again = deconflict(ws, "s0", FAST)
    assert (r.moves, r.bound) == (again.moves, again.bound)
    if want is None:
        assert r.status == "none"
        return
    assert violations(r.problem, r.starts) == []
    assert r.cost.overload == overload(r.problem, r.starts)
    assert r.bound is not None and r.bound <= want[0] <= r.cost.overload
    problem = build_problem(ws, "s0")
    if not violations(problem, problem.starts):
        assert r.cost.overload <= overload(problem, problem.starts)
    if r.status == "optimal":
        assert (r.cost.overload, r.cost.moved_tasks, r.cost.moved_minutes) == want


@SETTINGS
@given(tiny())
def test_the_relaxation_bound_never_exceeds_the_least_overload(ws):
    want = brute_force(ws)
    problem = build_problem(ws, "s0")
    groups = variable_groups(problem, Options(only_connected=False))
    if want is None or len(groups) != 1:
        return
    bound, _, _ = group_bound(problem, groups[0], problem.grid(), 1.0, 0)
    assert 0 <= bound <= want[0]


@SETTINGS
@given(searched)
def test_the_whole_groups_bound_never_exceeds_the_least_overload(ws):
    """Its bound adds the overload the group cannot change to the model's bound: still a bound,
    and where the model is solved to optimality, the least overload itself."""
    want = brute_force(ws)
    problem = build_problem(ws, "s0")
    groups = variable_groups(problem, Options(only_connected=False))
    if want is None or len(groups) != 1 or violations(problem, problem.starts):
        return
    starts = [int(x) for x in problem.starts]
    found, bound, _ = _whole(problem, groups[0], problem.grid(), FAST, 5.0, starts)
    assert found is not None and violations(problem, found) == []
    assert overload(problem, found) == want[0] == bound


@pytest.mark.parametrize("seed", range(1, 7))
def test_the_whole_groups_bound_is_the_optimum_the_order_model_proves(seed):
    """On generated plans of 50 tasks (groups of up to 31), beyond brute force: where the
    order-encoded model proves a group's least overload, the one-literal-per-start model's
    bound is that optimum, never above it, and its schedule reaches it."""
    ws = _load("bench_deconflict").generate(50, 4, seed)
    problem = build_problem(ws, "leaf")
    assert violations(problem, problem.starts) == []
    starts = [int(x) for x in problem.starts]
    for members in variable_groups(problem, Options(only_connected=False)):
        plain = solve_component(problem, members, problem.grid(), FAST, 5.0)
        assert plain.status == "optimal"
        best = list(starts)
        for k, s in zip(members, plain.starts, strict=True):
            best[k] = s
        found, bound, _ = _whole(problem, members, problem.grid(), FAST, 5.0, starts)
        assert found is not None and violations(problem, found) == []
        assert bound == overload(problem, found) == overload(problem, best)


@SETTINGS
@given(searched)
def test_taking_moves_back_keeps_every_rule_and_never_raises_the_cost(ws):
    """From the whole group's schedule (overload only, so moves may be needless): the pass keeps
    every rule, its cost is the sweep's, and it is never lexicographically larger."""
    problem = build_problem(ws, "s0")
    groups = variable_groups(problem, Options(only_connected=False))
    if len(groups) != 1 or violations(problem, problem.starts):
        return
    members, g = groups[0], problem.grid()
    found, _, _ = _whole(problem, members, g, FAST, 5.0, [int(x) for x in problem.starts])
    assert found is not None
    before = _cost(problem, found, members)
    starts, after = _take_back(problem, members, g, found, before)
    assert violations(problem, starts) == []
    assert after == _cost(problem, starts, members) <= before
