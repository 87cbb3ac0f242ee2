"""Monte Carlo risk simulation of one leaf's network, vectorised across samples.

Each task's duration is Beta-PERT on ``[low, high]`` with mode ``likely``
(fixed when the three are equal), drawn by inverse transform from a table of
``TABLE`` quantiles rounded to whole minutes, so every time is a whole
minute. A task starts at its planned start or when its last predecessor
finishes, whichever is later. Tasks are processed in topological order, each
step one numpy operation over a batch of samples.

Random numbers: task ``PLAN/TASK`` reads its own PCG64DXSM stream, seeded
with a BLAKE2b hash of the seed and that name, and sample ``i`` takes the
``i``-th 16 bits of it. A figure therefore depends only on the seed, on the
tasks it is computed from and on the number of samples; never on the batch
size, on unrelated tasks or on how samples are split between workers. Every
result is an integer tally, and tallies of any split add up to the same
numbers.

Memory: about ``9 * tasks * batch`` bytes while a batch runs (see
``batch_for``); tallies are bounded whatever the number of samples (at most
``BINS`` histogram bins per task and objective, ``HIST_CELLS`` in all).
Task quantiles are read from the first ``QUANTILE_SAMPLES`` samples; every
other figure from all of them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .dag import Network
from .mcbatch import BLOCK, FAN_SAMPLES, TABLE, Work

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
Floats = NDArray[np.float64]
Times = NDArray[Any]  # int32, or int64 for very long horizons

BATCH = 32768
"""The largest batch: beyond it numpy's per-call cost is already negligible."""
BATCH_BYTES = 1 << 29
"""Working memory a batch may take (9 bytes a task-sample); batches shrink for large
networks."""
BINS = 4096
"""Histogram bins per task or objective: exact to the minute over ranges up to this."""
HIST_CELLS = 1 << 24
"""Task histograms together hold at most this many bins: beyond 4,096 tasks each gets
fewer (wider) bins, so a tally stays under 128 MB."""
QUANTILE_SAMPLES = 1 << 16
"""Task quantiles are read from samples 0 to QUANTILE_SAMPLES - 1 (their standard error
is then below 0.002 in probability); means and shares, and objectives' quantiles, use
every sample."""


# -- durations and random streams -------------------------------------------------


def pert_fractions(alpha: Floats, cells: int = 1 << 13) -> Floats:
    """Quantiles of Beta(alpha, 6 - alpha) at the midpoints ``(i + 1/2) / TABLE``.

    Beta-PERT on [low, high] with mode m is low + (high - low) * Beta(alpha,
    beta), alpha = 1 + 4 (m - low) / (high - low), alpha + beta = 6. Both
    exponents lie in [0, 4], so the density is bounded: its CDF is integrated
    by the midpoint rule on ``cells`` cells and inverted by interpolation
    (errors below 1e-5 of the range).
    """
    x = (np.arange(cells) + 0.5) / cells
    lx, l1x = np.log(x), np.log1p(-x)
    u = (np.arange(TABLE) + 0.5) / TABLE
    out = np.empty((len(alpha), TABLE))
    for first in range(0, len(alpha), 256):
        a = alpha[first:first + 256, None] - 1.0
        k = len(a)
        cdf = np.zeros((k, cells + 1))
        np.cumsum(np.exp(a * lx + (4.0 - a) * l1x), axis=1, out=cdf[:, 1:])
        cdf /= cdf[:, -1:]
        # One search for every row at once: row r is lifted by 2r so rows stay apart.
        lift = 2.0 * np.arange(k)[:, None]
        j = np.searchsorted((cdf + lift).ravel(), (u + lift).ravel(), side="right")
        j = np.clip(j.reshape(k, TABLE) - np.arange(k)[:, None] * (cells + 1), 1, cells)
        rows = np.arange(k)[:, None]
        c0, c1 = cdf[rows, j - 1], cdf[rows, j]
        out[first:first + k] = (j - 1 + (u - c0) / np.maximum(c1 - c0, 1e-300)) / cells
    return out


