"""A form's problem is shown next to its field, linked to it, and what was typed is kept."""

from __future__ import annotations

import re

from .conftest import csrf_of
from .test_pages import base_of, versions


def control(html: str, ident: str) -> str:
    """The opening tag of the control with this id."""
    found = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(ident)}"[^>]*>', html)
    assert found, f"no control {ident}"
    return found.group(0)


def marked(html: str, ident: str) -> str:
    """The message next to field `ident`, asserting the field is invalid and described by it."""
    tag = control(html, ident)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]+)"', tag)
    assert described and f"{ident}-error" in described.group(1).split(), tag
    message = re.search(rf'<p class="field-error" id="{ident}-error">([^<]+)</p>', html)
    assert message, f"no message for {ident}"
    return message.group(1)


def unmarked(html: str, ident: str) -> None:
    assert "aria-invalid" not in control(html, ident)


def test_a_bad_start_is_shown_at_the_start_field_with_the_form_kept(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    answer = client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "ferry-run",
        "start": "soon", "duration": "6x", "min": "4h", "max": "", "reason": "tide"})
    assert answer.status_code == 422
    html = answer.text
    assert "Start" in marked(html, "edit-start")
    # The hint still describes the field, beside the message.
    assert "edit-start-hint" in control(html, "edit-start")
    assert "Duration" in marked(html, "edit-duration")
    assert "longest" in marked(html, "edit-max")
    unmarked(html, "edit-min")
    unmarked(html, "edit-task")
    assert 'value="soon"' in control(html, "edit-start")
    assert 'value="6x"' in control(html, "edit-duration")
    assert 'value="tide"' in control(html, "edit-reason")
    assert '<option value="ferry-run" selected>' in html
    assert versions(pages, "nor-evacuation") == 1


def test_an_unknown_task_is_shown_at_the_task_field(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    answer = client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "no-such-task",
        "start": "T+1d", "duration": "6h"})
    assert answer.status_code == 422
    assert "Choose a task" in marked(answer.text, "edit-task")
    unmarked(answer.text, "edit-start")


def test_a_start_outside_the_flex_marks_the_start_field(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    answer = client.post("/plans/nor-evacuation/tasks", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "task": "ferry-run",
        "start": "T+3d", "duration": "6h"})
    assert answer.status_code == 422
    assert "flex" in marked(answer.text, "edit-start")
    unmarked(answer.text, "edit-duration")


def test_an_upload_without_a_file_marks_the_file_field_and_keeps_the_reason(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    answer = client.post("/plans/nor-evacuation/upload", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "reason": "new ferry times"},
        files={"file": ("", b"", "application/octet-stream")})
    assert answer.status_code == 422
    assert "Choose a file" in marked(answer.text, "upload-file")
    assert 'value="new ferry times"' in control(answer.text, "upload-reason")


def test_an_upload_with_problems_marks_the_file_field_and_lists_them_at_their_lines(pages):
    client = pages.client("NOR")
    form = client.get("/plans/nor-evacuation").text
    text = ("jointplan: 1\nkind: plan\nid: nor-evacuation\nowner: NOR\ntitle: T\n"
            "scenarios: [unrest-aster]\ntasks:\n  - id: a\n    title: A\n    start: soon\n"
            "    duration: 2h\n")
    answer = client.post("/plans/nor-evacuation/upload", data={
        "csrf": csrf_of(form), "base_version": base_of(form), "reason": "why not"},
        files={"file": ("nor-evacuation.yaml", text.encode(), "text/yaml")})
    assert answer.status_code == 422
    assert "problem(s) in nor-evacuation.yaml" in marked(answer.text, "upload-file")
    assert re.search(r"nor-evacuation\.yaml:10:\d+: ", answer.text)
    assert 'value="why not"' in control(answer.text, "upload-reason")
    assert versions(pages, "nor-evacuation") == 1


def test_a_thread_about_an_unknown_subject_marks_which_one_and_keeps_the_message(pages):
    client = pages.client("SOU")
    form = client.get("/threads").text
    answer = client.post("/threads", data={
        "csrf": csrf_of(form), "kind": "plan", "ref": "no-such-plan", "title": "Ferries",
        "text": "Can we talk about the ferries?", "share": ["NOR"]})
    assert answer.status_code == 422
    assert "no-such-plan" in marked(answer.text, "t-ref")
    assert "t-ref-hint" in control(answer.text, "t-ref")
    assert 'value="Ferries"' in control(answer.text, "t-title")
    assert "Can we talk about the ferries?</textarea>" in answer.text
    unmarked(answer.text, "t-text")


