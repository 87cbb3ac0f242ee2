"""Stored references that lapse: read what is stored without ever failing on a share change.

Each stored plan is read without its `after` and `answers` entries, which
are then put back by the sharing gate only where they hold
(``sharing.lapse.resolve``). Edges an import lapsed to break a cycle are kept
under the setting ``lapse.breaks``; the references lapsed at the last write
under ``lapse.lapsed``, so that each write tells the owners of the references
that lapsed or revived with it, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from ..files import InvalidWorkspace, Loaded, Problem
from ..sharing import Rules
from ..sharing.lapse import (
    AFTER,
    ANSWERS,
    Index,
    Reference,
    Resolved,
    holds,
    judge_cycles,
    live_references,
    references,
    resolve,
    restore,
    without_references,
)
from ..store.tables import Notification, Setting
from .assemble import Pieces, Source, read_sources, stored_sources

BREAKS = "lapse.breaks"
LAPSED = "lapse.lapsed"


def strip_documents(plans: Iterable[dict[str, Any]]
                    ) -> tuple[list[dict[str, Any]], list[Reference]]:
    """Plan documents without `after` and `answers`, and those references as written."""
    docs: list[dict[str, Any]] = []
    refs: list[Reference] = []
    for plan in plans:
        doc = dict(plan)
        pid, owner = doc["id"], doc["owner"]
        if doc.get("tasks"):
            tasks = []
            for t in doc["tasks"]:
                if t.get("after"):
                    refs.extend(Reference(pid, t["id"], AFTER, i, a, owner)
                                for i, a in enumerate(t["after"]))
                    t = {k: v for k, v in t.items() if k != "after"}
                tasks.append(t)
            doc["tasks"] = tasks
        if doc.get("provides"):
            provides = []
            for v in doc["provides"]:
                if v.get("answers") is not None:
                    refs.append(Reference(pid, v["id"], ANSWERS, 0, v["answers"], owner))
                    v = {k: x for k, x in v.items() if k != "answers"}
                provides.append(v)
            doc["provides"] = provides
        docs.append(doc)
    return docs, refs


def stored_model(joint: dict[str, Any], plans: Sequence[dict[str, Any]],
                 observations: Sequence[dict[str, Any]],
                 breaks: Sequence[Reference] = (), *,
                 pieces: Pieces | None = None) -> tuple[Loaded, Resolved]:
    """The stored workspace with the references that hold; never fails on one that does not."""
    docs, written = strip_documents(plans)
    loaded = read_sources(stored_sources(joint, docs, observations), pieces)
    resolved = resolve(loaded.workspace, written, breaks)
    return Loaded(resolved.workspace, loaded.locator), resolved


def stored_breaks(session: Session) -> list[Reference]:
    row = session.get(Setting, BREAKS)
    return [Reference.of(r) for r in (row.value.get("references", []) if row else [])]


def add_breaks(session: Session, plan_ids: Iterable[str], new: Iterable[Reference]) -> None:
    """Record edges an import lapsed; forget those of plans their owners just stored anew."""
    fresh = set(plan_ids)
    kept = [r for r in stored_breaks(session) if r.plan not in fresh]
    kept += [r for r in new if r not in kept]
    _put(session, BREAKS, {"references": [r.as_list() for r in kept]})


def tell_owners(session: Session, resolved: Resolved) -> None:
    """Tell each owner of a reference that lapsed or revived since the last write, once."""
    row = session.get(Setting, LAPSED)
    before = {Reference.of(r) for r in (row.value.get("references", []) if row else [])}
    now = set(resolved.lapsed)
    for ref in sorted(now - before):
        session.add(Notification(partner=ref.owner, text=ref.lapsed_notice()))
    live = {(r.plan, r.item, r.field, r.target) for r in references(resolved.workspace)}
    for ref in sorted(before - now):
        if (ref.plan, ref.item, ref.field, ref.target) in live:  # not when its owner removed it
            session.add(Notification(partner=ref.owner, text=ref.revived_notice()))
    if now != before:
        _put(session, LAPSED, {"references": [r.as_list() for r in sorted(now)]})


def _put(session: Session, key: str, value: dict[str, Any]) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()


# -- judging an import as the importer sees the workspace ----------------------------


def judge_upload(joint: dict[str, Any], others: Sequence[dict[str, Any]],
                 observations: Sequence[dict[str, Any]],
                 uploads: Sequence[tuple[Source, dict[str, Any]]],
                 stored: dict[str, dict[str, Any]], importer: str,
                 breaks: Sequence[Reference], *,
                 pieces: Pieces | None = None) -> tuple[Resolved, list[Reference]]:
    """Check files a partner uploads against the workspace as it sees it, and nothing else.

    ``others`` are the stored plans not uploaded, ``stored`` the stored
    versions of the uploaded plans. A new reference to anything the importer
    may not see reads like one to nothing; one carried over from the stored
    version lapses instead, like any stored reference. Others' references
    never make the upload fail. A dependency cycle is refused only where the
    importer sees all of it; otherwise it is broken (see ``judge_cycles``).
    Returns the workspace as it will be stored and the edges lapsed to break
    cycles; raises InvalidWorkspace with the importer's own problems. With
    ``pieces`` (the hub's), the stored documents read before are not read again.
    """
    uploaded = {d["id"]: d for _, d in uploads if d.get("kind") == "plan"}
    bare, written = strip_documents(others)
    carried = _carried(uploaded, stored)
    files = _without_dangling(uploads, carried, [*others, *uploaded.values()])
    loaded = read_sources(stored_sources(joint, bare, observations) + files, pieces)
    ws, mine = loaded.workspace, set(uploaded)
    up_refs = references(ws, mine)
    base = without_references(ws, mine)
    rules, index = Rules(base), Index(base)
    problems = [_unseen(loaded, r) for r in up_refs
                if not holds(rules, r, index) and _key(r) not in carried]
    if problems:
        raise InvalidWorkspace(problems)
    kept = [r for r in breaks if r.plan not in mine]
    everything = [*written, *up_refs]
    live, _ = live_references(base, everything, kept)
    judgement = judge_cycles(restore(base, live), live, importer)
    if judgement.refused:
        raise InvalidWorkspace([_cycle_problem(loaded, files, c) for c in judgement.refused])
    new = list(judgement.breaks)
    return resolve(base, everything, [*kept, *new]), new


def _unseen(loaded: Loaded, ref: Reference) -> Problem:
    """A new reference to what the importer may not see: the reader's words for nothing."""
    if ref.field == AFTER:
        return _located(loaded, (AFTER, ref.plan, ref.item, str(ref.index)),
                        f"task {ref.item!r}: after {ref.target!r}: no such task")
    return _located(loaded, ("plan", ref.plan),
                    f"provision {ref.item!r}: answers {ref.target!r}: no such expectation")


def _key(ref: Reference) -> tuple[str, str, str, str]:
    return (ref.plan, ref.item, ref.field, ref.target)


def _carried(uploaded: dict[str, dict[str, Any]], stored: dict[str, dict[str, Any]]
             ) -> set[tuple[str, str, str, str]]:
    """References of the upload that its stored version already had."""
    present = [stored[k] for k in uploaded if k in stored]
    return {_key(r) for r in strip_documents(present)[1]}


def _without_dangling(uploads: Sequence[tuple[Source, dict[str, Any]]],
                      carried: set[tuple[str, str, str, str]],
                      plans: Sequence[dict[str, Any]]) -> list[Source]:
    """The files, with carried-over references to what no longer exists left out."""
    tasks = {(p["id"], t.get("id")) for p in plans for t in p.get("tasks") or []}
    expects = {(p["id"], e.get("id")): (p["owner"], e.get("from"))
               for p in plans for e in p.get("expects") or []}
    out = []
    for source, doc in uploads:
        if doc.get("kind") != "plan" or not carried:
            out.append(source)
            continue
        bare, refs = strip_documents([doc])
        offered = {v.get("id"): v.get("to") for v in doc.get("provides") or []}
        gone = set()
        for r in refs:
            other, _, name = r.target.rpartition("/")
            if _key(r) not in carried:
                continue
            exists = ((other or r.plan, name) in tasks if r.field == AFTER
                      else expects.get((other, name)) == (offered[r.item], r.owner))
            if not exists:
                gone.add(_key(r))
        if not gone:
            out.append(source)
            continue
        keep = [r for r in refs if _key(r) not in gone]
        out.append(Source(source.name, json.dumps(_put_back(bare[0], keep)).encode()))
    return out


def _put_back(doc: dict[str, Any], refs: Sequence[Reference]) -> dict[str, Any]:
    """A stripped plan document with the references given restored, in written order."""
    after: dict[str, list[Reference]] = {}
    answers = {r.item: r.target for r in refs if r.field == ANSWERS}
    for r in refs:
        if r.field == AFTER:
            after.setdefault(r.item, []).append(r)
    out = dict(doc)
    if "tasks" in out:
        out["tasks"] = [{**t, "after": [r.target for r in sorted(after[t["id"]],
                                                                 key=lambda r: r.index)]}
                        if t.get("id") in after else t for t in out["tasks"]]
    if "provides" in out:
        out["provides"] = [{**v, "answers": answers[v["id"]]} if v.get("id") in answers else v
                           for v in out["provides"]]
    return out


def _cycle_problem(loaded: Loaded, files: Sequence[Source],
                   cycle: Sequence[Reference]) -> Problem:
    """A cycle the importer sees whole, told at its own `after` that closes it."""
    names = [cycle[0].source] + [r.node for r in cycle]
    message = ("dependency cycle: " + " after ".join(names)
               + "; a task cannot wait for itself, so remove one of these `after` entries")
    first = cycle[0]
    key = (AFTER, first.plan, first.item, str(first.index))
    if key in loaded.locator.places:
        return _located(loaded, key, message)
    return Problem(files[0].name if files else "(upload)", 1, 1, message)


def _located(loaded: Loaded, key: tuple[str, ...], message: str) -> Problem:
    """A problem at a place the reader recorded, named as the user named the file."""
    p = loaded.locator.problem(key, message)
    return Problem(PurePath(p.file).name, p.line, p.column, p.message)
