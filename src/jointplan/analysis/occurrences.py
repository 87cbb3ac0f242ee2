"""What each conflict and gap of the full analysis is about, before any viewer's cut.

An occurrence is one conflict or gap as the whole analysis finds it: its
kind, its place (the resource, the areas, or the expectation), every item
involved (hidden or not), its window, and the leaf scenarios it is found in.
The same conflict found in several leaves is one occurrence. ``sources``
point back into the ``Analysis`` so that the gate can cut exactly these
findings for a viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Provision
from .compile import Compiled
from .run import Analysis

Source = tuple[str, int, int]
"""("capacity", leaf, conflict) / ("area", leaf, pair) / ("gap", leaf, gap) in an Analysis."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    family: str
    """"conflict" or "gap"."""
    kind: str
    """capacity or area; unanswered, late, early or short."""
    place: tuple[str, ...]
    """The resource, the areas (sorted), or the expectation `PLAN/ID`."""
    items: frozenset[str]
    """Every item involved, hidden or not, as `task:PLAN/ID` or `provision:PLAN/ID`."""
    window: tuple[int, int]
    leaves: tuple[str, ...]
    sources: tuple[Source, ...]


def _name(c: Compiled, i: int) -> str:
    plan, item = c.item(i)
    return f"{'provision' if isinstance(item, Provision) else 'task'}:{plan.id}/{item.id}"


def occurrences(analysis: Analysis) -> list[Occurrence]:
    """Every conflict and gap of the full analysis, one per thing found, in a stable order."""
    c = analysis.compiled
    found: dict[tuple[object, ...], tuple[list[str], list[Source]]] = {}

    def add(key: tuple[object, ...], leaf: str, source: Source) -> None:
        leaves, sources = found.setdefault(key, ([], []))
        if leaf not in leaves:
            leaves.append(leaf)
        sources.append(source)

    for n, la in enumerate(analysis.leaves):
        sweep = la.capacity
        members: dict[int, set[str]] = {}
        for k, u in zip(sweep.member_conflict.tolist(), sweep.member_use.tolist(), strict=True):
            members.setdefault(k, set()).add(_name(c, int(c.use_item[u])))
        for k in range(len(sweep)):
            resource = c.workspace.resources[int(sweep.resource[k])].id
            key: tuple[object, ...] = ("conflict", "capacity", (resource,),
                                       frozenset(members.get(k, ())),
                                       (int(sweep.start[k]), int(sweep.end[k])))
            add(key, la.leaf, ("capacity", n, k))
        pairs = la.areas
        for p, (i, j) in enumerate(zip(pairs.first.tolist(), pairs.second.tolist(),
                                       strict=True)):
            areas = tuple(sorted({c.workspace.areas[int(c.area[x])].id for x in (i, j)}))
            key = ("conflict", "area", areas, frozenset({_name(c, i), _name(c, j)}),
                   (int(pairs.start[p]), int(pairs.end[p])))
            add(key, la.leaf, ("area", n, p))
        for g, gap in enumerate(la.gaps):
            items = {f"expectation:{gap.plan.id}/{gap.expectation.id}"}
            items.update(f"provision:{p.id}/{v.id}" for p, v in gap.provisions)
            window = (int(gap.expectation.window[0]), int(gap.expectation.window[1]))
            key = ("gap", gap.kind, (f"{gap.plan.id}/{gap.expectation.id}",),
                   frozenset(items), window)
            add(key, la.leaf, ("gap", n, g))
    order = {leaf: k for k, leaf in enumerate(c.leaves)}
    out = [Occurrence(str(key[0]), str(key[1]), key[2], key[3], key[4],  # type: ignore[arg-type]
                      tuple(sorted(leaves, key=order.__getitem__)), tuple(sources))
           for key, (leaves, sources) in found.items()]
    out.sort(key=lambda o: (o.family, o.kind, o.place, o.window, sorted(o.items)))
    return out


@dataclass(frozen=True, slots=True)
class Known:
    """A finding as last stored: what it was about when the analysis last found it."""

    family: str
    kind: str
    place: tuple[str, ...]
    items: frozenset[str]
    window: tuple[int, int]
    leaves: frozenset[str]
    present: bool


def same_place(kind: str, a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Capacity: the same resource; area: an area in common; gap: the same expectation."""
    return bool(set(a) & set(b)) if kind == "area" else a == b


def same_finding(found: Occurrence, known: Known) -> bool:
    """The matching rule (docs/server.md, "Lasting conflicts and gaps")."""
    if (found.family, found.kind) != (known.family, known.kind):
        return False
    if not same_place(found.kind, found.place, known.place):
        return False
    if not set(found.leaves) & known.leaves:
        return False
    a, b = found.window, known.window
    return bool(found.items & known.items) or (a[0] < b[1] and b[0] < a[1])


def pair_up(found: list[Occurrence], known: list[Known]) -> dict[int, int]:
    """Each occurrence matched to at most one known finding, and each finding to at most one.

    Among the pairs the rule allows, those that agree most go first: a finding
    still present before a resolved one, then more items in common, then more
    minutes of overlap, then more scenarios in common; ties go to the earlier
    occurrence and the earlier finding. Returns {occurrence index: known index}.
    """
    # Only those of the same kind and place can match: index them by each part of the
    # place (an area conflict matches on any one area), not compare every pair.
    by_place: dict[tuple[str, str, str], list[int]] = {}
    for j, k in enumerate(known):
        for part in (k.place if k.kind == "area" else ("/".join(k.place),)):
            by_place.setdefault((k.family, k.kind, part), []).append(j)
    pairs = []
    for i, occ in enumerate(found):
        parts = occ.place if occ.kind == "area" else ("/".join(occ.place),)
        candidates = sorted({j for part in parts
                             for j in by_place.get((occ.family, occ.kind, part), [])})
        for j in candidates:
            k = known[j]
            if same_finding(occ, k):
                overlap = max(0, min(occ.window[1], k.window[1]) - max(occ.window[0],
                                                                          k.window[0]))
                score = (k.present, len(occ.items & k.items), overlap,
                         len(set(occ.leaves) & k.leaves))
                pairs.append((score, i, j))
    pairs.sort(key=lambda x: (tuple(-v for v in x[0]), x[1], x[2]))
    out: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in pairs:
        if i not in out and j not in taken:
            out[i] = j
            taken.add(j)
    return out
