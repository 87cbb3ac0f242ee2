"""The reference model reproduces every conformance vector exactly (this proves the oracle)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CONTRACT
from tests.reference.model import reference_check

CASES = sorted(
    (vector.name, expected.stem)
    for vector in CONTRACT.iterdir() if (vector / "expected").is_dir()
    for expected in (vector / "expected").glob("*.json")
) if CONTRACT.is_dir() else []


def test_the_contract_vectors_are_found():
    assert CASES, f"no conformance vectors under {CONTRACT}"


@pytest.mark.parametrize(("vector", "code"), CASES)
def test_reference_model_prints_the_expected_report(vector, code):
    expected = json.loads((CONTRACT / vector / "expected" / f"{code}.json").read_text())
    got = reference_check(CONTRACT / vector, code)
    # exact, order included: the format defines every list's order
    assert json.loads(json.dumps(got)) == expected
