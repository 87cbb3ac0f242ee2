"""Server-side size limits: one request, and one stored document (see docs/server.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jointplan.server.limits import (
    DEFAULT_DOCUMENT_BYTES,
    DEFAULT_REQUEST_BYTES,
    DOCUMENT_VARIABLE,
    REQUEST_VARIABLE,
)
from jointplan.server.plans import import_files
from jointplan.services.accounts import actor_for_token
from tests.server.conftest import Server, fresh_database, start_server
from tests.server.test_share_changes import folder_with, plan, task


@pytest.fixture(params=["sqlite", "postgresql"])
def serve(request: Any, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*plans: dict[str, Any]) -> Server:
        server = start_server(fresh_database(request.param, tmp_path),
                              folder_with(tmp_path / "ws", *plans))
        started.append(server)
        return server

    yield start
    for server in started:
        server.hub.db.engine.dispose()  # type: ignore[attr-defined]


def _versions(server: Server) -> int:
    answer = server.client.get("/api/plans/aaa-open/versions", headers=server.as_("AAA"))
    return len(answer.json())


def test_the_defaults_are_well_under_the_formats_maximum() -> None:
    from jointplan.files.yamlread import MAX_FILE_BYTES

    assert DEFAULT_DOCUMENT_BYTES * 16 <= MAX_FILE_BYTES
    assert DEFAULT_REQUEST_BYTES * 8 <= MAX_FILE_BYTES


def test_a_valid_plan_larger_than_the_document_limit_is_refused_naming_it(serve: Any) -> None:
    server = serve(plan("aaa-open", "all", [task("a1")]))
    big = plan("aaa-open", "all", [task("a1")], **{"x-notes": "x" * DEFAULT_DOCUMENT_BYTES})
    answer = server.client.post("/api/import", headers=server.as_("AAA"),
                                json={"files": {"aaa-open.json": json.dumps(big)}})
    assert answer.status_code == 422, answer.text
    problem = answer.json()["problems"][0]
    assert problem["file"] == "aaa-open.json"
    assert DOCUMENT_VARIABLE in problem["message"]
    assert f"{DEFAULT_DOCUMENT_BYTES:,}" in problem["message"]
    assert _versions(server) == 1


def test_a_request_larger_than_the_request_limit_is_refused_with_413(serve: Any) -> None:
    server = serve(plan("aaa-open", "all", [task("a1")]))
    files = {f"aaa-p{i}.json": "x" * (DEFAULT_REQUEST_BYTES // 4) for i in range(5)}
    answer = server.client.post("/api/import", headers=server.as_("AAA"),
                                json={"files": files})
    assert answer.status_code == 413, answer.text
    assert REQUEST_VARIABLE in answer.json()["detail"]
    assert _versions(server) == 1


def test_the_limits_are_set_by_the_operator(serve: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv(DOCUMENT_VARIABLE, "2000")
    monkeypatch.setenv(REQUEST_VARIABLE, "20000")
    server = serve(plan("aaa-open", "all", [task("a1")]))
    small = plan("aaa-open", "all", [task("a1")], **{"x-notes": "x" * 2000})
    answer = server.client.post("/api/import", headers=server.as_("AAA"),
                                json={"files": {"aaa-open.json": json.dumps(small)}})
    assert answer.status_code == 422 and "2,000 bytes" in answer.text, answer.text
    page = server.client.post("/plans/aaa-open/upload", headers=server.as_("AAA"),
                              files={"file": ("aaa-open.json", b"x" * 30000)})
    assert page.status_code == 413 and "20,000 bytes" in page.text, page.text
    # Also in code: the import itself refuses a document over the limit.
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        actor = actor_for_token(session, server.tokens["AAA"])
    from jointplan.files import InvalidWorkspace
    from jointplan.server.assemble import Source

    with pytest.raises(InvalidWorkspace):
        import_files(server.hub, actor, [Source("aaa-open.json",  # type: ignore[arg-type]
                                                json.dumps(small).encode())], reason="t")
    assert _versions(server) == 1
