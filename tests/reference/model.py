"""A plain reference model of ``jointplan check DIR --as CODE --json``.

Written from the format contract (``plan-format.md``) alone and deliberately naive:
every leaf, every resource, every pair of tasks, breakpoint-by-breakpoint sums.
It assumes its input is valid and imports nothing from ``jointplan``; it is the
oracle of the differential property test, so clarity matters more than speed.

Decisions where the format leaves room (taken by the project lead):

- references (``after``/``serves``/``answers``) to objects the viewer cannot see
  do not matter for check output;
- two tasks of the same owner, or of the same plan, can be in an area conflict;
- a task of zero duration overlaps nothing (and is in no conflict);
- provisions have no area;
- the items of a capacity conflict are the tasks and provisions of plans active
  in the leaf that use the resource with a positive quantity over a
  positive-length interval overlapping the conflict's window;
- a task is named in a capacity conflict to a viewer that sees it and from which
  none of ``start``, ``duration``, ``uses`` is withheld (area conflict:
  ``start``, ``duration``, ``area``, ``exclusive``); a provision to a viewer that
  sees it (owner, effective share, or its ``to``) and from which neither
  ``window`` nor ``uses`` is withheld;
- a gap is shown to the expecting partner, to the ``from`` partner, and to a
  partner that may see the expectation with its ``window`` and ``uses`` and every
  answering provision with its ``window`` and ``uses``.

Decisions taken here (see the module's report): the pieces of a cut window are
the maximal runs of minutes in which at least one of the viewer's own items is in
use (items that only touch make one run); an entry that occurs twice in one leaf
lists that leaf once; ``scenarios`` lists compare by workspace order when
sorting; entries equal on every sort key are ordered by their items.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from shapely.geometry import shape

# --------------------------------------------------------------------- reading

_TIME = re.compile(r"^T([+-])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def _dhm(days: str | None, hours: str | None, minutes: str | None) -> int:
    return int(days or 0) * 1440 + int(hours or 0) * 60 + int(minutes or 0)


def parse_time(text: str) -> int:
    """``T+1d6h`` -> 1800 minutes after T0."""
    m = _TIME.match(text.strip())
    assert m, f"not a time: {text!r}"
    value = _dhm(m.group(2), m.group(3), m.group(4))
    return -value if m.group(1) == "-" else value


def parse_duration(value: Any) -> int:
    """``1d12h`` -> 2160 minutes; a three-point duration counts its ``likely``."""
    if isinstance(value, dict):
        value = value["likely"]
    m = _DURATION.match(value.strip())
    assert m, f"not a duration: {value!r}"
    return _dhm(m.group(1), m.group(2), m.group(3))


def parse_flag(text: Any) -> bool:
    assert text in ("true", "false"), f"not a flag: {text!r}"
    return text == "true"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _read_documents(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every workspace file, in name order, as plain data with string scalars.

    ``BaseLoader`` resolves nothing, so ``NO``/``ON`` stay text; every number and
    flag is converted below by the field it sits in (YAML 1.2 core schema: only
    ``true`` and ``false`` are flags).
    """
    docs = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".json"):
            continue
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        if isinstance(data, dict) and "kind" in data:
            docs.append((path.name, data))
    return docs


# --------------------------------------------------------------------- sharing


def _share(value: Any, partners: list[str]) -> set[str]:
    """The partners a ``share`` names: absent -> none, ``all`` -> every one."""
    if value is None:
        return set()
    if value == "all":
        return set(partners)
    return set(value)


class Plan:
    def __init__(self, data: dict[str, Any], partners: list[str]) -> None:
        self.id: str = data["id"]
        self.owner: str = data["owner"]
        self.scenarios: list[str] = list(data["scenarios"])
        self.share: set[str] = _share(data.get("share"), partners)

    def seen_by(self, viewer: str | None) -> bool:
        return viewer is None or viewer == self.owner or viewer in self.share


