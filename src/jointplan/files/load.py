"""Read a workspace folder: every file, every check, every problem reported together."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import Observation, Plan, Workspace
from .build import Locator, Refs, read_observations, read_plan, read_workspace
from .convert import Reader
from .problems import InvalidWorkspace, Problem
from .yamlread import ReadError, YMap, read_document

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


@contextmanager
def _no_gc() -> Any:
    # Reading builds millions of small objects that all stay alive; the cyclic
    # collector would rescan them over and over and find nothing to free.
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_workspace(folder: str | Path) -> Loaded:
    """The workspace in ``folder``, or InvalidWorkspace with every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidWorkspace([Problem(str(folder), 1, 1, "no such folder")])
    with _no_gc():
        return _load(folder)


def _load(folder: Path) -> Loaded:
    problems: list[Problem] = []
    refs = Refs()
    locator = Locator()
    pending: list[tuple[str, Any]] = []
    joint: dict[str, Any] | None = None
    joint_file: str | None = None
    plans: list[Plan] = []
    observations: list[Observation] = []
    files = workspace_files(folder)
    for path in files:
        name = str(path)
        reader = Reader(name, problems)
        try:
            doc = read_document(path.read_bytes(), is_json=path.suffix == ".json")
        except ReadError as exc:
            problems.append(Problem(name, exc.line, exc.column, exc.message))
            continue
        except OSError as exc:
            problems.append(Problem(name, 1, 1, f"cannot read the file: {exc.strerror}"))
            continue
        kind = _header(reader, doc)
        if kind == "workspace":
            if joint is not None:
                reader.error(doc.pos, f"a second workspace file; {joint_file} is the first")
                continue
            joint, joint_file = read_workspace(reader, doc, refs), name
        elif kind == "plan":
            plan = read_plan(reader, doc, refs, locator, pending)
            if plan is not None:
                plans.append(plan)
        elif kind == "observations":
            observations.extend(read_observations(reader, doc, refs))
    if joint is None:
        if not any(p.file == str(f) for p in problems for f in files):
            problems.append(Problem(str(folder), 1, 1, "no workspace file: one file must "
                                    "start with `jointplan: 1` and `kind: workspace`"))
        raise InvalidWorkspace(problems)
    _check_joint(joint, joint_file or "", problems)
    _check_plans(plans, locator, problems)
    _check_refs(joint, plans, refs, problems)
    workspace = Workspace(joint["id"], joint["title"], tuple(joint["partners"]),
                          tuple(joint["areas"]), tuple(joint["resources"]),
                          tuple(joint["scenarios"]), tuple(joint["indicators"]),
                          tuple(plans), tuple(observations))
    _check_pending(workspace, pending, problems)
    if not problems:
        _check_cycles(workspace, locator, problems)
    if problems:
        raise InvalidWorkspace(problems)
    return Loaded(workspace, locator)


def _header(r: Reader, doc: Any) -> str | None:
    if not isinstance(doc, YMap):
        r.error(getattr(doc, "pos", (1, 1)),
                "a file must be a mapping that starts with `jointplan: 1` and `kind:`")
        return None
    if "jointplan" not in doc:
        r.error(doc.pos, "missing `jointplan: 1` (the format version)")
        return None
    if doc["jointplan"] != 1 or isinstance(doc["jointplan"], bool):
        r.error(doc.valpos["jointplan"], f"format version {doc['jointplan']!r} is not "
                "supported; this is version 1 (`jointplan: 1`)")
        return None
    kind = doc.get("kind")
    if kind not in ("workspace", "plan", "observations"):
        r.error(doc.valpos.get("kind", doc.pos), f"`kind` must be workspace, plan or "
                f"observations; got {kind!r}")
        return None
    return str(kind)


def _check_joint(joint: dict[str, Any], file: str, problems: list[Problem]) -> None:
    scenarios = {s.id: s for s in joint["scenarios"]}
    for s in joint["scenarios"]:  # the parent chain must end at the top
        seen = {s.id}
        parent = s.parent
        while parent is not None and parent in scenarios:
            if parent in seen:
                line, col = joint["scenario_pos"][s.id]
                problems.append(Problem(file, line, col, f"scenario {s.id!r} is its own "
                                        "ancestor; the scenarios must form a tree"))
                break
            seen.add(parent)
            parent = scenarios[parent].parent
    groups: dict[str | None, list[Any]] = {}
    for s in joint["scenarios"]:
        groups.setdefault(s.parent, []).append(s)
    for parent, group in groups.items():
        if parent is not None and parent not in scenarios:
            continue
        total = sum(s.prior for s in group)
        if abs(total - 1) > PRIOR_TOLERANCE:
            line, col = joint["prior_pos"][group[0].id]
            whose = "the top-level scenarios" if parent is None else f"the children of {parent!r}"
            problems.append(Problem(file, line, col, f"the priors of {whose} ("
                                    + ", ".join(s.id for s in group)
                                    + f") sum to {total:g}; they must sum to 1"))
    top = [s.id for s in joint["scenarios"] if s.parent is None]
    for ind in joint["indicators"]:
        missing = [s for s in top if s not in ind.likelihood]
        if missing:
            line, col = joint["indicator_pos"][ind.id]
            problems.append(Problem(file, line, col, f"indicator {ind.id!r}: likelihood must "
                                    "name every top-level scenario; missing "
                                    + ", ".join(missing)))


def _check_plans(plans: list[Plan], locator: Locator, problems: list[Problem]) -> None:
    seen: dict[str, Plan] = {}
    for plan in plans:
        if plan.id in seen:
            problems.append(locator.problem(("plan", plan.id),
                                            f"the plan id {plan.id!r} is used by two files"))
        seen[plan.id] = plan


def _check_refs(joint: dict[str, Any], plans: list[Plan], refs: Refs,
                problems: list[Problem]) -> None:
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
            listed = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            problems.append(Problem(file, pos[0], pos[1], f"{what}: no {kind} {target!r} in "
                                    f"the workspace (known: {listed or 'none'})"))


def _check_pending(ws: Workspace, pending: list[tuple[str, Any]],
                   problems: list[Problem]) -> None:
    plans = {p.id: p for p in ws.plans}
    tasks = {p.id: {t.id for t in p.tasks} for p in ws.plans}
    for kind, data in pending:
        if kind == "after":
            pid, tid, ref, file, pos = data
            other, _, name = ref.rpartition("/")
            other = other or pid
            if other not in tasks or name not in tasks[other]:
                problems.append(Problem(file, pos[0], pos[1], f"task {tid!r}: after {ref!r}: "
                                        "no such task"))
            elif other == pid and name == tid:
                problems.append(Problem(file, pos[0], pos[1], f"task {tid!r} cannot come "
                                        "after itself"))
        else:
            pid, owner, vid, to, (eplan, eid), file, pos = data
            target = plans.get(eplan)
            exp = next((e for e in target.expects if e.id == eid), None) if target else None
            if exp is None:
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
            if state.get(nxt) == 1:
                path = [n for n, _ in stack]
                cycle = path[path.index(nxt):] + [nxt]
                plan_id, task_id = node.split("/")
                problems.append(locator.problem(
                    ("after", plan_id, task_id, str(index)),
                    "dependency cycle: " + " -> ".join(reversed(cycle))
                    + " (each task waits for the one after it in this list to finish)"
                    if False else "dependency cycle: " + " after ".join(cycle)))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, 0))
