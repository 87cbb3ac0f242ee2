"""Conflict and gap pages: the overlap on a timeline, the load against capacity, the map.

Conflicts and gaps have no ids; each is addressed by a hash of the entry as
the partner received it from the analysis (`render.key_of`). A key that is
not among the partner's own entries answers like any missing page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import analysis, collab, plans
from ..server.hub import NotFound
from .render import PageActor, PageRoute, key_of, page
from .shape import (
    conflict_items,
    conflict_rows,
    find_item,
    find_plan,
    geojson,
    load_intervals,
    window_of,
)
from .svg import Row, load_chart, load_steps, span_of, timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]


def _threads_about(hub: Any, actor: Any, kind: str, key: str) -> list[Json]:
    with hub.db.read() as session:
        return [t for t in collab.list_threads(hub, session, actor)
                if t["subject"]["kind"] == kind and t["subject"].get("ref") == key]


@router.get("/conflicts/{key}")
def conflict_page(request: Request, hub: HubDep, actor: PageActor, key: str) -> Response:
    report = analysis.check_for(hub, actor)
    conflict = next((c for c in report["conflicts"] if key_of(c) == key), None)
    if conflict is None:
        raise NotFound(key)
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    items = conflict_items(conflict, view)
    win = (conflict["window"][0], conflict["window"][1])
    what = (f"resource {conflict['resource']}" if conflict["kind"] == "capacity"
            else "area " + ", ".join(conflict["areas"]))
    overlap = timeline(conflict_rows(items), [], title=f"Overlap on {what}",
                       desc="Each item of the conflict from its start to its end, the conflict "
                       "window shaded; hidden counterparts are named by partner only.",
                       highlight=win)
    resources = {r["id"]: r for r in view["resources"]}
    load, steps = None, []
    if conflict["kind"] == "capacity":
        resource = conflict["resource"]
        intervals = load_intervals(items, resource)
        steps = load_steps(intervals)
        span = span_of([x for a, b, _ in intervals for x in (a, b)] + list(win))
        name = resources.get(resource, {}).get("name", resource)
        load = load_chart(steps, capacity=conflict["capacity"], demand=conflict.get("demand"),
                          window=win, span=span, title=f"Load on {name} against its capacity",
                          desc=f"The summed use of {resource} by the items named to you, over "
                          f"time, against the capacity of {conflict['capacity']}; the peak "
                          f"demand of {conflict.get('demand')} reported in the conflict "
                          "window includes what is hidden from you.")
        area_ids = sorted({it["area"] for it in items if not it["hidden"] and it["area"]})
    else:
        area_ids = list(conflict["areas"])
    proposable = [it for it in items if not it["hidden"] and it["kind"] == "tasks"
                  and it["partner"] != actor.partner
                  and (it["flex"] or conflict.get("resource") in it["uses"])]
    return page(request, "conflict.html", actor, section="dashboard", key=key,
                conflict=conflict, items=items, overlap=overlap, load=load, steps=steps,
                resources=resources, area_ids=area_ids, geojson=geojson(view, area_ids),
                areas={a["id"]: a["name"] for a in view["areas"]},
                hidden=[it["partner"] for it in items if it["hidden"]],
                proposable=proposable, threads=_threads_about(hub, actor, "conflict", key),
                partners=[p["code"] for p in view["partners"]],
                titles={s["id"]: s["title"] for s in view["scenarios"]})


@router.get("/gaps/{key}")
def gap_page(request: Request, hub: HubDep, actor: PageActor, key: str) -> Response:
    report = analysis.check_for(hub, actor)
    gap = next((g for g in report["gaps"] if key_of(g) == key), None)
    if gap is None:
        raise NotFound(key)
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    pid, _, eid = gap["expectation"].partition("/")
    expectation = find_item(view, pid, "expects", eid) or {"id": eid}
    provisions = []
    for name in gap["provisions"]:
        ppid, _, prid = name.partition("/")
        provisions.append((name, find_item(view, ppid, "provides", prid) or {"id": prid}))
    def row(group: str, label: str, item: Json, kind: str) -> Row:
        span = window_of(item)
        if span is None:
            return Row(group, label, kind=kind, note="window withheld from you")
        return Row(group, label, span[0], span[1], kind)

    rows = [row("expectation", f"{pid} needs: {expectation.get('what', eid)}", expectation,
                "expects")]
    rows += [row("answering provisions", f"{name}: {prov.get('what', prov['id'])}", prov,
                 "provides") for name, prov in provisions]
    chart = timeline(rows, [], title=f"The {gap['kind']} gap on {gap['expectation']}",
                     desc="The expectation's window and the windows of the provisions that "
                     "answer it, from T0.", highlight=(gap["window"][0], gap["window"][1]))
    expecting = find_plan(view, pid) or {}
    mine = expecting.get("owner") == actor.partner
    targets = [p for p in view["plans"] if p.get("owner") == gap["from"]] if mine else []
    return page(request, "gap.html", actor, section="dashboard", key=key, gap=gap,
                expectation=expectation, provisions=provisions, chart=chart, rows=rows,
                targets=targets, resources=view["resources"],
                quantity=next(iter(expectation.get("uses", {}).values()), ""),
                threads=_threads_about(hub, actor, "gap", key),
                partners=[p["code"] for p in view["partners"]],
                titles={s["id"]: s["title"] for s in view["scenarios"]})
