"""One leaf scenario's tasks as a dependency network of arrays, in topological order.

The Monte Carlo kernel reads only this: tasks with their planned starts,
flex ends, three-point durations and predecessors; objectives with the
tasks that serve them; and every use of a resource by a task or a provision.
Only the plans active in the leaf take part, and an ``after`` that names a
task of a plan not active there is ignored: that task does not happen in
this scenario, so it cannot hold anything up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import Workspace

Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Network:
    """Arrays for one leaf. Tasks are numbered in a topological order.

    ``pred[pred_ptr[t]:pred_ptr[t + 1]]`` are the predecessors of task ``t``
    (always numbered below ``t``); ``serve[serve_ptr[o]:serve_ptr[o + 1]]``
    the tasks serving objective ``o``. A use row belongs to task
    ``use_task[u]``, or to a provision when that is -1, whose window is
    ``[use_start[u], use_end[u])``.
    """

    leaf: str
    task_plan: tuple[str, ...]
    task_id: tuple[str, ...]
    start: Ints
    flex_end: Ints
    """The latest start the plan allows: the end of ``flex``, or the planned start."""
    low: Ints
    likely: Ints
    high: Ints
    pred_ptr: Ints
    pred: Ints
    objective_plan: tuple[str, ...]
    objective_id: tuple[str, ...]
    by: Ints
    serve_ptr: Ints
    serve: Ints
    resource_id: tuple[str, ...]
    capacity: Ints
    use_resource: Ints
    use_task: Ints
    use_quantity: Ints
    use_start: Ints
    use_end: Ints
    use_plan: tuple[str, ...]
    use_item: tuple[str, ...]
    """The id of the task or provision of each use row, in its plan."""

    @property
    def tasks(self) -> int:
        return len(self.task_id)

    def name(self, t: int) -> str:
        """``PLAN/TASK``: the name a task's random stream is derived from."""
        return f"{self.task_plan[t]}/{self.task_id[t]}"

    def preds(self, t: int) -> Ints:
        return self.pred[self.pred_ptr[t]:self.pred_ptr[t + 1]]

    def serving(self, o: int) -> Ints:
        return self.serve[self.serve_ptr[o]:self.serve_ptr[o + 1]]


def _ints(values: list[int]) -> Ints:
    return np.asarray(values, dtype=np.int64)


def _ptr(groups: list[list[int]]) -> tuple[Ints, Ints]:
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(g) for g in groups])
    flat = _ints([x for g in groups for x in g])
    return ptr, flat


def _topological(preds: list[list[int]]) -> list[int]:
    """Kahn's order, ties taken in the order written, so the numbering is stable."""
    succs: list[list[int]] = [[] for _ in preds]
    waiting = [len(p) for p in preds]
    for t, ps in enumerate(preds):
        for p in ps:
            succs[p].append(t)
    ready = [t for t, w in enumerate(waiting) if w == 0]
    order: list[int] = []
    i = 0
    while i < len(ready):
        # A stack would be as correct; a queue keeps the order close to the files'.
        t = ready[i]
        i += 1
        order.append(t)
        for s in succs[t]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(preds):
        raise ValueError("the tasks' `after` references form a cycle")
    return order


def compile_network(ws: Workspace, leaf: str) -> Network:
    """The network of the plans active in ``leaf``."""
    plans = [p for p in ws.plans if leaf in ws.active_leaves(p)]
    written: list[tuple[str, str]] = []
    index: dict[str, int] = {}
    tasks = []
    for plan in plans:
        for task in plan.tasks:
            index[f"{plan.id}/{task.id}"] = len(written)
            written.append((plan.id, task.id))
            tasks.append((plan, task))
    preds_written: list[list[int]] = []
    for plan, task in tasks:
        found = []
        for ref in task.after:
            name = ref if "/" in ref else f"{plan.id}/{ref}"
            if name in index and index[name] not in found:
                found.append(index[name])
        preds_written.append(found)
    order = _topological(preds_written)
    rank = {old: new for new, old in enumerate(order)}

    starts, flex_ends, lows, likelies, highs, pred_groups = [], [], [], [], [], []
    for old in order:
        plan, task = tasks[old]
        starts.append(task.start)
        flex_ends.append(task.flex[1] if task.flex is not None else task.start)
        lows.append(task.duration.low)
        likelies.append(task.duration.likely)
        highs.append(task.duration.high)
        pred_groups.append(sorted(rank[p] for p in preds_written[old]))
    pred_ptr, pred = _ptr(pred_groups)

    obj_plan, obj_id, by, serve_groups = [], [], [], []
    for plan in plans:
        for objective in plan.objectives:
            obj_plan.append(plan.id)
            obj_id.append(objective.id)
            by.append(objective.by)
            serve_groups.append(sorted(rank[index[f"{plan.id}/{t.id}"]] for t in plan.tasks
                                       if objective.id in t.serves))
    serve_ptr, serve = _ptr(serve_groups)

    resource_pos = {r.id: k for k, r in enumerate(ws.resources)}
    rows: list[tuple[int, int, int, int, int, str, str]] = []
    for plan in plans:
        for task in plan.tasks:
            t = rank[index[f"{plan.id}/{task.id}"]]
            for rid, q in task.uses.items():
                rows.append((resource_pos[rid], t, q, 0, 0, plan.id, task.id))
        for provision in plan.provides:
            for rid, q in provision.uses.items():
                rows.append((resource_pos[rid], -1, q, *provision.window, plan.id,
                             provision.id))
    used = sorted({r[0] for r in rows})
    renumber = {old: new for new, old in enumerate(used)}
    rows.sort(key=lambda r: renumber[r[0]])  # stable: by resource, then as written

    return Network(
        leaf=leaf,
        task_plan=tuple(written[o][0] for o in order),
        task_id=tuple(written[o][1] for o in order),
        start=_ints(starts), flex_end=_ints(flex_ends),
        low=_ints(lows), likely=_ints(likelies), high=_ints(highs),
        pred_ptr=pred_ptr, pred=pred,
        objective_plan=tuple(obj_plan), objective_id=tuple(obj_id), by=_ints(by),
        serve_ptr=serve_ptr, serve=serve,
        resource_id=tuple(ws.resources[k].id for k in used),
        capacity=_ints([ws.resources[k].capacity for k in used]),
        use_resource=_ints([renumber[r[0]] for r in rows]),
        use_task=_ints([r[1] for r in rows]),
        use_quantity=_ints([r[2] for r in rows]),
        use_start=_ints([r[3] for r in rows]),
        use_end=_ints([r[4] for r in rows]),
        use_plan=tuple(r[5] for r in rows),
        use_item=tuple(r[6] for r in rows),
    )
