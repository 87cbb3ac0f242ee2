"""What a plan version says is stored with it as a digest (migration 0012).

A status change stores a new version that says what the last one says: the
hub then takes the held document instead of reading it again, and keys
everything the plans decide by the digests, not by version ids.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from jointplan.store.db import MIGRATIONS
from jointplan.store.tables import PlanVersion, doc_digest
from tests.conftest import EXAMPLES
from tests.server.conftest import start_server


def _digests(hub: Any) -> dict[str, tuple[str | None, str | None]]:
    with hub.db.read() as session:
        return {v.id: (v.digest, doc_digest(v.doc)) for v in session.scalars(select(PlanVersion))}


def test_every_stored_version_carries_its_documents_digest_and_0012_makes_them(
        database_url: str) -> None:
    server = start_server(database_url, EXAMPLES / "northern-strait")
    hub: Any = server.hub
    try:
        r = server.client.post("/api/plans/nor-evacuation/status", headers=server.as_("NOR"),  # type: ignore[attr-defined]
                               json={"status": "approved", "reason": "t"})
        assert r.status_code == 201, r.text
        stored = _digests(hub)
        assert len(stored) >= 4 and all(d == made and d for d, made in stored.values())
        with hub.db.read() as session:
            nor = list(session.scalars(select(PlanVersion).where(
                PlanVersion.plan_id == "nor-evacuation").order_by(PlanVersion.number)))
        assert nor[-1].status == "approved" and nor[-1].digest == nor[-2].digest

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with hub.db.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0011")
            assert "digest" not in {c["name"] for c in inspect(conn).get_columns(
                "plan_versions")}
            command.upgrade(cfg, "head")
        hub.db.engine.dispose()
        assert _digests(hub) == stored  # made again from the documents, the same
    finally:
        hub.db.engine.dispose()


def test_a_status_change_reads_no_document_again(database_url: str, monkeypatch) -> None:
    from jointplan.server.hub import Version

    server = start_server(database_url, EXAMPLES / "northern-strait")
    hub: Any = server.hub
    try:
        with hub.db.read() as session:
            hub.current(session)
        read: list[str] = []
        of = Version.of.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(Version, "of", classmethod(
            lambda cls, row: read.append(row.plan_id) or of(cls, row)))
        r = server.client.post("/api/plans/nor-evacuation/status", headers=server.as_("NOR"),  # type: ignore[attr-defined]
                               json={"status": "approved", "reason": "t"})
        assert r.status_code == 201, r.text
        with hub.db.read() as session:
            current = hub.current(session)
        assert current.versions["nor-evacuation"].status == "approved"
        assert read == []
    finally:
        hub.db.engine.dispose()
