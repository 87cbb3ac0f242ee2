"""The greedy baseline for deconfliction, as the issue defines it.

Repeatedly give the latest-starting movable task in a remaining conflict the
earliest start in its flex that keeps every rule and lowers the overload (so
adds none), until no such move exists. Loads are kept per resource on the
problem's grid, so each candidate start costs a few array slices.
"""

from __future__ import annotations

import numpy as np

from jointplan.analysis.deconflict_problem import Problem


def greedy(problem: Problem) -> list[int]:
    """Starts after the greedy repair (the written starts where nothing helps)."""
    g = problem.grid()
    rows = problem.rows
    starts = [r.start for r in rows]
    lo = min([r.lo for r in rows] + [f.start for f in problem.provisions] + [0])
    hi = max([r.hi + r.duration for r in rows] + [f.end for f in problem.provisions] + [0])
    base, size = lo // g, (hi - lo) // g + 1
    load = np.zeros((len(problem.capacity), size), dtype=np.int64)
    cap = np.asarray(problem.capacity, dtype=np.int64)[:, None]

    def span(s: int, d: int) -> slice:
        return slice(s // g - base, (s + d) // g - base)

    for k, r in enumerate(rows):
        for rid, q in r.uses:
            load[rid, span(starts[k], r.duration)] += q
    for f in problem.provisions:
        for rid, q in f.uses:
            load[rid, span(f.start, f.end - f.start)] += q
    preds: dict[int, list[int]] = {}
    succs: dict[int, list[int]] = {}
    for i, j in problem.edges:
        preds.setdefault(j, []).append(i)
        succs.setdefault(i, []).append(j)
    rivals: dict[int, list[int]] = {}
    for i, ri in enumerate(rows):
        if ri.area < 0 or ri.duration == 0:
            continue
        for j, rj in enumerate(rows):
            if j != i and rj.duration > 0 and (ri.exclusive or rj.exclusive) and \
                    problem.meet(ri.area, rj.area):
                rivals.setdefault(i, []).append(j)

    def overlap(a: int, da: int, b: int, db: int) -> int:
        return max(0, min(a + da, b + db) - max(a, b))

    def in_conflict(k: int) -> bool:
        r = rows[k]
        if r.duration == 0:
            return False
        for rid, _ in r.uses:
            if (load[rid, span(starts[k], r.duration)] > cap[rid, 0]).any():
                return True
        return any(overlap(starts[k], r.duration, starts[j], rows[j].duration)
                   for j in rivals.get(k, []))

    def delta(k: int, new: int) -> int:
        r = rows[k]
        old = starts[k]
        out = 0
        for rid, q in r.uses:
            a, b = min(old, new), max(old, new) + r.duration
            window = load[rid, span(a, b - a)].copy()
            before = np.maximum(window - cap[rid, 0], 0).sum()
            window[(old - a) // g:(old - a + r.duration) // g] -= q
            window[(new - a) // g:(new - a + r.duration) // g] += q
            out += int(np.maximum(window - cap[rid, 0], 0).sum() - before) * g
        for j in rivals.get(k, []):
            out += overlap(new, r.duration, starts[j], rows[j].duration) - \
                overlap(old, r.duration, starts[j], rows[j].duration)
        return out

    while True:
        candidates = sorted((k for k, r in enumerate(rows) if r.movable and in_conflict(k)),
                            key=lambda k: (-starts[k], k))
        done = True
        for k in candidates:
            r = rows[k]
            first = max([r.lo] + [starts[i] + rows[i].duration for i in preds.get(k, [])])
            last = min([r.hi] + [starts[j] - r.duration for j in succs.get(k, [])]
                       + ([r.deadline - r.duration] if r.deadline is not None else []))
            first = -(-first // g) * g
            for s in range(first, last + 1, g):
                if s != starts[k] and delta(k, s) < 0:
                    for rid, q in r.uses:
                        load[rid, span(starts[k], r.duration)] -= q
                        load[rid, span(s, r.duration)] += q
                    starts[k] = s
                    done = False
                    break
            if not done:
                break
        if done:
            return starts
