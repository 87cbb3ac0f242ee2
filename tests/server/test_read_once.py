"""A plan-version write parses the written plan once: the model reuses the write's read.

The write checks the uploaded file with its references (`lapsing.judge_upload`);
the model reads each stored version without them (`lapsing.strip_documents`).
The second read is made from the first (`assemble.without_references`); these
tests hold it equal to reading the stripped file, and count the reads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from jointplan.files import read_source
from jointplan.server.assemble import stored_sources, without_references
from jointplan.server.lapsing import strip_documents
from jointplan.server.plans import new_version
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

from .test_analysis import _actor

EXAMPLE = EXAMPLES / "northern-strait"


def _same_but_positions(derived: Any, read: Any) -> None:
    assert derived.name == read.name and derived.kind == read.kind == "plan"
    assert derived.plan == read.plan
    assert derived.problems == read.problems == ()
    assert derived.pending == read.pending == ()
    assert [r[:3] + r[4:] for r in derived.refs] == [r[:3] + r[4:] for r in read.refs]
    assert {k: w[0] for k, w in derived.places.items()} == {k: w[0] for k, w in
                                                             read.places.items()}


@pytest.mark.parametrize("plan", sorted(p.name for p in EXAMPLE.glob("*.yaml")
                                        if "kind: plan" in p.read_text(encoding="utf-8")))
def test_a_plan_read_with_references_gives_the_stripped_read(plan: str) -> None:
    from jointplan.files.yamlread import read_document
    from jointplan.server.hub import canonical

    text = (EXAMPLE / plan).read_bytes()
    doc = canonical(read_document(text))
    full = read_source(plan, text)
    if plan == "nor-evacuation.yaml":  # `after` and `answers`, within and across plans
        assert {kind for kind, _ in full.pending} == {"after", "answers"}
    stripped = stored_sources({}, strip_documents([doc])[0], [])[1]
    read = read_source(stripped.name, stripped.data)
    _same_but_positions(without_references(full, stripped.name), read)
    # The JSON the server writes reads the same way.
    upload = read_source(f"{doc['id']}.json", json.dumps(doc).encode())
    _same_but_positions(without_references(upload, stripped.name), read)
    assert replace(full.plan, tasks=(), provides=()) == replace(read.plan, tasks=(),
                                                                provides=())


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    running = start_server(f"sqlite:///{tmp_path / 'once.db'}", EXAMPLE)
    yield running
    running.hub.db.engine.dispose()  # type: ignore[attr-defined]


def test_a_plan_version_write_reads_the_written_plan_once(server: Server, monkeypatch) -> None:
    from jointplan.server import assemble

    hub: Any = server.hub
    actor = _actor(server, "NOR")
    with hub.db.read() as session:
        doc = copy.deepcopy(hub.current(session).versions["nor-evacuation"].doc)
    doc["title"] = "Evacuation, revised"
    read_source, names = assemble.read_source, []
    monkeypatch.setattr(assemble, "read_source", lambda name, data: names.append(name) or
                        read_source(name, data))
    with hub.db.write() as session:
        new_version(hub, session, actor, doc, "revised")
    with hub.db.read() as session:
        current = hub.current(session)
        assert current.workspace.plan("nor-evacuation").title == "Evacuation, revised"
    # The upload, once; the model's read is lent by it. (The stored observations, which
    # the upload is checked with, are kept out of the hub's pieces: they change often.)
    assert [n for n in names if n != assemble.STORED_OBSERVATIONS] == ["nor-evacuation.json"]
    # And the model is the one a server that reads everything afresh builds.
    from jointplan.server.hub import Hub

    cold = Hub(hub.db.url, migrate=False)
    try:
        with cold.db.read() as session:
            assert cold.current(session).workspace == current.workspace
    finally:
        cold.db.engine.dispose()
