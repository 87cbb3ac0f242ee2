"""A plan-version write on the server, until every partner's analysis shows it.

    python benchmarks/bench_model_update.py [--tasks 10000] [--repeat 3] [--seed 1]

A generated workspace (generate.py) is stored in a fresh SQLite database and
every partner's analysis is read once (the server is warm). Each round then
times, side by side:

- **cut every partner** (baseline): the gate's `check_result` for every
  partner from the shared model's analysis — what a warm read cost before
  each partner's cut was kept per stored state;
- **warm read**: every partner's `/api/check` answer when nothing changed
  (the cut kept for the state: a lookup);
- **write + every partner**: one plan's owner stores a new version (a task's
  duration changed; checked against the workspace like any write) and every
  partner's analysis is read again: the model is rebuilt from the one new
  document, analysed once and cut per partner;
- **view of every partner** (baseline of the next): the gate's cut of the
  whole workspace for every partner, which a plan read made every time;
- **one plan, first read after a write / read again**: the largest plan as
  each partner receives it (checked against the view cut afresh), from the
  partner's view kept per stored state: made by the first read, a copy of
  one plan after;
- **cold server**: what every read after a write cost before models were
  kept per stored state: a server that has read nothing builds the whole
  model (every document) and answers every partner.

Each round checks that the updated answers equal the cold server's. The goal
is the write and every partner's analysis within 1 s at 10k tasks.

The garbage collector is set as `jointplan serve` sets it in each server process
(`server/collector.py`); ``--collector default`` keeps CPython's thresholds, to
compare.
"""

from __future__ import annotations

import argparse
import copy
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Method, measure, table
from generate import generate
from jointplan.server.analysis import check_for
from jointplan.server.collector import tune_for_serving
from jointplan.server.hub import Hub, NotFound
from jointplan.server.plans import import_folder, new_version, plan_view, workspace_view
from jointplan.services.accounts import Actor
from jointplan.services.check import check_analysed
from jointplan.sharing.view import view_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies --tasks")
    parser.add_argument("--collector", choices=("serving", "default"), default="serving",
                        help="the collector's thresholds: as `jointplan serve` sets them, or "
                        "CPython's defaults")
    args = parser.parse_args(argv)
    if args.collector == "serving":
        tune_for_serving()
    collector = f"collector thresholds {gc.get_threshold()}"
    tasks = max(100, int(args.tasks * args.scale))
    with tempfile.TemporaryDirectory(prefix="jointplan-bench-") as tmp:
        folder = Path(tmp) / "ws"
        generate(folder, tasks, args.seed)
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        hub = Hub(url, analyses_per_minute=1_000_000)
        t0 = time.perf_counter()
        import_folder(hub, folder)
        print(f"{tasks} tasks stored in {time.perf_counter() - t0:.2f} s")
        with hub.db.read() as session:
            current = hub.current(session)
        partners = current.workspace.partner_codes
        actors = {p: Actor(f"bench-{p}", f"bench-{p}", p, "planner") for p in partners}
        plan_id = max(current.versions, key=lambda k: len(current.versions[k].doc["tasks"]))  # type: ignore[index]
        owner = actors[current.versions[plan_id].owner]
        every = lambda h: {p: check_for(h, a) for p, a in actors.items()}  # noqa: E731
        every(hub)
        state = {"minutes": 0}
        answers: dict[str, Any] = {}

        def write() -> None:
            state["minutes"] += 1
            with hub.db.read() as session:
                doc = copy.deepcopy(hub.current(session).versions[plan_id].doc)
            assert doc is not None
            doc["tasks"][0]["duration"] = f"{60 + state['minutes']}m"
            with hub.db.write() as session:
                new_version(hub, session, owner, doc, "bench")

        def write_and_model() -> None:
            write()
            with hub.db.read() as session:
                hub.current(session).analysis()

        def write_and_read() -> dict[str, Any]:
            write()
            answers["updated"] = every(hub)
            return answers["updated"]

        def cold() -> dict[str, Any]:
            fresh = Hub(url, analyses_per_minute=1_000_000, migrate=False)
            try:
                return every(fresh)
            finally:
                fresh.db.engine.dispose()

        def cut_every() -> dict[str, Any]:
            with hub.db.read() as session:
                now = hub.current(session)
            return {p: check_analysed(now.analysis(), now.rules, p) for p in actors}

        def view_every() -> dict[str, Any]:
            with hub.db.read() as session:
                now = hub.current(session)
            return {p: view_for(now.workspace, p) for p in actors}

        def plan_every() -> dict[str, Any]:
            out: dict[str, Any] = {}
            with hub.db.read() as session:
                for p, a in actors.items():
                    try:
                        out[p] = plan_view(hub, session, a, plan_id)
                    except NotFound:
                        out[p] = None
            return out

        methods = [Method("cut every partner (gate)", cut_every, 1),
                   Method("warm read, every partner", lambda: every(hub), 1),
                   Method("write + every partner", write_and_read, 1),
                   Method("write + model and analysis", write_and_model, 1),
                   Method("cold server, every partner", cold, 1),
                   Method("view of every partner (gate)", view_every, 1),
                   Method("one plan, first read after a write", plan_every, 1),
                   Method("one plan, read again", plan_every, 1)]
        measure(methods, args.repeat)
        with hub.db.read() as session:
            cut_plans = {p: next((x for x in workspace_view(hub, session, a)["plans"]
                                  if x["id"] == plan_id), None) for p, a in actors.items()}
        if plan_every() != cut_plans:
            print("FAIL: a plan read differs from the partner's view cut afresh", file=sys.stderr)
            return 1
        if write_and_read() != cold():
            print("FAIL: the updated answers differ from a cold server's", file=sys.stderr)
            return 1
        print(table(f"A plan-version write reflected in {len(partners)} partners' analyses, "
                    f"{tasks} tasks ({len(current.versions)} plans), {collector}", methods,
                    {"cut": methods[0].name, "view": methods[5].name}, "rounds"))
        m = methods[2]
        verdict = "met" if m.median < 1.0 else "NOT met"
        print(f"goal write + every partner's analysis < 1 s: best {m.best:.3f} s, "
              f"median {m.median:.3f} s wall, best {m.best_cpu:.3f} s CPU -> {verdict} "
              "(wall time; on a loaded machine compare the CPU column)")
        hub.db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
