"""The drill pages: each participant's view of the example exercise, through the gate."""

from __future__ import annotations

from jointplan.server.exercises import deliver_due
from tests.conftest import EXAMPLES
from tests.web.conftest import csrf_of

EXERCISE = (EXAMPLES / "drills" / "aster-drill-1.yaml").read_text()
BANNER = "EXERCISE EXERCISE EXERCISE"


def test_players_see_their_injects_and_controllers_run_the_exercise(pages):
    sou, nor, rra = pages.client("SOU"), pages.client("NOR"), pages.client("RRA")
    csrf = {code: csrf_of(c.get("/plans").text) for code, c in
            (("SOU", sou), ("NOR", nor), ("RRA", rra))}
    made = sou.post("/api/exercises", json={"text": EXERCISE},
                    headers={"x-csrf-token": csrf["SOU"]})
    assert made.status_code == 201, made.text
    eid = made.json()["id"]
    started = sou.post(f"/exercises/{eid}/control", data={"action": "start",
                                                          "csrf": csrf["SOU"]})
    assert started.status_code == 303
    assert deliver_due(pages.hub) == 2  # inj-ministry to NOR and RRA, at T+0h

    listing = nor.get("/exercises")
    assert listing.status_code == 200 and BANNER in listing.text and eid in listing.text
    page = nor.get(f"/exercises/{eid}")
    assert page.status_code == 200
    assert page.text.count(BANNER) >= 2 and "T+0h" in page.text
    assert 'hx-get="/exercises/' + eid + '/feed"' in page.text
    assert "Curfew declared" in page.text
    for secret in ("ex-cell", "Where is the crisis cell?", "Several hundred people",
                   "A reporter asks", "inj-reminder", "Expectations"):
        assert secret not in page.text, secret
    logged = nor.post(f"/exercises/{eid}/actions", data={
        "text": "Crisis cell activated", "task": "nor-evacuation/crisis-cell",
        "csrf": csrf["NOR"]})
    assert logged.status_code == 303
    feed = nor.get(f"/exercises/{eid}/feed")
    assert BANNER in feed.text and "Crisis cell activated" in feed.text
    assert "Crisis cell activated" not in rra.get(f"/exercises/{eid}/feed").text

    control = sou.get(f"/exercises/{eid}")
    assert "ex-cell" in control.text and "met" in control.text  # met at T+0h, by T+2h
    refused = nor.post(f"/exercises/{eid}/control", data={"action": "end",
                                                          "csrf": csrf["NOR"]})
    assert refused.status_code == 403
    missing = nor.get("/exercises/nosuchexercise")
    assert missing.status_code == 404
