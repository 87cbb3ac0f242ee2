"""Exports for the signed-in partner: the CLI's formats, from the stored workspace, audited.

Each is made from ``sharing.handling.export_view`` of the workspace as stored,
exactly as ``jointplan export`` makes it from a folder, and each is recorded in
the audit chain (format and TLP; owners: the exporting partner only).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..formats import FormatError
from ..model import Workspace
from ..services.accounts import Actor
from ..sharing.handling import ExportView, export_view
from ..store import audit
from .hub import Hub, Invalid, NotFound

KINDS = {"geojson": ("application/geo+json", "geojson"),
         "csv": ("text/csv; charset=utf-8", "csv"),
         "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
         "ical": ("text/calendar; charset=utf-8", "ics"),
         "stix": ("application/stix+json;version=2.1", "json")}


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str
    tlp: str


def make_export(hub: Hub, session: Session, actor: Actor, kind: str, *,
                t0: list[str] | None = None, step: str | None = None,
                sheet: str = "tasks") -> Export:
    """One export of the actor's partner's view; NotFound for a kind that does not exist,
    Invalid naming the parameter for a bad one."""
    if kind not in KINDS:
        raise NotFound(kind)
    ws = hub.current(session).workspace
    ev = export_view(ws, actor.partner)
    if kind == "ical" and not t0:  # the scenarios declared on the server, as the actor sees them
        from .t0 import declarations

        t0 = [f"{d['scenario']}={d['t0']}" for d in declarations(hub, session, actor)]
    try:
        content = _content(kind, ev, ws, t0 or [], step, sheet)
    except FormatError as exc:
        raise Invalid("t0", "; ".join(exc.problems)) from None
    except Invalid:
        raise
    except ValueError as exc:
        raise Invalid("step", str(exc)) from None
    with hub.db.write() as s:
        audit.append(s, action="export", subject=f"partner:{actor.partner}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"format": kind, "tlp": ev.tlp.value})
    media, ext = KINDS[kind]
    return Export(content, media, f"{ws.id}-{actor.partner.lower()}.{ext}", ev.tlp.value)


def _content(kind: str, ev: ExportView, ws: Workspace, t0: list[str], step: str | None,
             sheet: str) -> bytes:
    if kind == "geojson":
        from ..formats.geojson import dumps, export_geojson

        return dumps(export_geojson(ev)).encode()
    if kind == "csv":
        from ..formats.spreadsheet import matrix_rows, task_rows, to_csv

        if sheet not in ("tasks", "matrix"):
            raise Invalid("sheet", f"sheet is tasks or matrix, not {sheet!r}")
        return to_csv(task_rows(ev) if sheet == "tasks" else matrix_rows(ev, step)).encode()
    if kind == "xlsx":
        from ..formats.spreadsheet import to_xlsx

        return to_xlsx(ev, step)
    if kind == "ical":
        from ..formats.ical import parse_t0, timeline, to_ics

        return to_ics(ev, timeline(ev, ws, parse_t0(t0, ws)))
    from ..formats.stix import dumps as stix_dumps
    from ..formats.stix import export_stix

    return stix_dumps(export_stix(ev, ws)).encode()
