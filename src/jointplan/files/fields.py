"""The format's fields, declared once: the reader checks them and `jointplan schema` prints them.

Each object kind maps its keys to a field type and whether it is required.
Keys that begin with ``x-`` are extensions: kept and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model.enums import Commitment, Tlp


@dataclass(frozen=True, slots=True)
class Field:
    type: str
    required: bool = False
    doc: str = ""


def _req(type_: str, doc: str = "") -> Field:
    return Field(type_, True, doc)


def _opt(type_: str, doc: str = "") -> Field:
    return Field(type_, False, doc)


HEADER = {
    "jointplan": _req("version", "format version; always 1"),
    "kind": _req("kind", "workspace, plan or observations"),
}

_RECEIVED = _opt("fieldnames", "in a received copy: fields left out for the receiver")

OBJECTS: dict[str, dict[str, Field]] = {
    "workspace": {
        **HEADER,
        "id": _req("slug"),
        "title": _req("text"),
        "partners": _req("list:partner"),
        "areas": _opt("list:area"),
        "resources": _opt("list:resource"),
        "scenarios": _req("list:scenario"),
        "indicators": _opt("list:indicator"),
    },
    "partner": {"code": _req("code"), "name": _req("text")},
    "area": {"id": _req("slug"), "name": _req("text"),
             "geometry": _req("geometry", "GeoJSON Polygon or MultiPolygon, WGS84 lon/lat")},
    "resource": {"id": _req("slug"), "name": _req("text"),
                 "capacity": _req("count", "whole number >= 0"),
                 "holder": _opt("code", "partner that controls it (informational)")},
    "scenario": {"id": _req("slug"), "title": _req("text"),
                 "prior": _req("probability", "conditional on the parent"),
                 "parent": _opt("slug")},
    "indicator": {"id": _req("slug"), "title": _req("text"), "owner": _req("code"),
                  "share": _opt("share"),
                  "likelihood": _req("likelihood", "scenario -> P(seen | scenario)"),
                  "tlp": _opt("tlp", "default amber")},
    "plan": {
        **HEADER,
        "id": _req("slug", "begins with the owner's code in lower case and a hyphen"),
        "owner": _req("code"),
        "title": _req("text"),
        "scenarios": _req("slugs"),
        "share": _opt("share"),
        "tlp": _opt("tlp", "default amber"),
        "objectives": _opt("list:objective"),
        "tasks": _opt("list:task"),
        "expects": _opt("list:expectation"),
        "provides": _opt("list:provision"),
        "withheld": _opt("fieldnames", "in a received copy: title and scenarios left out "
                         "when only items addressed to the receiver were shared"),
    },
    "objective": {"id": _req("slug"), "title": _req("text"), "by": _req("time"),
                  "share": _opt("share"), "withhold": _opt("withhold"),
                  "withheld": _RECEIVED},
    "task": {
        "id": _req("slug"),
        "title": _req("text"),
        "start": _req("time"),
        "duration": _req("duration3", "a duration or {likely, min, max}"),
        "flex": _opt("window", "closed window the start may move in; holds start"),
        "after": _opt("taskrefs", "finish-to-start predecessors; PLAN/TASK across plans"),
        "uses": _opt("uses"),
        "area": _opt("slug"),
        "exclusive": _opt("flag"),
        "commitment": _opt("commitment", "default planned"),
        "serves": _opt("slugs"),
        "phase": _opt("text"),
        "unit": _opt("text"),
        "share": _opt("share"),
        "withhold": _opt("withhold"),
        "withheld": _RECEIVED,
    },
    "expectation": {"id": _req("slug"), "from": _req("code"), "what": _req("text"),
                    "uses": _opt("uses"), "window": _req("window"),
                    "share": _opt("share"), "withhold": _opt("withhold"),
                    "withheld": _RECEIVED},
    "provision": {"id": _req("slug"), "to": _req("code"), "what": _req("text"),
                  "uses": _opt("uses"), "window": _req("window"),
                  "answers": _opt("ref", "PLAN/EXPECTATION"),
                  "share": _opt("share"), "withhold": _opt("withhold"),
                  "withheld": _RECEIVED},
    "observations": {**HEADER, "observations": _req("list:observation")},
    "observation": {"indicator": _req("slug"), "at": _req("timestamp"), "seen": _req("flag"),
                    "by": _req("code"), "share": _opt("share"),
                    "tlp": _opt("tlp", "default amber")},
}

WITHHOLDABLE = {
    kind: tuple(k for k in OBJECTS[kind] if k not in ("id", "share", "withhold", "withheld"))
    for kind in ("objective", "task", "expectation", "provision")
}
"""Fields that ``withhold`` may name, per object kind."""

RECEIVABLE = {**WITHHOLDABLE, "plan": ("title", "scenarios")}
"""Fields a received copy may leave out (listing them under ``withheld``), per kind."""

SLUG = r"^[a-z0-9][a-z0-9-]*$"
CODE = r"^[A-Z]{2,8}$"
TIME = r"^T[+-](\d+d)?(\d+h)?(\d+m)?$"
DURATION = r"^(\d+d)?(\d+h)?(\d+m)?$"

_DEFS: dict[str, dict[str, Any]] = {
    "version": {"const": 1},
    "text": {"type": "string", "minLength": 1},
    "slug": {"type": "string", "pattern": SLUG},
    "code": {"type": "string", "pattern": CODE},
    "count": {"type": "integer", "minimum": 0},
    "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "time": {"type": "string", "pattern": TIME},
    "duration": {"type": "string", "pattern": DURATION},
    "timestamp": {"type": "string", "format": "date-time"},
    "flag": {"type": "boolean"},
    "ref": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$"},
    "tlp": {"enum": [t.value for t in Tlp]},
    "commitment": {"enum": [c.value for c in Commitment]},
}


def json_schema() -> dict[str, Any]:
    """The format as a JSON Schema (draft 2020-12), for editors and other tools."""
    defs: dict[str, Any] = {name: dict(body) for name, body in _DEFS.items()}
    defs["slugs"] = {"type": "array", "items": {"$ref": "#/$defs/slug"}}
    defs["fieldnames"] = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    defs["taskrefs"] = {"type": "array", "items": {"type": "string", "pattern":
                        r"^([a-z0-9][a-z0-9-]*/)?[a-z0-9][a-z0-9-]*$"}}
    defs["window"] = {"type": "array", "items": {"$ref": "#/$defs/time"},
                      "minItems": 2, "maxItems": 2}
    defs["duration3"] = {"oneOf": [
        {"$ref": "#/$defs/duration"},
        {"type": "object", "additionalProperties": False,
         "required": ["likely", "min", "max"],
         "properties": {k: {"$ref": "#/$defs/duration"} for k in ("likely", "min", "max")}},
    ]}
    defs["share"] = {"oneOf": [{"const": "all"},
                               {"type": "array", "items": {"$ref": "#/$defs/code"}}]}
    defs["withhold"] = {"type": "object", "propertyNames": {"type": "string"},
                        "additionalProperties": {"type": "array",
                                                 "items": {"$ref": "#/$defs/code"}}}
    defs["uses"] = {"type": "object", "propertyNames": {"pattern": SLUG},
                    "additionalProperties": {"type": "integer", "minimum": 0}}
    defs["likelihood"] = {"type": "object", "propertyNames": {"pattern": SLUG},
                          "additionalProperties": {"$ref": "#/$defs/probability"}}
    defs["kind"] = {"enum": ["workspace", "plan", "observations"]}
    defs["geometry"] = {"type": "object", "required": ["type", "coordinates"],
                        "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]},
                                       "coordinates": {"type": "array"}}}
    for kind, fields in OBJECTS.items():
        props: dict[str, Any] = {}
        for key, f in fields.items():
            ref = f"#/$defs/{f.type[5:]}" if f.type.startswith("list:") else f"#/$defs/{f.type}"
            prop: dict[str, Any] = (
                {"type": "array", "items": {"$ref": ref}} if f.type.startswith("list:")
                else {"$ref": ref}
            )
            if key == "kind":
                prop = {"const": kind}
            if f.doc:
                prop["description"] = f.doc
            props[key] = prop
        defs[kind] = {"type": "object", "properties": props,
                      "required": [k for k, f in fields.items() if f.required],
                      "patternProperties": {"^x-": {}}, "additionalProperties": False}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://jointplan.example/schema/v1.json",
        "title": "jointplan plan format, version 1",
        "oneOf": [{"$ref": "#/$defs/workspace"}, {"$ref": "#/$defs/plan"},
                  {"$ref": "#/$defs/observations"}],
        "$defs": defs,
    }
