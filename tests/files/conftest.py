"""A workspace folder to write files into, and helpers that locate expected problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from jointplan.files import InvalidWorkspace, Loaded, Problem, load_workspace

WORKSPACE = """\
jointplan: 1
kind: workspace
id: strait
title: Northern Strait
partners:
  - {code: NOR, name: Norland}
  - {code: SOU, name: Sudmark}
  - {code: RRA, name: Relief Agency}
areas:
  - id: port
    name: Port Aster
    geometry: {type: Polygon, coordinates: [[[24.10, 59.40], [24.16, 59.40], [24.16, 59.44], [24.10, 59.44], [24.10, 59.40]]]}
resources:
  - {id: berth, name: Berths, capacity: 4, holder: SOU}
scenarios:
  - {id: calm, title: Calm, prior: 0.6}
  - {id: closure, title: Closure, prior: 0.4}
  - {id: long, parent: closure, title: Long closure, prior: 0.5}
  - {id: short, parent: closure, title: Short closure, prior: 0.5}
indicators:
  - {id: premium, title: Premium, owner: SOU, share: all, likelihood: {calm: 0.1, closure: 0.8}}
"""  # noqa: E501 - a GeoJSON polygon reads best on one line

PLAN_HEAD = """\
jointplan: 1
kind: plan
id: nor-evac
owner: NOR
title: Evacuation
scenarios: [closure]
"""
"""The start of a valid plan of NOR's; tests append the lists they need."""


def at(text: str, marker: str, nth: int = 0) -> tuple[int, int]:
    """The 1-based line and column of ``marker`` in ``text``: its only or its ``nth`` occurrence."""
    if not nth:
        assert text.count(marker) == 1, f"{marker!r} is not unique in the text"
    index = -1
    for _ in range(nth or 1):
        index = text.index(marker, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


class Folder:
    """A workspace folder under construction."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, name: str, text: str | bytes) -> str:
        target = self.path / name
        if isinstance(text, bytes):
            target.write_bytes(text)
            return ""
        target.write_text(text, encoding="utf-8")
        return text

    def file(self, name: str) -> str:
        return str(self.path / name)

    def load(self) -> Loaded:
        return load_workspace(self.path)

    def problems(self) -> list[Problem]:
        """Every problem; fails unless loading raises InvalidWorkspace (and nothing else)."""
        with pytest.raises(InvalidWorkspace) as caught:
            load_workspace(self.path)
        assert caught.value.problems, "InvalidWorkspace without problems"
        return caught.value.problems

    def problem(self) -> Problem:
        """The single problem loading reports."""
        problems = self.problems()
        assert len(problems) == 1, "\n".join(map(str, problems))
        return problems[0]

    def assert_problem(self, name: str, text: str, marker: str, fragment: str,
                       nth: int = 0) -> Problem:
        """The only problem: in ``name``, where ``marker`` is (see ``at``), saying ``fragment``."""
        problem = self.problem()
        line, column = at(text, marker, nth)
        assert str(problem).startswith(f"{self.file(name)}:{line}:{column}: "), str(problem)
        assert fragment in problem.message, str(problem)
        return problem


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    """An empty workspace folder."""
    path = tmp_path / "ws"
    path.mkdir()
    return Folder(path)


@pytest.fixture
def ws(folder: Folder) -> Folder:
    """A folder holding a valid workspace.yaml and nothing else."""
    folder.write("workspace.yaml", WORKSPACE)
    return folder
