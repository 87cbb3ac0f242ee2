"""Plain, immutable, validated domain types. No I/O."""

from .enums import ALL, Commitment, Kind, Tlp
from .timecode import TimecodeError, format_duration, format_time, parse_duration, parse_time
from .workspace import (
    Area,
    Duration,
    Expectation,
    Indicator,
    Objective,
    Observation,
    Partner,
    Plan,
    Provision,
    Resource,
    Scenario,
    Share,
    Task,
    Workspace,
)

__all__ = [
    "ALL", "Area", "Commitment", "Duration", "Expectation", "Indicator", "Kind", "Objective",
    "Observation", "Partner", "Plan", "Provision", "Resource", "Scenario", "Share", "Task",
    "TimecodeError", "Tlp", "Workspace", "format_duration", "format_time", "parse_duration",
    "parse_time",
]
