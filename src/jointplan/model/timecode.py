"""Times relative to T0 (``T+30h``) and durations (``1d12h``), as whole minutes."""

from __future__ import annotations

import re
from functools import lru_cache

_UNITS = {"d": 1440, "h": 60, "m": 1}
_PARTS = r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?"
_TIME = re.compile(r"T([+-])" + _PARTS)
_DURATION = re.compile(_PARTS)


class TimecodeError(ValueError):
    """A time or duration that is not written in the format's forms."""


def _minutes(groups: tuple[str | None, ...]) -> int | None:
    if all(g is None for g in groups):
        return None
    d, h, m = (int(g) if g else 0 for g in groups)
    return d * 1440 + h * 60 + m


@lru_cache(maxsize=4096)
def parse_time(text: str) -> int:
    """Minutes after T0 of a relative time such as ``T+1d6h`` or ``T-2d``.

    >>> parse_time("T+1d6h")
    1800
    """
    match = _TIME.fullmatch(text)
    minutes = _minutes(match.groups()[1:]) if match else None
    if match is None or minutes is None:
        raise TimecodeError(f"{text!r} is not a time; write it like T+30h, T+1d6h, T-2d or T+90m")
    return -minutes if match.group(1) == "-" else minutes


@lru_cache(maxsize=4096)
def parse_duration(text: str) -> int:
    """Minutes in a duration such as ``90m``, ``6h`` or ``1d12h``."""
    match = _DURATION.fullmatch(text)
    minutes = _minutes(match.groups()) if match else None
    if minutes is None:
        raise TimecodeError(f"{text!r} is not a duration; write it like 90m, 6h, 2d or 1d12h")
    return minutes


def _parts(minutes: int) -> str:
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    text = (f"{d}d" if d else "") + (f"{h}h" if h else "") + (f"{m}m" if m else "")
    return text or "0h"


def format_time(minutes: int) -> str:
    """The relative time for minutes after T0: ``format_time(1800) == "T+1d6h"``."""
    return ("T-" if minutes < 0 else "T+") + _parts(abs(minutes))


def format_duration(minutes: int) -> str:
    """The duration text for a number of minutes: ``format_duration(90) == "1h30m"``."""
    return _parts(minutes)
