"""Typed values from raw document values, each failure a located problem."""

from __future__ import annotations

import contextlib
import difflib
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import shapely
from shapely.validation import explain_validity

from ..model import Commitment, Duration, TimecodeError, Tlp, parse_duration, parse_time
from .fields import CODE, OBJECTS, RECEIVABLE, SLUG
from .problems import Problem
from .yamlread import Pos, YList, YMap

_SLUG = re.compile(SLUG)
_CODE = re.compile(CODE)
_REF = re.compile(r"([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9-]*)")


class Skip(Exception):
    """The value is wrong; the problem is recorded and the value left out."""


class Reader:
    """Reads the objects of one file, recording every problem with its position."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def error(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(self.file, pos[0], pos[1], message))

    def fail(self, pos: Pos, message: str) -> Skip:
        self.error(pos, message)
        return Skip()

    # -- objects -------------------------------------------------------------

    def fields(self, node: Any, kind: str, pos: Pos, what: str) -> dict[str, tuple[Any, Pos]]:
        """Known keys of an object with their positions; unknown and missing keys reported."""
        if not isinstance(node, YMap):
            raise self.fail(pos, f"{what} must be a mapping of keys to values")
        spec = OBJECTS[kind]
        out: dict[str, tuple[Any, Pos]] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                self.error(node.keypos[key], f"the key {key!r} must be a word")
                continue
            if key in spec:
                out[key] = (value, node.valpos[key])
            elif key == "withhold" and kind in ("plan", "indicator", "observation"):
                self.error(node.keypos[key], f"{what} cannot have `withhold`; it is allowed "
                           "on objectives, tasks, expectations and provisions (`share` "
                           f"chooses who sees {what})")
            elif not key.startswith("x-"):
                close = difflib.get_close_matches(key, list(spec), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else (
                    f"; the keys of {what} are " + ", ".join(spec))
                self.error(node.keypos[key], f"unknown key {key!r} in {what}{hint}")
        absent = self._withheld(node, kind, what) if "withheld" in out else ()
        for key, f in spec.items():
            if f.required and key not in out and key not in absent:
                self.error(node.pos, f"{what} is missing the required key {key!r}")
        return out

    def _withheld(self, node: YMap, kind: str, what: str) -> tuple[str, ...]:
        """The fields a received copy says it leaves out; each must be one it may."""
        value, pos = node["withheld"], node.valpos["withheld"]
        allowed = RECEIVABLE.get(kind, ())
        names = []
        for name, npos in self.items(value, pos, f"{what}: 'withheld'") if isinstance(
                value, YList) else []:
            if name not in allowed:
                self.error(npos, f"{what}: 'withheld' cannot name {shown(name)}; it may name "
                           + ", ".join(allowed))
            elif name in node and name not in ("after", "serves", "answers"):
                # A reference list may be given in part: those the receiver may not see
                # were dropped. Any other field is either sent or withheld.
                self.error(npos, f"{what}: {name!r} is listed under 'withheld' but given")
            else:
                names.append(name)
        if not isinstance(value, YList):
            self.error(pos, f"{what}: 'withheld' must be a list of field names")
        return tuple(names)

    def withheld(self, f: dict[str, tuple[Any, Pos]]) -> tuple[str, ...]:
        """The `withheld` list of an object already checked by `fields`."""
        value = f.get("withheld", (None, None))[0]
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, YList) else ()

    def items(self, value: Any, pos: Pos, what: str) -> list[tuple[Any, Pos]]:
        if not isinstance(value, YList):
            raise self.fail(pos, f"{what} must be a list")
        return list(zip(value, value.itempos, strict=True))

    def get(self, f: dict[str, tuple[Any, Pos]], key: str, conv: Callable[..., Any],
            what: str, default: Any = None) -> Any:
        """Convert one field, or record its problem and give the default."""
        if key not in f:
            return default
        value, pos = f[key]
        try:
            return conv(value, pos, f"{what}: {key!r}")
        except Skip:
            return default

    # -- scalars -------------------------------------------------------------

    def text(self, v: Any, pos: Pos, what: str) -> str:
        if not isinstance(v, str) or not v.strip():
            raise self.fail(pos, f"{what} must be text{_quote_hint(v)}")
        return v

    def slug(self, v: Any, pos: Pos, what: str) -> str:
        if not isinstance(v, str) or not _SLUG.fullmatch(v):
            raise self.fail(pos, f"{what} must be an id of lowercase letters, digits and "
                            f"hyphens, like 'port-aster'; got {shown(v)}")
        return v

    def code(self, v: Any, pos: Pos, what: str) -> str:
        if not isinstance(v, str) or not _CODE.fullmatch(v):
            raise self.fail(pos, f"{what} must be a partner code of 2-8 capital letters, "
                            f"like 'NOR'; got {shown(v)}")
        return v

    def count(self, v: Any, pos: Pos, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(pos, f"{what} must be a whole number >= 0; got {shown(v)}")
        return v

    def probability(self, v: Any, pos: Pos, what: str) -> float:
        if (isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v)
                or not 0 <= v <= 1):
            raise self.fail(pos, f"{what} must be a probability between 0 and 1; got {shown(v)}")
        return float(v)

    def flag(self, v: Any, pos: Pos, what: str) -> bool:
        if not isinstance(v, bool):
            raise self.fail(pos, f"{what} must be true or false; got {shown(v)}")
        return v

    def time(self, v: Any, pos: Pos, what: str) -> int:
        if not isinstance(v, str):
            raise self.fail(pos, f"{what} must be a time such as T+30h, written as text; "
                            f"got {shown(v)}")
        try:
            return parse_time(v)
        except TimecodeError as exc:
            raise self.fail(pos, f"{what}: {exc}") from None

    def duration(self, v: Any, pos: Pos, what: str) -> int:
        if not isinstance(v, str):
            raise self.fail(pos, f"{what} must be a duration such as 6h, written as text; "
                            f"got {shown(v)}")
        try:
            return parse_duration(v)
        except TimecodeError as exc:
            raise self.fail(pos, f"{what}: {exc}") from None

    def duration3(self, v: Any, pos: Pos, what: str) -> Duration:
        if not isinstance(v, YMap):
            return Duration.fixed(self.duration(v, pos, what))
        parts = {}
        for key, val in v.items():
            if key not in ("likely", "min", "max"):
                raise self.fail(v.keypos[key], f"unknown key {key!r} in {what}; "
                                "a three-point duration has likely, min and max")
            parts[key] = self.duration(val, v.valpos[key], f"{what} {key}")
        missing = [k for k in ("likely", "min", "max") if k not in parts]
        if missing:
            raise self.fail(pos, f"{what} is missing {', '.join(missing)}; give likely, "
                            "min and max, or a single duration")
        if not parts["min"] <= parts["likely"] <= parts["max"]:
            raise self.fail(pos, f"{what} must have min <= likely <= max")
        return Duration(parts["likely"], parts["min"], parts["max"], three_point=True)

    def window(self, v: Any, pos: Pos, what: str) -> tuple[int, int]:
        if not isinstance(v, YList) or len(v) != 2:
            raise self.fail(pos, f"{what} must be a list of two times, like [T+24h, T+40h]")
        a = self.time(v[0], v.itempos[0], what)
        b = self.time(v[1], v.itempos[1], what)
        if b < a:
            raise self.fail(pos, f"{what} ends before it starts")
        return (a, b)

    def timestamp(self, v: Any, pos: Pos, what: str) -> datetime:
        if isinstance(v, str):
            try:
                at = datetime.fromisoformat(v)
            except ValueError:
                at = None
            if at is not None and at.tzinfo is not None:
                return at
        raise self.fail(pos, f"{what} must be an ISO 8601 time with a zone, like "
                        f"2026-11-20T08:00Z; got {shown(v)}")

    def enum(self, kind: type[Tlp] | type[Commitment]) -> Callable[[Any, Pos, str], Any]:
        def conv(v: Any, pos: Pos, what: str) -> Any:
            try:
                return kind(v)
            except ValueError:
                raise self.fail(pos, f"{what} must be one of "
                                + ", ".join(m.value for m in kind) + f"; got {shown(v)}") from None
        return conv

    # -- composites ----------------------------------------------------------

    def slugs(self, v: Any, pos: Pos, what: str) -> tuple[tuple[str, Pos], ...]:
        out = []
        for item, ipos in self.items(v, pos, what):
            with contextlib.suppress(Skip):  # recorded; the others are still read
                out.append((self.slug(item, ipos, what), ipos))
        return tuple(out)

    def taskrefs(self, v: Any, pos: Pos, what: str) -> tuple[tuple[str, Pos], ...]:
        out = []
        for item, ipos in self.items(v, pos, what):
            if isinstance(item, str) and (_SLUG.fullmatch(item) or _REF.fullmatch(item)):
                out.append((item, ipos))
            else:
                self.error(ipos, f"{what} must name a task as TASK or PLAN/TASK; got {shown(item)}")
        return tuple(out)

    def ref(self, v: Any, pos: Pos, what: str) -> tuple[str, str]:
        m = _REF.fullmatch(v) if isinstance(v, str) else None
        if m is None:
            raise self.fail(pos, f"{what} must be PLAN/EXPECTATION; got {shown(v)}")
        return (m.group(1), m.group(2))

    def share(self, v: Any, pos: Pos, what: str) -> tuple[Any, list[tuple[str, Pos]]]:
        """The share as written, and the codes it names with positions."""
        if v == "all":
            return ("all", [])
        if not isinstance(v, YList):
            raise self.fail(pos, f"{what} must be `all` or a list of partner codes")
        codes = [(self.code(c, p, what), p) for c, p in zip(v, v.itempos, strict=True)]
        return (tuple(c for c, _ in codes), codes)

    def withhold(self, v: Any, pos: Pos, what: str, kind: str,
                 allowed: tuple[str, ...]) -> tuple[dict[str, frozenset[str]],
                                                    list[tuple[str, Pos]]]:
        if not isinstance(v, YMap):
            raise self.fail(pos, f"{what} must map field names to lists of partner codes")
        out: dict[str, frozenset[str]] = {}
        codes: list[tuple[str, Pos]] = []
        for key, val in v.items():
            if key not in allowed:
                close = difflib.get_close_matches(str(key), list(allowed), n=1)
                hint = f"did you mean {close[0]!r}?" if close else (
                    "it may name " + ", ".join(allowed))
                self.error(v.keypos[key], f"{what} cannot name {key!r} on a {kind}; {hint}")
                continue
            vpos = v.valpos[key]
            try:
                named = [(self.code(c, p, what), p)
                         for c, p in self.items(val, vpos, f"{what} {key!r}")]
            except Skip:
                continue
            out[key] = frozenset(c for c, _ in named)
            codes.extend(named)
        return out, codes

    def uses(self, v: Any, pos: Pos, what: str) -> dict[str, tuple[int, Pos]]:
        if not isinstance(v, YMap):
            raise self.fail(pos, f"{what} must map resource ids to whole numbers")
        out = {}
        for key, val in v.items():
            try:
                rid = self.slug(key, v.keypos[key], f"{what} resource")
                out[rid] = (self.count(val, v.valpos[key], f"{what} {key!r}"), v.keypos[key])
            except Skip:
                pass
        return out

    def likelihood(self, v: Any, pos: Pos, what: str) -> dict[str, tuple[float, Pos]]:
        if not isinstance(v, YMap):
            raise self.fail(pos, f"{what} must map scenario ids to probabilities")
        out = {}
        for key, val in v.items():
            try:
                sid = self.slug(key, v.keypos[key], f"{what} scenario")
                out[sid] = (self.probability(val, v.valpos[key], f"{what} {key!r}"),
                            v.keypos[key])
            except Skip:
                pass
        return out

    def geometry(self, v: Any, pos: Pos, what: str, name: str) -> dict[str, Any]:
        if not isinstance(v, YMap) or v.get("type") not in ("Polygon", "MultiPolygon"):
            raise self.fail(pos, f"{what} must be a GeoJSON Polygon or MultiPolygon")
        extra = set(v) - {"type", "coordinates"}
        if extra:
            raise self.fail(pos, f"{what} has keys GeoJSON geometries do not: "
                            + ", ".join(sorted(map(str, extra))))
        coords = v.get("coordinates")
        if not isinstance(coords, list) or not coords:
            raise self.fail(v.valpos.get("coordinates", pos), f"{what} has no coordinates; "
                            "a polygon is a list of rings of [longitude, latitude] positions")
        polygons = [coords] if v["type"] == "Polygon" else coords
        plain: list[list[list[tuple[float, float]]]] = []
        for polygon in polygons:
            if not isinstance(polygon, list) or not polygon:
                raise self.fail(getattr(polygon, "pos", pos), f"{what}: a polygon is a list "
                                "of rings of [longitude, latitude] positions")
            rings = []
            for ring in polygon:
                rings.append(self._ring(ring, pos, what, name))
            plain.append(rings)
        shape = shapely.MultiPolygon([(r[0], r[1:]) for r in plain])
        if not shape.is_valid:
            raise self.fail(pos, f"the area {name!r} is not a valid polygon: "
                            f"{explain_validity(shape)}")
        if v["type"] == "Polygon":
            return {"type": "Polygon", "coordinates": [[list(p) for p in r] for r in plain[0]]}
        return {"type": "MultiPolygon",
                "coordinates": [[[list(p) for p in r] for r in poly] for poly in plain]}

    def _ring(self, ring: Any, pos: Pos, what: str, name: str) -> list[tuple[float, float]]:
        if not isinstance(ring, list) or len(ring) < 4:
            raise self.fail(getattr(ring, "pos", pos),
                            f"{what}: a ring of the area {name!r} needs at least 4 positions")
        points = []
        for p in ring:
            if (not isinstance(p, list) or len(p) not in (2, 3) or any(
                    isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c)
                    for c in p)):
                raise self.fail(getattr(p, "pos", pos), f"{what}: a position is [longitude, "
                                f"latitude] in degrees; got {p!r}")
            lon, lat = float(p[0]), float(p[1])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise self.fail(getattr(p, "pos", pos), f"{what}: [{lon}, {lat}] is not a "
                                "WGS84 longitude/latitude")
            points.append((lon, lat))
        if points[0] != points[-1]:
            raise self.fail(getattr(ring, "pos", pos), f"{what}: a ring of the area {name!r} "
                            "must end where it starts; repeat its first position at the end")
        return points


def _quote_hint(v: Any) -> str:
    if v is None:
        return "; it is empty"
    if isinstance(v, bool | int | float):
        return f"; got {shown(v)} — put it in quotes to make it text"
    return f"; got {shown(v)}"


def shown(v: Any) -> str:
    """A value as a planner wrote it, for messages: ``true`` rather than ``True``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nothing (null)"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return repr(v)
