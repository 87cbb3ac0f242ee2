"""Compile a workspace into columnar arrays: one row per item (task or provision), per use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from ..model import Plan, Provision, Task, Workspace

Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Compiled:
    """The workspace as arrays.

    Items are every task and provision, in plan order: ``plan[i]`` indexes
    ``workspace.plans``, ``index[i]`` the plan's ``tasks`` (or ``provides``
    where ``is_provision[i]``). Intervals are planned: a task's start and
    likely duration, a provision's window. Uses are one row per (item,
    resource) pair. ``active[l, p]`` says plan ``p`` is active in leaf ``l``.
    """

    workspace: Workspace
    leaves: tuple[str, ...]
    active: NDArray[np.bool_]
    plan: Ints
    index: Ints
    is_provision: NDArray[np.bool_]
    start: Ints
    end: Ints
    area: Ints
    exclusive: NDArray[np.bool_]
    use_item: Ints
    use_resource: Ints
    use_quantity: Ints
    capacity: Ints
    geometries: tuple[shapely.Geometry, ...]

    def item(self, i: int) -> tuple[Plan, Task | Provision]:
        plan = self.workspace.plans[int(self.plan[i])]
        j = int(self.index[i])
        return plan, (plan.provides[j] if self.is_provision[i] else plan.tasks[j])


def compile_workspace(ws: Workspace) -> Compiled:
    """Arrays for the analysis kernels."""
    leaves = ws.leaves()
    leaf_pos = {leaf: k for k, leaf in enumerate(leaves)}
    active = np.zeros((len(leaves), len(ws.plans)), dtype=bool)
    for p, plan in enumerate(ws.plans):
        for leaf in ws.active_leaves(plan):
            active[leaf_pos[leaf], p] = True
    resources = {r.id: k for k, r in enumerate(ws.resources)}
    areas = {a.id: k for k, a in enumerate(ws.areas)}
    plan_col: list[int] = []
    index_col: list[int] = []
    prov_col: list[bool] = []
    start_col: list[int] = []
    end_col: list[int] = []
    area_col: list[int] = []
    excl_col: list[bool] = []
    use_item: list[int] = []
    use_res: list[int] = []
    use_qty: list[int] = []
    row = 0
    for p, plan in enumerate(ws.plans):
        for j, t in enumerate(plan.tasks):
            plan_col.append(p)
            index_col.append(j)
            prov_col.append(False)
            start_col.append(t.start)
            # A received copy that lacks the start or duration cannot place the task.
            placed = not t.withheld or not {"start", "duration"}.intersection(t.withheld)
            end_col.append(t.start + t.duration.likely if placed else t.start)
            area_col.append(areas[t.area] if t.area is not None else -1)
            excl_col.append(t.exclusive)
            for rid, q in t.uses.items():
                use_item.append(row)
                use_res.append(resources[rid])
                use_qty.append(q)
            row += 1
        for j, v in enumerate(plan.provides):
            plan_col.append(p)
            index_col.append(j)
            prov_col.append(True)
            start_col.append(v.window[0])
            end_col.append(v.window[1])
            area_col.append(-1)
            excl_col.append(False)
            for rid, q in v.uses.items():
                use_item.append(row)
                use_res.append(resources[rid])
                use_qty.append(q)
            row += 1

    def ints(values: list[int]) -> Ints:
        return np.asarray(values, dtype=np.int64)

    return Compiled(
        workspace=ws, leaves=leaves, active=active, plan=ints(plan_col), index=ints(index_col),
        is_provision=np.asarray(prov_col, dtype=bool), start=ints(start_col), end=ints(end_col),
        area=ints(area_col), exclusive=np.asarray(excl_col, dtype=bool), use_item=ints(use_item),
        use_resource=ints(use_res), use_quantity=ints(use_qty),
        capacity=ints([r.capacity for r in ws.resources]),
        geometries=tuple(shapely.geometry.shape(a.geometry) for a in ws.areas))
