"""Changes readable: per item and field what moved and by how much, who made each version
and why, and each version's file as the viewer's partner may see it."""

from __future__ import annotations

import html
import re

import yaml

from jointplan.server.plans import compare_views

from .conftest import csrf_of
from .test_pages import base_of


def _move_ferry(client, start: str):  # type: ignore[no-untyped-def]
    form = client.get("/plans/nor-evacuation?edit=ferry-run").text
    return client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "ferry-run",
        "start": start, "duration": "8h", "min": "4h", "max": "12h",
        "reason": "berth free later"})


def test_the_diff_says_per_task_what_moved_by_how_much_who_and_why(pages):
    nor = pages.client("NOR")
    assert _move_ferry(nor, "T+32h").status_code == 303
    text = nor.get("/plans/nor-evacuation").text
    changes = text.split('<table class="changes">')[1].split("</table>")[0]
    row = re.search(r"task <code>ferry-run</code>.*?</tr>", changes, re.S).group(0)
    assert "<td>start</td>" in row and "<strong>+2h</strong>" in row
    assert "<del>T+1d6h" in row and "<ins>T+1d8h" in row
    assert re.search(r"<td>duration</td>.*?<strong>\+2h</strong>", changes, re.S)
    # the version history names who made the new version and why
    history = text.split('id="history-h"')[1].split("</table>")[0]
    assert "<td>nor-planner</td>" in history and "berth free later" in history
    assert "<td>operator</td>" in history
    # the line diff wraps instead of running off the page
    assert '<pre class="diff wrap"' in text
    # another partner reads what changed in what it sees, not who did it nor why
    sou = pages.client("SOU").get("/plans/nor-evacuation").text
    assert "nor-planner" not in sou and "berth free later" not in sou
    assert "<strong>+2h</strong>" in sou


def test_a_versions_file_is_what_the_viewer_may_see_and_hidden_is_missing(pages):
    nor = pages.client("NOR")
    _move_ferry(nor, "T+32h")
    page = nor.get("/plans/nor-evacuation").text
    links = re.findall(r'href="(/plans/nor-evacuation/versions/[^"]+\.yaml)"', page)
    assert len(links) == 2
    mine = yaml.safe_load(nor.get(html.unescape(links[0])).text)
    assert next(t for t in mine["tasks"] if t["id"] == "ferry-run")["start"] == "T+1d8h"
    # RRA's file of the same version: cut by the gate (casualty-care is SOU's only)
    rra = pages.client("RRA")
    links_rra = re.findall(r'href="(/plans/nor-evacuation/versions/[^"]+\.yaml)"',
                           rra.get("/plans/nor-evacuation").text)
    theirs = yaml.safe_load(rra.get(html.unescape(links_rra[0])).text)
    assert "casualty-care" in {t["id"] for t in mine["tasks"]}
    assert "casualty-care" not in {t["id"] for t in theirs["tasks"]}
    assert "area" not in next(t for t in theirs["tasks"] if t["id"] == "assembly-point")
    # a plan a partner may not see: its versions answer exactly as a made-up one
    version = links[0].rsplit("/", 1)[1]
    sou = pages.client("SOU")
    hidden = sou.get(f"/plans/nor-shipping/versions/{version}")
    missing = sou.get(f"/plans/no-such-plan/versions/{version}")
    made_up = nor.get("/plans/nor-evacuation/versions/aaaaaaaaaaaaaaaa.yaml")
    assert hidden.status_code == missing.status_code == made_up.status_code == 404
    assert hidden.text == missing.text


def test_compare_views_measures_windows_deadlines_and_added_items():
    before = {"id": "p", "tasks": [{"id": "a", "start": "T+1d", "duration": "6h"}],
              "expects": [{"id": "e", "window": ["T+1d", "T+2d"]}],
              "objectives": [{"id": "o", "by": "T+4d"}]}
    after = {"id": "p", "tasks": [{"id": "a", "start": "T+20h", "duration": "6h"},
                                  {"id": "b", "start": "T+0h", "duration": "1h"}],
             "expects": [{"id": "e", "window": ["T+1d", "T+2d12h"]}],
             "objectives": [{"id": "o", "by": "T+3d"}]}
    got = {(c["kind"], c["id"]): c for c in compare_views(before, after)}
    assert got[("task", "a")]["fields"] == [{"field": "start", "before": "T+1d",
                                             "after": "T+20h", "by": "-4h"}]
    assert got[("task", "b")]["change"] == "added"
    assert got[("expectation", "e")]["fields"][0]["by"] == "start +0h, end +12h"
    assert got[("objective", "o")]["fields"][0]["by"] == "-1d"
