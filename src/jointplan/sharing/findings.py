"""Who is shown each conflict and gap of the full analysis, and what each is told of it.

A lasting conflict or gap (see `server/findings.py`) is known to exactly the
partners whose cut of the analysis shows it: the same cut as
`jointplan check --as PARTNER` (`cut.py`), restricted to one occurrence. A
partner not shown it is not told it exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..analysis.occurrences import Occurrence, Source, occurrences
from ..analysis.run import Analysis
from .cut import (
    Entry,
    Viewer,
    area_entries,
    capacity_entries,
    check_report,
    conflict_order,
    gap_entry,
    gap_order,
    members_of,
    merge,
)
from .rules import Decision, Rules


@dataclass(frozen=True)
class Contents:
    """What the items of one analysis are, for keeping entries across analyses.

    What a partner is told of a conflict or gap depends only on what it is
    about (kind, place, items, window, scenario), on each item involved with
    its plan's owner and share (its times, uses, area, commitment, share,
    withhold), and on the joint part (partners, resources, areas, scenarios).
    ``items`` names each item (`task:PLAN/ID`, `provision:…`, `expectation:…`)
    by a token that changes whenever any of that does, ``joint`` the joint
    part: entries made for the same content under the same tokens are the
    same entries.
    """

    joint: str
    items: Mapping[str, str]

    def of(self, items: frozenset[str]) -> tuple[Any, ...]:
        """The tokens an occurrence about ``items`` depends on."""
        tokens = self.items
        return (self.joint, *(tokens[i] for i in sorted(items)))


Kept = dict[tuple[str, tuple[Any, ...]], list[Entry]]
"""Entries by partner and content key (see ``Contents``)."""


@dataclass
class FindingCut:
    """Cuts occurrences of one analysis for each partner (built once per analysis).

    Each partner's entries of each conflict and gap the analysis found are made
    once and kept: the findings' views and the partner's `check` object
    (``check``) are both made of them. With ``contents``, they are kept by
    content too, and ``inherited`` (an earlier cut's ``kept``) lends the
    entries of every conflict and gap whose content and plans did not change:
    only what a write changed is cut again.
    """

    analysis: Analysis
    rules: Rules
    contents: Contents | None = None
    inherited: Kept | None = None
    kept: Kept = field(default_factory=dict)
    _viewers: dict[str, Viewer] = field(default_factory=dict)
    _members: dict[int, dict[int, list[int]]] = field(default_factory=dict)
    _made: dict[tuple[str, Source], list[Entry]] = field(default_factory=dict)
    _found: list[Occurrence] | None = None
    _keys: dict[Source, tuple[Any, ...]] = field(default_factory=dict)
    cuts: int = 0
    """How many conflicts and gaps this cut made rather than found kept (for tests)."""

    def found(self) -> list[Occurrence]:
        """Every conflict and gap of the analysis (`occurrences`), made once."""
        if self._found is None:
            found = occurrences(self.analysis)
            if self.contents is not None:
                leaves = [la.leaf for la in self.analysis.leaves]
                for occ in found:
                    tokens = self.contents.of(occ.items)
                    for source in occ.sources:
                        self._keys[source] = (occ.family, occ.kind, occ.place, occ.items,
                                              occ.window, leaves[source[1]], tokens)
            self._found = found
        return self._found

    def _viewer(self, partner: str) -> Viewer:
        if partner not in self._viewers:
            self._viewers[partner] = Viewer(self.rules, self.analysis.compiled, partner)
        return self._viewers[partner]

    def _rows(self, leaf: int, k: int) -> list[int]:
        if leaf not in self._members:
            self._members[leaf] = members_of(self.analysis.compiled,
                                             self.analysis.leaves[leaf].capacity)
        return self._members[leaf].get(k, [])

    def _entries(self, partner: str, source: Source) -> list[Entry]:
        """What ``partner`` is told of one conflict or gap of one leaf (made once)."""
        key = (partner, source)
        made = self._made.get(key)
        if made is None:
            content = None
            if self.contents is not None:
                self.found()
                content = (partner, self._keys[source])
                made = self.kept.get(content)
                if made is None and self.inherited is not None:
                    made = self.inherited.get(content)
            if made is None:
                made = self._cut(partner, source)
            if content is not None:
                self.kept[content] = made
            self._made[key] = made
        return made

    def _cut(self, partner: str, source: Source) -> list[Entry]:
        self.cuts += 1
        kind, n, k = source
        v = self._viewer(partner)
        la = self.analysis.leaves[n]
        if kind == "capacity":
            return capacity_entries(v, la.leaf, la.capacity, k, self._rows(n, k))
        if kind == "area":
            pairs = la.areas
            return area_entries(v, la.leaf, int(pairs.first[k]), int(pairs.second[k]),
                                int(pairs.start[k]), int(pairs.end[k]))
        entry = gap_entry(v, la.gaps[k])
        return [] if entry is None else [entry]

    def entries(self, occurrence: Occurrence, partner: str) -> list[Entry]:
        """What ``partner`` is told of the occurrence, as `check` entries; [] if not shown."""
        out: list[Entry] = []
        for source in occurrence.sources:
            out.extend(self._entries(partner, source))
        if len(out) <= 1:  # nothing to merge or order: what `merge` would make of it
            return [{**e, "scenarios": list(e["scenarios"])} for e in out]
        order = {leaf: j for j, leaf in enumerate(self.analysis.compiled.leaves)}
        merged = merge(out, order)
        merged.sort(key=lambda e: (conflict_order(e, order) if occurrence.family == "conflict"
                                   else gap_order(e, order)))
        return merged

    def shown(self, occurrence: Occurrence, partners: list[str]) -> dict[str, list[Entry]]:
        """Each partner shown the occurrence, with what it is told of it."""
        out = {}
        for partner in partners:
            entries = self.entries(occurrence, partner)
            if entries:
                out[partner] = entries
        return out

    def check(self, partner: str, analysis: Analysis | None = None,
              rules: Rules | None = None) -> dict[str, Any]:
        """The partner's `check --json` object, from the entries made once (`cut.check_result`).

        ``analysis`` and ``rules`` may be those of the same plans with observations
        (which move only likelihoods): what a partner is told of a conflict or gap
        does not depend on observations.
        """
        conflicts: list[Entry] = []
        gaps: list[Entry] = []
        for n, la in enumerate(self.analysis.leaves):
            for k in range(len(la.capacity)):
                conflicts.extend(self._entries(partner, ("capacity", n, k)))
            for k in range(len(la.areas.first)):
                conflicts.extend(self._entries(partner, ("area", n, k)))
            for k in range(len(la.gaps)):
                gaps.extend(self._entries(partner, ("gap", n, k)))
        return check_report(analysis or self.analysis, rules or self.rules, partner,
                            conflicts, gaps)


def hidden_owners(entries: list[Entry], viewer: str) -> set[str]:
    """Partners whose items the viewer is told of only as hidden counterparts."""
    return {item["partner"] for entry in entries for item in entry.get("tasks", [])
            if item.get("hidden") and item["partner"] != viewer}


def sees_finding(viewer: str, audience: Iterable[str], former: Iterable[str] = ()
                 ) -> Decision:
    """A partner knows of a lasting conflict or gap the analysis shows, or showed, it."""
    if viewer in set(audience):
        return Decision(True, f"the analysis shows it to {viewer}")
    if viewer in set(former):
        return Decision(True, f"the analysis showed it to {viewer} (resolved, to {viewer})")
    return Decision(False, f"the analysis does not show it to {viewer}")


def without_scenarios(entry: dict[str, Any]) -> str:
    """An entry's identity across scenario merges: everything but its scenarios."""
    return json.dumps({k: v for k, v in entry.items() if k != "scenarios"}, sort_keys=True)
