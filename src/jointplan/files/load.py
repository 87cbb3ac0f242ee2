"""Read a workspace: every file, every check, every problem reported together.

A workspace is read from a folder or from files given as bytes (the server's
stored documents); both go through one reader, so the CLI and the server can
never disagree on what a file means. Each file is read on its own into a
``Piece``, which a caller may keep and reuse; the checks that span files run
on the pieces together.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Observation, Plan, Workspace
from .build import Locator, Refs, Where, read_observations, read_plan, read_workspace
from .convert import Reader, shown
from .problems import InvalidWorkspace, Problem
from .yamlread import Pos, ReadError, YMap, read_document, read_file

SUFFIXES = (".yaml", ".yml", ".json")
PRIOR_TOLERANCE = 0.001


@dataclass(frozen=True)
class Loaded:
    workspace: Workspace
    locator: Locator


def workspace_files(folder: Path) -> list[Path]:
    """The files of a workspace folder, in name order."""
    return sorted(p for p in folder.iterdir()
                  if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith("."))


@dataclass(frozen=True)
class Piece:
    """One file once read, before the checks that span files (reusable across reads)."""

    name: str
    kind: str | None
    """workspace, plan or observations; None when the file could not be read as one."""
    pos: Pos
    problems: tuple[Problem, ...]
    joint: dict[str, Any] | None = None
    plan: Plan | None = None
    observations: tuple[Observation, ...] = ()
    refs: tuple[tuple[str, str, str, Pos, str], ...] = ()
    places: dict[tuple[str, ...], Where] = field(default_factory=dict)
    pending: tuple[tuple[str, Any], ...] = ()


def read_source(name: str, data: bytes) -> Piece:
    """One file given as bytes, named as the user knows it (``.json`` names read as JSON)."""
    return _piece(name, lambda: read_document(data, is_json=name.endswith(".json")))


def read_path(path: Path) -> Piece:
    """One file on disk; its size is checked before it is read."""
    return _piece(str(path), lambda: read_file(path))


def load_sources(sources: Iterable[tuple[str, bytes]], *, where: str = "(upload)") -> Loaded:
    """The workspace in files given as (name, bytes); ``where`` names the whole set."""
    return load_pieces([read_source(name, data) for name, data in sources], where=where)


def load_workspace(folder: str | Path) -> Loaded:
    """The workspace in ``folder``, or InvalidWorkspace with every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidWorkspace([Problem(str(folder), 1, 1, "no such folder")])
    return load_pieces([read_path(p) for p in workspace_files(folder)], where=str(folder))


def _piece(name: str, read: Callable[[], Any]) -> Piece:
    problems: list[Problem] = []
    reader = Reader(name, problems)
    try:
        doc = read()
    except ReadError as exc:
        return Piece(name, None, (1, 1), (Problem(name, exc.line, exc.column, exc.message),))
    except OSError as exc:
        return Piece(name, None, (1, 1),
                     (Problem(name, 1, 1, f"cannot read the file: {exc.strerror}"),))
    kind = _header(reader, doc)
    pos: Pos = getattr(doc, "pos", (1, 1))
    refs = Refs()
    if kind == "workspace":
        joint = read_workspace(reader, doc, refs)
        return Piece(name, kind, pos, tuple(problems), joint=joint, refs=tuple(refs.items))
    if kind == "plan":
        locator = Locator()
        pending: list[tuple[str, Any]] = []
        plan = read_plan(reader, doc, refs, locator, pending)
        return Piece(name, kind, pos, tuple(problems), plan=plan, refs=tuple(refs.items),
                     places=locator.places, pending=tuple(pending))
    if kind == "observations":
        observations = read_observations(reader, doc, refs)
        return Piece(name, kind, pos, tuple(problems), observations=tuple(observations),
                     refs=tuple(refs.items))
    return Piece(name, None, pos, tuple(problems))


