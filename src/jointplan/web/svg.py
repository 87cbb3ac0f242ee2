"""Charts drawn on the server as SVG: a timeline from T0 and a resource's load over time.

Every chart is an image with a title and a description for screen readers;
the page next to it holds the same figures as a table. All text is escaped.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..model import format_time

WIDTH = 1000
LABEL = 270
RIGHT = 20
ROW = 24
STEPS = (60, 120, 180, 360, 720, 1440, 2880, 4320, 10080, 20160, 43200)


@dataclass(frozen=True)
class Row:
    """One line of a timeline: a bar from `start` to `end`, or text only when they are None."""

    group: str
    label: str
    start: int | None = None
    end: int | None = None
    kind: str = "planned"
    note: str = ""
    href: str = ""


@dataclass(frozen=True)
class Marker:
    """A moment on the timeline, e.g. an objective's deadline."""

    at: int
    label: str


def span_of(values: list[int]) -> tuple[int, int]:
    lo, hi = (min(values), max(values)) if values else (0, 1440)
    lo = min(lo, 0)
    if hi <= lo:
        hi = lo + 60
    pad = max(30, (hi - lo) // 25)
    return lo, hi + pad


def _step(span: int, most: int = 12) -> int:
    return next((s for s in STEPS if span / s <= most), STEPS[-1])


def _fmt(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, body: str, cls: str = "", anchor: str = "start") -> str:
    return (f'<text x="{_fmt(x)}" y="{_fmt(y)}" class="{cls}" text-anchor="{anchor}">'
            f"{escape(body)}</text>")


def _open(title: str, desc: str, height: float, cls: str,
          links: bool = False) -> tuple[str, str]:
    # The id comes from the chart itself: a process-wide counter would tell a reader
    # how many charts were drawn for others between two of its pages.
    n = hashlib.sha256(f"{cls}\0{title}\0{desc}\0{height}".encode()).hexdigest()[:12]
    # An image's content is presentational: a chart whose bars are links is a group
    # instead, so that each link stays a link for a keyboard and a screen reader.
    role = "group" if links else "img"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="{role}" '
            f'viewBox="0 0 {WIDTH} {_fmt(height)}" aria-labelledby="chart{n}t chart{n}d" '
            f'preserveAspectRatio="xMinYMin meet"><title id="chart{n}t">{escape(title)}</title>'
            f'<desc id="chart{n}d">{escape(desc)}</desc>')
    return head, "</svg>"


class Chart(Markup):
    """An SVG chart, with the legend of what it draws for the page to show beside it."""

    legend: list[tuple[str, str]]

    def __new__(cls, body: str, legend: list[tuple[str, str]] | None = None) -> Chart:
        chart = super().__new__(cls, body)
        chart.legend = legend or []
        return chart


CHAR = 6.6
"""A generous width of one character of 12 px text, so that estimated labels never meet."""
BOLD = 7.6
"""The same for the bold 12 px of a group's name."""
SMALL = 6.1
"""The same for the 11 px text of deadlines and ticks."""
LEGEND = {
    "task committed": "Task, committed",
    "task planned": "Task, planned",
    "task intent": "Task, intent only",
    "task withheld": "Task, commitment withheld from you",
    "expects": "Window of an expectation (what a plan needs)",
    "provides": "Window of a provision (what a plan offers)",
}


def wrap(text: str, width: int) -> list[str]:
    """Words in lines of at most `width` characters; a longer word is split, nothing is cut."""
    lines: list[str] = []
    for word in text.split():
        while len(word) > width:
            lines.append(word[:width])
            word = word[width:]
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def lanes(spans: list[tuple[float, float]], gap: float = 8) -> list[int]:
    """For intervals in order, the first lane (0, 1, ...) where each meets no other."""
    ends: list[float] = []
    out = []
    for a, b in spans:
        lane = next((i for i, end in enumerate(ends) if a >= end + gap), len(ends))
        if lane == len(ends):
            ends.append(b)
        else:
            ends[lane] = b
        out.append(lane)
    return out


