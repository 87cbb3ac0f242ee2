"""The repository holds the contract and the PSPLIB data itself: a clone needs nothing else."""

from __future__ import annotations

import csv

from tests.conftest import CONTRACT, PSPLIB


def test_the_repository_holds_every_conformance_vector_with_its_expected_outputs() -> None:
    vectors = [d for d in CONTRACT.iterdir() if d.is_dir()]
    assert len(vectors) >= 5
    for vector in vectors:
        assert (vector / "workspace.yaml").is_file(), vector
        assert list((vector / "expected").glob("*.json")), vector


def test_the_repository_holds_all_480_psplib_instances_and_their_optima() -> None:
    instances = {p.name for p in PSPLIB.glob("*.sm")}
    with (PSPLIB / "optimum.csv").open() as f:
        optima = {row["problem"]: int(row["optimum"]) for row in csv.DictReader(f)}
    assert len(instances) == 480
    assert set(optima) == instances
