"""What each conflict and gap is about, and the rule that matches it to one found before."""

from __future__ import annotations

from jointplan.analysis.occurrences import Known, Occurrence, occurrences, pair_up
from jointplan.analysis.run import analyse
from jointplan.files import load_workspace
from tests.conftest import EXAMPLES


def found(kind: str, place: tuple[str, ...], items: set[str], window: tuple[int, int],
          leaves: tuple[str, ...] = ("a",)) -> Occurrence:
    family = "conflict" if kind in ("capacity", "area") else "gap"
    return Occurrence(family, kind, place, frozenset(items), window, leaves, ())


def known(kind: str, place: tuple[str, ...], items: set[str], window: tuple[int, int],
          leaves: tuple[str, ...] = ("a",), present: bool = True) -> Known:
    family = "conflict" if kind in ("capacity", "area") else "gap"
    return Known(family, kind, place, frozenset(items), window, frozenset(leaves), present)


def test_the_example_finds_each_conflict_once_with_every_item_involved() -> None:
    ws = load_workspace(EXAMPLES / "northern-strait").workspace
    found = occurrences(analyse(ws))
    apron = [o for o in found if o.place == ("apron-aster",)]
    assert len(apron) == 1
    assert apron[0].items == {"task:nor-evacuation/charter-flights",
                              "task:rra-shelter/rotation-in", "task:rra-shelter/rotation-out",
                              "task:sou-aster/medical-airlift"}
    corridor = next(o for o in found if o.place == ("corridor-slots",))
    assert corridor.leaves == ("closure-long", "closure-short")
    assert len(corridor.sources) == 2
    staff = [o for o in found if o.place == ("rra-shelter/staff-seats",)]
    assert sorted(o.kind for o in staff) == ["early", "late"]


def test_overlapping_items_match_even_when_the_window_moved() -> None:
    now = [found("capacity", ("beds",), {"x", "y"}, (100, 200))]
    before = [known("capacity", ("beds",), {"x", "z"}, (500, 600))]
    assert pair_up(now, before) == {0: 0}


def test_overlapping_time_matches_even_when_every_item_changed() -> None:
    now = [found("capacity", ("beds",), {"p", "q"}, (100, 200))]
    before = [known("capacity", ("beds",), {"x", "y"}, (150, 300))]
    assert pair_up(now, before) == {0: 0}


def test_neither_items_nor_time_in_common_is_another_conflict() -> None:
    now = [found("capacity", ("beds",), {"p", "q"}, (100, 200))]
    before = [known("capacity", ("beds",), {"x", "y"}, (200, 300))]
    assert pair_up(now, before) == {}


def test_kind_place_and_scenarios_must_agree() -> None:
    now = [found("capacity", ("beds",), {"x"}, (0, 10))]
    assert pair_up(now, [known("capacity", ("berths",), {"x"}, (0, 10))]) == {}
    assert pair_up(now, [known("area", ("beds",), {"x"}, (0, 10))]) == {}
    assert pair_up(now, [known("capacity", ("beds",), {"x"}, (0, 10), ("b",))]) == {}
    # Areas: one area in common is the same place.
    area = [found("area", ("quay", "port"), {"x", "y"}, (0, 10))]
    assert pair_up(area, [known("area", ("port", "square"), {"x", "z"}, (0, 10))]) == {0: 0}
    # Gaps: the same expectation, and the same way of falling short.
    gap = [found("late", ("nor/berth",), {"e"}, (0, 10))]
    assert pair_up(gap, [known("late", ("nor/berth",), {"e"}, (0, 10))]) == {0: 0}
    assert pair_up(gap, [known("early", ("nor/berth",), {"e"}, (0, 10))]) == {}


def test_each_is_matched_once_and_the_closer_match_wins() -> None:
    # One conflict split in two: the half with more items in common keeps the identity.
    now = [found("capacity", ("beds",), {"x"}, (0, 10)),
           found("capacity", ("beds",), {"x", "y"}, (20, 30))]
    before = [known("capacity", ("beds",), {"x", "y"}, (0, 30))]
    assert pair_up(now, before) == {1: 0}
    # One still present goes before one resolved earlier.
    before = [known("capacity", ("beds",), {"x", "y"}, (0, 30), present=False),
              known("capacity", ("beds",), {"x"}, (0, 30))]
    assert pair_up(now[:1], before) == {0: 1}
