"""Hypothesis strategies that generate small, valid workspace folders.

``workspaces()`` draws a ``GeneratedWorkspace``: the text of every file (YAML 1.2,
written by the small emitter below; now and then a plan as JSON) plus a list of
*canaries* — unique strings put in every title, ``what``, ``unit``, name and
per-object id, each with the set of partners that may see it. A canary printed
to a partner outside its set is a leak.

The generator keeps to what the format calls valid:

- partner codes include ``NO``, ``ON``, ``YES``, ``OFF`` (written plain: YAML 1.2
  reads them as text);
- scenario priors come from exact partitions of 1; indicators name every
  top-level scenario;
- tasks sit on a coarse hour grid so that touching, overlapping and
  zero-length intervals all occur; areas are rectangles on a half-degree grid
  so that overlapping, edge-touching and disjoint areas all occur;
- ``withhold`` names only present fields and only partners that see the object,
  never the owner, an expectation's ``from`` or a provision's ``to``;
- ``answers`` links a provision (owner O, ``to`` T) only to an expectation of a
  plan owned by T with ``from`` O;
- ``after`` names only earlier tasks of the same plan (no cycles).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

CODES = ["AAA", "BBB", "CCC", "NO", "ON", "YES", "OFF", "NOR"]

PARTITIONS = {
    1: [[1.0]],
    2: [[0.5, 0.5], [0.25, 0.75], [0.2, 0.8], [0.9, 0.1]],
    3: [[0.2, 0.3, 0.5], [0.25, 0.25, 0.5], [0.6, 0.3, 0.1]],
}

LIKELIHOODS = [0.0, 0.1, 0.25, 0.5, 0.8, 1.0]

# real times with ties written differently (08:00Z three ways, one with seconds)
INSTANTS = [
    "2026-11-20T08:00Z",
    "2026-11-20T10:00+02:00",
    "2026-11-20T07:30-00:30",
    "2026-11-20T08:00:00Z",
    "2026-11-20T09:00Z",
    "2026-11-19T23:00Z",
]

COMMITMENTS = ["intent", "planned", "committed"]


# --------------------------------------------------------------------- emitter

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 +\-:./]*")
_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+")
_RESERVED = {"true", "false", "null", "~", ".inf", "-.inf", "+.inf", ".nan"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if (_PLAIN.fullmatch(text) and text.lower() not in _RESERVED and not _NUMBER.fullmatch(text)
            and ": " not in text and not text.endswith((":", " "))):
        return text
    return json.dumps(text)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _inline(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) for v in value.values()) or "type" in value
    if isinstance(value, list):
        return all(not isinstance(v, dict) for v in value)
    return True


def _block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if _inline(v):
                lines.append(f"{pad}{k}: {_flow(v)}")
            else:
                lines.append(f"{pad}{k}:")
                lines.extend(_block(v, indent + 2))
    else:
        for item in value:
            if _inline(item) and not isinstance(item, dict):
                lines.append(f"{pad}- {_flow(item)}")
            else:
                sub = _block(item, indent + 2)
                lines.append(f"{pad}- " + sub[0][indent + 2:])
                lines.extend(sub[1:])
    return lines


def emit_yaml(data: dict[str, Any]) -> str:
    return "\n".join(_block(data, 0)) + "\n"


# --------------------------------------------------------------------- the result


@dataclass
class GeneratedWorkspace:
    files: dict[str, str]
    partners: list[str]
    canaries: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    def forbidden(self, viewer: str) -> list[str]:
        """Canaries the viewer may not see."""
        return [text for text, seen_by in self.canaries if viewer not in seen_by]

    def __repr__(self) -> str:  # hypothesis prints this for a falsifying example
        body = "".join(f"\n----- {name}\n{text}" for name, text in self.files.items())
        return f"GeneratedWorkspace(partners={self.partners}){body}"


# --------------------------------------------------------------------- strategies


def _time(minutes: int, style: int) -> str:
    sign = "-" if minutes < 0 else "+"
    m = abs(minutes)
    if style == 1 and m % 60 == 0 and m:
        return f"T{sign}{m}m"
    if style == 2 and m >= 1440:
        d, rest = divmod(m, 1440)
        return f"T{sign}{d}d" + (f"{rest // 60}h" if rest // 60 else "") + (
            f"{rest % 60}m" if rest % 60 else "")
    h, rest = divmod(m, 60)
    return f"T{sign}{h}h" + (f"{rest}m" if rest else "")


def _minutes(text: str) -> int:
    """Minutes of a time this module wrote (``T+1d2h30m``)."""
    sign = -1 if text[1] == "-" else 1
    total = 0
    for number, unit in re.findall(r"(\d+)([dhm])", text):
        total += int(number) * {"d": 1440, "h": 60, "m": 1}[unit]
    return sign * total


def _duration(minutes: int, style: int) -> str:
    return _time(minutes, style)[2:] if minutes else "0h"


@st.composite
def workspaces(draw: st.DrawFn) -> GeneratedWorkspace:
    counter = iter(range(1, 10_000))

    def uid(prefix: str) -> str:
        return f"{prefix}{next(counter):03d}z"

    canaries: list[tuple[str, frozenset[str]]] = []

    def canary(text: str, seen_by: set[str]) -> str:
        canaries.append((text, frozenset(seen_by)))
        return text

    style = draw(st.integers(0, 2))
    partners = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=4, unique=True))
    everyone = set(partners)

    def share_value(others: list[str]) -> Any:
        """None (absent), 'all' or a non-empty list."""
        kind = draw(st.sampled_from(["none", "all", "list", "list"]))
        if kind == "none" or not others:
            return None if kind != "all" else "all"
        if kind == "all":
            return "all"
        return draw(st.lists(st.sampled_from(others), min_size=1, max_size=len(others),
                             unique=True))

    def share_set(value: Any) -> set[str]:
        return set() if value is None else everyone if value == "all" else set(value)

    # ------------------------------------------------------------ scenarios
    scenarios: list[dict[str, Any]] = []
    tops = []
    children: dict[str, list[dict[str, Any]]] = {}
    n_top = draw(st.integers(1, 3))
    for i, prior in enumerate(draw(st.sampled_from(PARTITIONS[n_top]))):
        top = {"id": f"s{i}", "title": f"Scenario {i}", "prior": prior}
        tops.append(top)
        n_child = draw(st.sampled_from([0, 0, 2, 3]))
        if n_child:
            kids = []
            for j, p in enumerate(draw(st.sampled_from(PARTITIONS[n_child]))):
                kid = {"id": f"s{i}-c{j}", "parent": top["id"], "title": f"Sub {i}.{j}",
                       "prior": p}
                kids.append(kid)
                if j == 0 and draw(st.booleans()):
                    children[kid["id"]] = [
                        {"id": f"s{i}-c{j}-g{k}", "parent": kid["id"], "title": "Deeper",
                         "prior": q}
                        for k, q in enumerate(draw(st.sampled_from(PARTITIONS[2])))]
            children[top["id"]] = kids
    if draw(st.booleans()):  # depth first
        def walk(node: dict[str, Any]) -> None:
            scenarios.append(node)
            for kid in children.get(node["id"], []):
                walk(kid)
        for top in tops:
            walk(top)
    else:  # breadth first
        level = tops
        while level:
            scenarios.extend(level)
            level = [k for n in level for k in children.get(n["id"], [])]
    scenario_ids = [s["id"] for s in scenarios]
    top_ids = [t["id"] for t in tops]

    # ------------------------------------------------------------ resources, areas
    resources = [
        {"id": f"r{i}", "name": f"Resource {i}", "capacity": draw(st.integers(0, 3))}
        for i in range(draw(st.integers(1, 3)))
    ]
    resource_ids = [r["id"] for r in resources]

    def rectangle() -> list[list[list[float]]]:
        x0, y0 = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        x1, y1 = x0 + draw(st.integers(1, 2)), y0 + draw(st.integers(1, 2))
        xs = [20.0 + 0.5 * x for x in (x0, x1)]
        ys = [50.0 + 0.5 * y for y in (y0, y1)]
        return [[[xs[0], ys[0]], [xs[1], ys[0]], [xs[1], ys[1]], [xs[0], ys[1]],
                 [xs[0], ys[0]]]]

    areas = []
    for i in range(draw(st.sampled_from([0, 1, 2, 2, 3]))):
        if draw(st.integers(0, 4)) == 0:
            far = [[[x + 10.0, y] for x, y in ring] for ring in rectangle()]
            geometry = {"type": "MultiPolygon", "coordinates": [rectangle(), far]}
        else:
            geometry = {"type": "Polygon", "coordinates": rectangle()}
        areas.append({"id": f"a{i}", "name": f"Area {i}", "geometry": geometry})
    area_ids = [a["id"] for a in areas]

    # ------------------------------------------------------------ indicators, observations
    indicators = []
    for _ in range(draw(st.integers(0, 3))):
        owner = draw(st.sampled_from(partners))
        share = share_value([p for p in partners if p != owner])
        seen_by = {owner} | share_set(share)
        iid = uid("in")
        named = top_ids + draw(st.lists(st.sampled_from(scenario_ids), unique=True, max_size=2))
        likelihood = {s: draw(st.sampled_from(LIKELIHOODS))
                      for s in scenario_ids if s in set(named)}
        ind: dict[str, Any] = {"id": canary(iid, seen_by),
                               "title": canary(f"canary-{iid}-title", seen_by),
                               "owner": owner}
        if share is not None:
            ind["share"] = share
        ind["likelihood"] = likelihood
        indicators.append(ind)

    observation_files: dict[str, list[dict[str, Any]]] = {}
    if indicators:
        for _ in range(draw(st.integers(0, 5))):
            by = draw(st.sampled_from(partners))
            obs: dict[str, Any] = {
                "indicator": draw(st.sampled_from(indicators))["id"],
                "at": draw(st.sampled_from(INSTANTS)),
                "seen": draw(st.booleans()),
                "by": by,
            }
            share = share_value([p for p in partners if p != by])
            if share is not None:
                obs["share"] = share
            name = draw(st.sampled_from(["observations.yaml", "observations-extra.yaml"]))
            observation_files.setdefault(name, []).append(obs)

    # ------------------------------------------------------------ plans
    plans: list[dict[str, Any]] = []
    expectations: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (plan, expectation)

    def withhold_for(obj: dict[str, Any], fields: list[str], may_name: set[str]) -> None:
        present = [f for f in fields if f in obj]
        if not present or not may_name or draw(st.integers(0, 2)) == 0:
            return
        chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=2, unique=True))
        obj["withhold"] = {
            f: draw(st.lists(st.sampled_from(sorted(may_name)), min_size=1,
                             max_size=len(may_name), unique=True))
            for f in chosen
        }

    def withheld(obj: dict[str, Any], f: str) -> set[str]:
        return set(obj.get("withhold", {}).get(f, []))

    windows: dict[str, tuple[int, int]] = {}  # expectation id -> its window in minutes

    def window(start: int | None = None) -> list[str]:
        if start is None:
            start = draw(st.integers(-1, 8)) * 60
        return [_time(start, style), _time(start + draw(st.integers(1, 5)) * 60, style)]

    def uses() -> dict[str, int]:
        chosen = draw(st.lists(st.sampled_from(resource_ids), min_size=1, max_size=2,
                               unique=True))
        return {r: draw(st.integers(1, 2)) for r in chosen}

    for _ in range(draw(st.integers(0, 4))):
        owner = draw(st.sampled_from(partners))
        others = [p for p in partners if p != owner]
        pid = f"{owner.lower()}-" + uid("pl")
        share = share_value(others)
        plan_share = share_set(share)
        plan: dict[str, Any] = {
            "jointplan": 1, "kind": "plan", "id": pid, "owner": owner,
            "title": canary(f"canary-{pid}-title", {owner} | plan_share),
            "scenarios": draw(st.lists(st.sampled_from(scenario_ids), min_size=1, max_size=2,
                                       unique=True)),
        }
        if share is not None:
            plan["share"] = share
        if draw(st.booleans()):
            plan["tlp"] = draw(st.sampled_from(["clear", "green", "amber", "amber+strict", "red"]))
        plan["_ids"] = {owner} | plan_share  # who may see the plan's id (grows below)

        def narrowed() -> tuple[Any, set[str]]:
            """An object's own share (or None) and its effective share."""
            if draw(st.integers(0, 2)):
                return None, set(plan_share)  # noqa: B023
            own = share_value(partners)
            if own is None:
                return None, set(plan_share)  # noqa: B023
            return own, plan_share & share_set(own)  # noqa: B023

        objectives = []
        if draw(st.integers(0, 2)) == 0:
            oid = uid("ob")
            own, eff = narrowed()
            ob: dict[str, Any] = {"id": oid, "title": f"canary-{oid}-title",
                                  "by": _time(draw(st.integers(4, 30)) * 60, style)}
            if own is not None:
                ob["share"] = own
            withhold_for(ob, ["title", "by"], eff)
            canary(oid, {owner} | eff)
            canary(ob["title"], {owner} | (eff - withheld(ob, "title")))
            objectives.append(ob)
        if objectives:
            plan["objectives"] = objectives

        tasks = []
        for _ in range(draw(st.integers(0, 4))):
            tid = uid("tk")
            own, eff = narrowed()
            start = draw(st.integers(-1, 8)) * 60
            minutes = draw(st.sampled_from([0, 60, 60, 120, 120, 180, 240]))
            task: dict[str, Any] = {"id": tid, "title": f"canary-{tid}-title",
                                    "start": _time(start, style)}
            if draw(st.integers(0, 3)) == 0:
                task["duration"] = {"likely": _duration(minutes, style),
                                    "min": _duration(max(0, minutes - 60), style),
                                    "max": _duration(minutes + 120, style)}
            else:
                task["duration"] = _duration(minutes, style)
            if draw(st.booleans()):
                task["uses"] = uses()
            if area_ids and draw(st.integers(0, 2)):
                task["area"] = draw(st.sampled_from(area_ids))
                if draw(st.integers(0, 3)):
                    task["exclusive"] = draw(st.booleans())
            if draw(st.booleans()):
                task["commitment"] = draw(st.sampled_from(COMMITMENTS))
            if draw(st.integers(0, 3)) == 0:
                task["unit"] = f"canary-{tid}-unit"
            if draw(st.integers(0, 4)) == 0:
                task["phase"] = "response"
            if tasks and draw(st.integers(0, 3)) == 0:
                task["after"] = [draw(st.sampled_from(tasks))["id"]]
            if draw(st.integers(0, 4)) == 0:
                task["flex"] = [_time(start - 60, style), _time(start + 60, style)]
            if objectives and draw(st.booleans()):
                task["serves"] = [objectives[0]["id"]]
            if own is not None:
                task["share"] = own
            if draw(st.integers(0, 5)) == 0:
                task["x-note"] = f"canary-{tid}-note"
                canary(task["x-note"], {owner})  # an extension is not analysed at all
            withhold_for(task, ["title", "start", "duration", "uses", "area", "exclusive",
                                "commitment", "unit", "after", "flex"], eff)
            canary(tid, {owner} | eff)
            for f in ("title", "unit"):
                if f in task:
                    canary(task[f], {owner} | (eff - withheld(task, f)))
            tasks.append(task)
        if tasks:
            plan["tasks"] = tasks

        expects = []
        for _ in range(draw(st.integers(0, 2))):
            eid = uid("ex")
            source = draw(st.sampled_from(others))
            own, eff = narrowed()
            exp: dict[str, Any] = {"id": eid, "from": source, "what": f"canary-{eid}-what"}
            if draw(st.integers(0, 3)):
                exp["uses"] = uses()
            exp["window"] = window()
            windows[eid] = (_minutes(exp["window"][0]), _minutes(exp["window"][1]))
            if own is not None:
                exp["share"] = own
            withhold_for(exp, ["what", "uses", "window"], eff - {source})
            canary(eid, {owner, source} | eff)
            canary(exp["what"], {owner, source} | (eff - withheld(exp, "what")))
            plan["_ids"].add(source)
            expects.append(exp)
            expectations.append((plan, exp))
        if expects:
            plan["expects"] = expects
        plans.append(plan)

    # provisions last, so that `answers` can name any plan's expectation
    for plan in plans:
        owner = plan["owner"]
        others = [p for p in partners if p != owner]
        plan_share = share_set(plan.get("share"))
        provides = []
        for _ in range(draw(st.integers(0, 2))):
            vid = uid("pv")
            addressed = [(p, e) for p, e in expectations if e["from"] == owner]
            aim = draw(st.sampled_from(addressed)) if addressed and draw(st.booleans()) else None
            to = aim[0]["owner"] if aim else draw(st.sampled_from(others))
            own = None if draw(st.integers(0, 2)) else share_value(partners)
            eff = set(plan_share) if own is None else plan_share & share_set(own)
            prov: dict[str, Any] = {"id": vid, "to": to, "what": f"canary-{vid}-what"}
            if aim and "uses" in aim[1] and draw(st.integers(0, 3)):
                # aimed at an expectation: its resources, as much or less, near its window
                prov["uses"] = {r: draw(st.integers(max(1, q - 1), q))
                                for r, q in aim[1]["uses"].items()}
            elif draw(st.integers(0, 3)):
                prov["uses"] = uses()
            prov["window"] = window()
            if aim and draw(st.booleans()):
                begin = windows[aim[1]["id"]][0]
                prov["window"] = aim[1]["window"] if draw(st.booleans()) else window(begin)
            targets = [f"{p['id']}/{e['id']}" for p, e in expectations
                       if p["owner"] == to and e["from"] == owner]
            if targets and draw(st.integers(0, 2)) == 0:
                prov["answers"] = draw(st.sampled_from(targets))
            if own is not None:
                prov["share"] = own
            withhold_for(prov, ["what", "uses", "window", "answers"], eff - {to})
            canary(vid, {owner, to} | eff)
            canary(prov["what"], {owner, to} | (eff - withheld(prov, "what")))
            plan["_ids"].add(to)
            provides.append(prov)
        if provides:
            plan["provides"] = provides

    # ------------------------------------------------------------ files
    workspace: dict[str, Any] = {
        "jointplan": 1, "kind": "workspace", "id": "generated",
        "title": "Generated workspace",
        "partners": [{"code": p, "name": f"Partner {p}"} for p in partners],
    }
    if areas:
        workspace["areas"] = areas
    workspace["resources"] = resources
    workspace["scenarios"] = scenarios
    if indicators:
        workspace["indicators"] = indicators

    files = {"workspace.yaml": emit_yaml(workspace)}
    for plan in plans:
        canary(plan["id"], plan.pop("_ids"))
        if draw(st.integers(0, 5)) == 0:
            files[f"{plan['id']}.json"] = json.dumps(plan, indent=1) + "\n"
        else:
            files[f"{plan['id']}.yaml"] = emit_yaml(plan)
    for name, observations in observation_files.items():
        files[name] = emit_yaml({"jointplan": 1, "kind": "observations",
                                 "observations": observations})
    return GeneratedWorkspace(files=files, partners=partners, canaries=canaries)
