"""References that lapse: what a partner wrote towards something it can no longer see.

Shares change and sharing never binds. An `after` or `answers` written by
one partner holds only while that partner may see its target (for `after`,
the task's `start` and `duration`); otherwise it is treated as absent, and it
revives when the target is visible again. A dependency cycle that an import
closed through something the importer may not see is broken by lapsing
edges the importer could not see (``judge_cycles``); ``resolve`` keeps those
breaks only while restoring the edge would close a cycle again.

The functions here take a workspace whose plans hold no cross-references
(``without_references``) and the references as written, so that reading a
stored workspace never fails on what sharing made invisible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..model import Plan, Workspace
from .rules import Rules

AFTER = "after"
ANSWERS = "answers"


@dataclass(frozen=True, order=True)
class Reference:
    """One `after` entry of a task or the `answers` of a provision, as its owner wrote it."""

    plan: str
    item: str
    field: str
    index: int
    target: str
    owner: str

    @property
    def local(self) -> bool:
        """An `after` within its own plan: its owner always sees it."""
        other, _, _ = self.target.rpartition("/")
        return self.field == AFTER and other in ("", self.plan)

    @property
    def source(self) -> str:
        return f"{self.plan}/{self.item}"

    @property
    def node(self) -> str:
        """For an `after`: the task it waits for, as ``PLAN/TASK``."""
        other, _, name = self.target.rpartition("/")
        return f"{other or self.plan}/{name}"

    def as_list(self) -> list[object]:
        return [self.plan, self.item, self.field, self.index, self.target, self.owner]

    @classmethod
    def of(cls, row: Sequence[object]) -> Reference:
        plan, item, field, index, target, owner = row
        return cls(str(plan), str(item), str(field), int(str(index)), str(target), str(owner))

    def lapsed_notice(self) -> str:
        """What its owner is told: its own object and the target as it wrote it, nothing else."""
        what = "task" if self.field == AFTER else "provision"
        return (f"In {self.plan}, {what} {self.item!r}: `{self.field}: {self.target}` has "
                "lapsed: it counts as absent until it holds again.")

    def revived_notice(self) -> str:
        what = "task" if self.field == AFTER else "provision"
        return f"In {self.plan}, {what} {self.item!r}: `{self.field}: {self.target}` holds again."


@dataclass(frozen=True)
class Resolved:
    """A workspace with the references that hold, and those that lapsed."""

    workspace: Workspace
    lapsed: tuple[Reference, ...]


def references(workspace: Workspace, plans: Iterable[str] | None = None) -> list[Reference]:
    """Every `after` and `answers` written in the plans named (all by default)."""
    wanted = None if plans is None else set(plans)
    out: list[Reference] = []
    for plan in workspace.plans:
        if wanted is not None and plan.id not in wanted:
            continue
        for task in plan.tasks:
            out.extend(Reference(plan.id, task.id, AFTER, i, ref, plan.owner)
                       for i, ref in enumerate(task.after))
        for v in plan.provides:
            if v.answers is not None:
                out.append(Reference(plan.id, v.id, ANSWERS, 0, v.answers, plan.owner))
    return out


def without_references(workspace: Workspace, plans: Iterable[str]) -> Workspace:
    """The workspace with every `after` and `answers` of the plans named removed."""
    wanted = set(plans)

    def bare(plan: Plan) -> Plan:
        return replace(plan, tasks=tuple(replace(t, after=()) if t.after else t
                                         for t in plan.tasks),
                       provides=tuple(replace(v, answers=None) if v.answers else v
                                      for v in plan.provides))

    return replace(workspace, plans=tuple(bare(p) if p.id in wanted else p
                                          for p in workspace.plans), _index={})


class Index:
    """Plans, tasks, expectations and provisions by id, built once per workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.plans = {p.id: p for p in workspace.plans}
        self.tasks = {(p.id, t.id): t for p in workspace.plans for t in p.tasks}
        self.expects = {(p.id, e.id): e for p in workspace.plans for e in p.expects}
        self.provides = {(p.id, v.id): v for p in workspace.plans for v in p.provides}


def holds(rules: Rules, ref: Reference, index: Index | None = None) -> bool:
    """Whether the target exists and the reference's owner may see it."""
    index = index or Index(rules.workspace)
    other, _, name = ref.target.rpartition("/")
    target = index.plans.get(other or ref.plan)
    if target is None:
        return False
    if ref.field == AFTER:
        task = index.tasks.get((target.id, name))
        if ref.local:
            return task is not None and name != ref.item
        return task is not None and bool(
            rules.sees_fields(ref.owner, target, task, ("start", "duration")))
    provision = index.provides[(ref.plan, ref.item)]
    exp = index.expects.get((target.id, name))
    return (exp is not None and target.owner == provision.to and exp.from_ == ref.owner
            and bool(rules.sees(ref.owner, target, exp)))


def restore(workspace: Workspace, refs: Iterable[Reference]) -> Workspace:
    """Put references back into a workspace without them, each list in its written order."""
    after: dict[tuple[str, str], list[Reference]] = {}
    answers: dict[tuple[str, str], str] = {}
    for ref in refs:
        if ref.field == AFTER:
            after.setdefault((ref.plan, ref.item), []).append(ref)
        else:
            answers[(ref.plan, ref.item)] = ref.target
    touched = {p for p, _ in after} | {p for p, _ in answers}
    plans = []
    for plan in workspace.plans:
        if plan.id not in touched:
            plans.append(plan)
            continue
        tasks = tuple(
            replace(t, after=tuple(r.target for r in sorted(after[(plan.id, t.id)],
                                                            key=lambda r: r.index)))
            if (plan.id, t.id) in after else t for t in plan.tasks)
        provides = tuple(replace(v, answers=answers[(plan.id, v.id)])
                         if (plan.id, v.id) in answers else v for v in plan.provides)
        plans.append(replace(plan, tasks=tasks, provides=provides))
    return replace(workspace, plans=tuple(plans), _index={})


