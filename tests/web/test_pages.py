"""The pages over plain HTTP: sign-in, what each partner is shown, 404 equivalence, CSRF."""

from __future__ import annotations

import re
from collections import deque

import pytest
from sqlalchemy import select

from jointplan.server import collab, findings, plans
from jointplan.services.accounts import Actor
from jointplan.store.tables import User

from .conftest import PARTNERS, csrf_of, leaks, sign_in, username

LINK = re.compile(r'href="(/[^"#]*)')


def actor(pages, partner: str) -> Actor:
    with pages.hub.db.read() as session:
        user = session.scalar(select(User).where(User.username == username(partner)))
        return Actor(user.id, user.username, user.partner, user.role)


def head(pages) -> int:
    with pages.hub.db.read() as session:
        return pages.hub.head(session)


def versions(pages, plan_id: str) -> int:
    with pages.hub.db.read() as session:
        return len(plans.history(pages.hub, session, actor(pages, "NOR"), plan_id))


# -- signing in ---------------------------------------------------------------------


def test_a_page_without_a_session_sends_the_browser_to_sign_in(pages):
    answer = pages.client().get("/plans/nor-evacuation?preview=SOU")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/plans/nor-evacuation%3Fpreview%3DSOU"


def test_signing_in_returns_to_the_page_asked_for(pages):
    client = pages.client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/signin").text).group(1)
    answer = client.post("/signin", data={"username": "nor-planner", "password":
                                          "correct horse battery", "token": token,
                                          "next": "/plans/nor-evacuation"})
    assert answer.status_code == 303 and answer.headers["location"] == "/plans/nor-evacuation"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_sign_in_never_sends_the_browser_off_site(pages, target):
    client = pages.client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/signin").text).group(1)
    answer = client.post("/signin", data={"username": "nor-planner", "password":
                                          "correct horse battery", "token": token,
                                          "next": target})
    assert answer.headers["location"] == "/"


def test_a_wrong_password_is_refused_without_a_session(pages):
    client = pages.client()
    token = re.search(r'name="token" value="([^"]+)"', client.get("/signin").text).group(1)
    answer = client.post("/signin", data={"username": "nor-planner", "password": "nope",
                                          "token": token, "next": "/"})
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert "jointplan_session" not in answer.headers.get("set-cookie", "")


def test_a_sign_in_form_from_another_site_is_refused(pages):
    # No sign-in token (the cookie set with the form is SameSite=Strict).
    answer = pages.client().post("/signin", data={"username": "nor-planner", "password":
                                                  "correct horse battery", "next": "/"})
    assert answer.status_code == 400
    assert "jointplan_session" not in answer.headers.get("set-cookie", "")


def test_signing_in_through_the_form_gives_a_working_session(pages):
    client = pages.client()
    csrf = sign_in(client, "SOU")
    assert csrf and client.get("/").status_code == 200


