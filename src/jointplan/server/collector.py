"""The garbage collector as a long-running server process sets it (`serve`, each worker).

A server keeps the model of the stored state (about 300,000 objects for a
10k-task workspace) and what it made of it for each partner, and answers
many requests at once. With CPython's default thresholds (700, 10, 10) a
young collection runs every 700 allocations, so the objects of every request
still in flight survive one and are promoted; they pile up as "pending"
long-lived objects, and a full collection, which walks the whole model
(0.1-0.4 s), runs whenever they reach a quarter of it: under the load
benchmark's mix on that workspace, 27 full collections in a minute, each a
pause of every request (read p99 2.8 s). A young generation of 50,000
allocations lets most of a request's objects die before any collection sees
them (a young collection then costs about a millisecond), so few are
promoted; the middle generation's 20 and the oldest's 100 make a full
collection wait for many younger ones. Cyclic garbage is reclaimed later,
not never. `docs/performance.md` has the figures.

Only the server's entry points call this; library code and the one-shot
command line leave the collector to their caller.
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (50_000, 20, 100)


def tune_for_serving() -> None:
    """Set the collector's thresholds for a long-running server process."""
    gc.set_threshold(*SERVING_THRESHOLDS)
