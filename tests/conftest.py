"""Shared test setup: where the project's shared contract and data live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CONTRACT = SHARED / "contract"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def contract_dir() -> Path:
    return CONTRACT
