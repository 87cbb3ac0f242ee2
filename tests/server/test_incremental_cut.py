"""A write cuts again only the conflicts and gaps it changed; the rest keep their entries.

Each partner's entries of a conflict or gap are kept by what it is about and
by what its items are (`sharing.findings.Contents`): a write that leaves a
finding's items as they were lends it the entries of the cut before it,
while any change to an item involved, to its plan's share, or to the joint
part cuts it again. These tests hold the kept entries to a cut made afresh
after every kind of change, and count what each write cuts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from jointplan.sharing import Rules
from jointplan.sharing.cut import check_result
from jointplan.sharing.findings import FindingCut
from jointplan.store.tables import Finding
from tests.conftest import EXAMPLES
from tests.server.conftest import Server, start_server

EXAMPLE = EXAMPLES / "northern-strait"
NOR_PLAN = (EXAMPLE / "nor-evacuation.yaml").read_text(encoding="utf-8")
CARE = "    start: T+12h\n    duration: 3d\n    uses: {beds-aster: 12}\n"
HIDDEN_USES = "    share: [SOU]\n    withhold: {uses: [SOU]}\n"
PLAN_SHARE = "share: [SOU, RRA]          #"
assert NOR_PLAN.count(CARE) == NOR_PLAN.count(HIDDEN_USES) == NOR_PLAN.count(PLAN_SHARE) == 1


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    running = start_server(database_url, EXAMPLE)
    yield running
    running.hub.db.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def cut_sources(monkeypatch) -> list[tuple[str, Any]]:
    """Every (partner, source) a finding cut makes rather than finds kept."""
    made: list[tuple[str, Any]] = []
    cut = FindingCut._cut

    def counted(self: FindingCut, partner: str, source: Any) -> Any:
        made.append((partner, source))
        return cut(self, partner, source)

    monkeypatch.setattr(FindingCut, "_cut", counted)
    return made


def import_nor(server: Server, text: str) -> None:
    r = server.client.post("/api/import", headers=server.as_("NOR"),  # type: ignore[attr-defined]
                           json={"files": {"nor-evacuation.yaml": text}, "reason": "test"})
    assert r.status_code == 201, r.text


def listed(server: Server, partner: str, family: str = "conflict") -> dict[str, Any]:
    r = server.client.get(f"/api/{family}s", headers=server.as_(partner))  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return {f["id"]: f for f in r.json()}


def everything(server: Server) -> dict[str, dict[str, Any]]:
    """What each partner is told of every conflict and gap it knows, by lasting id."""
    return {p: {**listed(server, p), **listed(server, p, "gap")} for p in ("NOR", "SOU", "RRA")}


def kept_as_cut_afresh(server: Server) -> None:
    """The stored findings and each partner's `check` equal a cut of the analysis afresh."""
    hub: Any = server.hub
    with hub.db.read() as session:
        current = hub.current(session)
        rows = list(session.scalars(select(Finding).where(Finding.present.is_(True))))
        stored = sorted(json.dumps({p: f.views[p] for p in f.audience}, sort_keys=True)
                        for f in rows)
    kept = current.finding_cut()
    full = kept.analysis
    rules = Rules(full.compiled.workspace)
    partners = list(full.compiled.workspace.partner_codes)
    fresh = FindingCut(full, rules)  # no contents: every entry cut now
    expected = sorted(json.dumps(fresh.shown(occ, partners), sort_keys=True)
                      for occ in fresh.found())
    assert stored == [e for e in expected if e != "{}"]
    for p in partners:
        assert kept.check(p) == check_result(full, rules, p)


