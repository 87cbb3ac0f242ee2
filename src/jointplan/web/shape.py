"""Shaping what the use cases return into what the templates draw.

Nothing here decides who sees what: every input is a view or a result that
the server's use cases already cut for the partner; these functions only
rearrange it (a tree of scenarios, timeline rows, a conflict's items).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ..model import TimecodeError, format_duration, format_time, parse_time
from .render import item_name, likely_minutes
from .svg import Marker, Row

Json = dict[str, Any]


@dataclass
class Node:
    id: str
    title: str
    prior: float
    """As written: a child's prior is its share of its parent."""
    likelihood: float | None
    children: list[Node] = field(default_factory=list)
    overall: float | None = None
    """The prior as a probability of the whole scenario: the likelihoods' scale."""
    is_child: bool = False


def overall_priors(scenarios: list[Json]) -> dict[str, float | None]:
    """Each scenario's prior probability before any observation, on the likelihoods' scale.

    As the likelihoods are computed with no evidence: a leaf weighs the product of
    the priors on its path, the weights are normalised, a scenario sums its leaves.
    """
    by_id = {s["id"]: s for s in scenarios}
    weights: dict[str, float] = {}
    for leaf in leaves(scenarios):
        weight, node = 1.0, by_id.get(leaf)
        while node is not None:
            weight *= float(node["prior"])
            node = by_id.get(node.get("parent") or "")
        weights[leaf] = weight
    total = sum(weights.values())
    if total <= 0:
        return {s["id"]: None for s in scenarios}
    out = {s["id"]: 0.0 for s in scenarios}
    for leaf, w in weights.items():
        for sid in ancestors(scenarios, leaf):
            out[sid] = (out[sid] or 0.0) + w / total
    return dict(out)


