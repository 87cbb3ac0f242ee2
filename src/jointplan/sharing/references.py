"""References that must respect sharing: a plan may only wait for what its owner may see."""

from __future__ import annotations

from ..files import Problem
from ..files.build import Locator
from ..model import Workspace
from .rules import Rules


def reference_problems(workspace: Workspace, locator: Locator) -> list[Problem]:
    """`PLAN/TASK` in `after` naming a task whose start and duration the owner may not see.

    Reported exactly like a task that does not exist, so that reading a
    partner's plan tells its author nothing about what is hidden.
    """
    rules = Rules(workspace)
    plans = {p.id: p for p in workspace.plans}
    tasks = {(p.id, t.id): t for p in workspace.plans for t in p.tasks}
    problems = []
    for plan in workspace.plans:
        for task in plan.tasks:
            for i, ref in enumerate(task.after):
                other, _, name = ref.rpartition("/")
                if not other or other == plan.id:
                    continue
                target = plans[other]
                if not rules.sees_fields(plan.owner, target, tasks[(other, name)],
                                         ("start", "duration")):
                    problems.append(locator.problem(
                        ("after", plan.id, task.id, str(i)),
                        f"task {task.id!r}: after {ref!r}: no such task"))
    return problems
