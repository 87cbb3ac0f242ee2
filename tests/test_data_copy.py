"""The repository's copy of the contract and PSPLIB data matches the upstream copy, if present.

A clone needs nothing outside itself (data/ holds everything); a checkout that
sits beside the format's upstream specification also checks that its copy is
current, so an update upstream is never silently missed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CONTRACT, PSPLIB, UPSTREAM


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_the_repository_holds_the_contract_and_psplib_itself() -> None:
    assert len([d for d in CONTRACT.iterdir() if (d / "expected").is_dir()]) >= 5
    assert len(list(PSPLIB.glob("*.sm"))) == 480
    assert (PSPLIB / "optimum.csv").read_text().count("\n") >= 480


@pytest.mark.parametrize(("ours", "theirs"), [
    (CONTRACT, UPSTREAM / "contract"), (PSPLIB, UPSTREAM / "data" / "psplib-j30")])
def test_the_copy_matches_the_upstream_copy_beside_the_checkout(ours: Path, theirs: Path) -> None:
    if not theirs.is_dir():
        pytest.skip(f"no upstream copy at {theirs} to compare with (optional)")
    assert _files(ours) == _files(theirs)
