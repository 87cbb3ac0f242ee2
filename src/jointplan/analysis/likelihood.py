"""Scenario likelihoods from priors and the indicator observations that count."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..model import Observation, Workspace


def latest_observations(observations: Iterable[Observation]) -> dict[str, Observation]:
    """Per indicator, the latest observation by real time; of equal times, the last listed."""
    latest: dict[str, Observation] = {}
    for obs in observations:
        current = latest.get(obs.indicator)
        if current is None or obs.at >= current.at:
            latest[obs.indicator] = obs
    return latest


def likelihoods(ws: Workspace, observations: Iterable[Observation]) -> dict[str, float | None]:
    """P(scenario | observations) for every scenario, in workspace order.

    ``observations`` are those that count (the gate has chosen them), in
    reading order. ``None`` for every scenario when the evidence rules out
    every leaf.
    """
    indicators = {i.id: i for i in ws.indicators}
    counted = latest_observations(observations)
    weights: dict[str, float] = {}
    priors = {s.id: s.prior for s in ws.scenarios}
    for leaf in ws.leaves():
        path = ws.path(leaf)
        weight = 1.0
        for sid in path:
            weight *= priors[sid]
        for obs in counted.values():
            table: Mapping[str, float] = indicators[obs.indicator].likelihood
            p = next(table[s] for s in path if s in table)
            weight *= p if obs.seen else 1.0 - p
        weights[leaf] = weight
    total = sum(weights.values())
    if total <= 0:
        return {s.id: None for s in ws.scenarios}
    figures = {s.id: 0.0 for s in ws.scenarios}
    for leaf, w in weights.items():
        for sid in ws.path(leaf):
            figures[sid] += w / total
    return dict(figures)
