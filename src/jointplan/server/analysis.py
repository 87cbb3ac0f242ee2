"""Analysis on the server: the same kernels and gate as `jointplan check`, limited and recorded.

An analysis is a read: it takes a snapshot, cuts the stored state's full
analysis (built once and shared, see `hub.Current`) for the partner, and
holds no write lock while it computes. Deconfliction can be probed (book a
resource over the whole horizon to map hidden use), so a result that shows
another partner's hidden items as counterparts is recorded — in a short write
of its own, once per partner and distinct result, not per page view; the
owners of those items may read that audit entry. Each owner is also told, once
per lasting conflict and viewing partner, when a conflict shows its hidden items
to another partner (`findings.reconcile`, in the write that changes the plans).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..services.accounts import Actor
from ..services.check import check_analysed
from ..sharing.cut import likelihood_report
from ..store import audit
from ..store.tables import AnalysisRecord
from .hub import Current, Hub, Invalid


def check_for(hub: Hub, actor: Actor, *, slot_taken: bool = False) -> dict[str, Any]:
    """The `check --json` object for the actor's partner, from what is stored.

    Its entries are shared with the partner's other reads of the same stored
    state: read them, do not change them.

    ``slot_taken``: the caller already counted this analysis against the limits
    (before a write it answers with the analysis, so the write is never refused
    after it was stored).
    """
    report = kept_check_for(hub, actor, slot_taken=slot_taken)
    # The kept cut is shared by the partner's later reads of this state: the caller gets
    # its own top-level object and lists (to filter or add to), the entries read-only.
    return {k: list(v) if isinstance(v, list) else v for k, v in report.items()}


def kept_check_for(hub: Hub, actor: Actor, *, slot_taken: bool = False) -> dict[str, Any]:
    """`check_for`, shared whole (its lists too) with the partner's other reads of the
    same plans: read it, never change it."""
    if not slot_taken:
        hub.take_analysis_slot(actor)
    with hub.db.read() as session:
        current = hub.current(session)
    cut = cut_for(hub, current, actor.partner)
    _record_cut(hub, actor, current, cut)
    return cut.report


@dataclass(frozen=True)
class Cut:
    """One partner's `check` object of one stored state, with what recording it needs."""

    report: dict[str, Any]
    owners: frozenset[str]
    """Partners whose hidden items the conflicts show as counterparts."""
    digest: str
    """Of the conflicts, where they show any hidden item (what a record is kept by)."""


def cut_for(hub: Hub, current: Current, partner: str) -> Cut:
    """The partner's cut of the state's full analysis, made once per state and partner.

    Kept with the stored state (`Current.recent`, bounded), so repeated reads of an
    unchanged state cost a lookup. What the plans decide (conflicts, gaps, coverage) is
    kept by what they say (`Hub.kept` by `Current.plans_key`): a write that changes no
    plan (an observation, a plan's status) makes only the likelihoods again.
    """
    def plans_part() -> tuple[dict[str, Any], frozenset[str], str]:
        finding_cut = current.finding_cut()
        if finding_cut is not None:  # the entries the write made for its findings
            report = finding_cut.check(partner, current.analysis(), current.rules)
        else:
            report = check_analysed(current.analysis(), current.rules, partner)
        owners = hidden_counterparts(report, partner)
        return report, owners, digest_of(report["conflicts"]) if owners else ""

    def build() -> Cut:
        report, owners, digest = hub.kept(("check", current.plans_key, partner), plans_part)
        likelihood = likelihood_report(current.workspace, current.rules, partner)
        return Cut({**report, "likelihood": likelihood}, owners, digest)

    made: Cut = current.recent(("check", partner), build)
    return made