def load_pieces(pieces: Sequence[Piece], *, where: str) -> Loaded:
    """The workspace of files already read (in name order), checked as a whole."""
    problems: list[Problem] = []
    refs = Refs()
    locator = Locator()
    pending: list[tuple[str, Any]] = []
    joint: dict[str, Any] | None = None
    joint_file = ""
    plans: list[Plan] = []
    plan_files: dict[str, str] = {}
    observations: list[Observation] = []
    unknown_kind = False  # a file that may have been meant as the workspace file
    for piece in pieces:
        if piece.kind is None:
            problems.extend(piece.problems)
            unknown_kind = True
        elif piece.kind == "workspace":
            if joint is not None:
                problems.append(Problem(piece.name, piece.pos[0], piece.pos[1],
                                        "a second workspace file; a folder holds one, and "
                                        f"{Path(joint_file).name} is the first"))
                continue
            problems.extend(piece.problems)
            refs.items.extend(piece.refs)
            joint, joint_file = piece.joint, piece.name
        elif piece.kind == "plan":
            problems.extend(piece.problems)
            refs.items.extend(piece.refs)
            locator.places.update(piece.places)
            pending.extend(piece.pending)
            plan = piece.plan
            if plan is None:
                continue
            if plan.id in plan_files:
                problems.append(locator.problem(
                    ("plan", plan.id), f"the plan id {plan.id!r} is already used by "
                    f"{Path(plan_files[plan.id]).name}; give each plan its own id"))
                continue
            plan_files[plan.id] = piece.name
            plans.append(plan)
        else:
            problems.extend(piece.problems)
            refs.items.extend(piece.refs)
            observations.extend(piece.observations)
    if joint is None:
        if not unknown_kind:
            problems.append(Problem(where, 1, 1, "no workspace file: one file must "
                                    "start with `jointplan: 1` and `kind: workspace`"))
        raise InvalidWorkspace(problems)
    _check_joint(joint, joint_file, problems)
    _check_refs(joint, refs, problems)
    workspace = Workspace(joint["id"], joint["title"], tuple(joint["partners"]),
                          tuple(joint["areas"]), tuple(joint["resources"]),
                          tuple(joint["scenarios"]), tuple(joint["indicators"]),
                          tuple(plans), tuple(observations))
    _check_pending(workspace, locator, pending, problems)
    _check_cycles(workspace, locator, problems)
    if problems:
        raise InvalidWorkspace(problems)
    return Loaded(workspace, locator)


def _header(r: Reader, doc: Any) -> str | None:
    """The file's kind, or None with the problem recorded."""
    if doc is None:
        r.error((1, 1), "the file is empty; it must start with `jointplan: 1` and `kind:`")
        return None
    if not isinstance(doc, YMap):
        r.error(getattr(doc, "pos", (1, 1)), "a file must be a mapping of keys to values "
                "that starts with `jointplan: 1` and `kind:`; this one is "
                + ("a list" if isinstance(doc, list) else f"the single value {shown(doc)}"))
        return None
    if "jointplan" not in doc:
        r.error(doc.pos, "missing `jointplan: 1` (the format version) at the top of the file")
        return None
    version = doc["jointplan"]
    if version.__class__ is not int or version != 1:
        r.error(doc.valpos["jointplan"], "`jointplan` is the format version, the number 1; "
                f"got {shown(version)} (this reader reads version 1)")
        return None
    kind = doc.get("kind")
    if kind is None and "kind" not in doc:
        r.error(doc.pos, "missing `kind:` (workspace, plan or observations)")
        return None
    if kind not in ("workspace", "plan", "observations"):
        r.error(doc.valpos["kind"], "`kind` must be workspace, plan or observations; got "
                + shown(kind))
        return None
    return str(kind)


def _check_joint(joint: dict[str, Any], file: str, problems: list[Problem]) -> None:
    """The scenarios form a tree with priors that sum to 1; indicators cover the top."""
    scenarios = {s.id: s for s in joint["scenarios"]}
    in_cycle: set[str] = set()
    for s in joint["scenarios"]:  # the parent chain must end at the top
        chain = [s.id]
        parent = s.parent
        while parent is not None and parent in scenarios and parent not in in_cycle:
            if parent in chain:
                cycle = chain[chain.index(parent):]
                in_cycle.update(cycle)
                line, col = joint["parent_pos"][chain[-1]]
                if len(cycle) == 1:
                    message = (f"scenario {s.id!r} names itself as its parent; a top-level "
                               "scenario has no `parent`")
                else:
                    message = ("scenario parents form a cycle: " + " -> ".join(cycle + [parent])
                               + " (each arrow points to a parent); the scenarios must form "
                               "a tree")
                problems.append(Problem(file, line, col, message))
                break
            chain.append(parent)
            parent = scenarios[parent].parent
    groups: dict[str | None, list[Any]] = {}
    for s in joint["scenarios"]:
        groups.setdefault(s.parent, []).append(s)
    for parent, group in groups.items():
        if parent is not None and (parent not in scenarios or parent in in_cycle):
            continue
        if any(s.id in joint["bad_priors"] for s in group):
            continue  # already reported
        total = sum(s.prior for s in group)
        if abs(total - 1) > PRIOR_TOLERANCE:
            line, col = joint["prior_pos"][group[0].id]
            whose = "the top-level scenarios" if parent is None else f"the children of {parent!r}"
            problems.append(Problem(file, line, col, f"the priors of {whose} ("
                                    + ", ".join(s.id for s in group)
                                    + f") sum to {total:g}; they must sum to 1"))
    top = [s.id for s in joint["scenarios"] if s.parent is None]
    for ind in joint["indicators"]:
        if ind.id not in joint["indicator_pos"]:
            continue  # its likelihood is wrong and already reported
        missing = [s for s in top if s not in joint["indicator_named"][ind.id]]
        if missing:
            line, col = joint["indicator_pos"][ind.id]
            problems.append(Problem(file, line, col, f"indicator {ind.id!r}: likelihood must "
                                    "name every top-level scenario; add "
                                    + ", ".join(missing)))


