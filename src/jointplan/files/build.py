"""Build the model from read documents, checking fields, ids and references."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import (
    Area,
    Commitment,
    Duration,
    Expectation,
    Indicator,
    Objective,
    Observation,
    Partner,
    Plan,
    Provision,
    Resource,
    Scenario,
    Task,
    Tlp,
    format_time,
)
from .convert import Reader, Skip
from .fields import WITHHOLDABLE
from .problems import Problem
from .yamlread import Pos

Where = tuple[str, int, int]


@dataclass
class Refs:
    """References to resolve once every file is read: (kind, id, file, pos, what)."""

    items: list[tuple[str, str, str, Pos, str]] = field(default_factory=list)

    def add(self, kind: str, target: str, file: str, pos: Pos, what: str) -> None:
        self.items.append((kind, target, file, pos, what))


@dataclass
class Locator:
    """Where objects were written, for problems found after reading."""

    places: dict[tuple[str, ...], Where] = field(default_factory=dict)

    def put(self, key: tuple[str, ...], file: str, pos: Pos) -> None:
        self.places[key] = (file, pos[0], pos[1])

    def problem(self, key: tuple[str, ...], message: str) -> Problem:
        file, line, column = self.places.get(key, ("?", 1, 1))
        return Problem(file, line, column, message)


class Ids:
    """Ids in one file: unique within it."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.seen: dict[str, Pos] = {}

    def claim(self, f: dict[str, tuple[Any, Pos]], what: str) -> str:
        value, pos = f.get("id", (None, (0, 0)))
        ident: str = self.reader.slug(value, pos, f"{what} id") if "id" in f else ""
        if not ident:
            raise Skip()
        if ident in self.seen:
            raise self.reader.fail(pos, f"the id {ident!r} is used twice in this file "
                                   f"(first at line {self.seen[ident][0]}); ids are unique "
                                   "within their file")
        self.seen[ident] = pos
        return ident


def _share(r: Reader, f: dict[str, tuple[Any, Pos]], refs: Refs, what: str) -> Any:
    if "share" not in f:
        return None
    try:
        share, codes = r.share(*f["share"], f"{what}: 'share'")
    except Skip:
        return None
    for code, pos in codes:
        refs.add("partner", code, r.file, pos, f"{what}: share")
    return share


def _withhold(r: Reader, f: dict[str, tuple[Any, Pos]], refs: Refs, kind: str,
              what: str, addressee: str | None = None) -> dict[str, frozenset[str]]:
    if "withhold" not in f:
        return {}
    value, pos = f["withhold"]
    try:
        out, codes = r.withhold(value, pos, f"{what}: 'withhold'", kind, WITHHOLDABLE[kind])
    except Skip:
        return {}
    for code, cpos in codes:
        refs.add("partner", code, r.file, cpos, f"{what}: withhold")
        if code == addressee:
            r.error(cpos, f"{what}: withhold cannot name {code}, the partner it is "
                    "addressed to")
    return out


def _uses(r: Reader, f: dict[str, tuple[Any, Pos]], refs: Refs, what: str) -> dict[str, int]:
    raw = r.get(f, "uses", r.uses, what, {})
    for rid, (_, pos) in raw.items():
        refs.add("resource", rid, r.file, pos, f"{what}: uses")
    return {rid: q for rid, (q, _) in raw.items()}


# -- workspace.yaml ----------------------------------------------------------


