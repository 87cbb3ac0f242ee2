"""Tokens for private deconfliction, derived from a node's own unreleased uses.

Capacity: for a (scenario, resource, time bucket) where this node's hidden load
is ``a`` and the resource's capacity ``c``, the *low* node of the pair (the
partner code that sorts first) contributes ``k = 1..a`` and the *high* one
``k = c−b+1..c`` for its load ``b``: the two sets meet exactly when
``a + b > c``, in ``a + b − c`` tokens, the overflow. Area: an area use
contributes (H3 cell, bucket) tokens; so that two non-exclusive uses never
meet while any exclusive one does, the low node contributes ``p`` (and ``q``
when exclusive), the high node ``q`` (and ``p`` when exclusive). Cells are
H3 cells of each overlap of two joint areas, at the coarser of the two areas'
resolutions (each chosen by its size), so both nodes derive the same cells.

A run buckets coarsely first (``coarse_tokens``, 1-day buckets) and refines
(``tokens(..., only=met)``, 6-hour buckets, ``padded`` to ``budget``) only
where coarse buckets meet. In the coarse pass the asking node contributes one
token per bucket, so that it learns only *whether* a coarse bucket meets:
capacity ``k = c−a+1`` against the answering node's ``k = 1..b`` (they meet
exactly when ``a + b > c``), area ``x`` when exclusive else ``u`` against
``x`` (and ``u`` when exclusive). A fine collision always lies in a coarse
bucket that meets: a use touching a 6-hour bucket touches the day it lies in,
so a day's load is at least the load of each of its 6-hour buckets.
"""

from __future__ import annotations

import json
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import h3
from shapely.geometry import shape

from ...model import Plan, Task, Workspace
from ...sharing import Rules

BUCKET = 360
"""Minutes in a fine time bucket (6 h)."""
COARSE = 1440
"""Minutes in a coarse bucket (1 day): a first pass refined only where coarse ones meet."""
CLASSES = (9, 7, 5)
"""H3 resolutions, finest first: an area takes the finest with few enough cells."""
MAX_CELLS = 64
FINE_PER_COARSE = COARSE // BUCKET
AREA_MARKS = 2
"""Area tokens one node contributes per cell and bucket, at most (``p`` and ``q``)."""


@dataclass(frozen=True)
class Token:
    kind: str
    """``capacity`` or ``area``."""
    scenario: str
    place: str
    """A resource id, or an H3 cell."""
    bucket: int
    """The bucket's first minute after T."""
    size: int

    def key(self) -> tuple[str, str, str, int, int]:
        return (self.kind, self.scenario, self.place, self.bucket, self.size)


