"""Cut a simulation for one viewer: the JSON that `jointplan simulate --json` prints.

The simulation runs on everything; what a partner is told follows the
format's "Cut for the viewer":

- a task is named only to a viewer that may see its ``start`` and
  ``duration`` and those of all its predecessors, transitively (its figures
  would otherwise reveal hidden timing); its ``p_flex_breach`` only to one
  that may also see its ``flex``;
- an objective only if the viewer may see it and the same holds for every
  task that serves it; its ``by`` and ``p_met`` only if it may see ``by``;
- a resource only if the viewer's own items use it, and then ``p_over`` and
  ``expected_overrun`` count only excess at moments the viewer's own items
  use it (the kernel does that, from the ``Focus`` made here);
- hidden tasks count in every figure but are never named.

Load fans for plots show the load of the rows the viewer may see, and the
whole load only where it exceeds the capacity while the viewer's own items
use the resource, which is what deconfliction reveals anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..analysis.dag import Network
from ..analysis.montecarlo import (
    Figures,
    Focus,
    Model,
    Tally,
    load_quantiles,
    objective_distribution,
)
from ..model import Plan, Provision, Workspace
from .rules import Rules

TIMING = ("start", "duration")
Entry = dict[str, Any]
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, slots=True)
class Lens:
    """What one viewer may be told about one leaf's network."""

    viewer: str | None
    tasks: NDArray[np.bool_]
    """Tasks that may be named."""
    objectives: NDArray[np.bool_]
    deadlines: NDArray[np.bool_]
    """Objectives whose ``by`` the viewer may see."""
    resources: NDArray[np.bool_]
    """Resources the viewer's own items use (every used one for the custodian)."""
    flex: NDArray[np.bool_]
    """Tasks whose ``flex`` the viewer may see."""
    focus: Focus


def lens_for(rules: Rules, network: Network, viewer: str | None) -> Lens:
    """Decide, once per item, what ``viewer`` may be told about ``network``."""
    ws = rules.workspace
    plans = {p.id: p for p in ws.plans}
    tasks = {(p.id, t.id): t for p in ws.plans for t in p.tasks}
    n = network.tasks
    named = np.zeros(n, dtype=bool)
    flex = np.zeros(n, dtype=bool)
    for t in range(n):  # topological order: predecessors are decided first
        plan = plans[network.task_plan[t]]
        task = tasks[(plan.id, network.task_id[t])]
        named[t] = bool(rules.sees_fields(viewer, plan, task, TIMING)) and bool(
            named[network.preds(t)].all())
        flex[t] = bool(rules.sees_fields(viewer, plan, task, ("flex",)))
    objectives = np.zeros(len(network.objective_id), dtype=bool)
    deadlines = np.zeros(len(network.objective_id), dtype=bool)
    for o, (pid, oid) in enumerate(zip(network.objective_plan, network.objective_id,
                                       strict=True)):
        plan = plans[pid]
        objective = next(x for x in plan.objectives if x.id == oid)
        objectives[o] = bool(rules.sees(viewer, plan, objective)) and bool(
            named[network.serving(o)].all())
        deadlines[o] = bool(rules.sees_fields(viewer, plan, objective, ("by",)))
    rows = len(network.use_resource)
    own = np.ones(rows, dtype=bool)
    seen = np.ones(rows, dtype=bool)
    if viewer is not None:
        provisions = {(p.id, v.id): v for p in ws.plans for v in p.provides}
        for u in range(rows):
            plan = plans[network.use_plan[u]]
            own[u] = plan.owner == viewer
            t = int(network.use_task[u])
            if t >= 0:
                task = tasks[(plan.id, network.use_item[u])]
                seen[u] = bool(named[t]) and bool(rules.sees_fields(viewer, plan, task,
                                                                    ("uses",)))
            else:
                item: Provision = provisions[(plan.id, network.use_item[u])]
                seen[u] = bool(rules.sees_fields(viewer, plan, item, ("window", "uses")))
    resources = np.zeros(len(network.resource_id), dtype=bool)
    resources[network.use_resource[own]] = True
    return Lens(viewer, named, objectives, deadlines, resources, flex, Focus(own, seen))


