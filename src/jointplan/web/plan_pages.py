"""Plan pages: the synchronisation matrix, one plan with its history, the owner's
"preview as partner", and the owner's edits (a form or an uploaded file)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from ..caller import HubDep
from ..files import InvalidWorkspace
from ..model import TimecodeError, format_duration, format_time, parse_duration, parse_time
from ..server import collab, plans
from ..server.assemble import Source
from ..server.concurrency import Stale
from ..server.hub import Hub, Invalid, NotFound
from ..services.accounts import Actor
from ..sharing import actions
from .render import (
    MAX_UPLOAD,
    FormDep,
    PageActor,
    PageRoute,
    chart_dates,
    done,
    field,
    fragment,
    page,
)
from .shape import ancestors, find_plan, leaves, plan_markers, plan_rows
from .svg import timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Json = dict[str, Any]


# -- the synchronisation matrix ---------------------------------------------------------


@router.get("/plans")
def plan_list(request: Request, hub: HubDep, actor: PageActor, scenario: str = "",
              group: str = "partner") -> Response:
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    full = [p for p in view["plans"] if "owner" in p]
    leaf_ids = leaves(view["scenarios"])

    def active(plan: Json, leaf: str) -> bool:
        return bool(set(plan["scenarios"]) & ancestors(view["scenarios"], leaf))

    if scenario not in leaf_ids:
        scenario = next((s for s in leaf_ids if any(active(p, s) for p in full)),
                        leaf_ids[0] if leaf_ids else "")
    group = group if group in ("partner", "phase") else "partner"
    rows, markers = [], []
    for plan in sorted((p for p in full if active(p, scenario)),
                       key=lambda p: (p["owner"], p["id"])):
        for row in plan_rows(plan, link=True):
            if group == "partner":
                rows.append(replace(row, group=f"{plan['owner']} · {plan['title']}"))
            else:
                rows.append(replace(row, label=f"{plan['owner']}: {row.label}"))
        markers += plan_markers(plan, prefix=f"{plan['owner']}: ")
    rows.sort(key=lambda r: r.group)
    titles = {s["id"]: s["title"] for s in view["scenarios"]}
    tops = {s["id"] for s in view["scenarios"] if not s.get("parent")}
    dates = chart_dates(hub, actor, tops & ancestors(view["scenarios"], scenario)) \
        if rows else None
    chart = timeline(rows, markers, title=f"Synchronisation matrix: {titles.get(scenario, '')}",
                     desc="Tasks of every plan you may see that is active in this scenario, "
                     f"from T0, grouped by {group}; objectives' deadlines are dashed lines. "
                     + ("Each time mark gives T+ and its real date. " if dates else "")
                     + "The table below holds the same figures.", real=dates) if rows else None
    return page(request, "plans.html", actor, section="plans", view=view, plans=view["plans"],
                scenario=scenario, leaves=leaf_ids, titles=titles, group=group, chart=chart,
                rows=rows, markers=markers)


# -- one plan ---------------------------------------------------------------------------


def _diff_lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def preview_for(hub: Hub, session: Any, actor: Actor, plan: Json, partner: str) -> Json | None:
    """What `partner` receives of the actor's own plan: the very use case it would call.

    Only the owner previews, and only its own plan, which it sees in full; the
    answer is what the sharing gate gives `partner` (None: nothing at all).
    """
    if not actions.may_preview(actor.partner, plan.get("owner"), partner):
        raise NotFound(plan["id"])  # a preview never tells what it would show
    stand_in = Actor(user_id="", username="(preview)", partner=partner, role="viewer")
    try:
        return plans.plan_view(hub, session, stand_in, plan["id"])
    except NotFound:
        return None


def plan_context(hub: Hub, actor: Actor, plan_id: str, *, preview: str = "",
                 diff_from: str = "", diff_to: str = "") -> Json:
    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
        plan = find_plan(view, plan_id)
        if plan is None:
            raise NotFound(plan_id)
        versions = list(reversed(plans.history(hub, session, actor, plan_id)))
        diff_text, diff_error = "", ""
        changes: list[Json] = []
        if not diff_from and not diff_to and len(versions) >= 2:
            diff_from, diff_to = versions[1]["version"], versions[0]["version"]
        if diff_from and diff_to:
            try:
                diff_text = plans.diff(hub, session, actor, plan_id, diff_from, diff_to)
                changes = plans.changes(hub, session, actor, plan_id, diff_from, diff_to)
            except Invalid as exc:
                diff_error = str(exc)
        partners = [p["code"] for p in view["partners"]]
        received: Json | None = None
        if preview:
            if preview not in partners:
                raise NotFound(plan_id)
            received = preview_for(hub, session, actor, plan, preview)
        acks = collab.acknowledgements(hub, session, actor)
        marking = plans.marking(hub, session, actor, plan_id)
        can_edit = bool(actions.may_edit(actor.partner, actor.role, plan.get("owner", "")))
        # The version the page shows: every form that changes the plan sends it back.
        base_version = plans.stored_document(hub, session, actor, plan_id)[0] if can_edit \
            else ""
    owns = plan.get("owner") == actor.partner
    rows = plan_rows(plan)
    dates = chart_dates(hub, actor, _tops(view, plan)) if rows else None
    chart = timeline(rows, plan_markers(plan), title=f"Timeline of {plan.get('title', plan_id)}",
                     desc="Tasks from T0 grouped by phase, then the windows of expectations "
                     "and provisions; objectives' deadlines are dashed lines. "
                     + ("Each time mark gives T+ and its real date. " if dates else "")
                     + "The tables below hold the same figures.", real=dates) if rows else None
    return {"view": view, "plan": plan, "versions": versions, "diff": _diff_lines(diff_text),
            "changes": changes,
            "diff_from": diff_from, "diff_to": diff_to, "diff_error": diff_error,
            "owns": owns, "partners": partners, "can_edit": can_edit,
            "base_version": base_version,
            "preview": preview, "received": received, "chart": chart, "rows": rows,
            "received_index": {k: {x["id"]: x for x in (received or {}).get(k, [])}
                               for k in ("objectives", "tasks", "expects", "provides")},
            "acknowledged": {a["expectation"] for a in acks},
            "resources": {r["id"]: r["name"] for r in view["resources"]},
            "areas": {a["id"]: a["name"] for a in view["areas"]},
            "problems": [], "upload_text": [], "edit": {}, "section": "plans",
            "t0_scope": _tops(view, plan), "marking": marking,
            "field_errors": {}, "status_values": {}, "upload_values": {},
            "risk_leaves": leaves(view["scenarios"])}


@router.get("/plans/{plan_id}/versions/{version_id}.yaml")
def version_file(hub: HubDep, actor: PageActor, plan_id: str, version_id: str) -> Response:
    """One version of the plan as a file, exactly as the viewer's partner may see it (the
    gate's cut); a version it may not see answers 404 like one that does not exist."""
    with hub.db.read() as session:
        view = plans.version_view(hub, session, actor, plan_id, version_id)
    text = yaml.safe_dump(view, sort_keys=False, allow_unicode=True)
    name = f"{plan_id}-{version_id}.yaml"
    return Response(text.encode(), media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _tops(view: Json, plan: Json) -> set[str] | None:
    """The top-level scenarios a plan is active under: the T0s its times are from (None
    when its scenarios are not shared with the viewer)."""
    if "scenarios" not in plan:
        return None
    parent = {s["id"]: s.get("parent") for s in view["scenarios"]}
    out = set()
    for sid in plan["scenarios"]:
        while parent.get(sid):
            sid = parent[sid]
        out.add(sid)
    return out


@router.get("/plans/{plan_id}")
def plan_page(request: Request, hub: HubDep, actor: PageActor, plan_id: str,
              preview: str = "", to: str = "", edit: str = "") -> Response:
    context = plan_context(hub, actor, plan_id, preview=preview, diff_to=to,
                           diff_from=request.query_params.get("from", ""))
    task = next((x for x in context["plan"].get("tasks", []) if x["id"] == edit), None)
    if task is not None and context["can_edit"]:
        duration = task["duration"]
        three = isinstance(duration, dict)
        context["edit"] = {"task": task["id"], "start": task["start"],
                           "duration": duration["likely"] if three else duration,
                           "min": duration["min"] if three else "",
                           "max": duration["max"] if three else "", "reason": ""}
    return page(request, "plan.html", actor, **context)


def _again(request: Request, hub: Hub, actor: Actor, plan_id: str, *, status: int = 422,
           **extra: Any) -> Response:
    """The plan page once more, with what went wrong next to the form that caused it."""
    context = plan_context(hub, actor, plan_id)
    context.update(extra)
    return page(request, "plan.html", actor, status=status, **context)


def _changed(exc: Stale) -> str:
    return (f"The plan changed since you opened it ({len(exc.since)} newer version(s)); "
            "nothing was stored. The page now shows the current version: make your change "
            "again on it.")


def _may_change(hub: Hub, actor: Actor, plan_id: str) -> None:
    """Not found for a plan the actor may not see; Forbidden, with the gate's reason, when
    it may not change it — before anything else about the form is looked at."""
    with hub.db.read() as session:
        plans.stored_document(hub, session, actor, plan_id)


def _base(form: Any) -> str:
    base = field(form, "base_version")
    if not base:
        raise Invalid("base_version", "the form does not say which version it was made from; "
                      "reload the page and try again")
    return base


@router.post("/plans/{plan_id}/status")
def plan_status(request: Request, hub: HubDep, actor: PageActor, plan_id: str,
                form: FormDep) -> Response:
    status, reason = field(form, "status"), field(form, "reason")
    _may_change(hub, actor, plan_id)
    kept = {"status": status, "reason": reason}
    if status == "retired" and field(form, "confirm") != "yes":
        # Retiring takes the plan out of every partner's analysis: asked to confirm first.
        return _again(request, hub, actor, plan_id, status_values=kept, field_errors={
            "status-confirm": "Retiring takes this plan out of every partner's analysis and "
                              "matrix. Tick the box to confirm, then send again."})
    try:
        if not reason:
            raise Invalid("reason", "say why the status changes")
        plans.set_status(hub, actor, plan_id, status, reason, _base(form))
    except Invalid as exc:
        where = {"reason": "status-reason", "status": "status"}.get(exc.field, "status")
        return _again(request, hub, actor, plan_id, status_values=kept,
                      field_errors={where: str(exc)})
    except Stale as exc:
        return _again(request, hub, actor, plan_id, status=409, errors=[f"Status: "
                                                                         f"{_changed(exc)}"])
    return done(f"/plans/{plan_id}", "status", "#history")


@router.post("/plans/{plan_id}/tasks")
def edit_task(request: Request, hub: HubDep, actor: PageActor, plan_id: str,
              form: FormDep) -> Response:
    """Change a task's start or duration: a new version of the stored plan, checked like an
    import. Every field the form does not touch is kept as stored (`x-` keys too)."""
    values = {k: field(form, k) for k in ("task", "start", "duration", "min", "max", "reason")}
    errors: list[str] = []
    # A problem with one field is shown next to it (field id -> message); the rest on top.
    wrong: dict[str, str] = {}
    with hub.db.read() as session:
        _, doc = plans.stored_document(hub, session, actor, plan_id)
    task = next((x for x in doc.get("tasks", []) if x.get("id") == values["task"]), None)
    if task is None:
        wrong["edit-task"] = "Choose a task of this plan."
    try:
        base = _base(form)
    except Invalid as exc:
        errors.append(f"Version: {exc}")
    try:
        start = format_time(parse_time(values["start"]))
    except TimecodeError as exc:
        wrong["edit-start"] = f"Start: {exc}"
    low = high = None
    for key, name in (("duration", "Duration"), ("min", "Shortest"), ("max", "Longest")):
        if key != "duration" and not values[key]:
            continue
        try:
            text = format_duration(parse_duration(values[key]))
        except TimecodeError as exc:
            wrong[f"edit-{key}"] = f"{name}: {exc}"
            continue
        if key == "duration":
            likely = text
        elif key == "min":
            low = text
        else:
            high = text
    if (values["min"] == "") != (values["max"] == ""):
        empty = "edit-min" if values["min"] == "" else "edit-max"
        wrong.setdefault(empty, "Give both the shortest and the longest, or neither.")
    if not errors and not wrong and task is not None:
        task["start"] = start
        task["duration"] = {"likely": likely, "min": low, "max": high} if low else likely
        reason = values["reason"] or f"changed {values['task']} on the plan page"
        source = Source(f"{plan_id}.json", json.dumps(doc, indent=2).encode())
        try:
            plans.import_files(hub, actor, [source], reason=reason, bases={plan_id: base})
            return done(f"/plans/{plan_id}", "edited", "#history")
        except InvalidWorkspace as exc:
            errors += [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in exc.problems]
            # The check of the whole plan names the task's field: mark the form's field.
            for p in exc.problems:
                key = ("edit-start" if "start" in p.message or "flex" in p.message else
                       "edit-duration" if "duration" in p.message else "")
                if key:
                    wrong.setdefault(key, p.message)
        except Invalid as exc:
            errors.append(str(exc))
        except Stale as exc:
            return _again(request, hub, actor, plan_id, status=409, edit=values,
                          errors=[_changed(exc)])
    return _again(request, hub, actor, plan_id, errors=errors, edit=values, field_errors=wrong)


@router.post("/plans/{plan_id}/upload")
def upload(request: Request, hub: HubDep, actor: PageActor, plan_id: str,
           form: FormDep) -> Response:
    """Import a plan file (all or nothing); problems are shown at their lines."""
    _may_change(hub, actor, plan_id)
    upload_ = form.get("file") if form is not None else None
    kept = {"reason": field(form, "reason")}

    def wrong(message: str, **extra: Any) -> Response:
        """The page again, the file field marked with the message, the reason kept."""
        return _again(request, hub, actor, plan_id, upload_values=kept,
                      field_errors={"upload-file": message}, **extra)

    if not isinstance(upload_, UploadFile) or not upload_.filename:
        return wrong("Choose a file.")
    data = upload_.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return wrong("The file is larger than 1 MB.")
    name = upload_.filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        # A new version of this page's plan is made from the version the page showed.
        bases = ({plan_id: _base(form)}
                 if plan_id in plans.uploaded_plan_ids([Source(name, data)]) else None)
        result = plans.import_files(hub, actor, [Source(name, data)], bases=bases,
                                    reason=kept["reason"] or f"uploaded {name}")
    except InvalidWorkspace as exc:
        lines = data.decode("utf-8", errors="replace").splitlines()
        by_line: dict[int, list[str]] = {}
        for p in exc.problems:
            by_line.setdefault(p.line, []).append(f"column {p.column}: {p.message}")
        return wrong(f"{len(exc.problems)} problem(s) in {name}, shown below at their "
                     "lines; nothing was stored.",
                     problems=[f"{p.file}:{p.line}:{p.column}: {p.message}"
                               for p in exc.problems],
                     upload_text=[(i, line, by_line.get(i, []))
                                  for i, line in enumerate(lines, 1)][:2000])
    except Invalid as exc:
        return wrong(str(exc))
    except Stale as exc:
        return _again(request, hub, actor, plan_id, status=409, upload_values=kept,
                      errors=[f"Upload: {_changed(exc)}"])
    target = plan_id if plan_id in result["plans"] or not result["plans"] else result["plans"][0]
    return done(f"/plans/{target}", "imported", "#history")


@router.post("/plans/{plan_id}/expectations/{expectation_id}/acknowledge")
def acknowledge(request: Request, hub: HubDep, actor: PageActor, plan_id: str,
                expectation_id: str) -> Response:
    collab.acknowledge(hub, actor, plan_id, expectation_id)
    return done(f"/plans/{plan_id}", "acknowledged", f"#exp-{expectation_id}")


# -- the risk panel -----------------------------------------------------------------------


@router.get("/plans/{plan_id}/risk")
def risk(request: Request, hub: HubDep, actor: PageActor, plan_id: str, scenario: str = "",
         samples: int = 2000) -> Response:
    """The plan's objectives and tasks from a Monte Carlo run, as this partner may see them."""
    from ..server import analysis

    with hub.db.read() as session:
        view = plans.workspace_view(hub, session, actor)
    plan = find_plan(view, plan_id)
    if plan is None:
        raise NotFound(plan_id)
    error, reports = "", []
    try:
        reports = analysis.simulate_for(hub, actor, scenario or None,
                                        max(1, min(samples, analysis.MAX_SAMPLES)), 7)
    except Invalid as exc:
        error = str(exc)
    runs = [{"scenario": r["scenario"], "samples": r["samples"],
             "objectives": [o for o in r["objectives"] if o["plan"] == plan_id],
             "tasks": [t for t in r["tasks"] if t["plan"] == plan_id]} for r in reports]
    # Named by title, as the plan page names them: the ids are the file's, not the reader's.
    return fragment(request, "_risk.html", actor, runs=runs, error=error,
                    format_time=format_time,
                    tasks={x["id"]: x for x in plan.get("tasks", [])},
                    objectives={x["id"]: x for x in plan.get("objectives", [])},
                    titles={s["id"]: s["title"] for s in view["scenarios"]})