def pert_table(low: int, likely: int, high: int) -> Ints:
    """The ``TABLE`` equally likely durations, in whole minutes, of one estimate."""
    alpha = 1 + 4 * (likely - low) / (high - low)
    table: Ints = np.rint(low + (high - low) * pert_fractions(np.array([alpha]))[0]).astype(
        np.int64)
    return table


def stream_keys(seed: int, names: tuple[str, ...]) -> NDArray[np.uint64]:
    """128-bit stream keys, one per ``PLAN/TASK`` name: BLAKE2b of the seed and the name."""
    out = np.empty((len(names), 2), dtype=np.uint64)
    for i, name in enumerate(names):
        digest = hashlib.blake2b(f"{seed}\x00{name}".encode(), digest_size=16,
                                 person=b"jointplan-mc").digest()
        out[i] = np.frombuffer(digest, dtype="<u8")
    return out


# -- the prepared model -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Focus:
    """Whose use rows count, per use row of the network.

    A resource's excess counts only at moments an ``own`` row is in use; the
    load fans show the load of ``seen`` rows, and the whole load only where it
    exceeds the capacity while an own row is in use.
    """

    own: Bools
    seen: Bools

    @classmethod
    def everything(cls, network: Network) -> Focus:
        rows = len(network.use_resource)
        return cls(np.ones(rows, dtype=bool), np.ones(rows, dtype=bool))


@dataclass(frozen=True, slots=True)
class Group:
    """Use rows of one resource whose possible windows overlap (a connected group).

    ``near[i]`` lists the rows whose interval may hold row ``rows[i]``'s start.
    ``dense`` groups are swept by sorting instead of pair by pair.
    """

    resource: int
    rows: tuple[int, ...]
    near: tuple[tuple[int, ...], ...]
    dense: bool


@dataclass(frozen=True, slots=True)
class Model:
    """A network with its random keys, duration tables and static bounds."""

    network: Network
    seed: int
    keys: NDArray[np.uint64]
    table: Times
    """Duration tables, one row per distinct three-point estimate."""
    table_of: Ints
    """Row of ``table`` for each task, -1 for a fixed duration."""
    start_lo: Ints
    start_hi: Ints
    lo: Ints
    hi: Ints
    """Earliest and latest start and finish."""
    shift: Ints
    hist_ptr: Ints
    """Task ``t``'s finish histogram: ``hist_ptr[t + 1] - hist_ptr[t]`` bins of
    ``2 ** shift[t]`` minutes from ``lo[t]``."""
    objective_lo: Ints
    objective_shift: Ints
    objective_ptr: Ints
    reach: Bools
    """Tasks that serve or precede an objective: the only ones that can be critical."""
    groups: tuple[Group, ...]
    """Only groups that could ever exceed their resource's capacity."""
    grid: Ints
    """Times of the load fans (empty when none are wanted)."""
    load_ptr: Ints
    """Resource ``r``'s load counts: ``len(grid)`` times ``levels[r]`` levels."""
    levels: Ints
    wide: bool
    """Times need 64 bits."""
    quantile_samples: int
    """Samples whose task finishes go into the histograms (see ``QUANTILE_SAMPLES``)."""

    @property
    def time_type(self) -> type[np.signedinteger[Any]]:
        return np.int64 if self.wide else np.int32

    def batch_for(self) -> int:
        """The batch size: ``BATCH``, or less where a batch would pass ``BATCH_BYTES``."""
        fit = BATCH_BYTES // (9 * max(self.network.tasks, 1)) // BLOCK * BLOCK
        return max(BLOCK, min(BATCH, fit))


