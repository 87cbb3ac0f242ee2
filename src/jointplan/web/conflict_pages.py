"""Conflict and gap pages: the overlap on a timeline, the load against capacity, the map,
and the lasting conflict's status, history and threads.

A conflict or gap is addressed by its lasting id (`server/findings.py`): the
same for every partner shown it, kept across plan versions. An id the
partner is not shown answers like any missing page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..caller import HubDep
from ..server import collab, findings, plans
from ..server.hub import Hub, Invalid
from ..services.accounts import Actor
from .render import FormDep, PageActor, PageRoute, at_field, done, field, page
from .shape import (
    conflict_items,
    conflict_map,
    conflict_rows,
    find_item,
    find_plan,
    gap_facts,
    load_intervals,
    window_of,
)
from .svg import Row, load_chart, load_steps, span_of, timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]


def _lasting(hub: Hub, actor: Actor, family: str, finding_id: str) -> tuple[Json, Json,
                                                                            list[Json]]:
    """The finding as the partner knows it, the partner's view, and the threads about it."""
    with hub.db.read() as session:
        finding = findings.get_finding(hub, session, actor, family, finding_id)
        view = plans.workspace_view(hub, session, actor)
        threads = [t for t in collab.list_threads(hub, session, actor)
                   if t["id"] in finding["threads"]]
        finding["proposals"] = [collab.get_proposal(hub, session, actor, pid)
                                for pid in finding["proposals"]]
        finding["decisions"] = [collab.get_decision(hub, session, actor, did)
                                for did in finding["decisions"]]
    return finding, view, threads


def combined(entries: list[Json]) -> Json:
    """One entry for the page from what the partner is told of one conflict.

    A conflict with hidden counterparts is cut to the windows the partner's own
    items are in use, and one found in several scenarios may differ between
    them: the page shows the span of those windows, lists each, and names
    every item of any of them.
    """
    first = entries[0]
    windows = sorted({(e["window"][0], e["window"][1]) for e in entries})
    scenarios: list[str] = []
    for e in entries:
        scenarios += [x for x in e["scenarios"] if x not in scenarios]
    out = {**first, "window": [min(a for a, _ in windows), max(b for _, b in windows)],
           "windows": [list(w) for w in windows], "scenarios": scenarios}
    if "tasks" in first:
        named: list[Json] = []
        hidden: list[Json] = []
        for e in entries:
            for item in e["tasks"]:
                target = hidden if item.get("hidden") else named
                if item not in target:
                    target.append(item)
        out["tasks"] = named + hidden
    if "demand" in first:
        out["demand"] = max(e["demand"] for e in entries)
    return out


STATUS_CHOICES = [("open", "Open"), ("acknowledged", "Acknowledged"),
                  ("being-resolved", "Being resolved"), ("risk-accepted", "Risk accepted")]


def _status_post(request: Request, hub: Hub, actor: Actor, family: str, finding_id: str,
                 form: Any) -> Response:
    status, reason = field(form, "status"), field(form, "reason")
    try:
        findings.set_status(hub, actor, family, finding_id, status, reason)
    except Invalid as exc:
        top, wrong = at_field(exc, {"status": "finding-status", "reason": "finding-reason"})
        return finding_page(family)(request, hub, actor, finding_id, errors=top,
                                    field_errors=wrong, status=422,
                                    values={"status": status, "reason": reason})
    return done(f"/{family}s/{finding_id}", "finding-status", "#status-h")


def finding_page(family: str) -> Callable[..., Response]:
    """The page of a conflict or of a gap, to come back to with a form's problems."""
    return conflict_page if family == "conflict" else gap_page


@router.get("/conflicts/{conflict_id}")
def conflict_get(request: Request, hub: HubDep, actor: PageActor,
                 conflict_id: str) -> Response:
    return conflict_page(request, hub, actor, conflict_id)


