"""Proposals from context, decisions with an outcome, notifications, observations corrected:
the pages over plain HTTP (the browser steps are in test_browser.py)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from jointplan.server import collab, findings
from jointplan.store.tables import ObservationRow, Proposal

from .conftest import csrf_of, leaks
from .test_pages import actor, head, versions


def _quay(pages) -> str:
    with pages.hub.db.read() as session:
        return next(f["id"] for f in findings.list_findings(pages.hub, session,
                                                            actor(pages, "SOU"), "conflict")
                    if "aster-quay" in f["entries"][0].get("areas", []))


def _proposals(pages) -> int:
    with pages.hub.db.read() as session:
        return int(session.scalar(select(func.count(Proposal.id))))


def test_a_task_page_form_shows_its_values_and_offers_only_what_it_allows(pages):
    sou = pages.client("SOU")
    plan = sou.get("/plans/nor-evacuation").text
    assert 'href="/proposals/new?plan=nor-evacuation&amp;task=ferry-run"' in plan
    form = sou.get("/proposals/new?plan=nor-evacuation&task=ferry-run").text
    assert "Ferry evacuation from Port Aster" in form
    assert "T+1d6h" in form and "from T+1d to T+1d16h" in form  # current start and flex
    assert 'value="move-start"' in form
    assert 'name="target"' not in form and "PLAN/TASK" not in form  # no typed ids
    fixed = sou.get("/proposals/new?plan=nor-evacuation&task=crisis-cell").text
    assert "no flex: its start is fixed" in fixed
    assert "Move its start" not in fixed and 'value="move-start"' not in fixed
    # Asked anyway, the change is refused with the field named, and nothing is stored.
    refused = sou.post("/proposals/preview", data={
        "csrf": csrf_of(form), "plan": "nor-evacuation", "task": "crisis-cell",
        "kind": "move-start", "start": "T+1h", "reason": "x"})
    assert refused.status_code == 422 and "change.task" in refused.text
    # Another partner's plan the partner does not see answers as missing.
    rra = pages.client("RRA")
    hidden = rra.get("/proposals/new?plan=nor-evacuation&task=crisis-cell")
    missing = rra.get("/proposals/new?plan=nor-evacuation&task=no-such-task")
    assert hidden.status_code == missing.status_code == 404 and hidden.text == missing.text


def test_no_id_is_typed_from_the_proposals_page(pages):
    page = pages.client("SOU").get("/proposals/new").text
    assert 'href="/proposals/new?plan=nor-evacuation&amp;task=ferry-run"' in page
    assert "<input" not in page.split("<main", 1)[1].split("</main>")[0]


def test_the_preview_shows_the_effect_and_stores_nothing_then_send(pages):
    quay = _quay(pages)
    sou = pages.client("SOU")
    page = sou.get(f"/conflicts/{quay}").text
    link = re.search(r'href="(/proposals/new\?plan=nor-evacuation&amp;task=ferry-run[^"]*)"',
                     page).group(1).replace("&amp;", "&")
    form = sou.get(link).text
    assert f'name="about_ref" value="{quay}"' in form
    before, stored = head(pages), _proposals(pages)
    data = {"csrf": csrf_of(form), "plan": "nor-evacuation", "task": "ferry-run",
            "kind": "move-start", "start": "T+1d16h", "reason": "the quay is busy until then",
            "about_kind": "conflict", "about_ref": quay}
    preview = sou.post("/proposals/preview", data=data)
    assert preview.status_code == 200, preview.text
    assert "What it would do if accepted now" in preview.text
    assert "aster-quay" in preview.text  # the quay conflict moves or goes
    assert (head(pages), _proposals(pages)) == (before, stored)
    sent = sou.post("/proposals", data=data)
    assert sent.status_code == 303
    assert _proposals(pages) == stored + 1


def _open_proposal(pages) -> str:
    return collab.create_proposal(pages.hub, actor(pages, "SOU"), {
        "plan": "nor-evacuation", "reason": "quay closed",
        "change": {"kind": "move-start", "task": "ferry-run", "start": "T+1d"}})


def test_accepting_asks_for_confirmation_and_keeps_whose_proposal_beside_the_note(pages):
    pid = _open_proposal(pages)
    nor = pages.client("NOR")
    page = nor.get(f"/proposals/{pid}").text
    assert "What it would do if accepted now, as NOR sees it" in page
    csrf, count = csrf_of(page), versions(pages, "nor-evacuation")
    asked = nor.post(f"/proposals/{pid}/accept", data={"csrf": csrf, "reason": "tide"})
    assert asked.status_code == 200 and "Accept this proposal?" in asked.text
    assert versions(pages, "nor-evacuation") == count  # nothing yet
    done = nor.post(f"/proposals/{pid}/accept", data={"csrf": csrf, "reason": "tide",
                                                      "confirm": "yes"})
    assert done.status_code == 303
    history = nor.get("/plans/nor-evacuation").text
    assert re.search(rf"accepted proposal {pid} from SOU: tide", history)


def test_the_sender_withdraws_and_the_owner_can_no_longer_accept(pages):
    pid = _open_proposal(pages)
    sou, nor = pages.client("SOU"), pages.client("NOR")
    page = sou.get(f"/proposals/{pid}").text
    assert "Withdraw the proposal" in page
    assert "Withdraw the proposal" not in nor.get(f"/proposals/{pid}").text
    csrf = csrf_of(page)
    asked = sou.post(f"/proposals/{pid}/withdraw", data={"csrf": csrf})
    assert "Withdraw this proposal?" in asked.text
    assert sou.post(f"/proposals/{pid}/withdraw",
                    data={"csrf": csrf, "confirm": "yes"}).status_code == 303
    assert "withdrawn" in nor.get(f"/proposals/{pid}").text
    late = nor.post(f"/proposals/{pid}/decline", data={"csrf": csrf_of(nor.get("/").text),
                                                       "reason": "no"})
    assert late.status_code == 422 and "withdrawn already" in late.text
    refused = nor.post(f"/proposals/{pid}/withdraw", data={"csrf": csrf_of(nor.get("/").text),
                                                           "confirm": "yes"})
    assert refused.status_code in (403, 422)


def test_a_gap_page_proposes_a_provision_prefilled_from_the_expectation(pages):
    with pages.hub.db.read() as session:
        gaps = findings.list_findings(pages.hub, session, actor(pages, "NOR"), "gap")
    gap = next(g for g in gaps if g["entries"][0]["expectation"].startswith("nor-"))
    nor = pages.client("NOR")
    page = nor.get(f"/gaps/{gap['id']}").text
    assert f'/proposals/new?about_kind=gap&amp;about_ref={gap["id"]}' in page
    form = nor.get(f"/proposals/new?about_kind=gap&about_ref={gap['id']}").text
    assert 'value="add-provision"' in form
    assert f'name="answers" value="{gap["entries"][0]["expectation"]}"' in form
    assert "Preview the effect" in form


def test_a_decision_has_title_deadline_and_outcome_and_the_form_gives_way(pages):
    nor, sou = pages.client("NOR"), pages.client("SOU")
    csrf = csrf_of(nor.get("/decisions").text)
    made = nor.post("/decisions", data={"csrf": csrf, "title": "Remote apron",
                                        "text": "Open the remote apron at T+20h?",
                                        "deadline": "2026-11-21T18:00", "partners": ["SOU"]})
    assert made.status_code == 303
    path = made.headers["location"].split("?")[0]
    page = sou.get(path).text
    assert "<h1>Remote apron</h1>" in page and "2026-11-21 18:00 UTC" in page
    assert "Record the response" in page and "Record the outcome" not in page
    sou.post(f"{path}/responses", data={"csrf": csrf_of(page), "stance": "concur"})
    answered = sou.get(path).text
    assert "Record the response" not in answered and "SOU answered" in answered
    assert "Record the response" in sou.get(f"{path}?change=1").text
    closing = nor.get(path).text
    assert "Record the outcome" in closing
    assert nor.post(f"{path}/close", data={"csrf": csrf, "outcome": "",
                                           "confirm": "yes"}).status_code == 422
    unconfirmed = nor.post(f"{path}/close", data={"csrf": csrf, "outcome": "Opened at T+20h."})
    assert unconfirmed.status_code == 422 and 'id="c-confirm-error"' in unconfirmed.text
    assert "Opened at T+20h." not in sou.get(path).text
    nor.post(f"{path}/close", data={"csrf": csrf, "outcome": "Opened at T+20h.",
                                    "confirm": "yes"})
    closed = sou.get(path).text
    assert "Opened at T+20h." in closed and "closed" in closed
    late = sou.post(f"{path}/responses", data={"csrf": csrf_of(closed), "stance": "concur"})
    assert late.status_code == 422 and "closed" in late.text
    assert "Remote apron" in sou.get("/decisions").text
    bad = nor.post("/decisions", data={"csrf": csrf, "text": "x", "deadline": "soon",
                                       "partners": ["SOU"]})
    assert bad.status_code == 422 and "deadline" in bad.text


def test_notifications_say_what_to_act_on_with_an_unread_count_per_person(pages):
    pid = _open_proposal(pages)
    nor = pages.client("NOR")
    header = nor.get("/plans").text
    count = int(re.search(r'class="badge unread-count">(\d+)', header).group(1))
    assert count >= 1
    page = nor.get("/notifications").text
    # An unread notification opens through a POST that marks it read (a GET never writes).
    assert f'href="/proposals/{pid}"' not in page and "SOU proposes a change" in page
    assert 'name="open" value="yes"' in page
    assert "ran an analysis" not in page
    nid = re.search(r'name="id" value="([^"]+)"', page).group(1)
    nor.post("/notifications/read", data={"csrf": csrf_of(page), "id": nid})
    after = nor.get("/plans").text
    left = re.search(r'class="badge unread-count">(\d+)', after)
    assert (int(left.group(1)) if left else 0) == count - 1
    nor.post("/notifications/read", data={"csrf": csrf_of(page)})
    assert "unread-count" not in nor.get("/plans").text
    # The answer goes back to the sender, and a reply in a thread to the other side.
    collab.decide_proposal(pages.hub, actor(pages, "NOR"), pid, False, "the tide")
    assert "declined" in pages.client("SOU").get("/notifications").text
    # Another partner's notifications cannot be marked from here.
    sou_page = pages.client("SOU").get("/notifications").text
    sou_id = re.search(r'name="id" value="([^"]+)"', sou_page).group(1)
    foreign = nor.post("/notifications/read", data={"csrf": csrf_of(page), "id": sou_id})
    nothing = nor.post("/notifications/read", data={"csrf": csrf_of(page),
                                                    "id": "A" * len(sou_id)})
    assert foreign.status_code == nothing.status_code == 404
    assert foreign.text == nothing.text


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(pages):
    pid = _open_proposal(pages)
    nor = pages.client("NOR")
    page = nor.get("/notifications").text
    opener = re.search(r'<form method="post" action="/notifications/read" class="inline">'
                       r'<input type="hidden" name="csrf" value="[^"]+">'
                       r'<input type="hidden" name="id" value="([^"]+)">'
                       r'<input type="hidden" name="open" value="yes"><button[^>]*>'
                       r'SOU proposes a change', page)
    assert opener, "no Open form for the proposal's notification"
    before = nor.get("/plans").text
    count = int(re.search(r'class="badge unread-count">(\d+)', before).group(1))
    # Following the page by GET writes nothing: still unread.
    nor.get(f"/proposals/{pid}")
    assert f'class="badge unread-count">{count}<' in nor.get("/plans").text
    opened = nor.post("/notifications/read", data={"csrf": csrf_of(page),
                                                    "id": opener.group(1), "open": "yes"})
    assert opened.status_code == 303 and opened.headers["location"] == f"/proposals/{pid}"
    left = re.search(r'class="badge unread-count">(\d+)', nor.get("/plans").text)
    assert (int(left.group(1)) if left else 0) == count - 1
    # Read now: a plain link, and the open form is gone.
    after = nor.get("/notifications").text
    assert f'<a href="/proposals/{pid}">SOU proposes a change' in after
    assert f'value="{opener.group(1)}"><input type="hidden" name="open"' not in after


def test_an_observation_is_confirmed_with_its_effect_then_corrected_and_retracted(pages):
    nor = pages.client("NOR")
    page = nor.get("/scenarios").text
    csrf = csrf_of(page)
    assert 'action="/scenarios/observations/preview"' in page
    before = head(pages)
    data = {"csrf": csrf, "indicator": "registration-surge", "seen": "yes",
            "at": "2026-11-21T08:00Z"}
    confirm = nor.post("/scenarios/observations/preview", data=data)
    assert confirm.status_code == 200 and "What it does to the likelihoods" in confirm.text
    assert re.search(r"[+-]\d+\.\d points", confirm.text)
    assert head(pages) == before  # a read
    assert nor.post("/scenarios/observations", data=data).status_code == 303
    with pages.hub.db.read() as session:
        row = session.scalars(select(ObservationRow).order_by(ObservationRow.seq.desc())).first()
    path = f"/scenarios/observations/{row.id}"
    page = nor.get(path).text
    assert "Correct it" in page and "Retract it" in page
    fixed = nor.post(f"{path}/correct", data={"csrf": csrf, "seen": "no",
                                              "reason": "a double count"})
    assert fixed.status_code == 303
    new_path = fixed.headers["location"].split("?")[0]
    old = nor.get(path).text
    assert "corrected" in old and "a double count" in old and "Correct it" not in old
    asked = nor.post(f"{new_path}/retract", data={"csrf": csrf, "reason": "wrong town"})
    assert asked.status_code == 422 and 'id="x-confirm-error"' in asked.text
    assert "wrong town</textarea>" in asked.text and "Retract it" in nor.get(new_path).text
    gone = nor.post(f"{new_path}/retract", data={"csrf": csrf, "reason": "wrong town",
                                                 "confirm": "yes"})
    assert gone.status_code == 303
    assert "retracted" in nor.get(new_path).text and "wrong town" in nor.get(new_path).text
    with pages.hub.db.read() as session:  # recorded, never deleted
        states = {r.id: r.state for r in session.scalars(select(ObservationRow))}
    assert states[row.id] == "corrected" and states[new_path.rsplit("/", 1)[1]] == "retracted"
    # Not shared: another partner sees neither it nor its history.
    for partner in ("SOU", "RRA"):
        hidden = pages.client(partner).get(path)
        missing = pages.client(partner).get("/scenarios/observations/" + "A" * len(row.id))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
        assert "a double count" not in pages.client(partner).get("/scenarios").text


def test_the_new_pages_show_nothing_hidden_from_the_partner(pages):
    pid = _open_proposal(pages)
    collab.create_decision(pages.hub, actor(pages, "NOR"), {
        "title": "Between NOR and SOU", "text": "x", "partners": ["SOU"]})
    for partner in ("NOR", "SOU", "RRA"):
        client = pages.client(partner)
        for path in ("/notifications", "/proposals/new", "/decisions", "/scenarios",
                     f"/proposals/{pid}"):
            body = client.get(path).text
            assert leaks(body, partner) == [], (partner, path)