def scenario_tree(scenarios: list[Json], likelihood: dict[str, Any]) -> list[Node]:
    overall = overall_priors(scenarios)
    nodes = {s["id"]: Node(s["id"], s["title"], s["prior"], likelihood.get(s["id"]),
                           overall=overall.get(s["id"]), is_child=bool(s.get("parent")))
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


@dataclass
class MapKey:
    """One line of a map's legend: an area, whose items use it, and its colour."""

    area: str
    name: str
    partners: list[str]
    colour: str


def conflict_map(view: Json, items: list[Json], area_ids: list[str], *,
                 overlap: bool) -> tuple[Json, list[MapKey], str]:
    """The areas of a conflict coloured by the partner whose items use them, and where
    they overlap.

    An area no item named to the viewer uses (an area conflict's counterpart) is
    drawn as "not shared with you", never attributed to a partner. With `overlap`
    (an area conflict), the part shared by two or more of the areas is added as
    its own feature, computed with shapely from the geometries the viewer sees.
    """
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    areas = {a["id"]: a for a in view["areas"]}
    order = [p["code"] for p in view["partners"]]
    keys, features = [], []
    for a in area_ids:
        if a not in areas:
            continue
        users = sorted({it["partner"] for it in items if not it["hidden"]
                        and it.get("area") == a}, key=order.index)
        colour = f"partner-{order.index(users[0])}" if users else "unshared"
        keys.append(MapKey(a, areas[a]["name"], users, colour))
        features.append({"type": "Feature", "geometry": areas[a]["geometry"],
                         "properties": {"id": a, "name": areas[a]["name"], "colour": colour,
                                        "partners": users}})
    shared = ""  # "drawn": the overlap of the areas; "within": somewhere in the one area
    if overlap and features:
        shapes = [shape(f["geometry"]) for f in features]
        if len(shapes) == 1:  # the other side's area is not told: the overlap lies in this one
            common, how = shapes[0], "within"
        else:
            common, how = unary_union([a.intersection(b) for i, a in enumerate(shapes)
                                       for b in shapes[i + 1:]]), "drawn"
        if not common.is_empty and common.area > 0:
            shared = how
            features.append({"type": "Feature", "geometry": mapping(common),
                             "properties": {"id": "overlap", "name": "Where the areas overlap",
                                            "colour": "overlap", "partners": []}})
    return {"type": "FeatureCollection", "features": features}, keys, shared


def owner_rows(entries: list[Json], partner: str) -> list[Json]:
    return [e for e in entries if e.get("owner") == partner]


def subject_link(subject: str) -> str:
    """A link for an audit subject (`plan:ID`, `proposal:ID`, ...), or '' if it has no page."""
    kind, _, ref = subject.partition(":")
    pages = {"plan": "/plans/", "proposal": "/proposals/", "thread": "/threads/",
             "decision": "/decisions/"}
    return pages[kind] + ref if kind in pages and ref else ""


def _shortfall(wanted: int, spans: list[tuple[int, int, int]], lo: int,
               hi: int) -> tuple[int, int, int] | None:
    """(from, until, most short) of the first stretch of [lo, hi) the spans give less
    than `wanted`, or None."""
    cuts = sorted({lo, hi, *(x for a, b, _ in spans for x in (a, b) if lo < x < hi)})
    start, worst = None, 0
    for a, b in itertools.pairwise(cuts):
        level = sum(q for s, e, q in spans if s <= a and b <= e)
        if level < wanted:
            start = a if start is None else start
            worst = max(worst, wanted - level)
        elif start is not None:
            return start, a, worst
    return (start, hi, worst) if start is not None else None


def gap_facts(gap: Json, expectation: Json, provisions: list[Json],
              resources: dict[str, str]) -> list[str]:
    """By how much and from when a gap falls short, from what the viewer may see."""
    window = window_of(expectation) or window_of(gap)
    if window is None:
        return []
    w0, w1 = window
    uses = {r: q for r, q in (expectation.get("uses") or {}).items() if isinstance(q, int)}
    spans = [window_of(p) for p in provisions]
    known = [s for s in spans if s is not None]
    kind = gap["kind"]
    if kind == "unanswered":
        need = ", ".join(f"{q} of {resources.get(r, r)}" for r, q in uses.items())
        return [f"Nothing is offered for it: {need or 'it is'} needed from "
                f"{format_time(w0)} to {format_time(w1)}."]
    if kind == "late" and known:
        first = min(a for a, _ in known)
        return [f"The first answering provision starts at {format_time(first)}, "
                f"{format_duration(first - w0)} after the need starts at {format_time(w0)}: "
                f"nothing is provided from {format_time(w0)} to {format_time(first)}."]
    if kind == "early" and known:
        last = max(b for _, b in known)
        return [f"The answering provisions end at {format_time(last)}, "
                f"{format_duration(w1 - last)} before the need ends at {format_time(w1)}: "
                f"nothing is provided from {format_time(last)} to {format_time(w1)}."]
    if kind == "short":
        out = []
        for rid, wanted in uses.items():
            offered = []
            for p, span in zip(provisions, spans, strict=True):
                q = (p.get("uses") or {}).get(rid)
                if span is None or not isinstance(q, int):
                    break
                offered.append((span[0], span[1], q))
            else:
                # As the analysis does: within the stretch some provision covers.
                lo = max(w0, min((a for a, _, _ in offered), default=w0))
                hi = min(w1, max((b for _, b, _ in offered), default=w1))
                found = _shortfall(wanted, offered, lo, hi)
                if found is not None:
                    a, b, worst = found
                    out.append(f"{worst} short of {wanted} {resources.get(rid, rid)} from "
                               f"{format_time(a)} until {format_time(b)}.")
                continue
            out.append(f"Short of {resources.get(rid, rid)} at some moment; by how much is "
                       "not shared with you.")
        return out
    return ["By how much is not shared with you (the provisions' windows are withheld)."]


def gap_summary(gap: Json, view: Json) -> list[str]:
    """`gap_facts` for a gap of an analysis, looking its items up in the viewer's view."""
    pid, _, eid = gap["expectation"].partition("/")
    expectation = find_item(view, pid, "expects", eid) or {}
    provisions = []
    for name in gap["provisions"]:
        ppid, _, prid = name.partition("/")
        provisions.append(find_item(view, ppid, "provides", prid) or {})
    return gap_facts(gap, expectation, provisions,
                     {r["id"]: r["name"] for r in view["resources"]})
