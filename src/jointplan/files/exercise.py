"""Read an exercise file (``kind: exercise``) and a drill's actions log, with positions.

The same strict reader as the plan format: YAML 1.2 core schema or JSON, every
problem located as ``FILE:LINE:COLUMN: message``, unknown keys named with the
closest known one, ``x-`` keys kept and ignored. What can be checked within
the file is checked here (fields, ids unique, one of ``at``/``when``, cycles
among conditional injects); what names the workspace (scenario, partners,
plans, tasks, objectives) is checked against it, through the sharing gate,
by ``services.drill``, using the places recorded in ``ReadExercise.locator``.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.exercise import (
    CHANNELS,
    ROLES,
    Action,
    DrillExpectation,
    Exercise,
    ExerciseObjective,
    Inject,
    Participant,
    Trigger,
)
from .build import Locator
from .convert import Reader, Skip, shown
from .fields import CODE, DURATION, SLUG, TIME, Field
from .problems import InvalidWorkspace, Problem
from .yamlread import Pos, ReadError, YList, YMap, read_document, read_file

_TASKREF = re.compile(r"([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9-]*)")


def _req(type_: str, doc: str = "") -> Field:
    return Field(type_, True, doc)


def _opt(type_: str, doc: str = "") -> Field:
    return Field(type_, False, doc)


EXERCISE_OBJECTS: dict[str, dict[str, Field]] = {
    "exercise": {
        "jointplan": _req("version", "format version; always 1"),
        "kind": _req("kind", "exercise"),
        "id": _req("slug"),
        "title": _req("text"),
        "scenario": _req("slug", "the leaf scenario exercised"),
        "start": _req("timestamp", "T0 of the exercise, a real time"),
        "participants": _req("list:participant"),
        "objectives": _opt("list:exercise-objective"),
        "injects": _opt("list:inject"),
        "msel": _opt("text", "a CSV or XLSX file of further injects, beside this file"),
    },
    "participant": {"partner": _req("code"), "role": _req("role")},
    "exercise-objective": {"id": _req("slug"), "title": _req("text"),
                           "plan": _opt("slug", "with objective: the plan objective tested"),
                           "objective": _opt("slug", "an objective of plan")},
    "inject": {"id": _req("slug"), "at": _opt("time", "delivery time; at or after T+0h"),
               "when": _opt("trigger", "conditional: instead of at"),
               "delay": _opt("duration", "after the trigger; only with when; default 0m"),
               "to": _req("codes", "distinct players"), "from": _req("text"),
               "channel": _req("channel"), "text": _req("text"),
               "expect": _opt("list:drill-expectation", "for evaluators and controllers only")},
    "drill-expectation": {"id": _req("slug"), "partner": _req("code"),
                          "task": _req("taskref", "PLAN/TASK of a plan under test"),
                          "by": _req("time"), "objective": _opt("slug")},
    "trigger": {"expectation": _req("slug"), "missed": _opt("true"), "met": _opt("true")},
    "action": {"partner": _req("code"), "task": _req("taskref"), "at": _req("time")},
}
"""The exercise file's fields, declared once for the reader, the schema and the docs test."""


@dataclass
class ReadExercise:
    """An exercise read from its file, with where each thing was written."""

    exercise: Exercise
    locator: Locator = field(default_factory=Locator)


@dataclass(frozen=True)
class LoggedAction:
    action: Action
    where: tuple[str, int, int]
    partner_at: tuple[str, int, int]
    task_at: tuple[str, int, int]


class InvalidExercise(InvalidWorkspace):
    """Raised with every problem found in an exercise, its spreadsheet or its log."""


def problem_text(p: Problem) -> str:
    """``FILE:LINE:COLUMN: message``, or ``sheet!cell: message`` for a spreadsheet cell."""
    return f"{p.file}: {p.message}" if p.line == 0 else str(p)


