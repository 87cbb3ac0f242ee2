"""The formats partners already use: GeoJSON, spreadsheets, iCalendar, STIX 2.1.

One module per format. Every export is built from the partner's
``sharing.handling.export_view`` and nothing else; every import is checked
whole and reports each problem located in its own file's terms, writing
nothing when any is found.
"""

from __future__ import annotations


class FormatError(Exception):
    """An input that cannot be imported, or an export that cannot be made: every problem,
    each located (``FILE:LINE:COLUMN: message``, ``sheet!cell: message``, or the object id
    and property)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