def read_workspace(r: Reader, doc: Any, refs: Refs) -> dict[str, Any] | None:
    """The joint part of a workspace: partners, areas, resources, scenarios, indicators."""
    try:
        f = r.fields(doc, "workspace", doc.pos, "the workspace")
    except Skip:
        return None
    ids = Ids(r)
    out: dict[str, Any] = {
        "id": r.get(f, "id", r.slug, "the workspace", ""),
        "title": r.get(f, "title", r.text, "the workspace", ""),
        "partners": [], "areas": [], "resources": [], "scenarios": [], "indicators": [],
        "scenario_pos": {}, "prior_pos": {}, "parent_pos": {}, "bad_priors": set(),
        "indicator_pos": {}, "indicator_named": {},
    }
    codes: dict[str, Pos] = {}
    for item, pos in _list(r, f, "partners"):
        try:
            pf = r.fields(item, "partner", pos, "a partner")
            code = r.code(*pf["code"], "a partner's 'code'") if "code" in pf else None
            name = r.get(pf, "name", r.text, f"partner {code}", "")
        except Skip:
            continue
        if code is None:
            continue
        if code in codes:
            r.error(pf["code"][1], f"the partner {code} is listed twice")
            continue
        codes[code] = pos
        out["partners"].append(Partner(code, name))
    for item, pos in _list(r, f, "areas"):
        try:
            af = r.fields(item, "area", pos, "an area")
            aid = ids.claim(af, "an area")
            what = f"area {aid!r}"
            name = r.get(af, "name", r.text, what, "")
            geometry = r.geometry(*af["geometry"], f"{what}: 'geometry'", aid)
        except Skip:
            continue
        except KeyError:
            continue
        out["areas"].append(Area(aid, name, geometry))
    for item, pos in _list(r, f, "resources"):
        try:
            rf = r.fields(item, "resource", pos, "a resource")
            rid = ids.claim(rf, "a resource")
        except Skip:
            continue
        what = f"resource {rid!r}"
        holder = r.get(rf, "holder", r.code, what)
        if holder is not None:
            refs.add("partner", holder, r.file, rf["holder"][1], f"{what}: holder")
        out["resources"].append(Resource(rid, r.get(rf, "name", r.text, what, ""),
                                         r.get(rf, "capacity", r.count, what, 0), holder))
    for item, pos in _list(r, f, "scenarios"):
        try:
            sf = r.fields(item, "scenario", pos, "a scenario")
            sid = ids.claim(sf, "a scenario")
        except Skip:
            continue
        what = f"scenario {sid!r}"
        parent = r.get(sf, "parent", r.slug, what)
        if parent is not None:
            refs.add("scenario", parent, r.file, sf["parent"][1], f"{what}: parent")
        prior = r.get(sf, "prior", r.probability, what)
        if prior is None:
            out["bad_priors"].add(sid)
        out["scenarios"].append(Scenario(sid, r.get(sf, "title", r.text, what, ""),
                                         prior or 0.0, parent))
        out["scenario_pos"][sid] = pos
        out["prior_pos"][sid] = sf.get("prior", (None, pos))[1]
        out["parent_pos"][sid] = sf.get("parent", (None, pos))[1]
    for item, pos in _list(r, f, "indicators"):
        try:
            inf = r.fields(item, "indicator", pos, "an indicator")
            iid = ids.claim(inf, "an indicator")
        except Skip:
            continue
        what = f"indicator {iid!r}"
        owner = r.get(inf, "owner", r.code, what, "")
        if owner:
            refs.add("partner", owner, r.file, inf["owner"][1], f"{what}: owner")
        like = r.get(inf, "likelihood", r.likelihood, what)
        if like is not None:  # checked against the scenarios once all are read
            out["indicator_pos"][iid] = inf["likelihood"][1]
            out["indicator_named"][iid] = set(inf["likelihood"][0])
        for sid, (_, spos) in (like or {}).items():
            refs.add("scenario", sid, r.file, spos, f"{what}: likelihood")
        out["indicators"].append(Indicator(
            iid, r.get(inf, "title", r.text, what, ""), owner,
            {sid: p for sid, (p, _) in (like or {}).items()}, _share(r, inf, refs, what),
            r.get(inf, "tlp", r.enum(Tlp), what)))
    return out


def _list(r: Reader, f: dict[str, tuple[Any, Pos]], key: str) -> Iterable[tuple[Any, Pos]]:
    if key not in f:
        return []
    try:
        return r.items(*f[key], f"{key!r}")
    except Skip:
        return []


# -- plans -------------------------------------------------------------------


