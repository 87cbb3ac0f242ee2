"""A small workspace for drills, and helpers to write exercises and logs beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_workspace

WORKSPACE = """\
jointplan: 1
kind: workspace
id: drill-ws
title: Drill workspace
partners:
  - {code: AAA, name: Alpha}
  - {code: BBB, name: Bravo}
  - {code: CCC, name: Charlie}
  - {code: DDD, name: Delta}
scenarios:
  - {id: calm, title: Calm, prior: 0.5}
  - {id: storm, title: Storm, prior: 0.5}
  - {id: storm-long, parent: storm, title: Long storm, prior: 0.5}
  - {id: storm-short, parent: storm, title: Short storm, prior: 0.5}
"""

AAA_PLAN = """\
jointplan: 1
kind: plan
id: aaa-plan
owner: AAA
title: Alpha's storm plan
scenarios: [storm]
share: [CCC, DDD]
objectives:
  - {id: safe, title: Everyone safe, by: T+1d}
  - {id: quiet, title: A quiet objective, by: T+1d, share: [DDD]}
tasks:
  - {id: a1, title: First, start: T+0h, duration: 2h, serves: [safe]}
  - {id: a2, title: Second, start: T+2h, duration: 2h}
  # CANARY: hidden from the controller CCC; an exercise may not name it.
  - {id: secret, title: Secret task, start: T+0h, duration: 1h, share: [DDD]}
"""

BBB_PLAN = """\
jointplan: 1
kind: plan
id: bbb-plan
owner: BBB
title: Bravo's storm plan
scenarios: [storm]
share: all
tasks:
  - {id: b1, title: First, start: T+0h, duration: 2h}
  - {id: b2, title: Second, start: T+1h, duration: 2h}
"""

CALM_PLAN = """\
jointplan: 1
kind: plan
id: bbb-calm
owner: BBB
title: Bravo's calm plan
scenarios: [calm]
share: all
tasks:
  - {id: c1, title: Routine, start: T+0h, duration: 2h}
"""

HEAD = """\
jointplan: 1
kind: exercise
id: drill
title: A drill
scenario: storm-long
start: 2026-12-03T08:00Z
participants:
  - {partner: AAA, role: player}
  - {partner: BBB, role: player}
  - {partner: CCC, role: controller}
  - {partner: DDD, role: evaluator}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", {"workspace.yaml": WORKSPACE,
                                             "aaa-plan.yaml": AAA_PLAN,
                                             "bbb-plan.yaml": BBB_PLAN,
                                             "bbb-calm.yaml": CALM_PLAN})


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text) -> the path of a file beside the workspace."""
    def put(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return put
