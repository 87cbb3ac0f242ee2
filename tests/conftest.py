"""Shared test setup: where the conformance vectors and test data live (data/)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


DATA = ROOT / "data"
CONTRACT = DATA / "contract"
PSPLIB = DATA / "psplib-j30"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def contract_dir() -> Path:
    return CONTRACT


def write_workspace(folder: Path, files: dict[str, str]) -> Path:
    """Write a workspace folder from file name -> text and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


JOINT = """\
jointplan: 1
kind: workspace
id: test-ws
title: Test workspace
partners:
  - {code: AAA, name: Alpha}
  - {code: BBB, name: Bravo}
  - {code: CCC, name: Charlie}
areas:
  - id: zone
    name: Zone
    geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
resources:
  - {id: dock, name: Dock, capacity: 1}
scenarios:
  - {id: s1, title: One, prior: 0.5}
  - {id: s2, title: Two, prior: 0.5}
indicators:
  - {id: sign, title: A sign, owner: AAA, share: [BBB], likelihood: {s1: 0.9, s2: 0.1}}
"""
