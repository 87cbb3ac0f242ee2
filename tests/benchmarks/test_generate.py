"""The benchmark workspace generator writes valid workspaces, the same bytes for the same seed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from jointplan.services.check import check_report
from jointplan.services.workspaces import load_checked

GENERATE = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"


@pytest.fixture(scope="module")
def generate():
    spec = importlib.util.spec_from_file_location("benchmarks_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
        yield module.generate
    finally:
        del sys.modules[spec.name]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_generated_workspace_validates_with_every_task(generate, tmp_path):
    sizes = generate(tmp_path / "ws", tasks=2000, seed=3)
    ws = load_checked(tmp_path / "ws").workspace
    assert sum(len(p.tasks) for p in ws.plans) == sizes.tasks == 2000
    assert len(ws.plans) == sizes.plans
    assert len(ws.resources) == sizes.resources
    assert len(ws.areas) == sizes.areas
    assert len(ws.observations) == sizes.observations


def test_the_generated_workspace_uses_the_parts_of_the_format_analysis_reads(generate,
                                                                              tmp_path):
    generate(tmp_path / "ws", tasks=2000, seed=3)
    ws = load_checked(tmp_path / "ws").workspace
    tasks = [t for p in ws.plans for t in p.tasks]
    assert any(t.exclusive for t in tasks)
    assert any(t.uses for t in tasks)
    assert any(t.withhold for t in tasks)
    assert any(t.duration.three_point for t in tasks)
    assert any("/" in a for t in tasks for a in t.after)
    assert any(v.answers for p in ws.plans for v in p.provides)
    assert {p.share is None for p in ws.plans} == {True, False}
    assert any(a.geometry["type"] == "MultiPolygon" for a in ws.areas)


def test_checking_the_generated_workspace_finds_both_kinds_of_conflict(generate, tmp_path):
    generate(tmp_path / "ws", tasks=2000, seed=3)
    kinds = {c["kind"] for c in check_report(tmp_path / "ws", None)["conflicts"]}
    assert kinds == {"capacity", "area"}


def test_the_same_seed_writes_the_same_bytes(generate, tmp_path):
    generate(tmp_path / "a", tasks=500, seed=7)
    generate(tmp_path / "b", tasks=500, seed=7)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_another_seed_writes_another_workspace(generate, tmp_path):
    generate(tmp_path / "a", tasks=500, seed=7)
    generate(tmp_path / "b", tasks=500, seed=8)
    assert _files(tmp_path / "a") != _files(tmp_path / "b")


def test_the_generator_refuses_a_folder_that_is_not_empty(generate, tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate(tmp_path / "ws", tasks=100, seed=1)
