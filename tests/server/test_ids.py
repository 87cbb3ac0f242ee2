"""Opaque ids: unguessable, and never read as a command-line option."""

from __future__ import annotations

import secrets

import pytest

from jointplan.store import tables


def test_an_id_never_begins_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["-starts-with-dash", "_fine_start", "unused"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    assert tables.new_id() == "_fine_start"


def test_ids_are_random_and_long_enough() -> None:
    ids = {tables.new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 16 and not i.startswith("-") for i in ids)
