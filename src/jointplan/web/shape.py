"""Shaping what the use cases return into what the templates draw.

Nothing here decides who sees what: every input is a view or a result that
the server's use cases already cut for the partner; these functions only
rearrange it (a tree of scenarios, timeline rows, a conflict's items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import TimecodeError, parse_time
from .render import item_name, likely_minutes
from .svg import Marker, Row

Json = dict[str, Any]


@dataclass
class Node:
    id: str
    title: str
    prior: float
    likelihood: float | None
    children: list[Node] = field(default_factory=list)


def scenario_tree(scenarios: list[Json], likelihood: dict[str, Any]) -> list[Node]:
    nodes = {s["id"]: Node(s["id"], s["title"], s["prior"], likelihood.get(s["id"]))
             for s in scenarios}
    roots: list[Node] = []
    for s in scenarios:
        parent = s.get("parent")
        (nodes[parent].children if parent in nodes else roots).append(nodes[s["id"]])
    return roots


def leaves(scenarios: list[Json]) -> list[str]:
    parents = {s.get("parent") for s in scenarios}
    return [s["id"] for s in scenarios if s["id"] not in parents]


def ancestors(scenarios: list[Json], leaf: str) -> set[str]:
    parent = {s["id"]: s.get("parent") for s in scenarios}
    out: set[str] = set()
    node: str | None = leaf
    while node:
        out.add(node)
        node = parent.get(node)
    return out


def time_of(text: Any) -> int | None:
    try:
        return parse_time(str(text)) if text is not None else None
    except TimecodeError:
        return None


def task_interval(task: Json) -> tuple[int, int] | None:
    """[start, start + likely duration) of a task as the viewer sees it, if it may."""
    start, dur = time_of(task.get("start")), likely_minutes(task.get("duration"))
    return None if start is None or dur is None else (start, start + dur)


def window_of(item: Json) -> tuple[int, int] | None:
    w = item.get("window")
    if not isinstance(w, list) or len(w) != 2:
        return None
    a, b = time_of(w[0]), time_of(w[1])
    return None if a is None or b is None else (a, b)


def find_plan(view: Json, plan_id: str) -> Json | None:
    return next((p for p in view["plans"] if p["id"] == plan_id), None)


def find_item(view: Json, plan_id: str, key: str, item_id: str) -> Json | None:
    plan = find_plan(view, plan_id)
    return next((x for x in (plan or {}).get(key, []) if x["id"] == item_id), None)


def plan_rows(plan: Json, *, group: str = "phase", prefix: str = "",
              link: bool = False) -> list[Row]:
    """A plan's tasks (grouped by phase) and its expectations and provisions as windows."""
    rows = []
    for task in plan.get("tasks", []):
        span = task_interval(task)
        commitment = task.get("commitment", "withheld")
        name = task.get("title", task["id"])
        href = f"/plans/{plan['id']}#task-{task['id']}" if link else ""
        grp = prefix + (task.get("phase") or "(no phase)") if group == "phase" else prefix
        note = f"{task['id']}, {commitment}" + (f", {task['unit']}" if task.get("unit") else "")
        if span is None:
            rows.append(Row(grp, name, note="timing withheld from you", href=href))
        else:
            rows.append(Row(grp, name, span[0], span[1], f"task {commitment}", note, href))
    rows.sort(key=lambda r: (r.group, r.start if r.start is not None else 10**9))
    for key, kind, word in (("expects", "expects", "needs from"), ("provides", "provides",
                                                                   "offers to")):
        for item in plan.get(key, []):
            span = window_of(item)
            other = item.get("from") or item.get("to") or "?"
            label = f"{word} {other}: {item.get('what', item['id'])}"
            grp = prefix + ("expectations" if key == "expects" else "provisions")
            if span is None:
                rows.append(Row(grp, label, kind=kind, note="window withheld from you"))
            else:
                rows.append(Row(grp, label, span[0], span[1], kind, item["id"]))
    return rows


def plan_markers(plan: Json, *, prefix: str = "") -> list[Marker]:
    out = []
    for obj in plan.get("objectives", []):
        at = time_of(obj.get("by"))
        if at is not None:
            out.append(Marker(at, prefix + obj.get("title", obj["id"])))
    return out


def conflict_items(conflict: Json, view: Json) -> list[Json]:
    """The items of a conflict with what the viewer knows of each (hidden ones stay bare)."""
    out = []
    for item in conflict["tasks"]:
        if item.get("hidden"):
            out.append({"hidden": True, "partner": item["partner"]})
            continue
        key, iid = ("tasks", item["task"]) if "task" in item else ("provides",
                                                                    item["provision"])
        found = find_item(view, item["plan"], key, iid) or {}
        span = task_interval(found) if key == "tasks" else window_of(found)
        out.append({"hidden": False, "partner": item["partner"], "plan": item["plan"],
                    "name": item_name(item), "id": iid, "kind": key,
                    "title": found.get("title") or found.get("what") or iid,
                    "commitment": item.get("commitment"), "span": span,
                    "uses": found.get("uses", {}), "area": found.get("area"),
                    "flex": found.get("flex")})
    return out


def conflict_rows(items: list[Json]) -> list[Row]:
    rows = []
    for it in items:
        if it["hidden"]:
            rows.append(Row(it["partner"], f"{it['partner']}: hidden", kind="hidden",
                            note="an activity not shared with you; only its overlap is known"))
        elif it["span"] is None:
            rows.append(Row(it["partner"], it["title"], note=it["name"]))
        else:
            kind = "provides" if it["kind"] == "provides" else f"task {it['commitment']}"
            rows.append(Row(it["partner"], it["title"], it["span"][0], it["span"][1], kind,
                            it["name"], f"/plans/{it['plan']}"))
    return rows


def load_intervals(items: list[Json], resource: str) -> list[tuple[int, int, int]]:
    """The named items' use of a resource; hidden items add nothing (they are not known)."""
    out = []
    for it in items:
        qty = it.get("uses", {}).get(resource) if not it["hidden"] else None
        if isinstance(qty, int) and it["span"] is not None:
            out.append((it["span"][0], it["span"][1], qty))
    return out


def geojson(view: Json, area_ids: list[str]) -> Json:
    areas = {a["id"]: a for a in view["areas"]}
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": areas[a]["geometry"],
         "properties": {"id": a, "name": areas[a]["name"]}}
        for a in area_ids if a in areas]}


def owner_rows(entries: list[Json], partner: str) -> list[Json]:
    return [e for e in entries if e.get("owner") == partner]


def subject_link(subject: str) -> str:
    """A link for an audit subject (`plan:ID`, `proposal:ID`, ...), or '' if it has no page."""
    kind, _, ref = subject.partition(":")
    pages = {"plan": "/plans/", "proposal": "/proposals/", "thread": "/threads/",
             "decision": "/decisions/"}
    return pages[kind] + ref if kind in pages and ref else ""
