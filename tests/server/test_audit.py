"""The audit chain, on SQLite and PostgreSQL: every write is in it, and tampering is found.

A module-scoped server makes one of every kind of write. Each tampering is
done with raw SQL inside a transaction that is rolled back afterwards, and
`verify` must both detect it and name the entry where the chain breaks. The
CLI is run against committed tampering, which is then undone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jointplan.cli import app
from jointplan.store import audit
from jointplan.store.audit import Break
from jointplan.store.tables import AuditEntry, Base
from tests.conftest import EXAMPLES
from tests.server.conftest import (
    PASSWORD,
    Server,
    fresh_database,
    start_server,
)

EXAMPLE = EXAMPLES / "northern-strait"
TABLE = AuditEntry.__table__
CHANGED = "its content was changed after it was written"
DOES_NOT_FOLLOW = "does not follow the entry before it"
runner = CliRunner()


@dataclass
class Chain:
    url: str
    server: Server

    @property
    def engine(self) -> Any:
        return self.server.hub.db.engine  # type: ignore[attr-defined]

    def head(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(AuditEntry.seq))) or 0)

    def cli(self, *args: str) -> Any:
        return runner.invoke(app, [*args, "--database-url", self.url])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def chain(request, tmp_path_factory) -> Iterator[Chain]:
    """A server on each database, after one of every kind of write."""
    url = fresh_database(request.param, tmp_path_factory.mktemp("audit"))
    server = start_server(url, EXAMPLE)
    for write in WRITES:
        response = write.prepare(server)()
        assert response.status_code < 300, (write.name, response.text)
    yield Chain(url, server)
    server.hub.db.engine.dispose()  # type: ignore[attr-defined]


# -- every kind of write ---------------------------------------------------------------


def _plan_text(plan: str, title: str) -> str:
    text_ = (EXAMPLE / f"{plan}.yaml").read_text()
    return "\n".join(f"title: {title}" if line.startswith("title:") else line
                     for line in text_.splitlines()) + "\n"


def _post(server: Server, partner: str, path: str, body: Any = None) -> Any:
    return server.client.post(path, headers=server.as_(partner), json=body)


def _created(response: Any) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _proposal(server: Server) -> str:
    return _created(_post(server, "NOR", "/api/proposals", {
        "plan": "sou-port", "reason": "we need a berth",
        "change": {"kind": "set-quantity", "task": "laid-up-ships", "resource": "berth-aster",
                   "quantity": 2}}))


def _thread(server: Server) -> str:
    return _created(_post(server, "NOR", "/api/threads", {
        "subject": {"kind": "scenario", "ref": "baseline"}, "title": "Berths",
        "text": "Can we talk about berths?", "share": ["SOU"]}))


def _decision(server: Server) -> str:
    return _created(_post(server, "NOR", "/api/decisions", {
        "text": "Open the corridor at T+2d", "partners": ["NOR", "SOU"]}))


def _unacknowledged(server: Server) -> str:
    """An expectation addressed to SOU that SOU has not acknowledged (a repeat is no write)."""
    done = {a["expectation"] for a in
            server.client.get("/api/acknowledgements", headers=server.as_("SOU")).json()}
    return next(e for e in ("nor-evacuation/ferry-berth", "nor-evacuation/traffic-management",
                            "rra-relief/relief-berth-needed") if e not in done)


def _login(server: Server) -> Any:
    return server.client.post("/auth/login", json={"username": server.usernames["SOU"],
                                                   "password": PASSWORD})


@dataclass
class _Done:
    """The answer of a write that is not a route (tokens are made by the CLI's services)."""

    status_code: int = 200
    text: str = ""


def _token_create(server: Server) -> Callable[[], Any]:
    from jointplan.services.accounts import create_token

    def call() -> _Done:
        with server.hub.db.write() as session:  # type: ignore[attr-defined]
            create_token(session, username=server.usernames["RRA"], name="audit")
        return _Done()
    return call


def _token_revoke(server: Server) -> Callable[[], Any]:
    from jointplan.services.accounts import create_token, revoke_token

    with server.hub.db.write() as session:  # type: ignore[attr-defined]
        token_id, _ = create_token(session, username=server.usernames["RRA"], name="audit")

    def call() -> _Done:
        with server.hub.db.write() as session:  # type: ignore[attr-defined]
            revoke_token(session, token_id=token_id)
        return _Done()
    return call


def _logout(server: Server) -> Callable[[], Any]:
    csrf = _login(server).json()["csrf"]

    def call() -> Any:
        response = server.client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        server.client.cookies.clear()
        return response
    return call


def _as(partner: str, path: str | Callable[[Server], str], body: Any = None,
        method: str = "POST") -> Callable[[Server], Callable[[], Any]]:
    """A write by a partner's token; `path` may first create what the write needs."""
    def prepare(server: Server) -> Callable[[], Any]:
        url = path if isinstance(path, str) else path(server)
        return lambda: server.client.request(method, url, headers=server.as_(partner),
                                             json=body)
    return prepare


def _first_sight(partner: str, server: Server) -> Callable[[], Any]:
    """An analysis whose result the partner has not been shown before (only such is written:
    SOU's shows hidden counterparts, so the first sight of it is recorded)."""
    from jointplan.store.tables import AnalysisRecord

    with server.hub.db.write() as session:  # type: ignore[attr-defined]
        session.execute(delete(AnalysisRecord).where(AnalysisRecord.partner == partner))
    server.hub.recorded.clear()  # type: ignore[attr-defined]
    return _as(partner, "/api/check", method="GET")(server)


@dataclass(frozen=True)
class Write:
    name: str
    prepare: Callable[[Server], Callable[[], Any]]
    """Make what the write needs; return the write itself."""
    actions: tuple[str, ...]
    """Exactly the entries the write appends, in order."""


WRITES = [
    Write("observation", _as("NOR", "/api/observations", {
        "indicator": "registration-surge", "seen": True, "at": "2026-11-22T10:00Z"}),
        ("observation.post",)),
    Write("import", _as("NOR", "/api/import", {
        "files": {"nor-shipping.yaml": _plan_text("nor-shipping", "Ships sheltered")},
        "reason": "retitled"}), ("plan.version",)),
    Write("import of two plans", _as("SOU", "/api/import", {"files": {
        "sou-port.yaml": _plan_text("sou-port", "Port, again"),
        "sou-aster.yaml": _plan_text("sou-aster", "Aster, again")}}),
        ("plan.version", "plan.version")),
    Write("import of observations", _as("RRA", "/api/import", {"files": {
        "obs.yaml": "jointplan: 1\nkind: observations\nobservations:\n"
                    "  - {indicator: fuel-queues, at: 2026-11-22T09:00Z, seen: true}\n"}}),
        ("observations.import",)),
    Write("status", _as("NOR", "/api/plans/nor-evacuation/status", {
        "status": "approved", "reason": "agreed in cabinet"}), ("plan.version",)),
    Write("thread", _as("NOR", "/api/threads", {
        "subject": {"kind": "plan", "ref": "sou-port"}, "title": "Berths",
        "text": "Can we talk?", "share": ["SOU"]}), ("thread.create",)),
    Write("message", _as("SOU", lambda s: f"/api/threads/{_thread(s)}/messages",
                         {"text": "Yes."}), ("message.post",)),
    Write("proposal", _as("NOR", "/api/proposals", {
        "plan": "sou-port", "reason": "we need a berth", "change": {
            "kind": "set-quantity", "task": "laid-up-ships", "resource": "berth-aster",
            "quantity": 2}}), ("proposal.create",)),
    Write("decline", _as("SOU", lambda s: f"/api/proposals/{_proposal(s)}/decline",
                         {"reason": "no berth free"}), ("proposal.declined",)),
    Write("accept", _as("SOU", lambda s: f"/api/proposals/{_proposal(s)}/accept", {}),
          ("plan.version", "proposal.accepted")),
    Write("decision", _as("NOR", "/api/decisions", {
        "text": "Open the corridor", "partners": ["NOR", "SOU"]}), ("decision.create",)),
    Write("response", _as("SOU", lambda s: f"/api/decisions/{_decision(s)}/responses",
                          {"stance": "reservation", "note": "night only"}),
          ("decision.respond",)),
    Write("acknowledge", _as("SOU", lambda s: f"/api/expectations/{_unacknowledged(s)}"
                             "/acknowledge"), ("expectation.acknowledge",)),
    Write("export", _as("RRA", "/api/export", method="GET"), ("export",)),
    Write("analysis", lambda s: _first_sight("SOU", s), ("analysis",)),
    Write("login", lambda s: lambda: _login(s), ("login",)),
    Write("logout", _logout, ("logout",)),
    Write("token create", _token_create, ("token.create",)),
    Write("token revoke", _token_revoke, ("token.revoke",)),
]


def _actions_after(chain: Chain, seq: int) -> list[str]:
    with chain.engine.connect() as conn:
        return list(conn.scalars(select(AuditEntry.action).where(AuditEntry.seq > seq)
                                 .order_by(AuditEntry.seq)))


def _counts(chain: Chain) -> dict[str, int]:
    """Rows per table: what a write stored."""
    with chain.engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_every_write_appends_its_entries_and_the_chain_stays_whole(chain, write):
    call = write.prepare(chain.server)
    before = chain.head()
    response = call()
    assert response.status_code < 300, response.text
    assert _actions_after(chain, before) == list(write.actions)
    with chain.server.hub.db.read() as session:  # type: ignore[attr-defined]
        assert audit.verify(session) == []


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_a_write_whose_last_audit_entry_fails_stores_nothing(chain, write, monkeypatch):
    """Entries are appended in the change's own transaction: when the last append fails,
    after everything else was flushed, the whole change is rolled back with it."""
    call = write.prepare(chain.server)
    real, made = audit.append, []

    def append_then_fail(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        if len(made) == len(write.actions):
            raise RuntimeError("the disk is full")
        return made[-1]

    before, counts = chain.head(), _counts(chain)
    monkeypatch.setattr(audit, "append", append_then_fail)
    with pytest.raises(RuntimeError, match="disk is full"):
        call()
    monkeypatch.undo()
    assert [e.action for e in made] == list(write.actions)
    assert chain.head() == before
    assert _counts(chain) == counts


def test_an_invalid_import_appends_nothing_and_stores_nothing(chain):
    before, counts = chain.head(), _counts(chain)
    good = _plan_text("nor-shipping", "Changed")
    bad = "jointplan: 1\nkind: observations\nobservations:\n  - {indicator: nowhere, at: x}\n"
    response = _post(chain.server, "NOR", "/api/import",
                     {"files": {"nor-shipping.yaml": good, "obs.yaml": bad}})
    assert response.status_code == 422
    assert {p["file"] for p in response.json()["problems"]} == {"obs.yaml"}
    assert chain.head() == before
    assert _counts(chain) == counts


# -- tampering -----------------------------------------------------------------------


@contextmanager
def tampered(chain: Chain) -> Iterator[tuple[Connection, Session]]:
    """A transaction to tamper in, and a session that sees it; all of it rolled back."""
    with chain.engine.connect() as conn:
        conn.begin()
        try:
            yield conn, Session(bind=conn)
        finally:
            conn.rollback()


def _raw(conn: Connection, seq: int, column: str) -> str | None:
    return conn.scalar(text(f"SELECT CAST({column} AS TEXT) FROM audit WHERE seq = :s"),
                       {"s": seq})


def _set_raw(conn: Connection, seq: int, column: str, value: str) -> None:
    json_column = column in ("detail", "owners") and conn.dialect.name == "postgresql"
    conn.execute(text(f"UPDATE audit SET {column} = {'CAST(:v AS json)' if json_column else ':v'}"
                      " WHERE seq = :s"), {"v": value, "s": seq})


def _flip_one_byte(value: str) -> str:
    """The same text with its last letter's case, or last digit, changed."""
    for i in range(len(value) - 1, -1, -1):
        c = value[i]
        if c.isdigit():
            return value[:i] + str((int(c) + 1) % 10) + value[i + 1:]
        if c.isascii() and c.isalpha():
            return value[:i] + c.swapcase() + value[i + 1:]
    raise AssertionError(f"nothing to flip in {value!r}")


def _renumber(conn: Connection, from_seq: int, by: int) -> None:
    """Move every entry from `from_seq` on by `by` (two steps: keys stay unique)."""
    conn.execute(text("UPDATE audit SET seq = -(seq + :by) WHERE seq >= :s"),
                 {"by": by, "s": from_seq})
    conn.execute(text("UPDATE audit SET seq = -seq WHERE seq < 0"))


def _a_full_entry(conn: Connection) -> int:
    """An entry in the middle with every field filled (a partner's plan import)."""
    seq = conn.scalar(text("SELECT min(seq) FROM audit WHERE action = 'plan.version' "
                           "AND user_id IS NOT NULL AND partner IS NOT NULL"))
    assert seq is not None and seq < _head(conn) - 2
    return int(seq)


def _head(conn: Connection) -> int:
    return int(conn.scalar(text("SELECT max(seq) FROM audit")))


def _checkpoint(chain: Chain) -> dict[str, Any]:
    result = chain.cli("audit", "export")
    assert result.exit_code == 0, result.output
    point: dict[str, Any] = json.loads(result.stdout)
    return point


def test_an_untouched_chain_verifies_clean(chain):
    point = _checkpoint(chain)
    with tampered(chain) as (_, session):
        assert audit.verify(session) == []
        assert audit.verify(session, point) == []


@pytest.mark.parametrize("column", ["at", "action", "subject", "detail", "owners", "partner",
                                    "user_id"])
def test_one_changed_byte_is_found_in_the_entry_that_holds_it(chain, column):
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        raw = _raw(conn, seq, column)
        assert raw is not None
        changed = _flip_one_byte(raw)
        assert len(changed.encode()) == len(raw.encode()) and changed != raw
        _set_raw(conn, seq, column, changed)
        assert audit.verify(session) == [Break(seq, CHANGED)]


def test_a_changed_entry_with_a_recomputed_digest_breaks_the_next_link(chain):
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        _set_raw(conn, seq, "subject", "plan:someone-elses")
        entry = session.get(AuditEntry, seq)
        assert entry is not None
        conn.execute(text("UPDATE audit SET digest = :d WHERE seq = :s"),
                     {"d": audit.digest_of(entry.previous, entry), "s": seq})
        session.expire_all()
        breaks = audit.verify(session)
        assert {b.seq for b in breaks} == {seq + 1}
        assert any(DOES_NOT_FOLLOW in b.message for b in breaks)


def test_a_deleted_entry_is_found_where_it_is_missing(chain):
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        conn.execute(text("DELETE FROM audit WHERE seq = :s"), {"s": seq})
        breaks = audit.verify(session)
        assert {b.seq for b in breaks} == {seq + 1}
        assert f"entries {seq}..{seq} are missing" in breaks[0].message


def test_a_deleted_entry_with_the_rest_renumbered_is_found_where_it_was(chain):
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        conn.execute(text("DELETE FROM audit WHERE seq = :s"), {"s": seq})
        _renumber(conn, seq + 1, -1)
        breaks = audit.verify(session)
        assert breaks[0] == Break(seq, DOES_NOT_FOLLOW + " (an entry was dropped, inserted "
                                  "or moved)")


def test_a_forged_entry_with_a_plausible_digest_is_found_where_it_was_inserted(chain):
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        real = session.get(AuditEntry, seq)
        assert real is not None
        _renumber(conn, seq, +1)
        forged = AuditEntry(seq=seq, at=real.at, user_id=real.user_id, partner="NOR",
                            action="plan.version", subject="plan:sou-port", owners=["SOU"],
                            detail={"reason": "forged"}, previous=real.previous, digest="")
        forged.digest = audit.digest_of(forged.previous, forged)
        conn.execute(insert(TABLE).values(**_row(forged)))
        session.expire_all()
        breaks = audit.verify(session)
        assert breaks[0].seq == seq + 1, breaks
        assert DOES_NOT_FOLLOW in " ".join(b.message for b in breaks if b.seq == seq + 1)
        assert all(b.seq > seq for b in breaks)


def _row(e: AuditEntry) -> dict[str, Any]:
    return {c.name: getattr(e, c.key) for c in TABLE.columns}


@pytest.mark.parametrize("apart", [1, 3])
def test_two_entries_swapped_are_both_found(chain, apart):
    columns = [c.name for c in TABLE.columns if c.name != "seq"]
    with tampered(chain) as (conn, session):
        i = _a_full_entry(conn)
        j = i + apart
        assert j < _head(conn)
        rows = {s: conn.execute(select(TABLE).where(TABLE.c.seq == s)).mappings().one()
                for s in (i, j)}
        for a, b in ((i, j), (j, i)):
            conn.execute(TABLE.update().where(TABLE.c.seq == a)
                         .values({c: rows[b][c] for c in columns}))
        breaks = audit.verify(session)
        assert {b.seq for b in breaks} == {i, i + 1, j, j + 1}
        assert Break(i, CHANGED) in breaks and Break(j, CHANGED) in breaks


def test_deleting_the_newest_entries_is_caught_only_with_a_checkpoint(chain):
    point = _checkpoint(chain)
    with tampered(chain) as (conn, session):
        conn.execute(text("DELETE FROM audit WHERE seq > :s"), {"s": point["seq"] - 2})
        assert audit.verify(session) == []
        assert audit.verify(session, point) == [Break(point["seq"], (
            "does not match the checkpoint: the log was cut or rewritten after the "
            "checkpoint was taken"))]


def test_a_rewritten_tail_is_caught_only_with_a_checkpoint(chain):
    point = _checkpoint(chain)
    with tampered(chain) as (conn, session):
        seq = _a_full_entry(conn)
        conn.execute(text("DELETE FROM audit WHERE seq >= :s"), {"s": seq})
        for n in range(seq, point["seq"] + 1):
            audit.append(session, action="login", subject=f"user:forged-{n}", user_id=None,
                         partner="NOR", owners=["NOR"])
        assert audit.verify(session) == []
        assert [b.seq for b in audit.verify(session, point)] == [point["seq"]]


# -- the CLI ---------------------------------------------------------------------------


@contextmanager
def committed(chain: Chain, tamper: Callable[[Connection], Any]) -> Iterator[Any]:
    """Tamper for real (the CLI reads committed data); put the whole log back after."""
    with chain.engine.connect() as conn:
        saved = [dict(r) for r in conn.execute(select(TABLE)).mappings()]
    try:
        with chain.engine.begin() as conn:
            done = tamper(conn)
        yield done
    finally:
        with chain.engine.begin() as conn:
            conn.execute(delete(TABLE))
            conn.execute(insert(TABLE), saved)


def test_audit_verify_exits_0_when_the_chain_is_intact(chain):
    result = chain.cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"audit chain intact: {chain.head()} entries")


def _change_one_and_drop_another(conn: Connection) -> int:
    seq = _a_full_entry(conn)
    _set_raw(conn, seq, "detail", _flip_one_byte(_raw(conn, seq, "detail") or ""))
    conn.execute(text("DELETE FROM audit WHERE seq = :s"), {"s": seq + 2})
    return seq


def test_audit_verify_exits_1_naming_each_break(chain):
    with committed(chain, _change_one_and_drop_another) as seq:
        result = chain.cli("audit", "verify")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"audit entry {seq}: {CHANGED}",
        f"audit entry {seq + 3}: expected entry {seq + 2} here: entries {seq + 2}..{seq + 2} "
        "are missing or renumbered",
        f"audit entry {seq + 3}: {DOES_NOT_FOLLOW} (an entry was dropped, inserted or moved)"]
    assert result.stdout == ""
    assert chain.cli("audit", "verify").exit_code == 0


def test_audit_verify_with_a_checkpoint_catches_a_cut_log(chain, tmp_path):
    point = tmp_path / "checkpoint.json"
    point.write_text(json.dumps(_checkpoint(chain)))
    head = chain.head()

    def cut(conn: Connection) -> None:
        conn.execute(text("DELETE FROM audit WHERE seq > :s"), {"s": head - 3})

    with committed(chain, cut):
        without = chain.cli("audit", "verify")
        with_point = chain.cli("audit", "verify", "--checkpoint", str(point))
    assert without.exit_code == 0, without.output
    assert with_point.exit_code == 1
    assert with_point.stderr == (f"audit entry {head}: does not match the checkpoint: the log "
                                 "was cut or rewritten after the checkpoint was taken\n")


@pytest.mark.parametrize("content", ["not json", "{}", '{"seq": "x", "digest": "ab"}', "[1]"])
def test_audit_verify_refuses_a_checkpoint_it_cannot_use(chain, tmp_path, content):
    point = tmp_path / "checkpoint.json"
    point.write_text(content)
    result = chain.cli("audit", "verify", "--checkpoint", str(point))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"jointplan: cannot read the checkpoint {point}")
    assert result.exception is None or isinstance(result.exception, SystemExit)
