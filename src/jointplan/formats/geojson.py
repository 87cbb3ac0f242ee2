"""GeoJSON (RFC 7946): a partner's areas and located items out, areas in.

Export: a FeatureCollection of the workspace's areas and of every task in the
partner's export view that has an ``area`` it may see, the task's feature
carrying the area's geometry and, as properties, exactly the task's fields as
the partner receives them. Import: the features of a FeatureCollection as
workspace areas, each geometry checked as the plan format checks it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..files.convert import Reader, Skip, shown
from ..files.fields import SLUG
from ..files.problems import Problem
from ..files.yamlread import ReadError, YList, YMap, read_document
from ..sharing.handling import ExportView
from . import FormatError

Doc = dict[str, Any]
_SLUG = re.compile(SLUG)


def export_geojson(ev: ExportView) -> Doc:
    """The partner's areas and located tasks as one FeatureCollection."""
    view = ev.view
    areas = {a["id"]: a for a in view["areas"]}
    features: list[Doc] = [
        {"type": "Feature", "id": f"area/{a['id']}", "geometry": a["geometry"],
         "properties": {"kind": "area", "id": a["id"], "name": a["name"]}}
        for a in view["areas"]]
    for plan in view["plans"]:
        for task in plan.get("tasks", []):
            area = task.get("area")
            if area is None:
                continue
            props = {"kind": "task", "plan": plan["id"], "partner": plan["owner"],
                     "tlp": ev.plan_tlp[plan["id"]].value, "task": task}
            features.append({"type": "Feature", "id": f"task/{plan['id']}/{task['id']}",
                             "geometry": areas[area]["geometry"], "properties": props})
    return {"type": "FeatureCollection",
            "jointplan": {"workspace": view["id"], "as": ev.partner, "tlp": ev.tlp.value},
            "features": features}


def dumps(doc: Doc) -> str:
    return json.dumps(doc, ensure_ascii=False) + "\n"


def import_areas(path: Path) -> list[Doc]:
    """The areas a GeoJSON FeatureCollection draws, or FormatError with every problem located
    (``FILE:LINE:COLUMN: features[I] property: message``)."""
    name = str(path)
    try:
        doc = read_document(path.read_bytes(), is_json=True)
    except ReadError as exc:
        raise FormatError([str(Problem(name, exc.line, exc.column, exc.message))]) from None
    except OSError as exc:
        raise FormatError([f"{name}:1:1: cannot read the file: {exc.strerror}"]) from None
    problems: list[Problem] = []
    reader = Reader(name, problems)
    if not isinstance(doc, YMap) or doc.get("type") != "FeatureCollection":
        raise FormatError([f"{name}:1:1: a GeoJSON FeatureCollection is expected "
                           "({\"type\": \"FeatureCollection\", \"features\": [...]})"])
    features = doc.get("features")
    if not isinstance(features, YList):
        raise FormatError([f"{name}:{doc.pos[0]}:{doc.pos[1]}: 'features' must be a list"])
    areas: list[Doc] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        where = f"features[{index}]"
        area = _area(reader, feature, getattr(feature, "pos", doc.pos), where)
        if area is None:
            continue
        if area["id"] in seen:
            pos = feature["properties"].valpos["id"]
            reader.error(pos, f"{where} properties.id: {area['id']!r} is also the id of "
                         f"features[{seen[area['id']]}]; area ids are unique")
            continue
        seen[area["id"]] = index
        areas.append(area)
    if problems:
        raise FormatError([str(p) for p in sorted(problems)])
    return areas


def _area(r: Reader, feature: Any, pos: tuple[int, int], where: str) -> Doc | None:
    if not isinstance(feature, YMap) or feature.get("type") != "Feature":
        r.error(pos, f"{where}: a GeoJSON Feature is expected")
        return None
    props = feature.get("properties")
    if not isinstance(props, YMap):
        r.error(feature.pos, f"{where} properties: give the area's 'id' and 'name' "
                "as properties")
        return None
    out: Doc = {}
    for key in ("id", "name"):
        value = props.get(key)
        if key not in props:
            r.error(props.pos, f"{where} properties.{key}: missing; an area needs an id "
                    "(a lowercase slug) and a name")
        elif not isinstance(value, str) or not value.strip():
            r.error(props.valpos[key], f"{where} properties.{key}: must be text, "
                    f"got {shown(value)}")
        elif key == "id" and not _SLUG.fullmatch(value):
            r.error(props.valpos[key], f"{where} properties.id: {value!r} is not a lowercase "
                    "slug ([a-z0-9][a-z0-9-]*)")
        else:
            out[key] = value
    if "geometry" not in feature or feature["geometry"] is None:
        r.error(feature.pos, f"{where} geometry: missing; an area is a Polygon or "
                "MultiPolygon")
        return None
    try:
        geometry = r.geometry(feature["geometry"], feature.valpos["geometry"],
                              f"{where} geometry", out.get("id", where))
    except Skip:
        return None
    if len(out) < 2:
        return None
    return {**out, "geometry": geometry}