def _bins(span: Ints, limit: int = BINS) -> tuple[Ints, Ints]:
    """Per span: the power of two of its bins' width (at most ``limit`` bins), and offsets."""
    shift = np.zeros(len(span), dtype=np.int64)
    while np.any((span >> shift) >= limit):
        shift += (span >> shift) >= limit
    ptr = np.zeros(len(span) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum((span >> shift) + 1)
    return shift, ptr


def _row_bounds(net: Network, s_lo: Ints, s_hi: Ints, hi: Ints) -> tuple[Ints, Ints, Ints]:
    """Per use row: earliest start, latest start, latest end."""
    if net.tasks == 0:
        return net.use_start, net.use_start, net.use_end
    t = np.maximum(net.use_task, 0)
    task = net.use_task >= 0
    return (np.where(task, s_lo[t], net.use_start), np.where(task, s_hi[t], net.use_start),
            np.where(task, hi[t], net.use_end))


def _groups(net: Network, s_lo: Ints, s_hi: Ints, hi: Ints) -> tuple[Group, ...]:
    first, first_hi, last = _row_bounds(net, s_lo, s_hi, hi)
    out: list[Group] = []
    for r in range(len(net.resource_id)):
        mine = np.flatnonzero(net.use_resource == r)
        mine = mine[np.argsort(first[mine], kind="stable")].tolist()
        start = 0
        reach = 0
        for k, u in enumerate(mine + [None]):
            if k == len(mine) or (k > start and first[u] >= reach):
                rows = mine[start:k]
                if int(net.use_quantity[rows].sum()) > int(net.capacity[r]):
                    near = tuple(tuple(j for j in rows if j != i and first[j] <= first_hi[i]
                                       and last[j] > first[i]) for i in rows)
                    pairs = sum(len(x) for x in near)
                    dense = pairs > len(rows) * (12 + 2 * np.log2(2 * len(rows)))
                    out.append(Group(r, tuple(rows), near, bool(dense)))
                start = k
                reach = 0
            if k < len(mine):
                reach = max(reach, int(last[u]))
    return tuple(out)


def prepare(network: Network, seed: int, *, fan_points: int = 0,
            quantile_samples: int = QUANTILE_SAMPLES) -> Model:
    """Keys, tables and bounds for ``network``; ``fan_points`` > 0 adds load fans."""
    net = network
    n = net.tasks
    estimates: dict[tuple[int, int, int], int] = {}
    table_of = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        key = (int(net.low[t]), int(net.likely[t]), int(net.high[t]))
        if key[0] != key[2]:
            table_of[t] = estimates.setdefault(key, len(estimates))
    low, likely, high = (np.array([k[i] for k in estimates], dtype=np.int64).reshape(-1)
                         for i in range(3))
    span = np.maximum(high - low, 1)
    table = np.rint(low[:, None] + span[:, None] * pert_fractions(1 + 4 * (likely - low) / span))
    table = table.astype(np.int64).reshape(len(estimates), TABLE)
    random = table_of >= 0
    dmin = np.where(random, table[np.maximum(table_of, 0), 0] if len(table) else 0, net.likely)
    dmax = np.where(random, table[np.maximum(table_of, 0), -1] if len(table) else 0, net.likely)

    s_lo, s_hi = net.start.copy(), net.start.copy()
    lo, hi = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for t in range(n):
        ps = net.preds(t)
        if len(ps):
            s_lo[t] = max(s_lo[t], lo[ps].max())
            s_hi[t] = max(s_hi[t], hi[ps].max())
        lo[t] = s_lo[t] + dmin[t]
        hi[t] = s_hi[t] + dmax[t]
    shift, hist_ptr = _bins(hi - lo, max(64, min(BINS, HIST_CELLS // max(n, 1))))

    o = len(net.objective_id)
    o_lo, o_hi = np.zeros(o, dtype=np.int64), np.zeros(o, dtype=np.int64)
    reach = np.zeros(n, dtype=bool)
    for k in range(o):
        serving = net.serving(k)
        if len(serving):
            o_lo[k], o_hi[k] = lo[serving].max(), hi[serving].max()
            reach[serving] = True
    for t in range(n - 1, -1, -1):
        if reach[t]:
            reach[net.preds(t)] = True
    o_shift, o_ptr = _bins(o_hi - o_lo)

    levels = np.ones(len(net.resource_id), dtype=np.int64)
    np.add.at(levels, net.use_resource, net.use_quantity)
    grid = np.zeros(0, dtype=np.int64)
    first, _, last = _row_bounds(net, s_lo, s_hi, hi)
    if fan_points > 0 and len(first):
        grid = np.unique(np.linspace(first.min(), last.max(), fan_points).astype(np.int64))
    load_ptr = np.zeros(len(levels) + 1, dtype=np.int64)
    load_ptr[1:] = np.cumsum(levels * len(grid))

    extreme = max(np.abs(np.concatenate([lo, hi, first, last, [0]])).max(), 0)
    wide = bool(extreme >= 1 << 30)
    return Model(net, seed, stream_keys(seed, tuple(net.name(t) for t in range(n))),
                 table.astype(np.int64 if wide else np.int32), table_of, s_lo, s_hi, lo, hi,
                 shift, hist_ptr, o_lo, o_shift, o_ptr, reach, _groups(net, s_lo, s_hi, hi),
                 grid, load_ptr, levels, wide, quantile_samples)


# -- tallies ----------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Integer counts over some samples; tallies of disjoint samples add up exactly.

    A chunk that cannot add to the task histograms (it starts after the samples
    they count) or to the load fans carries them empty: empty counts as zeros.
    """

    samples: int
    finish_sum: Ints
    finish_hist: Ints
    breach: Ints
    critical: Ints
    met: Ints
    objective_sum: Ints
    objective_hist: Ints
    over: Ints
    overrun_sum: Ints
    load: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def zeros(cls, model: Model, first: int = 0) -> Tally:
        """Nothing counted yet, for samples from ``first`` on."""
        net = model.network
        n, o, r = net.tasks, len(net.objective_id), len(net.resource_id)

        def z(size: int) -> Ints:
            return np.zeros(size, dtype=np.int64)

        hist = int(model.hist_ptr[-1]) if first < model.quantile_samples else 0
        load = int(model.load_ptr[-1]) if first < FAN_SAMPLES else 0
        return cls(0, z(n), z(hist), z(n), z(n), z(o), z(o),
                   z(int(model.objective_ptr[-1])), z(r), z(r), z(load))

    def __add__(self, other: Tally) -> Tally:
        args: list[Any] = [_plus(getattr(self, f.name), getattr(other, f.name))
                           for f in fields(self)]
        return Tally(*args)

    def same_as(self, other: Tally) -> bool:
        """Every count equal."""
        def same(a: Any, b: Any) -> bool:
            if isinstance(a, np.ndarray) and a.size != b.size and 0 in (a.size, b.size):
                return not (a.any() or b.any())
            return bool(np.array_equal(a, b))

        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))


def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) and a.size != b.size:
        return a if b.size == 0 else b
    return a + b


# -- the kernel -------------------------------------------------------------------


def simulate(model: Model, focus: Focus, samples: int, *, batch: int | None = None,
             progress: Callable[[int], None] | None = None) -> Tally:
    """All samples in this process."""
    return simulate_chunk(model, focus, 0, samples, batch=batch, progress=progress)


def simulate_chunk(model: Model, focus: Focus, first: int, count: int, *,
                   batch: int | None = None, keep: bool = False,
                   progress: Callable[[int], None] | None = None) -> Tally:
    """Tally samples ``first`` to ``first + count - 1``, a batch at a time.

    With ``keep``, the chunk's buffers are kept for the next chunk of the same
    model and focus in this process (a Dask worker would otherwise map and
    fault in hundreds of megabytes per chunk); ``release()`` drops them.
    """
    batch = batch or model.batch_for()
    if first % BLOCK or batch % BLOCK or batch <= 0 or count < 0:
        raise ValueError(f"the first sample and the batch size must be multiples of {BLOCK}")
    tally = Tally.zeros(model, first)
    if count == 0:
        return tally
    size = min(batch, -(-count // BLOCK) * BLOCK)
    work = _spare_for(model, focus, first, size) or Work(model, focus, first, size)
    done = 0
    while done < count:
        n = min(batch, count - done)
        work.run(n, tally)
        done += n
        if progress is not None:
            progress(n)
    if keep:
        with _spare_lock:
            _spare[:] = [work]
    return tally


_spare: list[Work] = []
_spare_lock = threading.Lock()


def _spare_for(model: Model, focus: Focus, first: int, size: int) -> Work | None:
    with _spare_lock:
        if _spare and _spare[0].fits(model, focus, size):
            work = _spare.pop()
            work.restart(first)
            return work
    return None


def release() -> None:
    """Drop the buffers that ``simulate_chunk(keep=True)`` kept in this process."""
    with _spare_lock:
        _spare.clear()


# -- figures ----------------------------------------------------------------------


def _quantile(counts: Ints, lo: int, shift: int, q: float) -> int:
    """The smallest time by which a share ``q`` of the samples has finished
    (the middle of its bin when bins are wider than a minute)."""
    cum = np.cumsum(counts)
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9, side="left"))
    return lo + (k << shift) + ((1 << shift) - 1) // 2


@dataclass(frozen=True, slots=True)
class Figures:
    """What a run found, per task, objective and resource (uncut: every item)."""

    samples: int
    finish_mean: Floats
    finish_p50: Ints
    finish_p90: Ints
    criticality: Floats
    p_flex_breach: Floats
    served: Bools
    """Objectives that at least one task serves; the others have no figures."""
    p_met: Floats
    objective_mean: Floats
    objective_p50: Ints
    objective_p90: Ints
    p_over: Floats
    expected_overrun: Floats


def figures(model: Model, tally: Tally) -> Figures:
    """Shares, means and quantiles from a tally."""
    net = model.network
    n = max(tally.samples, 1)

    def quantiles(hist: Ints, ptr: Ints, lo: Ints, shift: Ints, q: float) -> Ints:
        out = np.zeros(len(lo), dtype=np.int64)
        for k in range(len(lo)):
            counts = hist[ptr[k]:ptr[k + 1]]
            if counts.sum():
                out[k] = _quantile(counts, int(lo[k]), int(shift[k]), q)
        return out

    t_args = (tally.finish_hist, model.hist_ptr, model.lo, model.shift)
    o_args = (tally.objective_hist, model.objective_ptr, model.objective_lo,
              model.objective_shift)
    return Figures(
        samples=tally.samples,
        finish_mean=tally.finish_sum / n,
        finish_p50=quantiles(*t_args, 0.5), finish_p90=quantiles(*t_args, 0.9),
        criticality=tally.critical / n, p_flex_breach=tally.breach / n,
        served=np.diff(net.serve_ptr) > 0,
        p_met=tally.met / n, objective_mean=tally.objective_sum / n,
        objective_p50=quantiles(*o_args, 0.5), objective_p90=quantiles(*o_args, 0.9),
        p_over=tally.over / n, expected_overrun=tally.overrun_sum / n)


def objective_distribution(model: Model, tally: Tally, o: int) -> tuple[Ints, Floats]:
    """Bin start times and the share of samples whose objective finish falls in each."""
    a, b = int(model.objective_ptr[o]), int(model.objective_ptr[o + 1])
    times = model.objective_lo[o] + (np.arange(b - a, dtype=np.int64)
                                      << model.objective_shift[o])
    return times, tally.objective_hist[a:b] / max(tally.samples, 1)


def load_quantiles(model: Model, tally: Tally, r: int,
                   qs: tuple[float, ...]) -> tuple[Ints, Ints]:
    """Grid times and, per quantile, the load level at each of them."""
    a, b = int(model.load_ptr[r]), int(model.load_ptr[r + 1])
    counts = tally.load[a:b].reshape(len(model.grid), int(model.levels[r]))
    cum = np.cumsum(counts, axis=1)
    total = np.maximum(cum[:, -1:], 1)
    out = np.stack([np.argmax(cum >= q * total - 1e-9, axis=1) for q in qs])
    return model.grid, out.astype(np.int64)
