"""The shared conformance vectors: every partner's `check --json` must equal the expected file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.services.check import check_report
from tests.conftest import CONTRACT

CASES = sorted((d.name, exp.stem) for d in CONTRACT.iterdir() if d.is_dir()
               for exp in (d / "expected").glob("*.json"))


def _canonical(report: dict) -> dict:
    """Lists compared without regard to order, extra keys on named items ignored."""
    out = json.loads(json.dumps(report))
    for key in ("conflicts", "gaps"):
        out[key] = sorted(out[key], key=lambda e: json.dumps(e, sort_keys=True))
    return out


def test_the_vectors_are_present():
    assert len(CASES) >= 12, f"expected the shared vectors in {CONTRACT}"


@pytest.mark.parametrize(("vector", "partner"), CASES)
def test_check_as_each_partner_prints_the_expected_json(vector, partner):
    expected = json.loads((CONTRACT / vector / "expected" / f"{partner}.json").read_text())
    assert check_report(CONTRACT / vector, partner) == expected


@pytest.mark.parametrize(("vector", "partner"), CASES)
def test_the_cli_prints_the_same_json_in_the_contract_order(vector, partner):
    result = CliRunner().invoke(app, ["check", str(CONTRACT / vector), "--as", partner,
                                      "--json"])
    assert result.exit_code == 0, result.output
    expected = json.loads((CONTRACT / vector / "expected" / f"{partner}.json").read_text())
    got = json.loads(result.stdout)
    assert _canonical(got) == _canonical(expected)
    assert got == expected, "same entries, but not in the order the format defines"
