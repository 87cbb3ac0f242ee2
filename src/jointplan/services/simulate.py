"""The `simulate` use case: load, compile each leaf, run here or on Dask, cut for the viewer.

Which leaves: the one named by ``scenario``; without it, every leaf in which
one of the viewer's own plans (any plan, for the custodian) is active and
has tasks, in the workspace's order.

On Dask the samples are split into chunks of whole batches and mapped over
the cluster's workers; each chunk returns an integer tally and the tallies
are added, so the figures are the same whatever the number of workers (each
task's random stream is indexed by sample, not by worker or batch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.dag import compile_network
from ..analysis.montecarlo import (
    Focus,
    Model,
    Tally,
    figures,
    prepare,
    release,
    simulate,
    simulate_chunk,
)
from ..model import Workspace
from ..sharing import Rules
from ..sharing.simcut import Charts, charts_for, lens_for, simulation_result
from .workspaces import load_checked, require_partner

DEFAULT_SAMPLES = 10_000
DEFAULT_SEED = 0
FAN_POINTS = 240
"""Times at which load fans are drawn."""
CHUNKS_PER_WORKER = 4
"""Chunks per Dask worker: enough to balance the load and show progress."""

Progress = Callable[[str, int, int, int], None]
"""Called as ``progress(leaf, samples done, samples in all, tasks)``."""


@dataclass(frozen=True, slots=True)
class Run:
    """One leaf's simulation: the contract JSON, and plot data when asked for."""

    report: dict[str, Any]
    charts: Charts | None


def leaves_for(ws: Workspace, viewer: str | None, scenario: str | None) -> tuple[str, ...]:
    """The leaves to simulate; ValueError names the choices when there are none."""
    leaves = ws.leaves()
    if scenario is not None:
        if scenario in leaves:
            return (scenario,)
        below = [leaf for leaf in leaves if scenario in ws.path(leaf)]
        if below:
            raise ValueError(f"{scenario} is not a leaf scenario; simulate one of its leaves: "
                             + ", ".join(below))
        raise ValueError(f"no scenario {scenario!r} in {ws.id}; its leaf scenarios are "
                         + ", ".join(leaves))
    mine = [p for p in ws.plans if p.tasks and (viewer is None or p.owner == viewer)]
    picked = tuple(leaf for leaf in leaves if any(leaf in ws.active_leaves(p) for p in mine))
    if not picked:
        who = "no plan" if viewer is None else f"{viewer} has no plan"
        raise ValueError(f"{who} with tasks is active in any scenario; choose one with "
                         "--scenario: " + ", ".join(leaves))
    return picked


def _chunks(samples: int, batch: int, parts: int) -> list[tuple[int, int]]:
    """``(first, count)`` ranges of whole batches, at most ``parts`` of them."""
    batches = -(-samples // batch)
    per = -(-batches // max(parts, 1))
    step = per * batch
    return [(first, min(step, samples - first)) for first in range(0, samples, step)]


def run_on_client(client: Any, model: Model, focus: Focus, samples: int,
                  batch: int | None = None,
                  progress: Callable[[int], None] | None = None) -> Tally:
    """All samples on a dask.distributed ``client``; the same tally as ``simulate``."""
    from distributed import as_completed

    batch = batch or model.batch_for()
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    shared = client.scatter([model, focus], broadcast=True, hash=False)
    futures = [client.submit(simulate_chunk, shared[0], shared[1], first, count, batch=batch,
                             keep=True, pure=False)
               for first, count in _chunks(samples, batch, CHUNKS_PER_WORKER * workers)]
    total = Tally.zeros(model)
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            part: Tally = future.result()
            total = total + part
            if progress is not None:
                progress(part.samples)
    finally:
        client.cancel(futures)
        client.run(release)
    return total


@contextmanager
def dask_client(workers: int | None, scheduler: str | None, *,
                processes: bool = True) -> Iterator[Any]:
    """A client for ``--scheduler ADDRESS`` or a local cluster of ``--workers W``
    processes of one thread each; None when neither is asked for."""
    if workers is None and scheduler is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError("running on Dask needs the `sim` extras: pip install "
                         "'jointplan[sim]'") from exc
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    cluster = LocalCluster(n_workers=workers,  # type: ignore[no-untyped-call]
                           threads_per_worker=1, processes=processes, dashboard_address=None,
                           silence_logs=logging.CRITICAL)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def simulate_workspace(folder: str | Path, viewer: str | None, scenario: str | None, *,
                       samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                       workers: int | None = None, scheduler: str | None = None,
                       client: Any = None, charts: bool = False,
                       progress: Progress | None = None) -> list[Run]:
    """Simulate each chosen leaf of the workspace in ``folder`` as ``viewer`` sees it.

    Raises ``InvalidWorkspace`` for a bad folder and ``ValueError`` for a bad
    viewer, scenario or option. ``client`` runs on an existing Dask client.
    """
    if samples < 1:
        raise ValueError("--samples must be at least 1")
    if seed < 0:
        raise ValueError("--seed must be a whole number >= 0")
    if workers is not None and workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers is not None and scheduler is not None:
        raise ValueError("give --workers (a local cluster) or --scheduler (an existing one), "
                         "not both")
    loaded = load_checked(folder)
    require_partner(loaded, viewer)
    return simulate_loaded(loaded.workspace, viewer, scenario, samples=samples, seed=seed,
                           workers=workers, scheduler=scheduler, client=client,
                           charts=charts, progress=progress)


def simulate_loaded(ws: Workspace, viewer: str | None, scenario: str | None, *,
                    samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                    workers: int | None = None, scheduler: str | None = None,
                    client: Any = None, charts: bool = False,
                    progress: Progress | None = None) -> list[Run]:
    """Simulate a workspace already read (the server's), as ``viewer`` sees it."""
    leaves = leaves_for(ws, viewer, scenario)
    rules = Rules(ws)
    runs = []
    with dask_client(None if client else workers, None if client else scheduler) as made:
        active = client or made
        for leaf in leaves:
            net = compile_network(ws, leaf)
            model = prepare(net, seed, fan_points=FAN_POINTS if charts else 0)
            lens = lens_for(rules, net, viewer)
            done = [0]

            def step(n: int, leaf: str = leaf, tasks: int = net.tasks,
                     done: list[int] = done) -> None:
                done[0] += n
                if progress is not None:
                    progress(leaf, done[0], samples, tasks)

            if active is None:
                tally = simulate(model, lens.focus, samples, progress=step)
            else:
                tally = run_on_client(active, model, lens.focus, samples, progress=step)
            report = simulation_result(ws, net, figures(model, tally), lens, seed=seed)
            runs.append(Run(report, charts_for(model, tally, report, lens, ws)
                            if charts else None))
    return runs
