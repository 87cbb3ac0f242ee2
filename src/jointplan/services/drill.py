"""Drills: an exercise checked against its workspace, and its deterministic schedule.

``drill check`` and ``drill schedule`` (the command line) call these; so will
the server's live run. An exercise names only what every one of its
controllers may see: a plan, task or objective hidden from one of them is
reported exactly like one that does not exist.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import Problem
from ..files.exercise import (
    InvalidExercise,
    LoggedAction,
    ReadExercise,
    read_actions_path,
    read_exercise_path,
)
from ..model import Plan, Task, Workspace
from ..model.exercise import Action, DrillExpectation, Exercise, Inject
from ..sharing import Rules
from .workspaces import load_checked

RESULTS = ("met", "late", "missed")


@dataclass(frozen=True)
class Checked:
    """An exercise that passed every check, with the workspace it runs on."""

    exercise: Exercise
    workspace: Workspace


class _Names:
    """What the exercise may name: what exists and every controller may see."""

    def __init__(self, ws: Workspace, ex: Exercise) -> None:
        rules = Rules(ws)
        controllers = ex.with_role("controller")
        self.plans: dict[str, Plan] = {
            p.id: p for p in ws.plans
            if all(rules.sees_plan(c, p) for c in controllers)}
        self.tasks: dict[str, tuple[Plan, Task]] = {
            f"{p.id}/{t.id}": (p, t) for p in self.plans.values() for t in p.tasks
            if all(rules.sees(c, p, t) for c in controllers)}
        self.objectives = {
            (p.id, o.id) for p in self.plans.values() for o in p.objectives
            if all(rules.sees(c, p, o) for c in controllers)}
        leaf = ex.scenario
        self.under_test = {p.id for p in self.plans.values()
                           if leaf in ws.leaves() and leaf in ws.active_leaves(p)}
        self.players = set(ex.with_role("player"))


def check_exercise(ws: Workspace, read: ReadExercise) -> list[Problem]:
    """Every problem of an exercise's references to its workspace, through the gate."""
    ex, loc = read.exercise, read.locator
    problems: list[Problem] = []
    leaves = ws.leaves()
    scenarios = {s.id for s in ws.scenarios}
    if ex.scenario not in scenarios:
        close = difflib.get_close_matches(ex.scenario, sorted(scenarios), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "its leaf scenarios are " + ", ".join(
            leaves)
        problems.append(loc.problem(("scenario",), f"the exercise: 'scenario': no scenario "
                                    f"{ex.scenario!r} in {ws.id}; {hint}"))
    elif ex.scenario not in leaves:
        below = [leaf for leaf in leaves if ex.scenario in ws.path(leaf)]
        problems.append(loc.problem(("scenario",), f"the exercise: 'scenario': "
                                    f"{ex.scenario} is not a leaf scenario; exercise one of "
                                    "its leaves: " + ", ".join(below)))
    partners = set(ws.partner_codes)
    for p in ex.participants:
        if p.partner not in partners:
            problems.append(loc.problem(("participant", p.partner), f"participant "
                                        f"{p.partner}: no partner {p.partner} in {ws.id}; "
                                        "partners are " + ", ".join(ws.partner_codes)))
    names = _Names(ws, ex)
    for o in ex.objectives:
        if o.plan is None:
            continue
        if o.plan not in names.plans:
            problems.append(loc.problem(("objective-plan", o.id), f"exercise objective "
                                        f"{o.id!r}: 'plan': no plan {o.plan!r}"))
        elif (o.plan, o.objective) not in names.objectives:
            problems.append(loc.problem(("objective-objective", o.id), f"exercise objective "
                                        f"{o.id!r}: 'objective': no objective "
                                        f"{o.objective!r} in {o.plan}"))
    for inject in ex.injects:
        for code in inject.to:
            if code not in names.players:
                problems.append(loc.problem(("to", inject.id, code), f"inject {inject.id!r}: "
                                            f"'to': {code} is not a player of the exercise"))
        for e in inject.expect:
            problems.extend(_check_expectation(e, names, ex, loc))
    return problems


def _check_expectation(e: DrillExpectation, names: _Names, ex: Exercise,
                       loc: Any) -> list[Problem]:
    out = []
    if e.partner not in names.players:
        out.append(loc.problem(("expectation-partner", e.id), f"expectation {e.id!r}: "
                               f"'partner': {e.partner} is not a player of the exercise"))
    found = names.tasks.get(e.task)
    if found is None:
        out.append(loc.problem(("expectation-task", e.id), f"expectation {e.id!r}: 'task': "
                               f"no task {e.task!r}"))
        return out
    plan, _ = found
    if plan.id not in names.under_test:
        out.append(loc.problem(("expectation-task", e.id), f"expectation {e.id!r}: 'task': "
                               f"{plan.id} is not active in {ex.scenario}, so it is not "
                               "under test in this exercise"))
    elif e.partner in names.players and plan.owner != e.partner:
        out.append(loc.problem(("expectation-partner", e.id), f"expectation {e.id!r}: "
                               f"'partner': {e.partner} does not own {plan.id} (its owner "
                               f"is {plan.owner}); the partner expected to act owns the "
                               "task's plan"))
    return out


def check_actions(ws: Workspace, ex: Exercise, logged: Sequence[LoggedAction]) -> list[Problem]:
    """An action names a player of the exercise and a task of a plan under test."""
    names = _Names(ws, ex)
    problems = []
    for item in logged:
        a = item.action
        if a.partner not in names.players:
            problems.append(Problem(*item.partner_at, f"an action: 'partner': {a.partner} is "
                                    "not a player of the exercise"))
        found = names.tasks.get(a.task)
        if found is None or found[0].id not in names.under_test:
            problems.append(Problem(*item.task_at, f"an action: 'task': no task {a.task!r} "
                                    "in the plans under test"))
    return problems


def load_drill(exercise: str | Path, folder: str | Path) -> Checked:
    """The exercise file checked against the workspace folder; InvalidExercise otherwise."""
    loaded = load_checked(folder)
    read = read_exercise_path(Path(exercise))
    problems = check_exercise(loaded.workspace, read)
    if problems:
        raise InvalidExercise(problems)
    return Checked(read.exercise, loaded.workspace)


def load_actions(checked: Checked, log: str | Path | None) -> list[Action]:
    """The actions log checked against the exercise (none: an empty log)."""
    if log is None:
        return []
    logged = read_actions_path(Path(log))
    problems = check_actions(checked.workspace, checked.exercise, logged)
    if problems:
        raise InvalidExercise(problems)
    return [item.action for item in logged]


# -- the schedule ---------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    result: str
    """met, late or missed."""
    acted: int | None
    """When the action that counts was taken (met or late); None when missed."""
    late_by: int | None


class Schedule:
    """Delivery times of the injects and results of the expectations, given an actions log.

    An inject with ``at`` is delivered then. One with ``when`` waits on an
    expectation: ``met`` fires at the meeting action plus ``delay``;
    ``missed`` fires when the expectation is late or missed, at the later of
    its ``by`` and its inject's delivery, plus ``delay``. An expectation
    counts the earliest action of its partner on its task at or after its
    inject's delivery: met at or before ``by``, late after, missed without
    one; an undelivered inject's expectations have no result.
    """

    def __init__(self, exercise: Exercise, actions: Sequence[Action]) -> None:
        self.exercise = exercise
        self._owner: dict[str, tuple[Inject, DrillExpectation]] = {
            e.id: (i, e) for i, e in exercise.expectations()}
        self._acts: dict[tuple[str, str], list[int]] = {}
        for a in actions:
            self._acts.setdefault((a.partner, a.task), []).append(a.at)
        self._delivery: dict[str, int | None] = {}
        self._result: dict[str, Result | None] = {}

    def delivery(self, inject: Inject) -> int | None:
        """Minutes after T0 at which the inject is delivered; None if never triggered."""
        if inject.id not in self._delivery:
            self._delivery[inject.id] = self._deliver(inject)
        return self._delivery[inject.id]

    def _deliver(self, inject: Inject) -> int | None:
        if inject.when is None:
            return inject.at
        source, exp = self._owner[inject.when.expectation]
        result = self.result(exp.id)
        if result is None:
            return None
        if inject.when.met:
            return result.acted + inject.delay if result.result == "met" and result.acted \
                is not None else None
        if result.result == "met":
            return None
        delivered = self.delivery(source)
        assert delivered is not None  # a result exists only for a delivered inject
        return max(exp.by, delivered) + inject.delay

    def result(self, expectation: str) -> Result | None:
        if expectation not in self._result:
            inject, exp = self._owner[expectation]
            delivered = self.delivery(inject)
            if delivered is None:
                self._result[expectation] = None
            else:
                times = [t for t in self._acts.get((exp.partner, exp.task), ()) if t >= delivered]
                if not times:
                    self._result[expectation] = Result("missed", None, None)
                else:
                    first = min(times)
                    self._result[expectation] = (
                        Result("met", first, None) if first <= exp.by
                        else Result("late", first, first - exp.by))
        return self._result[expectation]

    def as_json(self) -> dict[str, Any]:
        """The object `drill schedule --json` prints."""
        deliveries: list[dict[str, Any]] = []
        for inject in self.exercise.injects:
            at = self.delivery(inject)
            if at is not None:
                deliveries.extend({"inject": inject.id, "partner": p, "at": at}
                                  for p in inject.to)
        deliveries.sort(key=lambda d: (d["at"], d["inject"], d["partner"]))
        expectations: list[dict[str, Any]] = []
        for _, e in sorted(self.exercise.expectations(), key=lambda ie: ie[1].id):
            r = self.result(e.id)
            expectations.append({"id": e.id, "partner": e.partner,
                                 "result": None if r is None else r.result,
                                 "late_by": None if r is None else r.late_by})
        return {"deliveries": deliveries, "expectations": expectations}


def schedule_report(exercise: str | Path, folder: str | Path,
                    log: str | Path | None) -> dict[str, Any]:
    """The object `jointplan drill schedule EXERCISE FOLDER --actions LOG --json` prints."""
    checked = load_drill(exercise, folder)
    actions = load_actions(checked, log)
    return Schedule(checked.exercise, actions).as_json()


def schedule_schema() -> dict[str, Any]:
    """What `drill schedule --json` prints, as a JSON Schema (draft 2020-12)."""
    slug = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
    code = {"type": "string", "pattern": "^[A-Z]{2,8}$"}
    minutes = {"type": "integer", "minimum": 0}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://jointplan.example/schema/v1/drill-schedule.json",
        "title": "jointplan drill schedule --json",
        "type": "object",
        "required": ["deliveries", "expectations"],
        "additionalProperties": False,
        "properties": {
            "deliveries": {
                "description": "one per inject delivered and partner in its `to`, sorted by "
                               "at, then inject, then partner (by code point)",
                "type": "array",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["inject", "partner", "at"],
                          "properties": {"inject": slug, "partner": code,
                                         "at": {**minutes, "description":
                                                "whole minutes after T0"}}}},
            "expectations": {
                "description": "every expectation of the exercise, sorted by id",
                "type": "array",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["id", "partner", "result", "late_by"],
                          "properties": {
                              "id": slug, "partner": code,
                              "result": {"enum": [*RESULTS, None], "description":
                                         "null when the expectation's inject is never "
                                         "delivered"},
                              "late_by": {"oneOf": [{"type": "integer", "minimum": 1},
                                                    {"type": "null"}],
                                          "description": "minutes after `by`; null unless "
                                          "late"}}}},
        },
    }
