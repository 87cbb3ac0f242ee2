"""Exports for the signed-in partner: GeoJSON, CSV, XLSX, iCalendar and STIX 2.1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ..server.exports import KINDS, make_export
from .deps import CurrentActor, HubDep

router = APIRouter(prefix="/api", tags=["exports"])


@router.get("/exports/{kind}", response_class=Response, responses={200: {
    "description": "The export, as a file", "content": {media: {} for media, _ in KINDS.values()}}})
def export(kind: str, hub: HubDep, actor: CurrentActor,
           t0: Annotated[list[str] | None, Query(
               max_length=100, description="ical: SCENARIO=ISO, per top-level scenario")] = None,
           step: Annotated[str | None, Query(
               max_length=20, description="matrix column width, a duration (6h)")] = None,
           sheet: Annotated[str, Query(
               max_length=10, description="csv: tasks or matrix")] = "tasks",
           ) -> Response:
    """The caller's partner's view as `geojson`, `csv`, `xlsx`, `ical` or `stix`
    (docs/formats.md): what it received marked red left out, the TLP of what it holds in
    the `X-TLP` header. Audited."""
    with hub.db.read() as session:
        out = make_export(hub, session, actor, kind, t0=t0, step=step, sheet=sheet)
    return Response(out.content, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "X-TLP": out.tlp.upper()})