class Entry:
    """A task, expectation or provision of a plan, with its sharing."""

    def __init__(self, kind: str, data: dict[str, Any], plan: Plan, partners: list[str]) -> None:
        self.kind = kind
        self.plan = plan
        self.partner = plan.owner
        self.id: str = data["id"]
        self.data = data
        if "share" in data:
            self.share = plan.share & _share(data["share"], partners)
        else:
            self.share = set(plan.share)
        self.withhold: dict[str, set[str]] = {
            field: set(who) for field, who in (data.get("withhold") or {}).items()
        }
        self.uses: dict[str, int] = {r: int(q) for r, q in (data.get("uses") or {}).items()}
        if kind == "task":
            self.start = parse_time(data["start"])
            self.end = self.start + parse_duration(data["duration"])
        else:
            self.start = parse_time(data["window"][0])
            self.end = parse_time(data["window"][1])
        self.area: str | None = data.get("area")
        self.exclusive = parse_flag(data["exclusive"]) if "exclusive" in data else False
        self.commitment: str = data.get("commitment", "planned")
        self.to: str | None = data.get("to")
        self.source: str | None = data.get("from")
        self.answers: str | None = data.get("answers")

    @property
    def name(self) -> str:
        return f"{self.plan.id}/{self.id}"

    def seen_by(self, viewer: str | None) -> bool:
        if viewer is None or viewer == self.partner or viewer in self.share:
            return True
        # an expectation is always visible to its `from`, a provision to its `to`
        return viewer in (self.to, self.source)

    def withheld_from(self, field: str, viewer: str | None) -> bool:
        if viewer is None or viewer == self.partner:
            return False
        return viewer in self.withhold.get(field, set())

    def may_see(self, viewer: str | None, fields: tuple[str, ...]) -> bool:
        """Sees the object and every one of ``fields``."""
        return self.seen_by(viewer) and not any(self.withheld_from(f, viewer) for f in fields)


# --------------------------------------------------------------------- the workspace


class Workspace:
    def __init__(self, folder: Path) -> None:
        docs = _read_documents(folder)
        ws = next(d for _, d in docs if d["kind"] == "workspace")
        self.id: str = ws["id"]
        self.partners: list[str] = [p["code"] for p in ws["partners"]]
        self.capacity: dict[str, int] = {
            r["id"]: int(r["capacity"]) for r in (ws.get("resources") or [])
        }
        self.geometry = {a["id"]: _geometry(a["geometry"]) for a in (ws.get("areas") or [])}

        self.scenarios: list[str] = []
        self.parent: dict[str, str | None] = {}
        self.prior: dict[str, float] = {}
        for s in ws.get("scenarios") or []:
            self.scenarios.append(s["id"])
            self.parent[s["id"]] = s.get("parent")
            self.prior[s["id"]] = float(s["prior"])
        self.leaves = [s for s in self.scenarios if s not in self.parent.values()]

        self.indicators = []
        for i in ws.get("indicators") or []:
            self.indicators.append({
                "id": i["id"],
                "owner": i["owner"],
                "share": _share(i.get("share"), self.partners),
                "likelihood": {s: float(p) for s, p in i["likelihood"].items()},
            })

        self.observations = []  # files in name order, each in listed order
        self.plans: list[Plan] = []
        self.tasks: list[Entry] = []
        self.expectations: list[Entry] = []
        self.provisions: list[Entry] = []
        for _, doc in docs:
            if doc["kind"] == "observations":
                for o in doc.get("observations") or []:
                    self.observations.append({
                        "indicator": o["indicator"],
                        "at": parse_instant(o["at"]),
                        "seen": parse_flag(o["seen"]),
                        "by": o["by"],
                        "share": _share(o.get("share"), self.partners),
                    })
            elif doc["kind"] == "plan":
                plan = Plan(doc, self.partners)
                self.plans.append(plan)
                for t in doc.get("tasks") or []:
                    self.tasks.append(Entry("task", t, plan, self.partners))
                for e in doc.get("expects") or []:
                    self.expectations.append(Entry("expectation", e, plan, self.partners))
                for p in doc.get("provides") or []:
                    self.provisions.append(Entry("provision", p, plan, self.partners))

    def path(self, scenario: str) -> list[str]:
        """The scenario and its ancestors, itself first."""
        out = []
        node: str | None = scenario
        while node is not None:
            out.append(node)
            node = self.parent[node]
        return out

    def active(self, plan: Plan, leaf: str) -> bool:
        return any(s in plan.scenarios for s in self.path(leaf))


def _geometry(data: dict[str, Any]) -> Any:
    def numbers(x: Any) -> Any:
        return [numbers(y) for y in x] if isinstance(x, list) else float(x)

    return shape({"type": data["type"], "coordinates": numbers(data["coordinates"])})


# --------------------------------------------------------------------- helpers


def _uses_at(items: list[Entry], resource: str, minute: int) -> int:
    return sum(i.uses.get(resource, 0) for i in items if i.start <= minute < i.end)


def _segments(items: list[Entry], lo: int, hi: int) -> list[tuple[int, int]]:
    """The elementary intervals of [lo, hi) between the items' breakpoints."""
    points = {lo, hi}
    for i in items:
        for p in (i.start, i.end):
            if lo < p < hi:
                points.add(p)
    ordered = sorted(points)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if a < b]