def _label_lines(x: float, y: float, lines: list[str], cls: str) -> str:
    if len(lines) == 1:
        return _text(x, y, lines[0], cls)
    spans = "".join(f'<tspan x="{_fmt(x)}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text x="{_fmt(x)}" y="{_fmt(y)}" class="{cls}">{spans}</text>'


def timeline(rows: list[Row], markers: list[Marker], *, title: str, desc: str,
             highlight: tuple[int, int] | None = None,
             highlight_label: str = "conflict window",
             real: Callable[[int], str] | None = None) -> Chart:
    """Tasks (and windows) as bars from T0, grouped, with deadlines as diamonds.

    With `real` (minutes after T0 -> a date naming its zone, for a declared T0), each
    tick carries that date under its T+, and the ticks are fewer to leave it room.

    Nothing is cut: a long row label wraps onto more lines (its row grows), and
    the deadlines' labels are laid in as many lanes as it takes for none to meet
    another; each diamond sits at its deadline, on the dashed line.
    """
    times = [x for r in rows for x in (r.start, r.end) if x is not None]
    times += [m.at for m in markers] + (list(highlight) if highlight else [])
    t0, t1 = span_of(times)
    left, right = LABEL, WIDTH - RIGHT

    def x(minutes: float) -> float:
        return left + (minutes - t0) / (t1 - t0) * (right - left)

    lines: list[tuple[str, Row | None]] = []
    for group, members in itertools.groupby(rows, key=lambda r: r.group):
        if group:
            lines.append((group, None))
        lines.extend(("", r) for r in members)

    # Deadlines: a diamond at the moment, its label right of it (left near the end).
    placed = []
    for m in sorted(markers, key=lambda m: m.at):
        mx = x(m.at)
        text = f"{m.label} ({format_time(m.at)})"
        w = len(text) * SMALL
        a = mx + 8 if mx + 8 + w <= WIDTH - 2 else max(2.0, mx - 8 - w)
        placed.append((m, mx, text, a, a + w))
    lane_of = lanes([(a, b) for _, _, _, a, b in placed])
    n_lanes = max(lane_of, default=-1) + 1
    dated = 14 if real else 0  # a second line of tick labels: the real dates
    top = 34 + dated + 16 * n_lanes
    width_chars = int((LABEL - 24) / CHAR)
    heights = []
    for group, row in lines:
        text = group if row is None else row.label
        count = len(wrap(text, width_chars if row is not None else int((WIDTH - 16) / BOLD)))
        heights.append(max(ROW, 14 * count + 10))
    height = top + (sum(heights) if heights else ROW) + 10
    links = any(r.href for r in rows)
    head, tail = _open(title, desc, height, "timeline", links)
    out = [head]
    step = _step(t1 - t0, 6 if real else 12)
    tick = (t0 // step) * step
    while tick <= t1:
        if tick >= t0:
            tx = x(tick)
            label = format_time(tick)
            date = real(tick) if real else ""
            half = max(len(label), len(date)) * SMALL / 2
            anchor = "end" if tx + half > WIDTH - 2 else "middle"
            out.append(f'<line class="gridline" x1="{_fmt(tx)}" x2="{_fmt(tx)}" '
                       f'y1="{top - 6}" y2="{_fmt(height - 6)}"/>')
            out.append(_text(tx if anchor == "middle" else WIDTH - 2, 14, label, "tick",
                             anchor))
            if date:
                out.append(_text(tx if anchor == "middle" else WIDTH - 2, 28, date,
                                 "tick tick-date", anchor))
        tick += step
    if highlight:
        a, b = x(highlight[0]), x(highlight[1])
        out.append(f'<rect class="highlight" x="{_fmt(a)}" y="{top - 6}" '
                   f'width="{_fmt(max(b - a, 2))}" height="{_fmt(height - top)}">'
                   f"<title>{escape(highlight_label + ' ' + format_time(highlight[0]))}"
                   f"{escape(' to ' + format_time(highlight[1]))}</title></rect>")
    for (m, mx, text, a, _), lane in zip(placed, lane_of, strict=True):
        y = 30 + dated + 16 * lane
        out.append(f'<line class="deadline" x1="{_fmt(mx)}" x2="{_fmt(mx)}" y1="{y}" '
                   f'y2="{_fmt(height - 6)}"/>')
        out.append(f'<path class="deadline-mark" data-at="{m.at}" '
                   f'd="M{_fmt(mx)},{y - 10}l5,5l-5,5l-5,-5Z"><title>'
                   f'{escape(text)}</title></path>')
        out.append(_text(a, y - 1, text, "deadline-label"))
    y = top
    for (group, row), h in zip(lines, heights, strict=True):
        if row is None:
            out.append(_label_lines(8, y + 16, wrap(group, int((WIDTH - 16) / BOLD)), "group"))
            out.append(f'<line class="group-rule" x1="0" x2="{WIDTH}" y1="{y + h - 2}" '
                       f'y2="{y + h - 2}"/>')
            y += h
            continue
        out.append(_label_lines(16, y + 16, wrap(row.label, width_chars), "row-label"))
        if row.start is not None and row.end is not None:
            a, b = x(row.start), x(max(row.end, row.start))
            tip = f"{row.label}: {format_time(row.start)} to {format_time(row.end)}"
            tip += " — " + row.note if row.note else ""
            bar = (f'<rect class="bar {escape(row.kind)}" x="{_fmt(a)}" y="{y + 5}" '
                   f'width="{_fmt(max(b - a, 3))}" height="{ROW - 9}" rx="3">'
                   f"<title>{escape(tip)}</title></rect>")
            if row.href:
                bar = f'<a href="{escape(row.href)}" aria-label="{escape(tip)}">{bar}</a>'
            out.append(bar)
        elif row.note:
            out.append(_text(left + 6, y + 16, row.note, "row-note"))
        y += h
    out.append(tail)
    kinds = {r.kind for r in rows if r.start is not None and r.end is not None}
    legend = [(k, LEGEND[k]) for k in LEGEND if k in kinds]
    if markers:
        legend.append(("deadline", "Objective's deadline, at the diamond"))
    if highlight:
        legend.append(("highlight", highlight_label.capitalize()))
    return Chart("".join(out), legend)


def load_chart(steps: list[tuple[int, int]], *, capacity: int, demand: int | None,
               window: tuple[int, int], span: tuple[int, int], title: str,
               desc: str) -> Markup:
    """A resource's load over time (a step line) against its capacity.

    `steps` are (minute, load from then on) of the items the viewer may name;
    `demand` is the peak the conflict reports within `window` — drawn as such,
    never spread into a guess of anyone's hidden use.
    """
    t0, t1 = span
    peak = max([capacity, demand or 0, *(v for _, v in steps)])
    ymax = max(1, int(peak * 1.2 + 0.999))
    left, right, top, bottom = 60, WIDTH - RIGHT, 20, 260
    height = bottom + 40

    def x(minutes: float) -> float:
        return left + (minutes - t0) / max(t1 - t0, 1) * (right - left)

    def y(value: float) -> float:
        return bottom - value / ymax * (bottom - top)

    head, tail = _open(title, desc, height, "load-chart")
    out = [head]
    a, b = x(window[0]), x(window[1])
    out.append(f'<rect class="highlight" x="{_fmt(a)}" y="{top}" width="{_fmt(max(b - a, 2))}" '
               f'height="{bottom - top}"><title>{escape("conflict window")}</title></rect>')
    ystep = max(1, ymax // 6)
    for v in range(0, ymax + 1, ystep):
        out.append(f'<line class="gridline" x1="{left}" x2="{right}" y1="{_fmt(y(v))}" '
                   f'y2="{_fmt(y(v))}"/>')
        out.append(_text(left - 8, y(v) + 4, str(v), "tick", "end"))
    step = _step(t1 - t0, 10)
    tick = -(-t0 // step) * step
    while tick <= t1:
        out.append(_text(x(tick), bottom + 18, format_time(tick), "tick", "middle"))
        tick += step
    points = [(t0, 0)] + [(max(t0, min(t1, m)), v) for m, v in steps]
    path, last = [f"M{_fmt(x(t0))},{_fmt(y(0))}"], 0
    for m, v in points:
        path.append(f"L{_fmt(x(m))},{_fmt(y(last))}L{_fmt(x(m))},{_fmt(y(v))}")
        last = v
    path.append(f"L{_fmt(x(t1))},{_fmt(y(last))}L{_fmt(x(t1))},{_fmt(y(0))}Z")
    out.append(f'<path class="load" d="{"".join(path)}"><title>'
               f'{escape("load of the items named to you")}</title></path>')
    out.append(f'<line class="capacity" x1="{left}" x2="{right}" y1="{_fmt(y(capacity))}" '
               f'y2="{_fmt(y(capacity))}"/>')
    out.append(_text(right - 4, y(capacity) - 6, f"capacity {capacity}", "capacity-label",
                     "end"))
    if demand is not None:
        out.append(f'<line class="demand" x1="{_fmt(a)}" x2="{_fmt(max(b, a + 2))}" '
                   f'y1="{_fmt(y(demand))}" y2="{_fmt(y(demand))}"><title>'
                   f'{escape(f"peak demand reported in the window: {demand}")}</title></line>')
        out.append(_text(a, y(demand) - 6, f"peak demand {demand}", "demand-label"))
    out.append(f'<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    out.append(tail)
    return Markup("".join(out))


def load_steps(intervals: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The summed load as (minute, load from then on) of [start, end) uses."""
    changes: dict[int, int] = {}
    for start, end, qty in intervals:
        if end > start:
            changes[start] = changes.get(start, 0) + qty
            changes[end] = changes.get(end, 0) - qty
    out, load = [], 0
    for minute in sorted(changes):
        load += changes[minute]
        out.append((minute, load))
    return out