def _check_refs(joint: dict[str, Any], refs: Refs, problems: list[Problem]) -> None:
    """Every partner, scenario, resource, area and indicator named exists in the workspace."""
    known = {
        "partner": {p.code for p in joint["partners"]},
        "scenario": {s.id for s in joint["scenarios"]},
        "resource": {r.id for r in joint["resources"]},
        "area": {a.id for a in joint["areas"]},
        "indicator": {i.id for i in joint["indicators"]},
    }
    for kind, target, file, pos, what in refs.items:
        if target not in known[kind]:
            names = sorted(known[kind])
            close = difflib.get_close_matches(target, names, n=1)
            if close:
                hint = f"did you mean {close[0]!r}?"
            else:
                hint = "known: " + (", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
                                    if names else "none")
            problems.append(Problem(file, pos[0], pos[1], f"{what}: no {kind} {target!r} in "
                                    f"the workspace; {hint}"))


def _check_pending(ws: Workspace, locator: Locator, pending: list[tuple[str, Any]],
                   problems: list[Problem]) -> None:
    """`after` names a task and `answers` an expectation addressed to the provision's owner.

    A task or expectation that was written but could not be read is left out of
    the model with its own problem; a reference to it is not reported again.
    """
    plans = {p.id: p for p in ws.plans}
    tasks = {p.id: {t.id for t in p.tasks} for p in ws.plans}
    for kind, data in pending:
        if kind == "after":
            pid, tid, ref, file, pos = data
            other, _, name = ref.rpartition("/")
            other = other or pid
            if other == pid and name == tid:
                problems.append(Problem(file, pos[0], pos[1], f"task {tid!r} cannot come "
                                        "after itself; remove it from its `after`"))
            elif other not in tasks or name not in tasks[other]:
                if ("task", other, name) in locator.places:
                    continue
                # The same words as for a task the owner may not see (sharing.references).
                problems.append(Problem(file, pos[0], pos[1], f"task {tid!r}: after {ref!r}: "
                                        "no such task"))
        else:
            pid, owner, vid, to, (eplan, eid), file, pos = data
            target = plans.get(eplan)
            exp = next((e for e in target.expects if e.id == eid), None) if target else None
            if exp is None:
                if ("expectation", eplan, eid) not in locator.places:
                    problems.append(Problem(file, pos[0], pos[1], f"provision {vid!r}: answers "
                                            f"'{eplan}/{eid}': no such expectation"))
            elif target is not None and (target.owner != to or exp.from_ != owner):
                problems.append(Problem(file, pos[0], pos[1], f"provision {vid!r}: answers "
                                        f"'{eplan}/{eid}', an expectation of "
                                        f"{target.owner} addressed to {exp.from_}; a provision "
                                        f"answers only what its `to` partner ({to}) expects "
                                        f"of its owner ({owner})"))


def _check_cycles(ws: Workspace, locator: Locator, problems: list[Problem]) -> None:
    """Report each dependency cycle once, with its path, at the `after` that closes it."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for plan in ws.plans:
        for t in plan.tasks:
            edges[f"{plan.id}/{t.id}"] = [
                (a if "/" in a else f"{plan.id}/{a}", i) for i, a in enumerate(t.after)]
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for root in edges:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i >= len(edges[node]):
                state[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, i + 1)
            nxt, index = edges[node][i]
            if nxt == node or nxt not in edges:
                continue  # reported by _check_pending
            if state.get(nxt) == 1:
                path = [n for n, _ in stack]
                cycle = path[path.index(nxt):] + [nxt]
                plan_id, task_id = node.split("/")
                problems.append(locator.problem(
                    ("after", plan_id, task_id, str(index)),
                    "dependency cycle: " + " after ".join(cycle)
                    + "; a task cannot wait for itself, so remove one of these `after` entries"))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, 0))