def _finish(mean: float, p50: int, p90: int) -> Entry:
    return {"mean": round(float(mean), 2), "p50": int(p50), "p90": int(p90)}


def simulation_result(ws: Workspace, network: Network, figures: Figures, lens: Lens, *,
                      seed: int) -> dict[str, Any]:
    """The contract's `simulate --json` object, cut for the lens's viewer."""
    plans: dict[str, Plan] = {p.id: p for p in ws.plans}
    objectives: list[Entry] = []
    for o in np.flatnonzero(lens.objectives).tolist():
        entry: Entry = {"plan": network.objective_plan[o],
                        "objective": network.objective_id[o]}
        served = bool(figures.served[o])
        if lens.deadlines[o]:
            entry["by"] = int(network.by[o])
            entry["p_met"] = round(float(figures.p_met[o]), 6) if served else None
        entry["finish"] = _finish(figures.objective_mean[o], figures.objective_p50[o],
                                  figures.objective_p90[o]) if served else None
        objectives.append(entry)
    objectives.sort(key=lambda e: (e["plan"], e["objective"]))
    tasks: list[Entry] = []
    for t in np.flatnonzero(lens.tasks).tolist():
        plan = plans[network.task_plan[t]]
        entry = {"partner": plan.owner, "plan": plan.id, "task": network.task_id[t],
                 "criticality": round(float(figures.criticality[t]), 6)}
        if lens.flex[t]:
            entry["p_flex_breach"] = round(float(figures.p_flex_breach[t]), 6)
        entry["finish"] = _finish(figures.finish_mean[t], figures.finish_p50[t],
                                  figures.finish_p90[t])
        tasks.append(entry)
    tasks.sort(key=lambda e: (e["partner"], e["plan"], e["task"]))
    resources: list[Entry] = [{"resource": network.resource_id[r],
                  "p_over": round(float(figures.p_over[r]), 6),
                  "expected_overrun": round(float(figures.expected_overrun[r]), 6)}
                 for r in np.flatnonzero(lens.resources).tolist()]
    resources.sort(key=lambda e: e["resource"])
    return {"workspace": ws.id, "as": lens.viewer, "scenario": network.leaf,
            "samples": figures.samples, "seed": seed, "objectives": objectives,
            "tasks": tasks, "resources": resources}


@dataclass(frozen=True, slots=True)
class Charts:
    """What plots may show a viewer: only what the cut result already names."""

    leaf: str
    objectives: tuple[tuple[str, int | None, float | None, NDArray[np.int64],
                            NDArray[np.float64]], ...]
    """(``PLAN/OBJECTIVE``, ``by`` and ``p_met`` (None when withheld), bin times,
    share of samples per bin)."""
    criticality: tuple[tuple[str, float], ...]
    """(``PLAN/TASK``, criticality), most critical first."""
    fans: tuple[tuple[str, int, NDArray[np.int64], NDArray[np.int64]], ...]
    """(resource, capacity, grid times, load at ``FAN_QUANTILES`` per time)."""


def charts_for(model: Model, tally: Tally, result: dict[str, Any], lens: Lens,
               ws: Workspace) -> Charts:
    """Data for the plots: only what the cut ``result`` names, and the lens's fans."""
    net = model.network
    index = {key: o for o, key in enumerate(zip(net.objective_plan, net.objective_id,
                                                 strict=True))}
    objectives = []
    for entry in result["objectives"]:
        if entry["finish"] is None:
            continue
        times, shares = objective_distribution(
            model, tally, index[(entry["plan"], entry["objective"])])
        objectives.append((f"{entry['plan']}/{entry['objective']}", entry.get("by"),
                           entry.get("p_met"), times, shares))
    crit = sorted(((f"{e['plan']}/{e['task']}", float(e["criticality"]))
                   for e in result["tasks"]), key=lambda x: (-x[1], x[0]))
    capacity = {r.id: r.capacity for r in ws.resources}
    fans = []
    if len(model.grid):
        for r in np.flatnonzero(lens.resources).tolist():
            grid, levels = load_quantiles(model, tally, r, FAN_QUANTILES)
            rid = net.resource_id[r]
            fans.append((rid, capacity[rid], grid, levels))
    return Charts(net.leaf, tuple(objectives), tuple(crit), tuple(fans))
