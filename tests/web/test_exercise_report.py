"""Evaluation and the after-action report of the example drill, cut per partner, as HTML and PDF.

The flow of the issue's done-when, through the pages (without a browser): a
conditional inject fires when its expectation is missed, an evaluator rates,
the report's PDF is produced and its pages rendered to PNG and read for the
title and the ratings, and an improvement item becomes a proposal its owner
accepts.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdfium2
from sqlalchemy import select

from jointplan.server.exercises import deliver_due
from jointplan.store.tables import DrillExercise, PlanVersion
from tests.conftest import EXAMPLES
from tests.web.conftest import csrf_of

EXERCISE = (EXAMPLES / "drills" / "aster-drill-1.yaml").read_text()


def _shift(hub, eid: str, minutes: float) -> None:
    with hub.db.write() as session:
        row = session.get(DrillExercise, eid)
        row.anchor_wall = row.anchor_wall - timedelta(minutes=minutes)


def test_a_drill_is_evaluated_reported_and_feeds_back_into_a_plan(pages):
    hub = pages.hub
    sou, nor, rra = pages.client("SOU"), pages.client("NOR"), pages.client("RRA")
    csrf = {code: csrf_of(c.get("/plans").text) for code, c in
            (("SOU", sou), ("NOR", nor), ("RRA", rra))}
    eid = sou.post("/api/exercises", json={"text": EXERCISE},
                   headers={"x-csrf-token": csrf["SOU"]}).json()["id"]
    assert sou.post(f"/exercises/{eid}/control", data={"action": "start",
                                                       "csrf": csrf["SOU"]}).status_code == 303
    deliver_due(hub)
    _shift(hub, eid, 165)  # T+2h45m: ex-cell (by T+2h) was missed; the reminder fired at 2h30m
    deliver_due(hub)
    assert "Where is the crisis cell?" in nor.get(f"/exercises/{eid}/feed").text
    assert "Where is the crisis cell?" not in rra.get(f"/exercises/{eid}/feed").text
    nor.post(f"/exercises/{eid}/actions", data={"text": "Cell up", "csrf": csrf["NOR"],
                                                "task": "nor-evacuation/crisis-cell"})
    # A player reads no report while the exercise runs.
    assert nor.get(f"/exercises/{eid}/report").status_code == 403
    for target, rating, notes in (("expectation:ex-cell", "M", "Cell 45 minutes late"),
                                  ("objective:eo-evac", "S", "Evacuation began late")):
        r = sou.post(f"/exercises/{eid}/ratings", data={
            "target": target, "rating": rating, "notes": notes, "csrf": csrf["SOU"]})
        assert r.status_code == 303, r.text
    assert nor.post(f"/exercises/{eid}/ratings", data={
        "target": "expectation:ex-cell", "rating": "P", "csrf": csrf["NOR"]}).status_code == 403
    assert sou.post(f"/exercises/{eid}/items", data={
        "kind": "improvement", "title": "Ferry to sail earlier", "owner": "NOR",
        "due": "2027-01-31", "csrf": csrf["SOU"]}).status_code == 303
    sou.post(f"/exercises/{eid}/items", data={
        "kind": "improvement", "title": "RRA-only item", "owner": "RRA", "due": "2027-02-01",
        "csrf": csrf["SOU"]})
    asked = sou.post(f"/exercises/{eid}/control", data={"action": "end", "csrf": csrf["SOU"]})
    assert asked.status_code == 422 and 'id="end-confirm-error"' in asked.text
    assert nor.get(f"/exercises/{eid}/report").status_code == 403  # still running
    sou.post(f"/exercises/{eid}/control", data={"action": "end", "csrf": csrf["SOU"],
                                                "confirm": "yes"})

    whole = sou.get(f"/exercises/{eid}/report").text
    assert "late by 45 min" in whole and "M performed with major challenges" in whole
    assert "ex-shelter" in whole and "RRA-only item" in whole
    nor_report = nor.get(f"/exercises/{eid}/report").text
    assert "EXERCISE EXERCISE EXERCISE" in nor_report
    assert "ex-cell" in nor_report and "Cell 45 minutes late" in nor_report
    for other in ("ex-shelter", "RRA-only item", "Several hundred people"):
        assert other not in nor_report, other
    rra_report = rra.get(f"/exercises/{eid}/report").text
    assert "ex-cell" not in rra_report and "Cell 45 minutes late" not in rra_report

    pdf = sou.get(f"/exercises/{eid}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    text = ""
    for page in document:
        image = page.render(scale=1).to_pil()
        assert image.getextrema() != ((255, 255), (255, 255), (255, 255))  # ink on the page
        png = io.BytesIO()
        image.save(png, format="PNG")
        assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
        text += page.get_textpage().get_text_range()
    flat = " ".join(text.split())
    assert "After-action report: Aster unrest" in flat
    assert "EXERCISE EXERCISE EXERCISE" in flat
    assert "performed with major challenges" in flat and "performed with some challenges" in flat
    nor_pdf = nor.get(f"/exercises/{eid}/report.pdf")
    nor_text = "".join(p.get_textpage().get_text_range()
                       for p in pypdfium2.PdfDocument(nor_pdf.content))
    assert "ex-shelter" not in nor_text and "RRA-only" not in nor_text

    item = re.search(r'/exercises/[^/]+/items/([^/"]+)/proposal', whole)
    assert item is not None
    proposed = sou.post(f"/exercises/{eid}/items/{item.group(1)}/proposal", data={
        "plan": "nor-evacuation", "task": "ferry-run", "start": "T+26h", "csrf": csrf["SOU"]})
    assert proposed.status_code == 303, proposed.text
    proposal = re.search(r'href="/proposals/([^"]+)"', sou.get(f"/exercises/{eid}/report").text)
    assert proposal is not None
    accepted = nor.post(f"/proposals/{proposal.group(1)}/accept", data={"csrf": csrf["NOR"],
                                                                   "confirm": "yes"})
    assert accepted.status_code == 303, accepted.text
    with hub.db.read() as session:
        newest = session.scalars(select(PlanVersion).where(
            PlanVersion.plan_id == "nor-evacuation").order_by(PlanVersion.number.desc())).first()
        ferry = next(t for t in newest.doc["tasks"] if t["id"] == "ferry-run")
    assert ferry["start"] == "T+1d2h"