class _Reader(Reader):
    def fields(self, node: Any, kind: str, pos: Pos, what: str) -> dict[str, tuple[Any, Pos]]:
        if not isinstance(node, YMap):
            raise self.fail(pos, f"{what} must be a mapping of keys to values")
        spec = EXERCISE_OBJECTS[kind]
        out: dict[str, tuple[Any, Pos]] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                self.error(node.keypos[key], f"the key {key!r} must be a word")
            elif key in spec:
                out[key] = (value, node.valpos[key])
            elif not key.startswith("x-"):
                close = difflib.get_close_matches(key, list(spec), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else (
                    f"; the keys of {what} are " + ", ".join(spec))
                self.error(node.keypos[key], f"unknown key {key!r} in {what}{hint}")
        for key, f in spec.items():
            if f.required and key not in out:
                self.error(node.pos, f"{what} is missing the required key {key!r}")
        return out

    def taskref(self, v: Any, pos: Pos, what: str) -> str:
        if not isinstance(v, str) or not _TASKREF.fullmatch(v):
            raise self.fail(pos, f"{what} must name a task as PLAN/TASK; got {shown(v)}")
        return v

    def choice(self, allowed: tuple[str, ...]) -> Callable[[Any, Pos, str], str]:
        def conv(v: Any, pos: Pos, what: str) -> str:
            if v not in allowed:
                raise self.fail(pos, f"{what} must be one of " + ", ".join(allowed)
                                + f"; got {shown(v)}")
            return str(v)
        return conv

    def after_t0(self, v: Any, pos: Pos, what: str) -> int:
        minutes = self.time(v, pos, what)
        if minutes < 0:
            raise self.fail(pos, f"{what} must be at or after T+0h (the exercise's start); "
                            f"got {v}")
        return minutes


def _kind(r: Reader, doc: Any, want: str) -> bool:
    """Whether the document starts with ``jointplan: 1`` and ``kind: want``."""
    if not isinstance(doc, YMap):
        r.error(getattr(doc, "pos", (1, 1)), "an exercise file must be a mapping of keys "
                "to values that starts with `jointplan: 1` and `kind: exercise`")
        return False
    if "jointplan" not in doc:
        r.error(doc.pos, "missing `jointplan: 1` (the format version) at the top of the file")
        return False
    version = doc["jointplan"]
    if version.__class__ is not int or version != 1:
        r.error(doc.valpos["jointplan"], "`jointplan` is the format version, the number 1; "
                f"got {shown(version)} (this reader reads version 1)")
        return False
    if doc.get("kind") != want:
        where = doc.valpos["kind"] if "kind" in doc else doc.pos
        r.error(where, f"`kind` must be {want} for an exercise file; got "
                + shown(doc.get("kind")))
        return False
    return True


def read_exercise_path(path: Path) -> ReadExercise:
    """The exercise in the file at ``path`` (and its ``msel`` sheet, beside it)."""
    name = str(path)
    try:
        doc = read_file(path)
    except ReadError as exc:
        raise InvalidExercise([Problem(name, exc.line, exc.column, exc.message)]) from None
    except OSError as exc:
        raise InvalidExercise([Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")]
                              ) from None

    def sheet(file: str) -> Any:
        from .exercise_msel import read_msel_file
        return read_msel_file(path.parent / file)

    return build_exercise(name, doc, sheet)


def read_exercise_source(name: str, data: bytes,
                         sheet: Callable[[str], Any] | None = None) -> ReadExercise:
    """The exercise in a file given as bytes; ``sheet`` reads an ``msel`` file by name."""
    try:
        doc = read_document(data, is_json=name.endswith(".json"))
    except ReadError as exc:
        raise InvalidExercise([Problem(name, exc.line, exc.column, exc.message)]) from None
    return build_exercise(name, doc, sheet)


def build_exercise(name: str, doc: Any, sheet: Callable[[str], Any] | None) -> ReadExercise:
    """The exercise from a read document; InvalidExercise with every problem otherwise."""
    problems: list[Problem] = []
    r = _Reader(name, problems)
    if doc is None:
        raise InvalidExercise([Problem(name, 1, 1, "the file is empty; it must start with "
                                       "`jointplan: 1` and `kind: exercise`")])
    if not _kind(r, doc, "exercise"):
        raise InvalidExercise(problems)
    loc = Locator()
    f = r.fields(doc, "exercise", doc.pos, "the exercise")
    ex_id = r.get(f, "id", r.slug, "the exercise", "")
    title = r.get(f, "title", r.text, "the exercise", "")
    scenario = r.get(f, "scenario", r.slug, "the exercise")
    if scenario is not None:
        loc.put(("scenario",), name, f["scenario"][1])
    start = r.get(f, "start", r.timestamp, "the exercise")
    participants = _participants(r, f, loc)
    objectives = _objectives(r, f, loc)
    injects: list[Inject] = []
    if "injects" in f:
        try:
            for node, pos in r.items(*f["injects"], "the exercise: 'injects'"):
                with contextlib.suppress(Skip):  # recorded; the other injects are still read
                    injects.append(_inject(r, node, pos, loc))
        except Skip:
            pass
    if "msel" in f:
        file = r.get(f, "msel", r.text, "the exercise")
        if file is not None:
            if sheet is None:
                r.error(f["msel"][1], f"the exercise: 'msel': {file!r} cannot be read here; "
                        "give the sheet with the exercise")
            else:
                from .exercise_msel import SheetError, injects_from_sheet
                try:
                    injects.extend(injects_from_sheet(sheet(file), loc, problems))
                except SheetError as exc:
                    problems.extend(exc.problems)
    ids = _unique(r, injects, objectives, loc)
    _check_triggers(injects, ids, objectives, loc, problems)
    extensions = {k: v for k, v in doc.items() if isinstance(k, str) and k.startswith("x-")}
    if problems or scenario is None or start is None:
        raise InvalidExercise(problems)
    exercise = Exercise(ex_id, title, scenario, start, tuple(participants), tuple(objectives),
                        tuple(injects), extensions)
    return ReadExercise(exercise, loc)


def _entries(r: _Reader, f: dict[str, tuple[Any, Pos]], key: str, kind: str, what: str
             ) -> Iterator[tuple[dict[str, tuple[Any, Pos]], Pos]]:
    """The fields and position of each entry of the exercise's list ``key`` that reads as a
    mapping of ``kind``; a missing list is empty, and what does not read is reported once."""
    if key not in f:
        return
    try:
        nodes = r.items(*f[key], f"the exercise: {key!r}")
    except Skip:
        return
    for node, pos in nodes:
        try:
            yield r.fields(node, kind, pos, what), pos
        except Skip:
            continue


def _participants(r: _Reader, f: dict[str, tuple[Any, Pos]], loc: Locator) -> list[Participant]:
    out: list[Participant] = []
    seen: dict[str, Participant] = {}
    for pf, _pos in _entries(r, f, "participants", "participant", "a participant"):
        code = r.get(pf, "partner", r.code, "a participant")
        role = r.get(pf, "role", r.choice(ROLES), f"participant {code}")
        if code is None or role is None:
            continue
        if code in seen:
            r.error(pf["partner"][1], f"participant {code} is listed twice; each partner "
                    f"takes part once, with one role (first as {seen[code].role})")
            continue
        seen[code] = Participant(code, role)
        loc.put(("participant", code), r.file, pf["partner"][1])
        out.append(seen[code])
    if out and not any(p.role == "controller" for p in out):
        r.error(f["participants"][1], "an exercise needs at least one controller among its "
                "participants")
    return out


def _objectives(r: _Reader, f: dict[str, tuple[Any, Pos]],
                loc: Locator) -> list[ExerciseObjective]:
    out: list[ExerciseObjective] = []
    for of, pos in _entries(r, f, "objectives", "exercise-objective", "an exercise objective"):
        oid = r.get(of, "id", r.slug, "an exercise objective")
        what = f"exercise objective {oid!r}"
        title = r.get(of, "title", r.text, what)
        plan = r.get(of, "plan", r.slug, what)
        objective = r.get(of, "objective", r.slug, what)
        if ("plan" in of) != ("objective" in of):
            r.error(pos, f"{what}: give `plan` and `objective` together, or neither")
            continue
        if oid is None or title is None or ("plan" in of and (plan is None or objective is None)):
            continue
        loc.put(("objective", oid), r.file, of["id"][1])
        if plan is not None:
            loc.put(("objective-plan", oid), r.file, of["plan"][1])
            loc.put(("objective-objective", oid), r.file, of["objective"][1])
        out.append(ExerciseObjective(oid, title, plan, objective))
    return out


def _inject(r: _Reader, node: Any, pos: Pos, loc: Locator) -> Inject:
    jf = r.fields(node, "inject", pos, "an inject")
    iid = r.get(jf, "id", r.slug, "an inject")
    what = f"inject {iid!r}" if iid else "an inject"
    ok = iid is not None
    at = r.get(jf, "at", r.after_t0, what)
    when = r.get(jf, "when", lambda v, p, w: _trigger(r, v, p, w, loc, iid), what)
    if "at" in jf and "when" in jf:
        r.error(jf["when"][1], f"{what} has both `at` and `when`; give one: `at` for a "
                "timed inject, `when` for a conditional one")
        ok = False
    elif "at" not in jf and "when" not in jf:
        r.error(pos, f"{what} needs `at` (a time) or `when` (a condition)")
        ok = False
    delay = 0
    if "delay" in jf:
        if "when" not in jf:
            r.error(jf["delay"][1], f"{what}: `delay` is only for a conditional inject "
                    "(with `when`); a timed inject says its time in `at`")
            ok = False
        else:
            delay = r.get(jf, "delay", r.duration, what, 0)
    to: list[str] = []
    if "to" in jf:
        try:
            for item, ipos in r.items(*jf["to"], f"{what}: 'to'"):
                try:
                    code = r.code(item, ipos, f"{what}: 'to'")
                except Skip:
                    ok = False
                    continue
                if code in to:
                    r.error(ipos, f"{what}: 'to' names {code} twice")
                    ok = False
                    continue
                to.append(code)
                loc.put(("to", iid or "", code), r.file, ipos)
            if not to and jf["to"][0] is not None and isinstance(jf["to"][0], YList):
                r.error(jf["to"][1], f"{what}: 'to' must name at least one player")
                ok = False
        except Skip:
            ok = False
    from_ = r.get(jf, "from", r.text, what)
    channel = r.get(jf, "channel", r.choice(CHANNELS), what)
    text = r.get(jf, "text", r.text, what)
    expect: list[DrillExpectation] = []
    if "expect" in jf:
        try:
            for enode, epos in r.items(*jf["expect"], f"{what}: 'expect'"):
                try:
                    expect.append(_expectation(r, enode, epos, loc))
                except Skip:
                    ok = False
        except Skip:
            ok = False
    if (not ok or from_ is None or channel is None or text is None or "to" not in jf
            or ("at" in jf and at is None) or ("when" in jf and when is None)):
        raise Skip()
    loc.put(("inject", iid), r.file, jf["id"][1])
    return Inject(iid, tuple(to), from_, channel, text, at, when, delay, tuple(expect))


def _trigger(r: _Reader, v: Any, pos: Pos, what: str, loc: Locator,
             iid: str | None) -> Trigger:
    tf = r.fields(v, "trigger", pos, what)
    exp = r.get(tf, "expectation", r.slug, what)
    flags = [k for k in ("missed", "met") if k in tf]
    if len(flags) != 1:
        raise r.fail(pos, f"{what} must say `missed: true` or `met: true`, one of them")
    value, vpos = tf[flags[0]]
    if value is not True:
        raise r.fail(vpos, f"{what}: {flags[0]!r} must be true; got {shown(value)} (say "
                     f"`{'met' if flags[0] == 'missed' else 'missed'}: true` for the other case)")
    if exp is None:
        raise Skip()
    loc.put(("when", iid or ""), r.file, tf["expectation"][1])
    return Trigger(exp, flags[0] == "met")


def _expectation(r: _Reader, node: Any, pos: Pos, loc: Locator) -> DrillExpectation:
    ef = r.fields(node, "drill-expectation", pos, "an expectation")
    eid = r.get(ef, "id", r.slug, "an expectation")
    what = f"expectation {eid!r}" if eid else "an expectation"
    partner = r.get(ef, "partner", r.code, what)
    task = r.get(ef, "task", r.taskref, what)
    by = r.get(ef, "by", r.after_t0, what)
    objective = r.get(ef, "objective", r.slug, what)
    if None in (eid, partner, task, by) or ("objective" in ef and objective is None):
        raise Skip()
    loc.put(("expectation", eid), r.file, ef["id"][1])
    loc.put(("expectation-partner", eid), r.file, ef["partner"][1])
    loc.put(("expectation-task", eid), r.file, ef["task"][1])
    if objective is not None:
        loc.put(("expectation-objective", eid), r.file, ef["objective"][1])
    return DrillExpectation(eid, partner, task, by, objective)


def _unique(r: _Reader, injects: list[Inject], objectives: list[ExerciseObjective],
            loc: Locator) -> set[str]:
    """Report a repeated inject, expectation or objective id; the expectation ids."""
    for kind, ids in (("inject", [i.id for i in injects]),
                      ("expectation", [e.id for i in injects for e in i.expect]),
                      ("objective", [o.id for o in objectives])):
        seen: set[str] = set()
        for one in ids:
            if one in seen:
                r.problems.append(loc.problem((kind, one), f"the {kind} id {one!r} is used "
                                              f"twice; {kind} ids are unique in the file"))
            seen.add(one)
    return {e.id for i in injects for e in i.expect}


def _check_triggers(injects: list[Inject], expectation_ids: set[str],
                    objectives: list[ExerciseObjective], loc: Locator,
                    problems: list[Problem]) -> None:
    """`when` names an expectation of the file; conditional injects wait in no cycle."""
    owner = {e.id: i.id for i in injects for e in i.expect}
    objective_ids = {o.id for o in objectives}
    for i in injects:
        for e in i.expect:
            if e.objective is not None and e.objective not in objective_ids:
                problems.append(loc.problem(("expectation-objective", e.id),
                                            f"expectation {e.id!r}: no exercise objective "
                                            f"{e.objective!r} in `objectives`"))
        if i.when is not None and i.when.expectation not in expectation_ids:
            close = difflib.get_close_matches(i.when.expectation, sorted(expectation_ids), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(loc.problem(("when", i.id), f"inject {i.id!r}: when: no "
                                        f"expectation {i.when.expectation!r} in the "
                                        f"exercise{hint}"))
    waits = {i.id: owner[i.when.expectation] for i in injects
             if i.when is not None and i.when.expectation in owner}
    reported: set[str] = set()
    for start in sorted(waits):
        chain = [start]
        current = waits[start]
        while current in waits and current not in chain and current not in reported:
            chain.append(current)
            current = waits[current]
        if current in chain and current not in reported:
            cycle = chain[chain.index(current):]
            reported.update(cycle)
            path = " -> ".join([*cycle, current])
            problems.append(loc.problem(("when", cycle[-1]), f"inject {cycle[-1]!r}: "
                                        f"conditional injects wait on each other in a cycle: "
                                        f"{path} (each arrow points to the inject whose "
                                        "expectation it waits on); none of them can fire"))


# -- the actions log ----------------------------------------------------------


def read_actions_path(path: Path) -> list[LoggedAction]:
    """The actions log at ``path`` (a YAML list, possibly empty), located for problems."""
    name = str(path)
    try:
        doc = read_file(path)
    except ReadError as exc:
        if exc.message.startswith("the file is empty"):
            return []
        raise InvalidExercise([Problem(name, exc.line, exc.column, exc.message)]) from None
    except OSError as exc:
        raise InvalidExercise([Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")]
                              ) from None
    return actions_from(name, doc)


def actions_from(name: str, doc: Any) -> list[LoggedAction]:
    problems: list[Problem] = []
    r = _Reader(name, problems)
    if doc is None:
        return []
    if not isinstance(doc, YList):
        line, column = getattr(doc, "pos", (1, 1))
        raise InvalidExercise([Problem(name, line, column, "an actions log is a list of "
                                       "{partner, task, at}")])
    out = []
    for node, pos in zip(doc, doc.itempos, strict=True):
        try:
            af = r.fields(node, "action", pos, "an action")
        except Skip:
            continue
        partner = r.get(af, "partner", r.code, "an action")
        task = r.get(af, "task", r.taskref, "an action")
        at = r.get(af, "at", r.after_t0, "an action")
        if partner is None or task is None or at is None:
            continue
        out.append(LoggedAction(Action(partner, task, at), (name, *pos),
                                (name, *af["partner"][1]), (name, *af["task"][1])))
    if problems:
        raise InvalidExercise(problems)
    return out


# -- JSON Schema ----------------------------------------------------------------


def exercise_schema() -> dict[str, Any]:
    """The exercise file as a JSON Schema (draft 2020-12)."""
    defs: dict[str, Any] = {
        "version": {"const": 1},
        "text": {"type": "string", "minLength": 1},
        "slug": {"type": "string", "pattern": SLUG},
        "code": {"type": "string", "pattern": CODE},
        "codes": {"type": "array", "items": {"$ref": "#/$defs/code"}, "minItems": 1,
                  "uniqueItems": True},
        "time": {"type": "string", "pattern": TIME},
        "duration": {"type": "string", "pattern": DURATION},
        "timestamp": {"type": "string", "format": "date-time"},
        "taskref": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$"},
        "role": {"enum": list(ROLES)},
        "channel": {"enum": list(CHANNELS)},
        "true": {"const": True},
    }
    for kind, fields in EXERCISE_OBJECTS.items():
        props: dict[str, Any] = {}
        for key, f in fields.items():
            if f.type.startswith("list:"):
                prop: dict[str, Any] = {"type": "array",
                                        "items": {"$ref": f"#/$defs/{f.type[5:]}"}}
            elif key == "kind":
                prop = {"const": "exercise"}
            else:
                prop = {"$ref": f"#/$defs/{f.type}"}
            if f.doc:
                prop["description"] = f.doc
            props[key] = prop
        body: dict[str, Any] = {"type": "object", "properties": props,
                                "required": [k for k, f in fields.items() if f.required],
                                "patternProperties": {"^x-": {}},
                                "additionalProperties": False}
        if kind == "inject":
            body["oneOf"] = [{"required": ["at"], "not": {"anyOf": [
                {"required": ["when"]}, {"required": ["delay"]}]}},
                {"required": ["when"], "not": {"required": ["at"]}}]
        if kind == "trigger":
            body["oneOf"] = [{"required": ["missed"], "not": {"required": ["met"]}},
                             {"required": ["met"], "not": {"required": ["missed"]}}]
        defs[kind] = body
    defs["actions"] = {"type": "array", "items": {"$ref": "#/$defs/action"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://jointplan.example/schema/v1/exercise.json",
        "title": "jointplan exercise file, version 1",
        "$ref": "#/$defs/exercise",
        "$defs": defs,
    }