def test_signing_out_ends_the_session(pages):
    client = pages.client("NOR")
    csrf = csrf_of(client.get("/").text)
    assert client.post("/signout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303


# -- what each partner is shown ------------------------------------------------------


@pytest.mark.parametrize("partner", PARTNERS)
def test_no_page_a_partner_can_reach_shows_what_is_hidden_from_it(pages, partner):
    """Follow every link from the dashboard; nothing hidden from the partner appears."""
    client = pages.client(partner)
    queue, seen, statuses = deque(["/"]), set(), {}
    while queue:
        path = queue.popleft()
        if path in seen or path.startswith(("/static/", "/signout", "/api")):
            continue
        seen.add(path)
        answer = client.get(path)
        statuses[path] = answer.status_code
        assert leaks(answer.text, partner) == [], path
        queue.extend(LINK.findall(answer.text.replace("&amp;", "&")))
    assert len(seen) > 25
    broken = {p: s for p, s in statuses.items() if s != 200}
    assert broken == {}


def test_each_page_carries_the_security_headers(pages):
    answer = pages.client("NOR").get("/")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"


def test_the_pages_are_not_part_of_the_api_schema(pages):
    paths = pages.client().get("/openapi.json").json()["paths"]
    assert all(p.startswith(("/api/", "/auth/", "/node/")) for p in paths)


def test_the_owner_previews_what_a_partner_receives(pages):
    text = pages.client("NOR").get("/plans/nor-evacuation?preview=RRA").text
    preview = text.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert "RRA sees the plan" in preview
    # The assembly point's area is withheld from RRA; the crisis cell is not shared with it.
    row = re.search(r"<tr><th scope=\"row\"><code>assembly-point</code>.*?</tr>", preview,
                    re.S).group(0)
    assert "withheld" in row and "aster-old-town" not in row
    assert re.search(r"crisis-cell</code></th><td colspan=\"\d+\"><span class=\"badge "
                     r"not-shared\">", preview)


# -- an object the partner may not see answers like a missing one ----------------------


@pytest.fixture
def private(pages):
    """A thread, a proposal and a decision between NOR and SOU only, and NOR's conflict."""
    nor, sou = actor(pages, "NOR"), actor(pages, "SOU")
    thread = collab.create_thread(pages.hub, nor, {"subject": {"kind": "plan",
                                                               "ref": "nor-evacuation"},
                                                   "title": "Between us", "text": "hello",
                                                   "share": ["SOU"]})
    proposal = collab.create_proposal(pages.hub, sou, {
        "plan": "nor-evacuation", "reason": "the quay is closed then",
        "change": {"kind": "move-start", "task": "ferry-run", "start": "T+1d"}})
    decision = collab.create_decision(pages.hub, nor, {"text": "Open the remote apron early",
                                                       "partners": ["SOU"]})
    with pages.hub.db.read() as session:
        shown = {p: {(f["id"], family) for family in ("conflict", "gap")
                     for f in findings.list_findings(pages.hub, session, actor(pages, p),
                                                     family)}
                 for p in ("NOR", "RRA")}
    conflict = next(i for i, family in shown["NOR"] - shown["RRA"] if family == "conflict")
    gap = next(i for i, family in shown["NOR"] - shown["RRA"] if family == "gap")
    observation = plans.post_observation(pages.hub, sou, {
        "indicator": "war-risk-premium", "seen": True, "share": ["NOR"]})
    return {"thread": thread, "proposal": proposal, "decision": decision,
            "conflict": conflict, "gap": gap, "observation": observation}


GETS = [
    ("/plans/{}", "sou-aster", "no-such-plan"),
    ("/plans/{}?preview=NOR", "sou-aster", "no-such-plan"),
    ("/threads/{}", "thread", "AAAAAAAAAAAAAAAA"),
    ("/proposals/{}", "proposal", "AAAAAAAAAAAAAAAA"),
    ("/decisions/{}", "decision", "AAAAAAAAAAAAAAAA"),
    ("/conflicts/{}", "conflict", "A" * 16),
    ("/gaps/{}", "gap", "A" * 16),
    ("/proposals/new?plan={}&task=crisis-cell", "sou-aster", "no-such-plan"),
    ("/proposals/new?plan=nor-evacuation&task={}", "crisis-cell", "no-such-taskk"),
    ("/proposals/new?about_kind=gap&about_ref={}", "gap", "A" * 16),
    ("/scenarios/observations/{}", "observation", "A" * 16),
]


@pytest.mark.parametrize(("pattern", "hidden", "missing"), GETS)
def test_a_hidden_page_answers_exactly_like_a_missing_one(pages, private, pattern, hidden,
                                                         missing):
    client = pages.client("RRA")
    hidden = private.get(hidden, hidden)
    a, b = client.get(pattern.format(hidden)), client.get(pattern.format(missing))
    assert (a.status_code, a.text) == (b.status_code, b.text)
    assert a.status_code == 404


def test_a_plan_seen_but_not_owned_has_no_preview(pages):
    client = pages.client("SOU")
    a = client.get("/plans/nor-evacuation?preview=RRA")
    b = client.get("/plans/no-such-plan?preview=RRA")
    assert (a.status_code, a.text) == (b.status_code, b.text)


POSTS = [
    ("/threads/{}/messages", "thread", {"text": "hi"}),
    ("/proposals/{}/accept", "proposal", {}),
    ("/proposals/{}/decline", "proposal", {"reason": "no"}),
    ("/decisions/{}/responses", "decision", {"stance": "concur"}),
    ("/plans/{}/status", "sou-aster", {"status": "retired", "reason": "x"}),
    ("/plans/{}/expectations/partner-berth/acknowledge", "sou-aster", {}),
    ("/conflicts/{}/status", "conflict", {"status": "acknowledged", "reason": "x"}),
    ("/gaps/{}/status", "gap", {"status": "acknowledged", "reason": "x"}),
    ("/proposals/{}/withdraw", "proposal", {"confirm": "yes"}),
    ("/decisions/{}/close", "decision", {"outcome": "done"}),
    ("/scenarios/observations/{}/correct", "observation", {"seen": "yes", "reason": "x"}),
    ("/scenarios/observations/{}/retract", "observation", {"reason": "x"}),
]


@pytest.mark.parametrize(("pattern", "hidden", "data"), POSTS)
def test_a_form_on_a_hidden_object_answers_like_one_on_a_missing_object(
        pages, private, pattern, hidden, data):
    client = pages.client("RRA")
    csrf = csrf_of(client.get("/plans").text)
    before = head(pages)
    a = client.post(pattern.format(private.get(hidden, hidden)), data={"csrf": csrf, **data})
    b = client.post(pattern.format("AAAAAAAAAAAAAAAA"), data={"csrf": csrf, **data})
    assert (a.status_code, a.text) == (b.status_code, b.text)
    assert a.status_code == 404 and head(pages) == before


# -- forms need the session's CSRF token ------------------------------------------------


FORMS = [
    ("/scenarios/observations", {"indicator": "registration-surge", "seen": "no"}),
    ("/plans/nor-evacuation/status", {"status": "approved", "reason": "ready"}),
    ("/plans/nor-evacuation/tasks", {"task": "ferry-run", "start": "T+1d", "duration": "6h"}),
    ("/threads", {"kind": "plan", "ref": "nor-evacuation", "title": "t", "text": "x"}),
    ("/decisions", {"text": "Agree", "partners": "SOU"}),
    ("/proposals", {"target": "sou-aster/medical-airlift", "kind": "move-start",
                    "start": "T+1d", "reason": "x"}),
    ("/signout", {}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_form_without_the_session_csrf_token_is_refused(pages, path, data, token):
    client = pages.client("NOR")
    before = head(pages)
    answer = client.post(path, data=data if token is None else {**data, "csrf": token})
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert head(pages) == before
    assert client.get("/plans").status_code == 200  # still signed in


def test_a_form_with_the_csrf_token_is_accepted(pages):
    client = pages.client("NOR")
    csrf = csrf_of(client.get("/scenarios").text)
    answer = client.post("/scenarios/observations", data={
        "csrf": csrf, "indicator": "registration-surge", "seen": "no"})
    assert answer.status_code == 303 and "done=observed" in answer.headers["location"]


def test_htmx_sends_the_token_in_the_form_and_gets_the_new_bars(pages):
    client = pages.client("NOR")
    page = client.get("/scenarios").text
    before = re.search(r'id="scn-unrest-aster".*?data-value="([0-9.]+)"', page, re.S).group(1)
    answer = client.post("/scenarios/observations", headers={"HX-Request": "true"}, data={
        "csrf": csrf_of(page), "indicator": "registration-surge", "seen": "no"})
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="likelihoods"')
    after = re.search(r'id="scn-unrest-aster".*?data-value="([0-9.]+)"', answer.text,
                      re.S).group(1)
    assert float(after) < float(before)


def test_an_observation_over_the_analysis_limit_is_refused_before_it_is_stored(pages):
    from jointplan.server.ratelimits import RateLimits
    from jointplan.store.tables import ObservationRow

    def stored() -> int:
        with pages.hub.db.read() as session:
            return len(list(session.scalars(select(ObservationRow.id))))

    pages.hub.limits = RateLimits(per_user=2, per_partner=100)
    client = pages.client("NOR")
    page = client.get("/scenarios").text  # the first analysis of the minute
    form = {"csrf": csrf_of(page), "indicator": "registration-surge", "seen": "no"}
    before = stored()
    answered = client.post("/scenarios/observations", headers={"HX-Request": "true"},
                           data=form)
    assert answered.status_code == 200 and stored() == before + 1  # the second: stored
    refused = client.post("/scenarios/observations", headers={"HX-Request": "true"},
                          data=form)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert stored() == before + 1  # refused before anything was stored, not after


# -- editing by form and by file --------------------------------------------------------


def base_of(html: str) -> str:
    """The version a plan page's forms say they were made from."""
    return re.search(r'name="base_version" value="([^"]+)"', html).group(1)


def test_a_task_edited_by_form_is_a_new_version(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation?edit=ferry-run").text
    csrf = csrf_of(form)
    answer = client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf, "base_version": base_of(form), "task": "ferry-run", "start": "T+26h",
        "duration": "6h", "min": "4h", "max": "12h", "reason": "earlier tide"})
    assert answer.status_code == 303
    assert versions(pages, "nor-evacuation") == 2
    text = client.get("/plans/nor-evacuation").text
    assert "earlier tide" in text and "<ins>+  start: T+1d2h</ins>" in text


def test_a_start_outside_the_flex_is_shown_and_nothing_is_stored(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    answer = client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "ferry-run",
        "start": "T+3d", "duration": "6h"})
    assert answer.status_code == 422
    assert "nor-evacuation.json:" in answer.text and "flex" in answer.text
    assert versions(pages, "nor-evacuation") == 1


def test_an_uploaded_file_with_problems_shows_them_at_their_lines(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    text = ("jointplan: 1\nkind: plan\nid: nor-evacuation\nowner: NOR\ntitle: T\n"
            "scenarios: [unrest-aster]\ntasks:\n  - id: a\n    title: A\n    start: soon\n"
            "    duration: 2h\n")
    answer = client.post("/plans/nor-evacuation/upload", data={
        "csrf": csrf_of(form), "base_version": base_of(form)},
                         files={"file": ("nor-evacuation.yaml", text.encode(), "text/yaml")})
    assert answer.status_code == 422
    assert re.search(r"nor-evacuation\.yaml:10:\d+: ", answer.text)
    assert '<li value="10" class="has-problem"><code>    start: soon</code>' in answer.text
    assert versions(pages, "nor-evacuation") == 1


def test_an_uploaded_plan_of_another_partner_is_refused(pages):
    client = pages.client("RRA")
    form = client.get("/plans/rra-relief").text
    text = "jointplan: 1\nkind: plan\nid: rra-relief\nowner: NOR\ntitle: T\nscenarios: [baseline]\n"
    answer = client.post("/plans/rra-relief/upload", data={
        "csrf": csrf_of(form), "base_version": base_of(form)},
                         files={"file": ("rra-relief.yaml", text.encode(), "text/yaml")})
    assert answer.status_code == 422 and "must have `owner: RRA`" in answer.text


# -- working together through the pages -------------------------------------------------


def test_a_declined_proposal_carries_its_reason_back(pages, private):
    nor = pages.client("NOR")
    csrf = csrf_of(nor.get(f"/proposals/{private['proposal']}").text)
    answer = nor.post(f"/proposals/{private['proposal']}/decline",
                      data={"csrf": csrf, "reason": "the ferry sails on the tide"})
    assert answer.status_code == 422  # declining is final: the box must be ticked
    assert 'id="decline-confirm-error"' in answer.text
    assert "the ferry sails on the tide</textarea>" in answer.text
    assert "declined" not in pages.client("SOU").get(f"/proposals/{private['proposal']}").text
    answer = nor.post(f"/proposals/{private['proposal']}/decline",
                      data={"csrf": csrf, "reason": "the ferry sails on the tide",
                            "confirm": "yes"})
    assert answer.status_code == 303
    text = pages.client("SOU").get(f"/proposals/{private['proposal']}").text
    assert "declined" in text and "the ferry sails on the tide" in text


def test_a_reservation_needs_a_note_and_is_recorded_with_it(pages, private):
    sou = pages.client("SOU")
    path = f"/decisions/{private['decision']}"
    csrf = csrf_of(sou.get(path).text)
    refused = sou.post(f"{path}/responses", data={"csrf": csrf, "stance": "reservation"})
    assert refused.status_code == 422 and "needs a note" in refused.text
    sou.post(f"{path}/responses", data={"csrf": csrf, "stance": "reservation",
                                        "note": "only after T+1d"})
    text = pages.client("NOR").get(path).text
    assert "reservation" in text and "only after T+1d" in text


def test_a_thread_message_can_be_kept_from_a_thread_partner(pages):
    nor = pages.client("NOR")
    csrf = csrf_of(nor.get("/threads").text)
    answer = nor.post("/threads", data={"csrf": csrf, "kind": "scenario",
                                        "ref": "unrest-aster", "title": "Unrest",
                                        "text": "first", "share": ["SOU", "RRA"]})
    path = answer.headers["location"].split("?")[0]
    nor.post(f"{path}/messages", data={"csrf": csrf, "text": "for SOU only",
                                       "share": ["SOU"]})
    assert "for SOU only" in pages.client("SOU").get(path).text
    rra = pages.client("RRA").get(path).text
    assert "first" in rra and "for SOU only" not in rra


def test_a_thread_about_a_task_hidden_from_a_partner_does_not_name_it(pages):
    nor = pages.client("NOR")
    csrf = csrf_of(nor.get("/threads").text)
    answer = nor.post("/threads", data={"csrf": csrf, "kind": "task",
                                        "ref": "nor-evacuation/crisis-cell",
                                        "title": "Cell staffing", "text": "who?",
                                        "share": ["RRA"]})
    path = answer.headers["location"].split("?")[0]
    for page in ("/threads", path):
        text = pages.client("RRA").get(page).text
        assert "a task you may not see" in text and "crisis-cell" not in text



def test_a_conflicts_status_set_on_its_page_is_what_the_other_partner_sees(pages):
    with pages.hub.db.read() as session:
        shown = {p: {f["id"]: f for f in findings.list_findings(
            pages.hub, session, actor(pages, p), "conflict")} for p in ("NOR", "SOU")}
    beds = next(i for i, f in shown["NOR"].items()
                if f["entries"][0].get("resource") == "beds-aster")
    assert beds in shown["SOU"]
    nor, sou = pages.client("NOR"), pages.client("SOU")
    # The dashboards of both link the same conflict to the same page.
    for client in (nor, sou):
        assert f'href="/conflicts/{beds}"' in client.get("/").text
    csrf = csrf_of(nor.get(f"/conflicts/{beds}").text)
    missing = nor.post(f"/conflicts/{beds}/status", data={"csrf": csrf,
                                                          "status": "risk-accepted"})
    assert missing.status_code == 422 and "say why" in missing.text
    answer = nor.post(f"/conflicts/{beds}/status", data={
        "csrf": csrf, "status": "risk-accepted", "reason": "two beds short for a day"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/conflicts/{beds}?done=finding-status")
    page = sou.get(f"/conflicts/{beds}").text
    assert "risk accepted" in page and "two beds short for a day" in page
    assert "casualty-care" not in page  # NOR's hidden counterpart stays hidden
    thread = nor.post("/threads", data={"csrf": csrf, "kind": "conflict", "ref": beds,
                                        "title": "Beds", "text": "stagger?",
                                        "share": ["SOU"]})
    path = thread.headers["location"].split("?")[0]
    assert f'href="{path}"' in sou.get(f"/conflicts/{beds}").text



def test_a_proposal_sent_from_a_conflict_page_is_listed_on_it(pages):
    with pages.hub.db.read() as session:
        quay = next(f["id"] for f in findings.list_findings(pages.hub, session,
                                                            actor(pages, "SOU"), "conflict")
                    if "aster-quay" in f["entries"][0].get("areas", []))
    sou = pages.client("SOU")
    page = sou.get(f"/conflicts/{quay}").text
    assert (f'/proposals/new?plan=nor-evacuation&amp;task=ferry-run&amp;about_kind=conflict'
            f'&amp;about_ref={quay}') in page
    answer = sou.post("/proposals", data={
        "csrf": csrf_of(page), "target": "nor-evacuation/ferry-run", "kind": "move-start",
        "start": "T+26h", "reason": "the quay is closed", "about_kind": "conflict",
        "about_ref": quay})
    assert answer.status_code == 303, answer.text
    proposal = answer.headers["location"].split("?")[0]
    assert f'href="/conflicts/{quay}"' in pages.client("NOR").get(proposal).text
    with pages.hub.db.read() as session:
        found = findings.get_finding(pages.hub, session, actor(pages, "NOR"), "conflict", quay)
    assert found["proposals"] == [proposal.rsplit("/", 1)[1]]
    assert f'href="{proposal}"' in pages.client("NOR").get(f"/conflicts/{quay}").text


def test_the_plan_page_runs_a_risk_simulation_cut_for_the_partner(pages):
    """The risk panel comes from the same kernel and cut as the API, for this plan only."""
    client = pages.client("NOR")
    page = client.get("/plans/nor-evacuation")
    assert 'id="risk"' in page.text and "Simulate" in page.text
    part = client.get("/plans/nor-evacuation/risk",
                      params={"scenario": "unrest-aster", "samples": "500"})
    assert part.status_code == 200
    assert "all-out" in part.text and "P(met)" in part.text
    assert "rra-shelter" not in part.text  # another plan's objectives stay on its own page
    bad = client.get("/plans/nor-evacuation/risk", params={"scenario": "no-such-leaf"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    missing = pages.client("RRA").get("/plans/sou-aster/risk")
    nowhere = pages.client("RRA").get("/plans/sou-nothin/risk")
    assert missing.status_code == nowhere.status_code == 404
    assert missing.text == nowhere.text


def test_a_resolved_conflict_keeps_its_page_and_its_threads(pages):
    from jointplan.server.assemble import Source
    from tests.conftest import EXAMPLES

    nor = actor(pages, "NOR")
    with pages.hub.db.read() as session:
        beds = next(f["id"] for f in findings.list_findings(pages.hub, session, nor, "conflict")
                    if f["entries"][0].get("resource") == "beds-aster")
    thread = collab.create_thread(pages.hub, nor, {"subject": {"kind": "conflict", "ref": beds},
                                                   "title": "Beds", "text": "x",
                                                   "share": ["SOU"]})
    text = (EXAMPLES / "northern-strait" / "nor-evacuation.yaml").read_text()
    plans.import_files(pages.hub, nor, [Source("nor-evacuation.yaml", text.replace(
        "uses: {beds-aster: 12}", "uses: {beds-aster: 10}").encode())], reason="fewer beds")
    for partner in ("NOR", "SOU"):
        page = pages.client(partner).get(f"/conflicts/{beds}")
        assert page.status_code == 200
        assert "no longer finds this conflict" in page.text
        assert f'href="/threads/{thread}"' in page.text
        assert 'name="status"' not in page.text