def test_a_decision_with_a_bad_deadline_marks_it_and_keeps_the_question(pages):
    nor = pages.client("NOR")
    form = nor.get("/decisions").text
    answer = nor.post("/decisions", data={
        "csrf": csrf_of(form), "title": "Apron", "text": "Open the remote apron early?",
        "deadline": "soon", "partners": ["SOU"]})
    assert answer.status_code == 422
    assert "ISO 8601" in marked(answer.text, "d-deadline")
    unmarked(answer.text, "d-text")
    assert 'value="Apron"' in control(answer.text, "d-title")
    assert "Open the remote apron early?</textarea>" in answer.text
    assert re.search(r'value="SOU" checked', answer.text)
    nobody = nor.post("/decisions", data={"csrf": csrf_of(form), "text": "Who decides?"})
    assert nobody.status_code == 422
    assert 'id="d-partners" aria-describedby="d-partners-error"' in nobody.text
    assert '<p class="field-error" id="d-partners-error">' in nobody.text


def test_an_observation_with_a_bad_time_comes_back_with_the_time_marked(pages):
    nor = pages.client("NOR")
    form = nor.get("/scenarios").text
    answer = nor.post("/scenarios/observations/preview", data={
        "csrf": csrf_of(form), "indicator": "war-risk-premium", "seen": "yes",
        "at": "yesterday", "share": ["SOU"]})
    assert answer.status_code == 422
    assert marked(answer.text, "at")
    assert 'value="yesterday"' in control(answer.text, "at")
    assert '<option value="war-risk-premium" selected>' in answer.text
    assert 'name="seen" value="yes" required checked' in answer.text
    unseen = nor.post("/scenarios/observations/preview", data={
        "csrf": csrf_of(form), "indicator": "war-risk-premium"})
    assert unseen.status_code == 422
    assert 'id="seen" aria-describedby="seen-error"' in unseen.text
    assert '<p class="field-error" id="seen-error">' in unseen.text


def propose_move(client, to: str, start: str, reason: str):  # type: ignore[no-untyped-def]
    """SOU's proposal to move NOR's ferry run, posted from its form to `to`."""
    form = client.get("/proposals/new?plan=nor-evacuation&task=ferry-run").text
    return client.post(to, data={
        "csrf": csrf_of(form), "plan": "nor-evacuation", "task": "ferry-run",
        "kind": "move-start", "start": start, "reason": reason})


def test_a_proposed_start_outside_the_flex_is_shown_at_the_start_field(pages):
    sou = pages.client("SOU")
    answer = propose_move(sou, "/proposals/preview", "T+5d", "the quay is busy")
    assert answer.status_code == 422
    assert "flex" in marked(answer.text, "n-start")
    assert "n-start-hint" in control(answer.text, "n-start")
    assert 'value="T+5d"' in control(answer.text, "n-start")
    assert "the quay is busy</textarea>" in answer.text


def test_the_thread_form_of_a_plan_page_comes_back_on_that_page(pages):
    sou = pages.client("SOU")
    form = sou.get("/plans/nor-evacuation").text
    assert 'id="thread-form-plan"' in form
    answer = sou.post("/threads", data={
        "csrf": csrf_of(form), "kind": "plan", "ref": "nor-evacuation", "on": "plan",
        "title": "Ferry times", "text": "  ", "share": ["NOR"]})
    assert answer.status_code == 422
    assert 'id="thread-form-plan"' in answer.text and "<h1>" in answer.text
    assert "text" in marked(answer.text, "thread-text-plan")
    assert 'value="Ferry times"' in control(answer.text, "thread-title-plan")
    assert re.search(r'value="NOR" checked', answer.text)
    assert "Ferry times" not in sou.get("/threads").text


def test_no_placeholder_reads_as_a_value(pages):
    """A placeholder is marked as an example ("e.g. …"), never a sample that looks typed."""
    nor = pages.client("NOR")
    seen = []
    conflict = re.search(r'href="(/conflicts/[^"#]+)"', nor.get("/").text).group(1)
    for path in ("/plans/nor-evacuation", "/scenarios", "/threads", conflict,
                 "/plans/sou-aster"):
        seen += re.findall(r'placeholder="([^"]*)"', nor.get(path).text)
    assert seen  # the task-timing and observation forms have examples
    assert [p for p in seen if not p.startswith("e.g. ")] == []
