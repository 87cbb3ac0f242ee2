"""Charts drawn on the server as SVG: a timeline from T0 and a resource's load over time.

Every chart is an image with a title and a description for screen readers;
the page next to it holds the same figures as a table. All text is escaped.
"""

from __future__ import annotations

import hashlib
import itertools
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


def _open(title: str, desc: str, height: float, cls: str) -> tuple[str, str]:
    # The id comes from the chart itself: a process-wide counter would tell a reader
    # how many charts were drawn for others between two of its pages.
    n = hashlib.sha256(f"{cls}\0{title}\0{desc}\0{height}".encode()).hexdigest()[:12]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {cls}" role="img" '
            f'viewBox="0 0 {WIDTH} {_fmt(height)}" aria-labelledby="chart{n}t chart{n}d" '
            f'preserveAspectRatio="xMinYMin meet"><title id="chart{n}t">{escape(title)}</title>'
            f'<desc id="chart{n}d">{escape(desc)}</desc>')
    return head, "</svg>"


def timeline(rows: list[Row], markers: list[Marker], *, title: str, desc: str,
             highlight: tuple[int, int] | None = None) -> Markup:
    """Tasks (and windows) as bars from T0, grouped, with deadlines as dashed lines."""
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
    top = 40 + 16 * min(len(markers), 3)
    height = top + ROW * max(len(lines), 1) + 10
    head, tail = _open(title, desc, height, "timeline")
    out = [head]
    step = _step(t1 - t0)
    tick = (t0 // step) * step
    while tick <= t1:
        if tick >= t0:
            out.append(f'<line class="gridline" x1="{_fmt(x(tick))}" x2="{_fmt(x(tick))}" '
                       f'y1="{top - 6}" y2="{_fmt(height - 6)}"/>')
            out.append(_text(x(tick), 14, format_time(tick), "tick", "middle"))
        tick += step
    if highlight:
        a, b = x(highlight[0]), x(highlight[1])
        out.append(f'<rect class="highlight" x="{_fmt(a)}" y="{top - 6}" '
                   f'width="{_fmt(max(b - a, 2))}" height="{_fmt(height - top)}">'
                   f"<title>{escape('conflict window ' + format_time(highlight[0]) + ' to ')}"
                   f"{escape(format_time(highlight[1]))}</title></rect>")
    for i, m in enumerate(sorted(markers, key=lambda m: m.at)):
        mx = x(m.at)
        y = 30 + 16 * (i % 3)
        out.append(f'<line class="deadline" x1="{_fmt(mx)}" x2="{_fmt(mx)}" y1="{y + 3}" '
                   f'y2="{_fmt(height - 6)}"/>')
        anchor = "end" if mx > WIDTH * 0.7 else "start"
        label = f"◆ {m.label} ({format_time(m.at)})"
        out.append(_text(mx + (-4 if anchor == "end" else 4), y, label, "deadline-label",
                         anchor))
    y = top
    for group, row in lines:
        if row is None:
            out.append(_text(8, y + 16, group, "group"))
            out.append(f'<line class="group-rule" x1="0" x2="{WIDTH}" y1="{y + 22}" '
                       f'y2="{y + 22}"/>')
            y += ROW
            continue
        label = row.label if len(row.label) <= 40 else row.label[:38] + "…"
        out.append(_text(16, y + 16, label, "row-label"))
        if row.start is not None and row.end is not None:
            a, b = x(row.start), x(max(row.end, row.start))
            tip = f"{row.label}: {format_time(row.start)} to {format_time(row.end)}"
            bar = (f'<rect class="bar {escape(row.kind)}" x="{_fmt(a)}" y="{y + 5}" '
                   f'width="{_fmt(max(b - a, 3))}" height="{ROW - 9}" rx="3">'
                   f"<title>{escape(tip + (' — ' + row.note if row.note else ''))}</title></rect>")
            if row.href:
                bar = f'<a href="{escape(row.href)}">{bar}</a>'
            out.append(bar)
        elif row.note:
            out.append(_text(left + 6, y + 16, row.note, "row-note"))
        y += ROW
    out.append(tail)
    return Markup("".join(out))


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
