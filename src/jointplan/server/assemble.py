"""Build the model of the stored workspace: the joint part, current plans, observations.

Stored documents are written to a private temporary folder and read back
with the same reader the CLI uses, so the server and `jointplan check` can
never disagree on what a file means.
"""

from __future__ import annotations

import gc
import json
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import InvalidWorkspace, Loaded, Problem, load_workspace

JOINT_FILE = "00000000-workspace.json"
STORED_OBSERVATIONS = "00000001-observations.json"
UPLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(?:yaml|yml|json)")


@dataclass(frozen=True)
class Source:
    """One file to read: its name as the user knows it, and its bytes."""

    name: str
    data: bytes


def stored_sources(joint: dict[str, Any], plans: Iterable[dict[str, Any]],
                   observations: Sequence[dict[str, Any]]) -> list[Source]:
    out = [Source(JOINT_FILE, json.dumps(joint).encode())]
    for doc in plans:
        out.append(Source(f"00000002-plan-{doc['id']}.json", json.dumps(doc).encode()))
    if observations:
        out.append(Source(STORED_OBSERVATIONS, json.dumps(
            {"jointplan": 1, "kind": "observations", "observations": list(observations)}
        ).encode()))
    return out


def read_sources(sources: Sequence[Source]) -> Loaded:
    """Read files given as bytes; problems name each file as the user named it.

    References are checked as the format alone says (they must exist); what
    sharing makes of them is decided by the caller (see ``lapsing``).
    """
    with tempfile.TemporaryDirectory(prefix="jointplan-") as tmp:
        folder = Path(tmp)
        for source in sources:
            (folder / source.name).write_bytes(source.data)
        try:
            try:
                loaded = load_workspace(folder)
            finally:
                # The reader freezes what it read for the short-lived CLI; a server
                # lives on, so let the collector see those objects again.
                gc.unfreeze()
            return loaded
        except InvalidWorkspace as exc:
            raise InvalidWorkspace([_rename(p, folder) for p in exc.problems]) from None


def _rename(problem: Problem, folder: Path) -> Problem:
    name = problem.file
    prefix = str(folder) + "/"
    if name.startswith(prefix):
        name = name[len(prefix):]
    elif name == str(folder):
        name = "(upload)"
    message = problem.message.replace(prefix, "")
    return Problem(name, problem.line, problem.column, message)


def without_dangling(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored plans with references to tasks or expectations that no longer exist dropped.

    Only an owner changes its plan: when it removes a task another plan waits
    for, the other plan's reference lapses rather than blocking the change.
    """
    tasks = {(p["id"], t.get("id")) for p in plans for t in p.get("tasks", [])}
    expects = {(p["id"], e.get("id")): (p["owner"], e.get("from"))
               for p in plans for e in p.get("expects", [])}
    out = []
    for plan in plans:
        doc = dict(plan)
        if "tasks" in doc:
            new_tasks = []
            for t in doc["tasks"]:
                after = [a for a in t.get("after", [])
                         if "/" not in a or tuple(a.split("/", 1)) in tasks]
                if after != t.get("after", []):
                    t = {**t, "after": after}
                    if not after:
                        del t["after"]
                new_tasks.append(t)
            doc["tasks"] = new_tasks
        if "provides" in doc:
            provides = []
            for v in doc["provides"]:
                ref = v.get("answers")
                if ref is not None:
                    key = tuple(ref.split("/", 1)) if "/" in ref else None
                    if key not in expects or expects[key] != (v.get("to"), doc["owner"]):
                        v = {k: x for k, x in v.items() if k != "answers"}
                provides.append(v)
            doc["provides"] = provides
        out.append(doc)
    return out