def _runs(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge intervals that overlap or touch into maximal runs."""
    runs: list[list[int]] = []
    for a, b in sorted(intervals):
        if a >= b:
            continue
        if runs and a <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], b)
        else:
            runs.append([a, b])
    return [(a, b) for a, b in runs]


def _overlaps(item: Entry, lo: int, hi: int) -> bool:
    return item.start < item.end and item.start < hi and lo < item.end


def _item_out(item: Entry, viewer: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"partner": item.partner, "plan": item.plan.id, item.kind: item.id}
    if item.kind == "task" and not item.withheld_from("commitment", viewer):
        out["commitment"] = item.commitment
    return out


def _items_out(items: list[Entry], viewer: str | None, fields: dict[str, tuple[str, ...]]):
    named = [i for i in items if i.may_see(viewer, fields[i.kind])]
    hidden = sorted({i.partner for i in items if i not in named})
    shown = sorted((_item_out(i, viewer) for i in named),
                   key=lambda d: (d["partner"], d["plan"], d.get("task", d.get("provision"))))
    return named, shown + [{"partner": p, "hidden": True} for p in hidden]


CAPACITY_FIELDS = {"task": ("start", "duration", "uses"), "provision": ("window", "uses")}
AREA_FIELDS = {"task": ("start", "duration", "area", "exclusive")}


# --------------------------------------------------------------------- conflicts


def _capacity_conflicts(w: Workspace, leaf: str) -> list[dict[str, Any]]:
    """Uncut conflicts of one leaf: (resource, window, items)."""
    found = []
    active = [i for i in w.tasks + w.provisions if w.active(i.plan, leaf)]
    for resource, capacity in w.capacity.items():
        users = [i for i in active if i.uses.get(resource, 0) > 0 and i.start < i.end]
        if not users:
            continue
        lo = min(i.start for i in users)
        hi = max(i.end for i in users)
        over = [(a, b) for a, b in _segments(users, lo, hi)
                if _uses_at(users, resource, a) > capacity]
        for a, b in _runs(over):
            found.append({"resource": resource, "window": (a, b),
                          "items": [i for i in users if _overlaps(i, a, b)]})
    return found


def _area_conflicts(w: Workspace, leaf: str) -> list[dict[str, Any]]:
    found = []
    tasks = [t for t in w.tasks if w.active(t.plan, leaf) and t.area is not None]
    for x in range(len(tasks)):
        for y in range(x + 1, len(tasks)):
            a, b = tasks[x], tasks[y]
            if not (a.exclusive or b.exclusive):
                continue
            lo, hi = max(a.start, b.start), min(a.end, b.end)
            if a.start >= a.end or b.start >= b.end or lo >= hi:
                continue
            if not w.geometry[a.area].intersection(w.geometry[b.area]).area > 0:
                continue
            found.append({"window": (lo, hi), "items": [a, b]})
    return found


def _cut(conflict: dict[str, Any], viewer: str | None, fields) -> list[dict[str, Any]]:
    """The pieces of one conflict shown to the viewer (none, the whole, or cut)."""
    items: list[Entry] = conflict["items"]
    if viewer is None or all(i.may_see(viewer, fields[i.kind]) for i in items):
        return [conflict]
    own = [i for i in items if i.partner == viewer]
    if not own:
        return []
    lo, hi = conflict["window"]
    pieces = _runs([(max(i.start, lo), min(i.end, hi)) for i in own])
    return [dict(conflict, window=(a, b), items=[i for i in items if _overlaps(i, a, b)])
            for a, b in pieces]


def _conflicts_for(w: Workspace, leaf: str, viewer: str | None) -> list[dict[str, Any]]:
    out = []
    for c in _capacity_conflicts(w, leaf):
        for piece in _cut(c, viewer, CAPACITY_FIELDS):
            a, b = piece["window"]
            resource = piece["resource"]
            demand = max(_uses_at(piece["items"], resource, s)
                         for s, _ in _segments(piece["items"], a, b))
            _, items = _items_out(piece["items"], viewer, CAPACITY_FIELDS)
            out.append({"kind": "capacity", "resource": resource, "window": [a, b],
                        "demand": demand, "capacity": w.capacity[resource], "tasks": items})
    for c in _area_conflicts(w, leaf):
        for piece in _cut(c, viewer, AREA_FIELDS):
            named, items = _items_out(piece["items"], viewer, AREA_FIELDS)
            out.append({"kind": "area", "areas": sorted({i.area for i in named}),
                        "window": list(piece["window"]), "tasks": items})
    return out


# --------------------------------------------------------------------- gaps


def _gaps_for(w: Workspace, leaf: str, viewer: str | None) -> list[dict[str, Any]]:
    out = []
    provisions = [p for p in w.provisions if w.active(p.plan, leaf)]
    for e in w.expectations:
        if not w.active(e.plan, leaf):
            continue
        answering = [p for p in provisions if p.answers == e.name]
        if not answering and e.uses:
            answering = [p for p in provisions
                         if p.partner == e.source and p.to == e.partner and p.answers is None
                         and any(r in e.uses for r in p.uses)]
        shown = (viewer is None or viewer in (e.partner, e.source)
                 or (e.may_see(viewer, ("window", "uses"))
                     and all(p.may_see(viewer, ("window", "uses")) for p in answering)))
        if not shown:
            continue
        kinds = []
        if not answering:
            kinds.append("unanswered")
        else:
            earliest = min(p.start for p in answering)
            latest = max(p.end for p in answering)
            if earliest > e.start:
                kinds.append("late")
            if latest < e.end:
                kinds.append("early")
            short = any(
                _uses_at(answering, r, minute) < q
                for minute in range(max(e.start, earliest), min(e.end, latest))
                for r, q in e.uses.items()
            )
            if short:
                kinds.append("short")
        for kind in kinds:
            out.append({"kind": kind, "expectation": e.name, "from": e.source,
                        "provisions": sorted(p.name for p in answering),
                        "window": [e.start, e.end]})
    return out


# --------------------------------------------------------------------- likelihood


def _likelihood(w: Workspace, viewer: str | None) -> dict[str, float | None]:
    def visible(owner: str, share: set[str]) -> bool:
        return viewer is None or viewer == owner or viewer in share

    counted: dict[str, bool] = {}
    for ind in w.indicators:
        if not visible(ind["owner"], ind["share"]):
            continue
        latest = None
        for o in w.observations:  # files in name order, then listed order
            if o["indicator"] != ind["id"] or not visible(o["by"], o["share"]):
                continue
            if latest is None or o["at"] >= latest["at"]:  # equal times: the last listed
                latest = o
        if latest is not None:
            counted[ind["id"]] = latest["seen"]

    weight = {}
    for leaf in w.leaves:
        path = w.path(leaf)
        value = 1.0
        for s in path:
            value *= w.prior[s]
        for ind in w.indicators:
            if ind["id"] not in counted:
                continue
            p = next(ind["likelihood"][s] for s in path if s in ind["likelihood"])
            value *= p if counted[ind["id"]] else 1 - p
        weight[leaf] = value
    total = sum(weight.values())
    if total == 0:
        return {s: None for s in w.scenarios}
    return {
        s: round(sum(weight[leaf] for leaf in w.leaves if s in w.path(leaf)) / total, 6)
        for s in w.scenarios
    }


# --------------------------------------------------------------------- the report


def _merge(entries: list[tuple[str, dict[str, Any]]], order: list[str]) -> list[dict[str, Any]]:
    """Report entries that print the same (but for `scenarios`) once."""
    merged: dict[str, dict[str, Any]] = {}
    leaves: dict[str, set[str]] = {}
    for leaf, entry in entries:
        key = json.dumps(entry, sort_keys=True)
        merged.setdefault(key, entry)
        leaves.setdefault(key, set()).add(leaf)
    return [dict(entry, scenarios=sorted(leaves[key], key=order.index))
            for key, entry in merged.items()]


KIND_ORDER = {"capacity": 0, "area": 1, "unanswered": 0, "late": 1, "early": 2, "short": 3}


def reference_check(folder: Path, viewer: str | None) -> dict[str, Any]:
    """What ``jointplan check FOLDER --as VIEWER --json`` prints (None: the whole)."""
    w = Workspace(Path(folder))

    conflicts = _merge([(leaf, c) for leaf in w.leaves for c in _conflicts_for(w, leaf, viewer)],
                       w.scenarios)
    conflicts.sort(key=lambda c: (
        KIND_ORDER[c["kind"]],
        c["resource"] if c["kind"] == "capacity" else c["areas"],
        c["window"],
        [w.scenarios.index(s) for s in c["scenarios"]],
        json.dumps(c["tasks"], sort_keys=True),
    ))

    gaps = _merge([(leaf, g) for leaf in w.leaves for g in _gaps_for(w, leaf, viewer)],
                  w.scenarios)
    gaps.sort(key=lambda g: (
        g["expectation"],
        KIND_ORDER[g["kind"]],
        [w.scenarios.index(s) for s in g["scenarios"]],
        json.dumps(g, sort_keys=True),
    ))

    coverage = {
        leaf: {
            partner: sum(1 for p in w.plans
                         if p.owner == partner and w.active(p, leaf) and p.seen_by(viewer))
            for partner in w.partners
        }
        for leaf in w.leaves
    }

    return {
        "workspace": w.id,
        "as": viewer,
        "conflicts": conflicts,
        "gaps": gaps,
        "coverage": coverage,
        "likelihood": _likelihood(w, viewer),
    }