def digest_of(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def hidden_counterparts(report: dict[str, Any], viewer: str) -> frozenset[str]:
    """Partners whose hidden items the viewer was shown (as in ``exposed_conflicts``)."""
    return frozenset(item["partner"] for conflict in report["conflicts"]
                     for item in conflict["tasks"]
                     if item.get("hidden") and item["partner"] != viewer)


def exposed_conflicts(report: dict[str, Any], viewer: str) -> dict[str, list[str]]:
    """Partners whose hidden items the viewer was shown, with a digest of each such conflict."""
    out: dict[str, list[str]] = {}
    for conflict in report["conflicts"]:
        owners = {item["partner"] for item in conflict["tasks"]
                  if item.get("hidden") and item["partner"] != viewer}
        if owners:
            digest = digest_of(conflict)
            for owner in owners:
                out.setdefault(owner, []).append(digest)
    return out


def record_exposure(hub: Hub, actor: Actor, current: Current, report: dict[str, Any]) -> None:
    """Record a result that showed hidden counterparts, once per partner and result.

    The conflicts are what can reveal hidden activity, so they are the result
    that counts: the same conflicts shown again (another page, a new
    likelihood) write nothing.
    """
    owners = hidden_counterparts(report, actor.partner)
    if owners:
        _record_cut(hub, actor, current, Cut(report, owners, digest_of(report["conflicts"])))


def _record_cut(hub: Hub, actor: Actor, current: Current, cut: Cut) -> None:
    exposed, digest, report = cut.owners, cut.digest, cut.report
    if not exposed:
        return
    known = (actor.partner, digest)
    if known in hub.recorded:
        return
    with hub.db.read() as session:
        done = _recorded(session, actor.partner, digest)
    if not done:
        with hub.db.write() as session:
            if not _recorded(session, actor.partner, digest):  # another process may have
                _record(session, actor, current, report, digest, exposed)
    hub.remember_recorded(known)


def _recorded(session: Any, partner: str, digest: str) -> bool:
    return session.scalar(select(AnalysisRecord.id).where(
        AnalysisRecord.partner == partner, AnalysisRecord.digest == digest)) is not None


def _record(session: Any, actor: Actor, current: Current, report: dict[str, Any], digest: str,
            exposed: frozenset[str]) -> None:
    viewer = actor.partner
    session.add(AnalysisRecord(partner=viewer, digest=digest, head=current.head))
    audit.append(session, action="analysis", subject=f"partner:{viewer}",
                 user_id=actor.user_id, partner=viewer, owners=[viewer, *sorted(exposed)],
                 detail={"conflicts": len(report["conflicts"]), "gaps": len(report["gaps"]),
                         "result": digest})


MAX_SAMPLES = 20_000
"""Samples one request may ask for: the server shares its cores between partners."""


def simulate_for(hub: Hub, actor: Actor, scenario: str | None, samples: int,
                 seed: int) -> list[dict[str, Any]]:
    """Risk simulation of the stored plans, cut for the actor's partner (one per leaf).

    A read: it names no hidden item (hidden tasks count in the figures, unnamed),
    so nothing is written.
    """
    from ..services.simulate import simulate_loaded

    if not 1 <= samples <= MAX_SAMPLES:
        raise Invalid("samples", f"samples must be between 1 and {MAX_SAMPLES}")
    if seed < 0:
        raise Invalid("seed", "seed must be a whole number >= 0")
    hub.take_analysis_slot(actor)
    with hub.db.read() as session:
        current = hub.current(session)

    def run() -> list[dict[str, Any]] | str:
        # Observations play no part in it: the plans alone decide it (with the seed).
        try:
            runs = simulate_loaded(current.plans.workspace, actor.partner, scenario,
                                   samples=samples, seed=seed)
        except ValueError as exc:
            return str(exc)
        return [r.report for r in runs]

    # A function of the plans, the partner and the request (a fixed seed): kept by them,
    # so the same simulation asked again costs a lookup, not another run.
    made: list[dict[str, Any]] | str = hub.kept(
        ("simulate", current.plans_key, actor.partner, scenario, samples, seed), run)
    if isinstance(made, str):
        raise Invalid("scenario", made)
    return [dict(report) for report in made]