# -- dependency cycles --------------------------------------------------------------


def find_cycle(edges: dict[str, list[Reference]]) -> list[Reference] | None:
    """One dependency cycle as the `after` references along it, or None.

    ``edges`` maps ``PLAN/TASK`` to the `after` references of that task.
    Deterministic: nodes are visited in the mapping's order.
    """
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for root in edges:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        via: list[Reference] = []
        state[root] = 1
        while stack:
            node, i = stack[-1]
            out = edges.get(node, [])
            if i >= len(out):
                state[node] = 2
                stack.pop()
                if via:
                    via.pop()
                continue
            stack[-1] = (node, i + 1)
            ref = out[i]
            nxt = ref.node
            if state.get(nxt) == 1:
                start = next(k for k, (n, _) in enumerate(stack) if n == nxt)
                return via[start:] + [ref]
            if nxt not in state:
                state[nxt] = 1
                stack.append((nxt, 0))
                via.append(ref)
    return None


def _graph(live: Iterable[Reference]) -> dict[str, list[Reference]]:
    edges: dict[str, list[Reference]] = {}
    for ref in live:
        if ref.field == AFTER:
            edges.setdefault(ref.source, []).append(ref)
    return edges


def _reaches(edges: dict[str, list[Reference]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for ref in edges.get(node, []):
            if ref.node not in seen:
                seen.add(ref.node)
                todo.append(ref.node)
    return False


def live_references(workspace: Workspace, written: Sequence[Reference],
                    breaks: Sequence[Reference] = ()) -> tuple[list[Reference], list[Reference]]:
    """The written references that hold and those that lapse, before any cycle is broken.

    A reference in ``breaks`` (an edge an import lapsed to break a cycle)
    stays lapsed only while it lies on a cycle of the edges that hold.
    """
    rules, index = Rules(workspace), Index(workspace)
    broken = set(breaks)
    live: list[Reference] = []
    lapsed: list[Reference] = []
    for ref in written:
        if not holds(rules, ref, index):
            lapsed.append(ref)
        elif ref not in broken:
            live.append(ref)
    known = set(written)
    waiting = [r for r in dict.fromkeys(breaks) if r in known and holds(rules, r, index)]
    full = _graph([*live, *waiting])
    for ref in waiting:
        if _reaches(full, ref.node, ref.source):  # restoring it would close a cycle again
            lapsed.append(ref)
        else:
            live.append(ref)
    return live, lapsed


def resolve(workspace: Workspace, written: Sequence[Reference],
            breaks: Sequence[Reference] = ()) -> Resolved:
    """The workspace with each written reference that holds put back; the rest lapse.

    ``workspace`` holds none of ``written``. Any cycle left, however it came
    about, is broken by lapsing its cross-plan edges: reading what is stored
    never fails.
    """
    live, lapsed = live_references(workspace, written, breaks)
    edges = _graph(live)
    while (cycle := find_cycle(edges)) is not None:
        cut = [r for r in cycle if not r.local] or cycle
        for ref in cut:
            edges[ref.source].remove(ref)
            live.remove(ref)
            lapsed.append(ref)
    return Resolved(restore(workspace, live), tuple(sorted(set(lapsed))))


def edge_seen(rules: Rules, viewer: str, ref: Reference, index: Index | None = None) -> bool:
    """Whether the viewer sees an `after` edge: the task, its `after`, and the target."""
    index = index or Index(rules.workspace)
    plan = index.plans[ref.plan]
    if not rules.sees_fields(viewer, plan, index.tasks[(ref.plan, ref.item)], (AFTER,)):
        return False
    pid, _, tid = ref.node.partition("/")
    return bool(rules.sees(viewer, index.plans[pid], index.tasks[(pid, tid)]))


@dataclass(frozen=True)
class Judgement:
    """What an import's `after` edges do to cycles, judged as the importer sees them."""

    refused: tuple[tuple[Reference, ...], ...]
    """Cycles the importer sees whole, each starting at one of the importer's own edges."""
    breaks: tuple[Reference, ...]
    """Others' edges that lapse to break cycles the importer cannot see whole."""


def judge_cycles(workspace: Workspace, live: Sequence[Reference], importer: str) -> Judgement:
    """Cycles among ``live`` edges (of ``workspace``, which holds them) as the importer sees them.

    A cycle every task and edge of which the importer sees is refused and
    told to it; any other is broken by lapsing each cross-plan edge of it
    whose owner is not the importer and which the importer cannot see (or,
    where there is none, every cross-plan edge of it not the importer's).
    """
    rules, index = Rules(workspace), Index(workspace)
    edges = _graph(live)
    refused: list[tuple[Reference, ...]] = []
    breaks: list[Reference] = []
    while (cycle := find_cycle(edges)) is not None:
        seen = [edge_seen(rules, importer, r, index) for r in cycle]
        if all(seen):
            own = next((k for k, r in enumerate(cycle) if r.owner == importer), 0)
            refused.append(tuple(cycle[own:] + cycle[:own]))
            cut = [cycle[own]]
        else:
            cut = [r for r, s in zip(cycle, seen, strict=True)
                   if not r.local and r.owner != importer and not s]
            cut = cut or [r for r in cycle if not r.local and r.owner != importer] or cycle
            breaks.extend(cut)
        for ref in cut:
            edges[ref.source].remove(ref)
    return Judgement(tuple(refused), tuple(breaks))
