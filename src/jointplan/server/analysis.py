"""Analysis on the server: the same kernels and gate as `jointplan check`, audited and limited.

Deconfliction can be probed (book a resource over the whole horizon to map
hidden use), so every request is recorded in the audit log, requests are
limited per partner, and the owner of a hidden item is told whenever it
appears in a conflict shown to another partner.
"""

from __future__ import annotations

from typing import Any

from ..analysis.run import analyse
from ..services.accounts import Actor
from ..sharing import Rules
from ..sharing.cut import check_result
from ..store import audit
from ..store.tables import Notification
from .hub import Hub, Invalid


def check_for(hub: Hub, actor: Actor, *, slot_taken: bool = False) -> dict[str, Any]:
    """The `check --json` object for the actor's partner, from what is stored.

    ``slot_taken``: the caller already counted this analysis against the limits
    (before a write it answers with the analysis, so the write is never refused
    after it was stored).
    """
    if not slot_taken:
        hub.take_analysis_slot(actor)
    with hub.db.write() as session:
        current = hub.current(session)
        ws = current.workspace
        rules = Rules(ws)
        full = analyse(ws)
        report = check_result(full, rules, actor.partner)
        exposed = _exposed_owners(report, actor.partner)
        audit.append(session, action="analysis", subject=f"partner:{actor.partner}",
                     user_id=actor.user_id, partner=actor.partner,
                     owners=[actor.partner, *exposed],
                     detail={"conflicts": len(report["conflicts"]), "gaps": len(report["gaps"])})
        for owner, what in exposed.items():
            session.add(Notification(partner=owner, text=(
                f"{actor.partner} ran an analysis in which {what} of your items not shared "
                f"with {actor.partner} appeared as hidden counterparts in its conflicts.")))
    return report


def _exposed_owners(report: dict[str, Any], viewer: str) -> dict[str, str]:
    """Partners whose hidden items the viewer was told of, and how many conflicts."""
    counts: dict[str, int] = {}
    for conflict in report["conflicts"]:
        for item in conflict["tasks"]:
            if item.get("hidden") and item["partner"] != viewer:
                counts[item["partner"]] = counts.get(item["partner"], 0) + 1
    return {p: f"some (in {n} conflict{'s' if n != 1 else ''})" for p, n in counts.items()}


MAX_SAMPLES = 20_000
"""Samples one request may ask for: the server shares its cores between partners."""


def simulate_for(hub: Hub, actor: Actor, scenario: str | None, samples: int,
                 seed: int) -> list[dict[str, Any]]:
    """Risk simulation of the stored plans, cut for the actor's partner (one per leaf)."""
    from ..services.simulate import simulate_loaded

    if not 1 <= samples <= MAX_SAMPLES:
        raise Invalid("samples", f"samples must be between 1 and {MAX_SAMPLES}")
    if seed < 0:
        raise Invalid("seed", "seed must be a whole number >= 0")
    hub.take_analysis_slot(actor)
    with hub.db.write() as session:
        ws = hub.current(session).workspace
        try:
            runs = simulate_loaded(ws, actor.partner, scenario, samples=samples, seed=seed)
        except ValueError as exc:
            raise Invalid("scenario", str(exc)) from None
        audit.append(session, action="simulation", subject=f"partner:{actor.partner}",
                     user_id=actor.user_id, partner=actor.partner, owners=[actor.partner],
                     detail={"scenario": scenario, "samples": samples, "seed": seed})
    return [run.report for run in runs]