def read_plan(r: Reader, doc: Any, refs: Refs, loc: Locator,
              pending: list[tuple[str, Any]]) -> Plan | None:
    """One partner's plan. Cross-plan references are left in ``pending``."""
    try:
        f = r.fields(doc, "plan", doc.pos, "the plan")
        ids = Ids(r)
        pid = ids.claim(f, "the plan")
    except Skip:
        return None
    owner = r.get(f, "owner", r.code, f"plan {pid!r}", "")
    if owner:
        refs.add("partner", owner, r.file, f["owner"][1], f"plan {pid!r}: owner")
        if not pid.startswith(owner.lower() + "-"):
            r.error(f["id"][1], f"the plan id {pid!r} must begin with its owner's code in "
                    f"lower case and a hyphen, like '{owner.lower()}-{pid}'")
    loc.put(("plan", pid), r.file, f["id"][1])
    what = f"plan {pid!r}"
    scenarios = r.get(f, "scenarios", r.slugs, what, ())
    if "scenarios" in f and f["scenarios"][0] == []:
        r.error(f["scenarios"][1], f"{what}: 'scenarios' must name at least one scenario")
    for sid, spos in scenarios:
        refs.add("scenario", sid, r.file, spos, f"{what}: scenarios")

    objectives = []
    for item, pos in _list(r, f, "objectives"):
        try:
            of = r.fields(item, "objective", pos, "an objective")
            oid = ids.claim(of, "an objective")
        except Skip:
            continue
        w = f"objective {oid!r}"
        objectives.append(Objective(oid, r.get(of, "title", r.text, w, ""),
                                    r.get(of, "by", r.time, w, 0), _share(r, of, refs, w),
                                    _withhold(r, of, refs, "objective", w), r.withheld(of)))
    objective_ids = {o.id for o in objectives}

    tasks = []
    for item, pos in _list(r, f, "tasks"):
        try:
            tf = r.fields(item, "task", pos, "a task")
            tid = ids.claim(tf, "a task")
        except Skip:
            continue
        w = f"task {tid!r}"
        received = r.withheld(tf)
        start = r.get(tf, "start", r.time, w, 0 if "start" in received else None)
        duration = r.get(tf, "duration", r.duration3, w,
                         Duration.fixed(0) if "duration" in received else None)
        flex = r.get(tf, "flex", r.window, w)
        if (flex is not None and start is not None and "start" not in received
                and not flex[0] <= start <= flex[1]):
            r.error(tf["flex"][1], f"{w}: 'flex' [{format_time(flex[0])}, "
                    f"{format_time(flex[1])}] must hold the start {format_time(start)}; "
                    "widen the window or move the start into it")
        after = r.get(tf, "after", r.taskrefs, w, ())
        for i, (ref, apos) in enumerate(after):
            loc.put(("after", pid, tid, str(i)), r.file, apos)
            pending.append(("after", (pid, tid, ref, r.file, apos)))
        area = r.get(tf, "area", r.slug, w)
        if area is not None:
            refs.add("area", area, r.file, tf["area"][1], f"{w}: area")
        serves = r.get(tf, "serves", r.slugs, w, ())
        for oid, opos in serves:
            if oid not in objective_ids:
                r.error(opos, f"{w}: serves {oid!r}, which is not an objective of {pid!r}")
        loc.put(("task", pid, tid), r.file, pos)
        if duration is None or start is None:
            continue
        tasks.append(Task(
            tid, r.get(tf, "title", r.text, w, ""), start, duration, flex,
            tuple(a for a, _ in after), _uses(r, tf, refs, w), area,
            r.get(tf, "exclusive", r.flag, w, False),
            r.get(tf, "commitment", r.enum(Commitment), w, Commitment.PLANNED),
            tuple(o for o, _ in serves), r.get(tf, "phase", r.text, w),
            r.get(tf, "unit", r.text, w), _share(r, tf, refs, w),
            _withhold(r, tf, refs, "task", w), received))

    expects = []
    for item, pos in _list(r, f, "expects"):
        try:
            ef = r.fields(item, "expectation", pos, "an expectation")
            eid = ids.claim(ef, "an expectation")
        except Skip:
            continue
        w = f"expectation {eid!r}"
        frm = r.get(ef, "from", r.code, w, "")
        if frm:
            refs.add("partner", frm, r.file, ef["from"][1], f"{w}: from")
        window = r.get(ef, "window", r.window, w,
                       (0, 0) if "window" in r.withheld(ef) else None)
        loc.put(("expectation", pid, eid), r.file, pos)
        if window is None:
            continue
        expects.append(Expectation(eid, frm, r.get(ef, "what", r.text, w, ""), window,
                                   _uses(r, ef, refs, w), _share(r, ef, refs, w),
                                   _withhold(r, ef, refs, "expectation", w, frm),
                                   r.withheld(ef)))

    provides = []
    for item, pos in _list(r, f, "provides"):
        try:
            vf = r.fields(item, "provision", pos, "a provision")
            vid = ids.claim(vf, "a provision")
        except Skip:
            continue
        w = f"provision {vid!r}"
        to = r.get(vf, "to", r.code, w, "")
        if to:
            refs.add("partner", to, r.file, vf["to"][1], f"{w}: to")
        window = r.get(vf, "window", r.window, w,
                       (0, 0) if "window" in r.withheld(vf) else None)
        answers = r.get(vf, "answers", r.ref, w)
        if answers is not None:
            pending.append(("answers", (pid, owner, vid, to, answers, r.file, vf["answers"][1])))
        if window is None:
            continue
        provides.append(Provision(vid, to, r.get(vf, "what", r.text, w, ""), window,
                                  _uses(r, vf, refs, w),
                                  "/".join(answers) if answers else None,
                                  _share(r, vf, refs, w),
                                  _withhold(r, vf, refs, "provision", w, to),
                                  r.withheld(vf)))

    extensions = {k: v for k, v in doc.items() if isinstance(k, str) and k.startswith("x-")}
    return Plan(pid, owner, r.get(f, "title", r.text, what, ""),
                tuple(s for s, _ in scenarios), _share(r, f, refs, what),
                r.get(f, "tlp", r.enum(Tlp), what, Tlp.AMBER), tuple(objectives),
                tuple(tasks), tuple(expects), tuple(provides), extensions, r.withheld(f))


# -- observations ------------------------------------------------------------


def read_observations(r: Reader, doc: Any, refs: Refs) -> list[Observation]:
    try:
        f = r.fields(doc, "observations", doc.pos, "the observations file")
    except Skip:
        return []
    out = []
    for item, pos in _list(r, f, "observations"):
        try:
            of = r.fields(item, "observation", pos, "an observation")
        except Skip:
            continue
        w = "an observation"
        indicator = r.get(of, "indicator", r.slug, w)
        at = r.get(of, "at", r.timestamp, w)
        seen = r.get(of, "seen", r.flag, w)
        by = r.get(of, "by", r.code, w)
        if indicator is not None:
            refs.add("indicator", indicator, r.file, of["indicator"][1], f"{w}: indicator")
        if by is not None:
            refs.add("partner", by, r.file, of["by"][1], f"{w}: by")
        share = _share(r, of, refs, w)
        tlp = r.get(of, "tlp", r.enum(Tlp), w)
        if None in (indicator, at, seen, by):
            continue
        out.append(Observation(indicator, at, seen, by, share, tlp))
    return out
