"""iCalendar (RFC 5545): a partner's timeline, with real dates from a scenario's T0.

The timeline holds, from the partner's export view, its own tasks and what
others' plans expect from it (``expects`` with ``from`` the partner) or offer
it (``provides`` with ``to`` the partner). Plans are timed from T0, the moment
a top-level scenario is declared, so events can be placed only once a T0 is
given: ``T0s`` maps top-level scenario ids to instants. An item is placed once
for each T0 whose scenario its plan is active under; an item from a plan the
partner sees only through that item (its scenarios are not the partner's to
know) is placed under every T0 given, and says so.

Each event's UID is derived from the workspace id, the scenario, the plan id
and the item id — all visible to the partner — so a calendar client updates an
event rather than duplicating it when the timeline is exported again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..model import Workspace, parse_duration, parse_time
from ..sharing.handling import ExportView
from . import FormatError

Doc = dict[str, Any]
NAMESPACE = uuid.UUID("5d1f8f2a-3f7c-5b0e-9a49-7a0c6b1e2d41")
"""Fixed, so that the same item in the same workspace always gets the same UID."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of the timeline, placed under one scenario's T0."""

    uid: str
    scenario: str
    start: datetime
    end: datetime
    summary: str
    description: str
    tlp: str


def parse_t0(values: list[str], ws: Workspace) -> dict[str, datetime]:
    """``SCENARIO=ISO`` options as top-level scenario -> instant, or FormatError saying why."""
    tops = [s.id for s in ws.scenarios if s.parent is None]
    parents = {s.id: s.parent for s in ws.scenarios}
    out: dict[str, datetime] = {}
    problems = []
    for value in values:
        sid, eq, when = value.partition("=")
        if not eq:
            problems.append(f"--t0 {value!r}: write it as SCENARIO=2026-11-20T08:00Z")
            continue
        if sid not in parents:
            problems.append(f"--t0 {value!r}: no scenario {sid!r}; top-level scenarios are "
                            + ", ".join(tops))
            continue
        if parents[sid] is not None:
            top = ws.path(sid)[-1]
            problems.append(f"--t0 {value!r}: T0 belongs to the top-level scenario {top!r}, "
                            f"which {sid!r} is below; give --t0 {top}=...")
            continue
        try:
            instant = datetime.fromisoformat(when)
        except ValueError:
            problems.append(f"--t0 {value!r}: {when!r} is not an ISO 8601 timestamp")
            continue
        if instant.tzinfo is None:
            problems.append(f"--t0 {value!r}: give the zone, like {when}Z or {when}+02:00")
            continue
        out[sid] = instant.astimezone(UTC)
    if problems:
        raise FormatError(problems)
    return out


def timeline(ev: ExportView, ws: Workspace, t0s: dict[str, datetime]) -> list[Entry]:
    """The partner's timeline under each given T0, in time order."""
    if not t0s:
        tops = ", ".join(s.id for s in ws.scenarios if s.parent is None)
        raise FormatError([
            "cannot place events without a T0: plans are timed from the moment a scenario "
            "is declared (T+30h), and no scenario of the workspace has been declared; give "
            f"--t0 SCENARIO=2026-11-20T08:00Z for one of {tops}"])
    me, view = ev.partner, ev.view
    entries: list[Entry] = []
    for plan in view["plans"]:
        tlp = ev.plan_tlp[plan["id"]].value
        if "scenarios" in plan:
            under = {ws.path(s)[-1] for s in plan["scenarios"]}
            scenarios = [s for s in t0s if s in under]
            note = ""
        else:
            scenarios, note = list(t0s), ("\nThe plan's scenarios are not shared with "
                                          f"{me}: placed under every T0 given.")
        items: list[tuple[str, Doc, int, int, str]] = []
        if plan.get("owner") == me:
            for task in plan.get("tasks", []):
                if "start" not in task or "duration" not in task:
                    continue  # a received copy of its own plan may lack them
                d = task["duration"]
                start = parse_time(task["start"])
                end = start + parse_duration(d["likely"] if isinstance(d, dict) else d)
                extra = "".join(f"\n{k}: {task[k]}" for k in ("phase", "unit") if k in task)
                items.append(("task", task, start, end, task["title"] + extra))
        else:
            for kind, key, verb in (("expects", "from", "expects"),
                                    ("provides", "to", "offers")):
                for item in plan.get(kind, []):
                    if item.get(key) == me and "window" in item:
                        start, end = (parse_time(t) for t in item["window"])
                        items.append((kind, item, start, end,
                                      f"{plan['id']} {verb} {me}: {item['what']}"))
        for scenario in scenarios:
            t0 = t0s[scenario]
            for kind, item, start, end, summary in items:
                key = f"{view['id']}/{scenario}/{plan['id']}/{kind}/{item['id']}"
                entries.append(Entry(
                    uid=f"{uuid.uuid5(NAMESPACE, key)}@jointplan", scenario=scenario,
                    start=t0 + timedelta(minutes=start), end=t0 + timedelta(minutes=end),
                    summary=summary.split("\n", 1)[0],
                    description=(f"{plan['id']}/{item['id']} in {view['id']}, scenario "
                                 f"{scenario} (T0 {t0:%Y-%m-%dT%H:%MZ})\nTLP:{tlp.upper()}"
                                 + "".join("\n" + x for x in summary.split("\n")[1:]) + note),
                    tlp=tlp))
    entries.sort(key=lambda e: (e.start, e.end, e.uid))
    return entries


def to_ics(ev: ExportView, entries: list[Entry], now: datetime | None = None) -> bytes:
    """The timeline as one VCALENDAR, one VEVENT per entry."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//jointplan//timeline//EN")
    cal.add("version", "2.0")
    cal.add("name", f"{ev.view['id']} as {ev.partner} (TLP:{ev.tlp.value.upper()})")
    cal.add("x-wr-calname", f"{ev.view['id']} as {ev.partner} (TLP:{ev.tlp.value.upper()})")
    cal.add("x-jointplan-tlp", ev.tlp.value)
    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    for e in entries:
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", e.start)
        event.add("dtend", e.end)
        event.add("summary", e.summary)
        event.add("description", e.description)
        event.add("categories", [f"TLP:{e.tlp.upper()}", e.scenario])
        event.add("class", "PUBLIC" if e.tlp in ("clear", "green") else "CONFIDENTIAL")
        event.add("x-jointplan-tlp", e.tlp)
        cal.add_component(event)
    return bytes(cal.to_ical())


def real_dates(t0s: dict[str, datetime], minutes: float, tops: set[str] | None = None) -> str:
    """`` (2026-11-21 14:00 UTC)`` for minutes after T0 under each given T0 (of ``tops``
    only, when given), for text tables beside T+; '' when none applies."""
    under = [(s, at) for s, at in t0s.items() if tops is None or s in tops]
    dates = [f"{(at + timedelta(minutes=round(minutes))).astimezone(UTC):%Y-%m-%d %H:%M} UTC"
             for _, at in under]
    if not dates:
        return ""
    if len(dates) == 1:
        return f" ({dates[0]})"
    return " (" + "; ".join(f"{s}: {d}" for (s, _), d in zip(under, dates, strict=True)) + ")"


def t0_option(folder: Any, values: list[str] | None
              ) -> tuple[dict[str, datetime], Workspace | None]:
    """``--t0`` values of a command on a folder, read against its workspace (FormatError)."""
    if not values:
        return {}, None
    from ..services.workspaces import load_checked

    ws = load_checked(folder).workspace
    return parse_t0(values, ws), ws
