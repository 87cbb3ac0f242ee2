"""The inner loops of the Monte Carlo kernel: one batch of samples at a time.

Rows are tasks, columns samples. Tasks go in topological order, each step a
numpy operation over the batch: draw the durations, take the latest of the
planned start and the predecessors' finishes, add. Then the objectives,
criticality (walking back along the predecessors that set each start) and
each resource's excess over capacity. Buffers are allocated once per chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .montecarlo import Focus, Group, Model, Tally

TABLE = 4096
"""Quantiles per three-point duration table (12 random bits a draw)."""
BLOCK = 16
"""Chunks and batches start on multiples of this many samples: whole 64-bit draws
(16 bits a sample) and rows aligned to 32 bytes."""
FAN_SAMPLES = 8192
"""Load fans are drawn from samples 0 to FAN_SAMPLES - 1: plenty for a picture."""

Row = NDArray[Any]
Time = Row | int
"""A row of times over the batch, or one time shared by every sample."""

_PAY = 26  # low bits of a dense sweep's event key that carry its payload
_MID = 1 << 23  # payload zero: an end carries _MID - q, a start _MID + q


def _stream(key: NDArray[np.uint64], first: int) -> np.random.PCG64DXSM:
    """A task's stream, positioned at sample ``first`` (four samples a 64-bit draw).

    PCG64DXSM jumps ahead in logarithmic time, so sample ``i`` always reads the
    same bits whichever chunk it falls in.
    """
    stream = np.random.PCG64DXSM(np.random.SeedSequence(int(key[0]) | int(key[1]) << 64))
    stream.advance(first // 4)
    return stream


class Work:
    """Buffers, random streams and per-task plans for one chunk of samples."""

    def __init__(self, model: Model, focus: Focus, first: int, size: int) -> None:
        self.model, self.focus = model, focus
        self.at = first
        net = model.network
        tasks = net.tasks
        dt = model.time_type
        self.udt = np.uint64 if model.wide else np.uint32
        self.gens = [_stream(model.keys[t], first) if model.table_of[t] >= 0 else None
                     for t in range(tasks)]
        self.tables = list(model.table)
        self.finish = np.empty((tasks, size), dtype=dt)
        self.start = np.empty((tasks, size), dtype=dt)
        self.chain = np.empty((tasks, size), dtype=bool)
        # Indices as intp: numpy would otherwise convert them on every call, into
        # a fresh array that a worker's allocator may map and unmap each time.
        self.index = np.empty(size, dtype=np.intp)
        self.wide64 = np.empty(size, dtype=np.int64)
        self.excess = np.empty((len(net.resource_id), size), dtype=np.int64)
        widest = max((len(g.rows) for g in model.groups), default=0)
        self.spans = np.empty((widest, size), dtype=dt)
        self.small: dict[type[Any], list[Row]] = {}
        self.duration = np.empty(size, dtype=dt)
        self.tmp = np.empty(size, dtype=dt)
        self.done = np.empty(size, dtype=dt)
        self.mask = np.empty(size, dtype=bool)
        self.rows = list(self.finish)  # row views, made once: slicing costs per call
        self.starts = list(self.start)
        self.chains = list(self.chain)
        self.preds = [net.preds(t).tolist() for t in range(tasks)]
        self.back = [(t, self.preds[t]) for t in range(tasks - 1, -1, -1) if model.reach[t]]

        # Numbers as 0-d arrays of the rows' type: numpy converts a Python int on
        # every call, which costs more than the arithmetic on a small batch.
        def num(x: Any) -> Row:
            return np.array(x, dtype=dt)

        self.mask12 = np.array(TABLE - 1, dtype=np.uint16)
        self.steps = [
            (int(model.table_of[t]), self.preds[t], num(net.start[t]), num(net.likely[t]),
             num(net.flex_end[t]), int(model.start_hi[t]) > int(net.flex_end[t]),
             not self.preds[t] and model.table_of[t] < 0, num(model.lo[t]),
             int(model.shift[t]), num(model.shift[t]), int(model.hist_ptr[t]))
            for t in range(tasks)]

    def fits(self, model: Model, focus: Focus, size: int) -> bool:
        """Whether these buffers can run ``size`` samples of ``model`` for ``focus``."""
        return self.model is model and self.focus is focus and self.finish.shape[1] >= size

    def restart(self, first: int) -> None:
        """Go on from sample ``first``, keeping the buffers."""
        model = self.model
        self.at = first
        self.gens = [_stream(model.keys[t], first) if model.table_of[t] >= 0 else None
                     for t in range(model.network.tasks)]

    def run(self, n: int, tally: Tally) -> None:
        """Simulate the next ``n`` samples of the chunk into ``tally``."""
        self._forward(n, min(n, max(0, self.model.quantile_samples - self.at)), tally)
        self._critical(n, tally)
        self._overrun(n, tally)
        fan = min(n, FAN_SAMPLES - self.at)
        if len(self.model.grid) and fan > 0:
            self._fans(fan, tally)
        tally.samples += n
        self.at += n

    # -- tasks --------------------------------------------------------------------

    def _forward(self, n: int, counted: int, tally: Tally) -> None:
        """Every task's start and finish; the first ``counted`` finishes go into the
        histograms the quantiles are read from."""
        draws = -(-n // 4)
        index, dur, mask = self.index[:n], self.duration[:n], self.mask[:n]
        full = n == self.finish.shape[1]
        finish = self.rows if full else [row[:n] for row in self.rows]
        start = self.starts if full else [row[:n] for row in self.starts]
        tables, gens = self.tables, self.gens
        hist, breach = tally.finish_hist, tally.breach
        mask12 = self.mask12
        for t, (tab, ps, s0, fixed, flex_end, may_breach, constant, lo, shift, shift0,
                offset) in enumerate(self.steps):
            row = finish[t]
            if tab >= 0:
                raw = gens[t].random_raw(draws).view(np.uint16)  # type: ignore[union-attr]
                np.bitwise_and(raw if full and n % 4 == 0 else raw[:n], mask12, out=index,
                               casting="unsafe")
                tables[tab].take(index, None, dur, "wrap")
            if ps:
                srow = start[t]
                np.maximum(finish[ps[0]], s0, out=srow)
                for p in ps[1:]:
                    np.maximum(srow, finish[p], out=srow)
                if may_breach:
                    breach[t] += np.count_nonzero(np.greater(srow, flex_end, out=mask))
                np.add(srow, dur if tab >= 0 else fixed, out=row)
            elif tab >= 0:
                np.add(dur, s0, out=row)
            else:
                row.fill(s0 + fixed)
            if not counted:
                continue
            if constant:
                hist[offset] += counted
            else:
                part = index[:counted]
                np.subtract(row[:counted], lo, out=part, casting="unsafe")
                if shift:
                    np.right_shift(part, shift0, out=part)
                counts = np.bincount(part)
                hist[offset:offset + len(counts)] += counts
        tally.finish_sum += self.finish[:, :n].sum(axis=1, dtype=np.int64)

    def _critical(self, n: int, tally: Tally) -> None:
        """Objective finishes; then criticality, walking back from each objective's
        last-finishing tasks through every predecessor whose finish set a start
        (a tie with the planned start counts as set by the predecessor)."""
        model = self.model
        net = model.network
        full = n == self.finish.shape[1]
        finish = self.rows if full else [row[:n] for row in self.rows]
        start = self.starts if full else [row[:n] for row in self.starts]
        self.chain[:, :n].fill(False)
        chain = self.chains if full else [row[:n] for row in self.chains]
        done, index, mask = self.done[:n], self.index[:n], self.mask[:n]
        for o in range(len(net.objective_id)):
            serving = net.serving(o).tolist()
            if not serving:
                continue
            np.copyto(done, finish[serving[0]])
            for t in serving[1:]:
                np.maximum(done, finish[t], out=done)
            tally.met[o] += np.count_nonzero(np.less_equal(done, int(net.by[o]), out=mask))
            tally.objective_sum[o] += done.sum(dtype=np.int64)
            a = int(model.objective_ptr[o])
            np.subtract(done, int(model.objective_lo[o]), out=index, casting="unsafe")
            np.right_shift(index, int(model.objective_shift[o]), out=index)
            counts = np.bincount(index)
            tally.objective_hist[a:a + len(counts)] += counts
            for t in serving:
                np.equal(finish[t], done, out=mask)
                np.logical_or(chain[t], mask, out=chain[t])
        critical = tally.critical
        for t, preds in self.back:
            on = chain[t]
            count = np.count_nonzero(on)
            if not count:
                continue
            critical[t] += count
            srow = start[t]
            for p in preds:
                np.equal(finish[p], srow, out=mask)
                np.logical_and(mask, on, out=mask)
                np.logical_or(chain[p], mask, out=chain[p])

    # -- resources ----------------------------------------------------------------

    def _times(self, u: int, n: int) -> tuple[Time, Time]:
        """A use row's start and end over the batch."""
        net = self.model.network
        t = int(net.use_task[u])
        if t < 0:
            return int(net.use_start[u]), int(net.use_end[u])
        s: Time = self.start[t, :n] if self.preds[t] else int(net.start[t])
        return s, self.finish[t, :n]

    def _overrun(self, n: int, tally: Tally) -> None:
        net = self.model.network
        excess: dict[int, NDArray[np.int64]] = {}
        peak64 = self.wide64[:n]
        for g in self.model.groups:
            own = self.focus.own[list(g.rows)]
            if not own.any():
                continue
            if g.dense:
                np.copyto(peak64, self._sweep(g, own, n))
            else:
                np.copyto(peak64, self._pairs(g, own, n), casting="unsafe")
            np.subtract(peak64, int(net.capacity[g.resource]), out=peak64)
            if g.resource not in excess:
                excess[g.resource] = self.excess[g.resource, :n]
                excess[g.resource].fill(0)
            np.maximum(excess[g.resource], peak64, out=excess[g.resource])
        for r, ex in excess.items():
            tally.over[r] += np.count_nonzero(ex)
            tally.overrun_sum[r] += int(ex.sum())

    def _buffers(self, kind: type[Any], n: int) -> list[Row]:
        """Level, count, product and best rows of one integer type, made once."""
        if kind not in self.small:
            self.small[kind] = [np.empty(self.finish.shape[1], dtype=kind) for _ in range(4)]
        return [b[:n] for b in self.small[kind]]

    def _pairs(self, g: Group, own: NDArray[np.bool_], n: int) -> Row:
        """The peak load at moments an own row is in use, per sample.

        The load only rises at a start, so the peak is the largest load at
        some row's start: the sum over rows whose ``[start, end)`` holds it,
        tested as ``0 <= s_i - s_j < d_j`` in one unsigned comparison.
        Touching intervals do not overlap; a zero-length row holds nothing.
        """
        net = self.model.network
        q = {u: int(net.use_quantity[u]) for u in g.rows}
        mine = dict(zip(g.rows, own.tolist(), strict=True))
        everyone = bool(own.all())
        total = sum(q.values())
        ldt = np.uint8 if total < 1 << 8 else np.uint16 if total < 1 << 16 else np.int64
        cdt = np.uint8 if len(g.rows) < 1 << 8 else np.int64
        span: dict[int, tuple[Time, Time]] = {}
        for j, u in enumerate(g.rows):
            s, e = self._times(u, n)
            span[u] = (s, e - s if isinstance(e, int) and isinstance(s, int)
                       else np.subtract(e, s, out=self.spans[j, :n]))
        level, hits, best = self._buffers(ldt, n)[:3]
        count = self._buffers(cdt, n)[3]
        best.fill(0)
        tmp, mask = self.tmp[:n], self.mask[:n]
        for u, near in zip(g.rows, g.near, strict=True):
            s_u = span[u][0]
            level.fill(0)
            count.fill(0)
            for v in (u, *near):
                s_v, d_v = span[v]
                if isinstance(s_u, int) and isinstance(s_v, int):
                    x = s_u - s_v
                    if isinstance(d_v, int):
                        if 0 <= x < d_v:
                            level += ldt(q[v])
                            count += cdt(mine[v])
                        continue
                    if x < 0:
                        continue
                    np.greater(d_v, x, out=mask)
                else:
                    np.subtract(s_u, s_v, out=tmp)
                    bound = d_v.view(self.udt) if not isinstance(d_v, int) else d_v
                    np.less(tmp.view(self.udt), bound, out=mask)
                hit = mask.view(np.uint8)
                if q[v] == 1 and ldt is np.uint8:
                    np.add(level, hit, out=level)
                else:
                    np.multiply(hit, ldt(q[v]), out=hits)
                    np.add(level, hits, out=level)
                if mine[v] and not everyone:
                    np.add(count, hit, out=count, casting="unsafe")
            if not everyone:
                np.greater(count, 0, out=mask)
                np.multiply(level, mask, out=level)
            np.maximum(best, level, out=best)
        return best

    def _sweep(self, g: Group, own: NDArray[np.bool_], n: int) -> NDArray[np.int64]:
        """The same peak for a group where many rows overlap: a sweep line.

        Each row gives a start and an end event keyed ``time << 26 | payload``;
        sorting each sample's keys puts ends before starts at equal times, and
        running sums of the payloads give the load and the number of own rows
        in use after each event.
        """
        net = self.model.network
        keys = np.empty((2 * len(g.rows), n), dtype=np.int64)
        for j, (u, mine) in enumerate(zip(g.rows, own.tolist(), strict=True)):
            q = int(net.use_quantity[u])
            for k, (time, sign) in enumerate(zip(self._times(u, n), (1, -1), strict=True)):
                np.left_shift(time, _PAY, out=keys[2 * j + k], dtype=np.int64)
                keys[2 * j + k] += (_MID + sign * q) << 2 | (1 + sign * int(mine))
        events = np.ascontiguousarray(keys.T)
        events.sort(axis=1)
        events &= (1 << _PAY) - 1
        load = np.cumsum((events >> 2) - _MID, axis=1)
        if own.all():
            return load.max(axis=1)  # type: ignore[no-any-return]
        in_use = np.cumsum((events & 3) - 1, axis=1)
        return np.where(in_use > 0, load, 0).max(axis=1)  # type: ignore[no-any-return]

    def _fans(self, n: int, tally: Tally) -> None:
        """Load at the grid times as the viewer may know it: the load of the rows
        it may see, or the whole load where that exceeds the capacity while an
        own row is in use."""
        model = self.model
        net = model.network
        grid = model.grid
        g = len(grid)
        base = np.arange(n, dtype=np.int64) * (g + 1)
        focus = self.focus
        for r in range(len(net.resource_id)):
            rows = np.flatnonzero(net.use_resource == r).tolist()
            everyone = bool(focus.own[rows].all() and focus.seen[rows].all())
            edges, weights = [], []
            for u in rows:
                q = int(net.use_quantity[u])
                w = (q, q * int(focus.seen[u]), int(focus.own[u]))
                for time, sign in zip(self._times(u, n), (1, -1), strict=True):
                    at = np.searchsorted(grid, np.broadcast_to(time, (n,)), side="left")
                    edges.append(base + at)
                    weights.append([sign * x for x in w])
            if not rows:
                continue
            flat = np.concatenate(edges)
            size = n * (g + 1)

            def load(k: int, flat: NDArray[np.int64] = flat, size: int = size,
                     weights: list[list[int]] = weights) -> NDArray[np.int64]:
                w = np.repeat([x[k] for x in weights], n)
                counts = np.bincount(flat, weights=w, minlength=size).reshape(n, g + 1)
                return np.cumsum(counts, axis=1)[:, :g].astype(np.int64)

            known = total = load(0)
            if not everyone:
                known = np.where((load(2) > 0) & (total > net.capacity[r]), total, load(1))
            levels = int(model.levels[r])
            cells = np.arange(g, dtype=np.int64) * levels + np.clip(known, 0, levels - 1)
            a0, b0 = int(model.load_ptr[r]), int(model.load_ptr[r + 1])
            tally.load[a0:b0] += np.bincount(cells.ravel(), minlength=b0 - a0)
