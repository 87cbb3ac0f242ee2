"""iCalendar out: the partner's timeline at real dates, stable UIDs, nothing it may not see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from icalendar import Calendar

from jointplan.formats import FormatError
from jointplan.formats.ical import parse_t0, timeline, to_ics
from jointplan.model import parse_duration, parse_time
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.formats.conftest import CANARY_SETTINGS, assert_no_canary_leaks, example
from tests.strategies import workspaces

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _events(data: bytes) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def _expected(ws, partner, scenario):
    """(summary start, start, end) of every item the partner's timeline should hold."""
    view = view_for(ws, partner)
    out = []
    for plan in view["plans"]:
        active = "scenarios" not in plan or scenario in {ws.path(s)[-1]
                                                         for s in plan["scenarios"]}
        if not active:
            continue
        if plan.get("owner") == partner:
            for t in plan.get("tasks", []):
                d = t["duration"]
                start = parse_time(t["start"])
                end = start + parse_duration(d["likely"] if isinstance(d, dict) else d)
                out.append((t["title"], start, end))
        else:
            for kind, key in (("expects", "from"), ("provides", "to")):
                for item in plan.get(kind, []):
                    if item.get(key) == partner:
                        out.append((item["what"], *(parse_time(w) for w in item["window"])))
    return sorted(out)


@pytest.mark.parametrize("partner", ["NOR", "SOU", "RRA"])
def test_the_calendar_read_back_is_the_partners_timeline_at_real_dates(partner):
    ws = example()
    ev = export_view(ws, partner)
    data = to_ics(ev, timeline(ev, ws, {"unrest-aster": T0}))
    got = []
    for e in _events(data).values():
        start, end = e["dtstart"].dt, e["dtend"].dt
        summary = str(e["summary"])
        for text, s, f in _expected(ws, partner, "unrest-aster"):
            if summary.endswith(text) and start == T0 + timedelta(minutes=s):
                got.append((text, s, f))
                assert end == T0 + timedelta(minutes=f)
                break
        else:
            raise AssertionError(f"unexpected event {summary} at {start}")
    assert sorted(got) == _expected(ws, partner, "unrest-aster")
    assert got, "every partner has something on its unrest-aster timeline"


def test_uids_are_stable_and_differ_per_scenario():
    ws = example()
    ev = export_view(ws, "SOU")
    t0s = {"unrest-aster": T0, "strait-closure": T0 + timedelta(days=3)}
    once = timeline(ev, ws, t0s)
    again = timeline(export_view(ws, "SOU"), ws, t0s)
    assert [e.uid for e in once] == [e.uid for e in again]
    assert len({e.uid for e in once}) == len(once)
    moved = timeline(ev, ws, {"unrest-aster": T0 + timedelta(hours=5)})
    assert {e.uid for e in moved} <= {e.uid for e in once}


def test_without_a_t0_the_export_says_why():
    ws = example()
    with pytest.raises(FormatError, match="cannot place events without a T0"):
        timeline(export_view(ws, "NOR"), ws, {})


@pytest.mark.parametrize(("value", "message"), [
    ("unrest-aster", "write it as SCENARIO="),
    ("nowhere=2026-11-20T08:00Z", "no scenario 'nowhere'"),
    ("closure-long=2026-11-20T08:00Z", "top-level scenario 'strait-closure'"),
    ("unrest-aster=2026-11-20T08:00", "give the zone"),
    ("unrest-aster=soon", "is not an ISO 8601 timestamp"),
])
def test_a_bad_t0_is_refused(value, message):
    with pytest.raises(FormatError, match=message):
        parse_t0([value], example())


def test_t0_with_a_zone_is_read_as_utc():
    got = parse_t0(["unrest-aster=2026-11-20T10:00+02:00"], example())
    assert got == {"unrest-aster": T0}


def test_the_calendar_carries_the_tlp():
    ws = example()
    ev = export_view(ws, "RRA")
    cal = Calendar.from_ical(to_ics(ev, timeline(ev, ws, {"unrest-aster": T0})))
    assert str(cal["x-jointplan-tlp"]) == ev.tlp.value
    for e in cal.walk("VEVENT"):
        assert f"TLP:{str(e['x-jointplan-tlp']).upper()}" in str(e["description"])


def _unfolded(ws, partner):
    ev = export_view(ws, partner)
    tops = {s.id: T0 for s in ws.scenarios if s.parent is None}
    return re.sub(r"\r\n[ \t]", "", to_ics(ev, timeline(ev, ws, tops)).decode())


@CANARY_SETTINGS
@given(workspaces())
def test_no_calendar_holds_anything_the_partner_may_not_see(generated):
    assert_no_canary_leaks(generated, _unfolded, "ical")
