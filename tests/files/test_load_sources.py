"""Files given as bytes: the same reader, the same model and problems as a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from jointplan.files import (
    InvalidWorkspace,
    load_pieces,
    load_sources,
    load_workspace,
    read_source,
    workspace_files,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "northern-strait"


def _sources(folder: Path) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in workspace_files(folder)]


def test_sources_read_like_the_folder_they_came_from() -> None:
    assert load_sources(_sources(EXAMPLE)).workspace == load_workspace(EXAMPLE).workspace


def test_problems_in_sources_name_the_files_and_positions_a_folder_would(tmp_path: Path) -> None:
    for p in workspace_files(EXAMPLE):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    plan = next(p for p in workspace_files(tmp_path) if "plan" in p.read_text()[:200]
                and "kind: plan" in p.read_text())
    plan.write_text(plan.read_text().replace("kind: plan", "kind: plan\nbogus: 1", 1))
    with pytest.raises(InvalidWorkspace) as from_folder:
        load_workspace(tmp_path)
    with pytest.raises(InvalidWorkspace) as from_sources:
        load_sources(_sources(tmp_path))
    assert from_sources.value.problems == from_folder.value.problems
    assert any(p.file == str(plan) for p in from_sources.value.problems)


def test_a_piece_read_once_serves_several_workspaces() -> None:
    pieces = [read_source(name, data) for name, data in _sources(EXAMPLE)]
    first = load_pieces(pieces, where="(upload)").workspace
    second = load_pieces(pieces, where="(upload)").workspace
    assert first == second and first.plans[0] is second.plans[0]


def test_no_workspace_file_names_the_set_of_sources() -> None:
    with pytest.raises(InvalidWorkspace) as caught:
        load_sources([], where="(upload)")
    assert caught.value.problems[0].file == "(upload)"
