"""The JSON Schema of what `jointplan deconflict --json` prints (`jointplan schema deconflict`)."""

from __future__ import annotations

from typing import Any

_HIDDEN: dict[str, Any] = {
    "type": "object", "required": ["partner", "hidden"], "additionalProperties": False,
    "properties": {"partner": {"type": "string"}, "hidden": {"const": True}},
}


def _named(key: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"partner": {"type": "string"}, "plan": {"type": "string"},
                             key: {"type": "string"}, **(extra or {})}
    return {"type": "object", "required": ["partner", "plan", key],
            "additionalProperties": False, "properties": props}


_COMMITMENT = {"commitment": {"enum": ["intent", "planned", "committed"]}}
_ITEM = {"oneOf": [_named("task", _COMMITMENT), _named("provision"), _HIDDEN]}
_WINDOW = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
_SCENARIOS = {"type": "array", "items": {"type": "string"}, "minItems": 1}

CONFLICT: dict[str, Any] = {
    "oneOf": [
        {"type": "object", "additionalProperties": False,
         "required": ["kind", "resource", "scenarios", "window", "demand", "capacity", "tasks"],
         "properties": {"kind": {"const": "capacity"}, "resource": {"type": "string"},
                        "scenarios": _SCENARIOS, "window": _WINDOW,
                        "demand": {"type": "integer"}, "capacity": {"type": "integer"},
                        "tasks": {"type": "array", "items": _ITEM}}},
        {"type": "object", "additionalProperties": False,
         "required": ["kind", "areas", "scenarios", "window", "tasks"],
         "properties": {"kind": {"const": "area"},
                        "areas": {"type": "array", "items": {"type": "string"}},
                        "scenarios": _SCENARIOS, "window": _WINDOW,
                        "tasks": {"type": "array", "items": _ITEM}}},
    ]
}

REASON: dict[str, Any] = {
    "type": "object", "required": ["kind", "items"], "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["committed", "no-flex", "flex", "after", "deadline", "provision",
                          "capacity"]},
        "items": {"type": "array", "items": {"oneOf": [
            _named("task"), _named("provision"), _named("objective"), _HIDDEN]}},
    },
}

MOVE: dict[str, Any] = {
    "type": "object", "required": ["partner", "plan", "task", "from", "to"],
    "additionalProperties": False,
    "properties": {"partner": {"type": "string"}, "plan": {"type": "string"},
                   "task": {"type": "string"}, "from": {"type": "integer"},
                   "to": {"type": "integer"}},
}


def deconflict_schema() -> dict[str, Any]:
    """The schema of one `deconflict --json` answer (see docs/format.md)."""
    count = {"type": "integer", "minimum": 0}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "jointplan deconflict --json",
        "type": "object",
        "additionalProperties": False,
        "required": ["workspace", "as", "scenario", "status", "moves", "hidden_moves",
                     "remaining", "elsewhere", "why", "cost", "bound"],
        "properties": {
            "workspace": {"type": "string"},
            "as": {"type": ["string", "null"]},
            "scenario": {"type": "string"},
            "status": {"enum": ["optimal", "feasible", "none"]},
            "moves": {"type": "array", "items": MOVE},
            "hidden_moves": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "remaining": {"type": "array", "items": CONFLICT},
            "elsewhere": {"type": "array", "items": CONFLICT},
            "why": {"type": "array", "items": {"type": "array", "items": REASON}},
            "cost": {"type": "object", "additionalProperties": False,
                     "required": ["overload", "moved_tasks", "moved_minutes"],
                     "properties": {"overload": count, "moved_tasks": count,
                                    "moved_minutes": count}},
            "bound": {"type": ["integer", "null"], "minimum": 0},
            "makespan": {"type": "integer"},
        },
    }