def _buckets(start: int, end: int, size: int) -> range:
    first = (start // size) * size
    return range(first, max(end, start + 1), size)


def _polygon_cells(geom: Any, res: int) -> set[str]:
    cells: set[str] = set()
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        outer = [(lat, lng) for lng, lat in poly.exterior.coords]
        holes = [[(lat, lng) for lng, lat in ring.coords] for ring in poly.interiors]
        cells |= set(h3.polygon_to_cells(h3.LatLngPoly(outer, *holes), res))
    if not cells and not geom.is_empty:  # smaller than a cell: the cell it lies in
        c = geom.representative_point()
        cells = {h3.latlng_to_cell(c.y, c.x, res)}
    return cells


def resolution(geometry: Any) -> int:
    """The finest class at which the area has at most MAX_CELLS cells."""
    geom = shape(geometry)
    for res in CLASSES:
        if len(_polygon_cells(geom, res)) <= MAX_CELLS:
            return res
    return CLASSES[-1]


@lru_cache(maxsize=64)
def _area_cells(areas_json: str) -> dict[str, frozenset[str]]:
    """Area id -> the cells its uses contribute: for each joint area it overlaps (itself
    included), the cells of the overlap at the coarser of the two areas' resolutions, so
    that both nodes derive the very same cells for a pair of areas."""
    areas = {k: shape(v) for k, v in json.loads(areas_json).items()}
    res = {k: resolution(v) for k, v in json.loads(areas_json).items()}
    out: dict[str, set[str]] = {k: set() for k in areas}
    for x, gx in areas.items():
        for y, gy in areas.items():
            if y < x or not gx.intersects(gy):
                continue
            common = gx.intersection(gy)
            cells = _polygon_cells(common, min(res[x], res[y]))
            out[x] |= cells
            out[y] |= cells
    return {k: frozenset(v) for k, v in out.items()}


def area_cells(ws: Workspace) -> dict[str, frozenset[str]]:
    return _area_cells(json.dumps({a.id: dict(a.geometry) for a in ws.areas}, sort_keys=True))


def places(ws: Workspace, cell: str) -> list[str]:
    """The joint areas a cell lies in (to name a collision to people)."""
    return sorted(k for k, cells in area_cells(ws).items() if cell in cells)


def hidden_tasks(ws: Workspace, rules: Rules, me: str, peer: str,
                 offered: Callable[[str, str], bool]) -> list[tuple[Plan, Task]]:
    """This node's own tasks, offered, whose uses or area ``peer`` does not see."""
    out = []
    for plan in ws.plans:
        if plan.owner != me:
            continue
        for task in plan.tasks:
            if not offered(plan.id, task.id) or not (task.uses or task.area):
                continue
            if not rules.sees(peer, plan, task):
                out.append((plan, task))
                continue
            fields = ("uses", "area", "exclusive", "start", "duration")
            if not rules.sees_fields(peer, plan, task, fields):
                out.append((plan, task))
    return out


Where = tuple[str, str, str, int]
"""(kind, scenario, place, coarse bucket): where coarse buckets met."""


def _loads(ws: Workspace, tasks: Iterable[tuple[Plan, Task]], size: int
           ) -> tuple[dict[tuple[str, str, int], int], dict[tuple[str, str, int], bool]]:
    """Per (scenario, resource, bucket) the hidden load; per (scenario, cell, bucket)
    whether any use there is exclusive."""
    capacity = {r.id: r.capacity for r in ws.resources}
    cells_of = area_cells(ws)
    load: dict[tuple[str, str, int], int] = defaultdict(int)
    area_use: dict[tuple[str, str, int], bool] = {}
    for plan, task in tasks:
        for scenario in plan.scenarios:
            for b in _buckets(task.start, task.end, size):
                for resource, qty in task.uses.items():
                    if resource in capacity:
                        load[(scenario, resource, b)] += qty
                for cell in cells_of.get(task.area or "", ()):
                    key = (scenario, cell, b)
                    area_use[key] = area_use.get(key, False) or task.exclusive
    return load, area_use


def coarse_tokens(ws: Workspace, tasks: Iterable[tuple[Plan, Task]], *, asking: bool
                  ) -> dict[str, Token]:
    """The coarse pass (1-day buckets): the asking node's one token per bucket, or the
    answering node's tokens; they meet exactly where the fine pass may find a collision."""
    capacity = {r.id: r.capacity for r in ws.resources}
    load, area_use = _loads(ws, tasks, COARSE)
    out: dict[str, Token] = {}
    for (scenario, resource, b), a in load.items():
        c = capacity[resource]
        a = min(a, c)
        ks = (c - a + 1,) if asking else range(1, a + 1)
        for k in ks:
            out[f"capacity|{scenario}|{resource}|{COARSE}|{b}|{k}"] = Token(
                "capacity", scenario, resource, b, COARSE)
    for (scenario, cell, b), exclusive in area_use.items():
        marks = (("x",) if exclusive else ("u",)) if asking else (
            ("x", "u") if exclusive else ("x",))
        for mark in marks:
            out[f"area|{scenario}|{cell}|{COARSE}|{b}|{mark}"] = Token(
                "area", scenario, cell, b, COARSE)
    return out


def where(token: Token) -> Where:
    return (token.kind, token.scenario, token.place, (token.bucket // COARSE) * COARSE)


def budget(ws: Workspace, met: Iterable[Where]) -> int:
    """The most fine tokens one node can have in the coarse buckets that met: each side
    pads its refine set to exactly this, so its size tells the other nothing."""
    capacity = {r.id: r.capacity for r in ws.resources}
    return sum(FINE_PER_COARSE * (max(capacity.get(place, 0), 0) if kind == "capacity"
                                  else AREA_MARKS) for kind, _, place, _ in set(met))


def padded(items: Iterable[str], size: int) -> list[str]:
    """``items`` and random tokens that meet nothing, ``size`` in all, in random order."""
    out = list(items)
    out += [f"pad|{secrets.token_hex(16)}" for _ in range(size - len(out))]
    random.SystemRandom().shuffle(out)
    return out


def tokens(ws: Workspace, tasks: Iterable[tuple[Plan, Task]], me: str, peer: str, *,
           size: int = BUCKET, only: set[Where] | None = None) -> dict[str, Token]:
    """Token text -> what it stands for. ``only``: (kind, scenario, place, coarse bucket)."""
    low = me < peer
    capacity = {r.id: r.capacity for r in ws.resources}
    load, area_use = _loads(ws, tasks, size)
    out: dict[str, Token] = {}

    def wanted(kind: str, scenario: str, place: str, b: int) -> bool:
        return only is None or (kind, scenario, place, (b // COARSE) * COARSE) in only

    for (scenario, resource, b), a in load.items():
        if not wanted("capacity", scenario, resource, b):
            continue
        c = capacity[resource]
        a = min(a, c)
        ks = range(1, a + 1) if low else range(c - a + 1, c + 1)
        for k in ks:
            out[f"capacity|{scenario}|{resource}|{size}|{b}|{k}"] = Token(
                "capacity", scenario, resource, b, size)
    for (scenario, cell, b), exclusive in area_use.items():
        if not wanted("area", scenario, cell, b):
            continue
        marks = ("p", "q") if exclusive else (("p",) if low else ("q",))
        for mark in marks:
            out[f"area|{scenario}|{cell}|{size}|{b}|{mark}"] = Token(
                "area", scenario, cell, b, size)
    return out
