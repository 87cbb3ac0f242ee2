"""A small reference of who sees what: each plan, item and field, per partner.

Written from the "Who sees what" section of ``plan-format.md`` alone. It
imports nothing from ``jointplan`` (only the time parsers of the sibling
reference model) and reads the workspace folder plainly, every scalar as text.

``reference_view(folder, viewer)`` is what a partner receives of the workspace,
in a *normal form* that ignores how a value is spelled (``T+1d6h`` and
``T+30h`` are both 1800 minutes); ``normal_view(json)`` puts a view printed by
the product into the same form, so the two compare with ``==``.
``secrets(folder)`` lists every text of an object or field with the partners
that may see it: any other partner must never receive it.

Decisions where the format leaves room:

- a task without ``exclusive`` is not exclusive and one without ``commitment``
  is ``planned`` (the format's defaults), and the view prints both;
- a plan without ``tlp`` is marked ``amber`` (the format names no default);
- ``withheld`` lists the withheld fields and the dropped references; its order
  is not compared;
- an owner may or may not receive the ``x-`` extensions of its items (they are
  "kept and ignored"); nobody else ever does.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import yaml

from .model import parse_duration, parse_flag, parse_instant, parse_time

ITEMS = (("objectives", "objective"), ("tasks", "task"), ("expects", "expectation"),
         ("provides", "provision"))
CONTROL = ("share", "withhold")
DEFAULT_TLP = "amber"

Doc = dict[str, Any]


# --------------------------------------------------------------------- reading


# Resolves nothing, so every scalar stays text (``NO`` stays ``NO``); libyaml when present.
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


@functools.lru_cache(maxsize=512)
def _read(path: Path, _stamp: tuple[int, int]) -> str:
    return json.dumps(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER))


def documents(folder: Path) -> list[tuple[str, Doc]]:
    """Every workspace file in name order, as plain data with text scalars."""
    out = []
    for path in sorted(Path(folder).iterdir(), key=lambda p: p.name):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
            stat = path.stat()
            data = json.loads(_read(path, (stat.st_mtime_ns, stat.st_size)))
            if isinstance(data, dict) and "kind" in data:
                out.append((path.name, data))
    return out


class Folder:
    """A workspace folder read plainly."""

    def __init__(self, folder: Path) -> None:
        docs = documents(folder)
        self.joint: Doc = next(d for _, d in docs if d["kind"] == "workspace")
        self.partners: list[str] = [p["code"] for p in self.joint["partners"]]
        self.plans: list[Doc] = [d for _, d in docs if d["kind"] == "plan"]
        self.indicators: list[Doc] = list(self.joint.get("indicators") or [])
        self.observations: list[Doc] = [o for _, d in docs if d["kind"] == "observations"
                                        for o in d.get("observations") or []]

    def members(self, share: Any) -> set[str]:
        """The partners a ``share`` names: absent -> none, ``all`` -> every one."""
        if share is None:
            return set()
        if share == "all":
            return set(self.partners)
        return set(share)

    # ------------------------------------------------------------ who sees what

    def plan_audience(self, plan: Doc) -> set[str]:
        """Who sees the plan itself: its owner and its share."""
        return {plan["owner"]} | self.members(plan.get("share"))

    def item_audience(self, plan: Doc, kind: str, item: Doc) -> set[str]:
        """Who sees an item: the owner, the effective share, and whom it is addressed to."""
        share = self.members(plan.get("share"))
        if "share" in item:
            share &= self.members(item["share"])
        who = {plan["owner"]} | share
        if kind == "expectation":
            who.add(item["from"])
        if kind == "provision":
            who.add(item["to"])
        return who

    def id_audience(self, plan: Doc) -> set[str]:
        """Who learns that the plan exists (its id): the plan's audience and every item's."""
        who = self.plan_audience(plan)
        for key, kind in ITEMS:
            for item in plan.get(key) or []:
                who |= self.item_audience(plan, kind, item)
        return who

    @staticmethod
    def withheld(plan: Doc, item: Doc, viewer: str) -> list[str]:
        if viewer == plan["owner"]:
            return []
        return [f for f, who in (item.get("withhold") or {}).items() if viewer in who]

    def indicator_audience(self, indicator: Doc) -> set[str]:
        return {indicator["owner"]} | self.members(indicator.get("share"))

    def observation_audience(self, observation: Doc) -> set[str]:
        indicator = next(i for i in self.indicators if i["id"] == observation["indicator"])
        seen = {observation["by"]} | self.members(observation.get("share"))
        return seen & self.indicator_audience(indicator)

    # ------------------------------------------------------------ lookups

    def plan(self, plan_id: str) -> Doc | None:
        return next((p for p in self.plans if p["id"] == plan_id), None)

    def find(self, plan_id: str, key: str, item_id: str) -> Doc | None:
        plan = self.plan(plan_id)
        return next((x for x in (plan or {}).get(key) or [] if x["id"] == item_id), None)


# --------------------------------------------------------------------- the view


def _item_view(ws: Folder, plan: Doc, kind: str, item: Doc, viewer: str) -> Doc:
    out: Doc = {k: v for k, v in item.items() if k not in CONTROL}
    if kind == "task":
        out.setdefault("exclusive", "false")
        out.setdefault("commitment", "planned")
    if viewer == plan["owner"]:
        out.update({k: item[k] for k in CONTROL if k in item})
        return out
    out = {k: v for k, v in out.items() if not k.startswith("x-")}
    withheld = ws.withheld(plan, item, viewer)
    for name in withheld:
        out.pop(name, None)
    # A reference to an object the viewer may not see is dropped the same way.
    dropped = []
    if "after" in out:
        kept = []
        for ref in out["after"]:
            other, _, name = ref.rpartition("/")
            target = ws.plan(other) if other else plan
            task = ws.find(target["id"], "tasks", name)
            if viewer in ws.item_audience(target, "task", task):
                kept.append(ref)
        if len(kept) != len(out["after"]):
            dropped.append("after")
        out["after"] = kept
    if "serves" in out:
        kept = [o for o in out["serves"]
                if viewer in ws.item_audience(plan, "objective",
                                              ws.find(plan["id"], "objectives", o))]
        if len(kept) != len(out["serves"]):
            dropped.append("serves")
        out["serves"] = kept
    if "answers" in out:
        pid, _, eid = out["answers"].partition("/")
        target = ws.plan(pid)
        if viewer not in ws.item_audience(target, "expectation",
                                          ws.find(pid, "expects", eid)):
            dropped.append("answers")
            del out["answers"]
    for key in ("after", "serves"):
        if key in out and not out[key]:
            del out[key]
    names = sorted(set(withheld) | set(dropped))
    if names:
        out["withheld"] = names
    return out


def _plan_view(ws: Folder, plan: Doc, viewer: str) -> Doc | None:
    parts: Doc = {}
    for key, kind in ITEMS:
        seen = [_item_view(ws, plan, kind, x, viewer) for x in plan.get(key) or []
                if viewer in ws.item_audience(plan, kind, x)]
        if seen:
            parts[key] = seen
    if viewer not in ws.plan_audience(plan):
        # Only what is addressed to the viewer: the plan's id and nothing else of it.
        return {"id": plan["id"], **parts} if parts else None
    out: Doc = {"id": plan["id"], "owner": plan["owner"], "title": plan["title"],
                "scenarios": list(plan["scenarios"]), "tlp": plan.get("tlp", DEFAULT_TLP)}
    if viewer == plan["owner"]:
        out.update({k: v for k, v in plan.items() if k.startswith("x-") or k == "share"})
    out.update(parts)
    return out


def reference_view(folder: Path, viewer: str) -> Doc:
    """What ``viewer`` receives of the workspace in ``folder``, in normal form."""
    ws = Folder(Path(folder))
    plans = {}
    for plan in ws.plans:
        view = _plan_view(ws, plan, viewer)
        if view is not None:
            plans[plan["id"]] = normal_plan(view, viewer)
    indicators = {}
    for ind in ws.indicators:
        if viewer in ws.indicator_audience(ind):
            out = {k: v for k, v in ind.items() if k != "share" or viewer == ind["owner"]}
            indicators[ind["id"]] = _normal_indicator(out)
    observations = [_normal_observation({k: v for k, v in o.items()
                                         if k != "share" or viewer == o["by"]})
                    for o in ws.observations if viewer in ws.observation_audience(o)]
    return {"as": viewer, "joint": _normal_joint(ws.joint), "plans": plans,
            "indicators": indicators, "observations": sorted(observations, key=json.dumps)}


def normal_view(view: Doc) -> Doc:
    """A view as the product prints it (``/api/workspace``), in the same normal form."""
    viewer = view["as"]
    return {"as": viewer, "joint": _normal_joint(view),
            "plans": {p["id"]: normal_plan(p, viewer) for p in view["plans"]},
            "indicators": {i["id"]: _normal_indicator(i) for i in view["indicators"]},
            "observations": sorted((_normal_observation(o) for o in view["observations"]),
                                   key=json.dumps)}


def normal_plan(plan: Doc, viewer: str) -> Doc:
    """One plan as the product prints it (``/api/plans/{id}``), in normal form."""
    return _normal_plan(plan, viewer if plan.get("owner") == viewer else None)


# --------------------------------------------------------------------- normal form


def _minutes_window(value: Any) -> list[int]:
    return [parse_time(str(value[0])), parse_time(str(value[1]))]


def _duration(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: parse_duration(str(v)) for k, v in value.items()}
    return parse_duration(str(value))


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return parse_flag(str(value))


def _normal_item(item: Doc, owned: bool) -> Doc:
    out: Doc = {}
    for key, value in item.items():
        if key.startswith("x-") and owned:
            continue  # kept and ignored: an owner may or may not get them back
        if key in ("start", "by"):
            value = parse_time(str(value))
        elif key == "duration":
            value = _duration(value)
        elif key in ("flex", "window"):
            value = _minutes_window(value)
        elif key == "uses":
            value = {r: int(q) for r, q in value.items()}
        elif key == "exclusive":
            value = _flag(value)
        elif key in ("share",):
            value = value if value == "all" else sorted(value)
        elif key == "withhold":
            value = {f: sorted(who) for f, who in value.items()}
        elif key == "withheld":
            value = sorted(value)
        elif key in ("after", "serves"):
            value = list(value)
        out[key] = value
    return out


def _normal_plan(plan: Doc, owner_view: str | None) -> Doc:
    out: Doc = {}
    for key, value in plan.items():
        if any(key == k for k, _ in ITEMS):
            value = [_normal_item(x, owner_view is not None) for x in value]
        elif key == "share":
            value = value if value == "all" else sorted(value)
        elif key == "scenarios":
            value = list(value)
        out[key] = value
    return out


def _normal_indicator(ind: Doc) -> Doc:
    out = dict(ind)
    out["likelihood"] = {s: float(p) for s, p in ind["likelihood"].items()}
    if "share" in out and out["share"] != "all":
        out["share"] = sorted(out["share"])
    return out


def _normal_observation(obs: Doc) -> Doc:
    out = dict(obs)
    out["at"] = parse_instant(str(obs["at"]).replace("Z", "+00:00")).astimezone(UTC).isoformat()
    out["seen"] = _flag(obs["seen"])
    if "share" in out and out["share"] != "all":
        out["share"] = sorted(out["share"])
    return out


def _normal_joint(doc: Doc) -> Doc:
    def floats(x: Any) -> Any:
        return [floats(y) for y in x] if isinstance(x, list) else float(x)

    return {
        "id": doc["id"], "title": doc["title"],
        "partners": [[p["code"], p["name"]] for p in doc["partners"]],
        "areas": [[a["id"], a["name"], a["geometry"]["type"],
                   floats(a["geometry"]["coordinates"])] for a in doc.get("areas") or []],
        "resources": [[r["id"], r["name"], int(r["capacity"]), r.get("holder")]
                      for r in doc.get("resources") or []],
        "scenarios": [[s["id"], s["title"], float(s["prior"]), s.get("parent")]
                      for s in doc.get("scenarios") or []],
    }


# --------------------------------------------------------------------- secrets


def secrets(folder: Path) -> list[tuple[str, frozenset[str]]]:
    """Every text of an object or field, with the partners that may receive it."""
    ws = Folder(Path(folder))
    out: list[tuple[str, frozenset[str]]] = []

    def add(text: Any, who: set[str]) -> None:
        if isinstance(text, str):
            out.append((text, frozenset(who)))

    for plan in ws.plans:
        owner = plan["owner"]
        add(plan["id"], ws.id_audience(plan))
        add(plan["title"], ws.plan_audience(plan))
        for key, value in plan.items():
            if key.startswith("x-"):
                add(value, {owner})
        for key, kind in ITEMS:
            for item in plan.get(key) or []:
                who = ws.item_audience(plan, kind, item)
                add(item["id"], who)
                for field in ("title", "what", "unit", "phase"):
                    if field in item:
                        add(item[field], {p for p in who
                                          if field not in ws.withheld(plan, item, p)})
                for field, value in item.items():
                    if field.startswith("x-"):
                        add(value, {owner})
    for ind in ws.indicators:
        add(ind["id"], ws.indicator_audience(ind))
        add(ind["title"], ws.indicator_audience(ind))
    return out


def public_texts(folder: Path) -> list[str]:
    """The texts of the joint part, which every partner receives."""
    joint = Folder(Path(folder)).joint
    texts = [joint["id"], joint["title"]]
    for key in ("partners", "areas", "resources", "scenarios"):
        for entry in joint.get(key) or []:
            texts.extend(str(v) for k, v in entry.items() if k in ("id", "code", "name",
                                                                   "title", "holder"))
    return texts
