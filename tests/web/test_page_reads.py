"""What every page adds to its own reads: one read transaction for the header (declared
T0s, the user's zone, the marking, the unread count), not one per part."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from jointplan.web import render


@pytest.fixture
def counted(pages, monkeypatch) -> Iterator[dict[str, int]]:
    """Counts, while the header of a page is made, its read transactions and statements."""
    db = pages.hub.db
    counts = {"reads": 0, "statements": 0, "headers": 0}
    inside = {"on": False}
    read = db.read

    @contextmanager
    def counting_read() -> Iterator[Any]:
        if inside["on"]:
            counts["reads"] += 1
        with read() as session:
            yield session

    def statement(*_: Any) -> None:
        if inside["on"]:
            counts["statements"] += 1

    header = render.header

    def counting_header(*args: Any, **kwargs: Any) -> dict[str, Any]:
        counts["headers"] += 1
        inside["on"] = True
        try:
            return header(*args, **kwargs)
        finally:
            inside["on"] = False

    monkeypatch.setattr(db, "read", counting_read)
    monkeypatch.setattr(render, "header", counting_header)
    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)


@pytest.mark.parametrize("path", ["/", "/plans/nor-evacuation", "/notifications"])
def test_a_page_header_costs_one_read(pages, counted, path):
    nor = pages.client("NOR")
    nor.get(path)  # the workspace's state is loaded and cached by a first page
    counted.update(reads=0, statements=0, headers=0)
    answer = nor.get(path)
    assert answer.status_code == 200
    assert 'class="unread' in answer.text or "unread" in answer.text
    assert counted["headers"] == 1
    assert counted["reads"] == 1
    # declarations and their authors, the zone, the unread count, and the stored state's
    # version check: a handful of statements, whatever the page
    assert counted["statements"] <= 6, counted
