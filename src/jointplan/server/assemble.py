"""Build the model of the stored workspace: the joint part, current plans, observations.

Stored documents are read from memory by the same reader the CLI uses for a
folder (`files.load_sources`), so the server and `jointplan check` can never
disagree on what a file means. Each stored document is read once: with a
``Pieces`` cache, ``read_sources`` reuses every file read before with the same
name and bytes and reads only the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..files import Loaded, Piece, load_pieces, read_source

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


class Pieces:
    """Files already read, by name and content: a stored document is read once.

    Bounded (least recently used first out) and safe to share between threads.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._pieces: OrderedDict[tuple[str, bytes], Piece] = OrderedDict()
        self.reads = 0
        """How many files were read rather than found (for tests and benchmarks)."""

    def peek(self, source: Source) -> Piece | None:
        """The file as read before, or None (never reads it)."""
        key = (source.name, hashlib.sha256(source.data).digest())
        with self._lock:
            return self._pieces.get(key)

    def put(self, source: Source, piece: Piece) -> None:
        """Keep ``piece`` as what reading ``source`` gives (made from another read)."""
        key = (source.name, hashlib.sha256(source.data).digest())
        with self._lock:
            self._pieces[key] = piece
            while len(self._pieces) > self.size:
                self._pieces.popitem(last=False)

    def get(self, source: Source) -> Piece:
        key = (source.name, hashlib.sha256(source.data).digest())
        with self._lock:
            piece = self._pieces.get(key)
            if piece is not None:
                self._pieces.move_to_end(key)
                return piece
        piece = read_source(source.name, source.data)
        with self._lock:
            self.reads += 1
            self._pieces[key] = piece
            while len(self._pieces) > self.size:
                self._pieces.popitem(last=False)
        return piece


def without_references(piece: Piece, name: str) -> Piece:
    """A plan's piece as reading it without `after` and `answers` gives, from its piece read
    with them (see `lapsing.strip_documents`), named ``name``: the stored model reads each
    plan so, and a write has just read the plan it stores with them. Positions are those of
    the file read (a stored document's positions are never shown: it was checked before it
    was stored)."""
    plan = piece.plan
    assert piece.kind == "plan" and plan is not None and not piece.problems
    old = piece.name

    def renamed(where: tuple[str, int, int]) -> tuple[str, int, int]:
        return (name, where[1], where[2]) if where[0] == old else where

    tasks = tuple(replace(t, after=()) if t.after else t for t in plan.tasks)
    provides = tuple(replace(v, answers=None) if v.answers else v for v in plan.provides)
    return replace(piece, name=name, plan=replace(plan, tasks=tasks, provides=provides),
                   refs=tuple((k, t, name if f == old else f, pos, w)
                              for k, t, f, pos, w in piece.refs),
                   places={k: renamed(w) for k, w in piece.places.items() if k[0] != "after"},
                   pending=tuple(x for x in piece.pending if x[0] not in ("after", "answers")))


def read_sources(sources: Sequence[Source], pieces: Pieces | None = None) -> Loaded:
    """Read files given as bytes; problems name each file as the user named it.

    References are checked as the format alone says (they must exist); what
    sharing makes of them is decided by the caller (see ``lapsing``). With
    ``pieces``, a file read before with the same name and bytes is not read again.
    """
    return load_pieces([pieces.get(s) if pieces is not None else read_source(s.name, s.data)
                        for s in sources], where="(upload)")


def read_with_joint(sources: Sequence[Source], pieces: Pieces) -> Loaded:
    """`read_sources` of the joint part (the first source) and observations: the joint part
    through ``pieces``, the observations afresh. They change with every observation, so
    keeping them would only push the plans' reads out of ``pieces``."""
    return load_pieces([pieces.get(sources[0]),
                        *(read_source(s.name, s.data) for s in sources[1:])], where="(upload)")


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