@router.post("/conflicts/{conflict_id}/status")
def conflict_status(request: Request, hub: HubDep, actor: PageActor, conflict_id: str,
                    form: FormDep) -> Response:
    return _status_post(request, hub, actor, "conflict", conflict_id, form)


def conflict_page(request: Request, hub: Hub, actor: Actor, key: str, *,
                  errors: list[str] | None = None, values: Json | None = None,
                  status: int = 200, field_errors: dict[str, str] | None = None,
                  thread_values: Json | None = None) -> Response:
    """The page; a refused status or thread form comes back with ``values`` or
    ``thread_values`` kept and its problems at their fields (``field_errors``)."""
    finding, view, threads = _lasting(hub, actor, "conflict", key)
    conflict = combined(finding["entries"])
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
    layers, map_keys, overlap_drawn = conflict_map(view, items, area_ids,
                                                   overlap=conflict["kind"] == "area")
    proposable = [it for it in items if not it["hidden"] and it["kind"] == "tasks"
                  and it["partner"] != actor.partner
                  and (it["flex"] or conflict.get("resource") in it["uses"])]
    return page(request, "conflict.html", actor, section="dashboard", key=key,
                conflict=conflict, items=items, overlap=overlap, load=load, steps=steps,
                resources=resources, area_ids=area_ids, geojson=layers, map_keys=map_keys,
                overlap_drawn=overlap_drawn,
                areas={a["id"]: a["name"] for a in view["areas"]},
                hidden=[it["partner"] for it in items if it["hidden"]],
                proposable=proposable if finding["present"] else [], threads=threads,
                finding=finding, choices=STATUS_CHOICES, errors=errors or [],
                values=values or {"status": finding["status"], "reason": ""}, status=status,
                field_errors=field_errors or {}, thread_values=thread_values or {},
                partners=[p["code"] for p in view["partners"]],
                titles={s["id"]: s["title"] for s in view["scenarios"]})


@router.get("/gaps/{gap_id}")
def gap_get(request: Request, hub: HubDep, actor: PageActor, gap_id: str) -> Response:
    return gap_page(request, hub, actor, gap_id)


@router.post("/gaps/{gap_id}/status")
def gap_status(request: Request, hub: HubDep, actor: PageActor, gap_id: str,
               form: FormDep) -> Response:
    return _status_post(request, hub, actor, "gap", gap_id, form)


def gap_page(request: Request, hub: Hub, actor: Actor, key: str, *,
             errors: list[str] | None = None, values: Json | None = None,
             status: int = 200, field_errors: dict[str, str] | None = None,
             thread_values: Json | None = None) -> Response:
    """The page; a refused status or thread form comes back with ``values`` or
    ``thread_values`` kept and its problems at their fields (``field_errors``)."""
    finding, view, threads = _lasting(hub, actor, "gap", key)
    gap = combined(finding["entries"])
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
                     "answer it, from T0.", highlight=(gap["window"][0], gap["window"][1]),
                     highlight_label="window of the gap")
    expecting = find_plan(view, pid) or {}
    mine = expecting.get("owner") == actor.partner
    targets = ([p for p in view["plans"] if p.get("owner") == gap["from"]]
               if mine and finding["present"] else [])
    facts = gap_facts(gap, expectation, [pv for _, pv in provisions],
                      {r["id"]: r["name"] for r in view["resources"]})
    return page(request, "gap.html", actor, section="dashboard", key=key, gap=gap, facts=facts,
                expectation=expectation, provisions=provisions, chart=chart, rows=rows,
                targets=targets, resources=view["resources"],
                quantity=next(iter(expectation.get("uses", {}).values()), ""),
                threads=threads, finding=finding, choices=STATUS_CHOICES,
                errors=errors or [], status=status,
                values=values or {"status": finding["status"], "reason": ""},
                field_errors=field_errors or {}, thread_values=thread_values or {},
                partners=[p["code"] for p in view["partners"]],
                titles={s["id"]: s["title"] for s in view["scenarios"]})
