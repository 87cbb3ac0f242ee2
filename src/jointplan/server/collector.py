"""The garbage collector as a long-running server process sets it (`serve`, each worker).

A server keeps the model of the stored state (about 300,000 objects for a
10k-task workspace) for as long as that state lasts, and every write makes
the next one. With CPython's default thresholds (700, 10, 10) a full
collection walks all of them whenever the objects that survived the younger
generations reach a quarter of the long-lived ones, about twice a
plan-version write on that workspace (0.3-0.45 s CPU a write). Raising the
oldest generation's threshold to 100 makes a full collection wait for ten
times as many younger collections: about one every five writes, which is
where cyclic garbage is reclaimed (later, not never). The thresholds of the
younger generations are left as they are.

Only the server's entry points call this; library code and the one-shot
command line leave the collector to their caller.
"""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (700, 10, 100)


def tune_for_serving() -> None:
    """Set the collector's thresholds for a long-running server process."""
    gc.set_threshold(*SERVING_THRESHOLDS)