def test_a_write_to_one_task_cuts_only_its_conflict_and_keeps_every_other_id(
        server: Server, cut_sources) -> None:
    before = everything(server)
    beds = next(fid for fid, f in before["NOR"].items()
                if f["entries"][0].get("resource") == "beds-aster")
    cut_sources.clear()
    import_nor(server, NOR_PLAN.replace(CARE, CARE.replace("T+12h", "T+13h")))
    after = everything(server)
    # Every partner knows the same findings by the same ids; only the beds conflict moved.
    assert {p: set(x) for p, x in after.items()} == {p: set(x) for p, x in before.items()}
    for p in after:
        for fid, found in after[p].items():
            if fid == beds:
                assert found["entries"] != before[p][fid]["entries"]
                assert found["entries"][0]["window"][0] == 13 * 60
            else:
                assert found == before[p][fid], (p, fid)
    # Only the entries of what the moved task is in were cut again, for each partner.
    with server.hub.db.read() as session:  # type: ignore[attr-defined]
        kept = server.hub.current(session).finding_cut()  # type: ignore[attr-defined]
    care = "task:nor-evacuation/casualty-care"
    touched = {s for occ in kept.found() if care in occ.items for s in occ.sources}
    assert cut_sources, "the moved conflict was not cut again"
    assert {s for _, s in cut_sources} <= touched
    assert len(cut_sources) < sum(len(o.sources) for o in kept.found())
    kept_as_cut_afresh(server)


def test_a_share_change_cuts_again_what_it_shows(server: Server, cut_sources) -> None:
    """SOU is shown NOR's casualty care as hidden; NOR stops withholding its uses from SOU.

    Nothing the conflict is about changes (items, window), only what SOU may see
    of one item: the kept entries must not be lent, and SOU now reads it named.
    """
    beds = next(fid for fid, f in listed(server, "SOU").items()
                if f["entries"][0].get("resource") == "beds-aster")
    hidden = {"partner": "NOR", "hidden": True}
    assert hidden in listed(server, "SOU")[beds]["entries"][0]["tasks"]
    cut_sources.clear()
    import_nor(server, NOR_PLAN.replace(HIDDEN_USES, "    share: [SOU]\n"))
    assert any(p == "SOU" for p, _ in cut_sources)
    tasks = listed(server, "SOU")[beds]["entries"][0]["tasks"]
    assert hidden not in tasks
    assert {"partner": "NOR", "plan": "nor-evacuation", "task": "casualty-care",
            "commitment": "intent"} in tasks
    kept_as_cut_afresh(server)
    # A plan-wide share change: RRA is no longer in the share of NOR's plan.
    rra_before = listed(server, "RRA")
    import_nor(server, NOR_PLAN.replace(PLAN_SHARE, "share: [SOU]          #"))
    rra_after = listed(server, "RRA")
    assert rra_after != rra_before
    assert "nor-evacuation" not in json.dumps([f["entries"] for f in rra_after.values()
                                               if f["present"]])
    kept_as_cut_afresh(server)


EDITS = [
    ("move a task", lambda t: t.replace("    start: T+12h\n    duration: 3d\n",
                                        "    start: T+13h\n    duration: 3d\n")),
    ("withhold nothing", lambda t: t.replace(HIDDEN_USES, "    share: [SOU]\n")),
    ("narrow the plan", lambda t: t.replace(PLAN_SHARE, "share: [SOU]          #")),
    ("fewer beds", lambda t: t.replace("beds-aster: 12", "beds-aster: 10")),
    ("commitments", lambda t: t.replace("commitment: committed", "commitment: intent")),
    ("withhold again", lambda t: t.replace(
        "    serves: [casualties-treated]\n    share: [SOU]\n",
        "    serves: [casualties-treated]\n    share: [SOU]\n    withhold: {uses: [SOU]}\n")),
    ("as imported", lambda t: NOR_PLAN),
]


def test_kept_entries_equal_a_cut_afresh_after_every_kind_of_change(server: Server) -> None:
    kept_as_cut_afresh(server)
    text = NOR_PLAN
    for name, edit in EDITS:
        changed = edit(text)
        assert changed != text, f"the edit {name!r} changed nothing"
        text = changed
        import_nor(server, text)
        kept_as_cut_afresh(server)


def test_a_finding_cut_without_contents_keeps_nothing_across_analyses() -> None:
    """Without tokens (the command line), entries are kept for one analysis only."""
    from jointplan.analysis.run import analyse
    from jointplan.services.workspaces import load_checked

    ws = load_checked(EXAMPLE).workspace
    full = analyse(ws)
    first = FindingCut(full, Rules(ws))
    for p in ws.partner_codes:
        first.check(p)
    assert first.kept == {}
    second = FindingCut(full, Rules(ws), None, first.kept)
    second.check("NOR")
    assert second.cuts > 0
