"""Hidden and missing plan ids take the same time on /versions and /diff.

    python benchmarks/bench_hidden_timing.py [--tasks 10000] [--requests 40] [--repeat 5]

A generated workspace (generate.py) is stored in a fresh SQLite database and
the owner of a plan the viewer may not see stores a few more versions of it.
Then, as the viewer, each method sends ``--requests`` requests through the
server's app (in process, no network):

- **/api/me** (baseline): a trivial route, what any request costs;
- **hidden /versions** and **missing /versions**: the history of the plan the
  viewer may not see, and of an id that does not exist;
- **hidden /diff** and **missing /diff**: a diff between two of the hidden
  plan's versions, and the same for the missing id;
- **visible /versions**: the history of a plan the viewer sees (the cost
  of the work that visibility spares).

The server decides visibility from today's share before it reads any
version, so hidden and missing should differ by no more than the noise; the
script checks the answers are byte-identical and prints the ratio of each
hidden time to its missing time. Timing belongs here, not in the tests.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from common import Method, machine, measure, parser, table
from generate import generate
from jointplan.api import create_app
from jointplan.server.hub import Hub
from jointplan.server.plans import import_folder, new_version
from jointplan.services.accounts import Actor, add_user, create_token


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0], repeat=5)
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--requests", type=int, default=40)
    p.add_argument("--versions", type=int, default=6, help="versions of the hidden plan")
    args = p.parse_args(argv)
    tasks = max(100, int(args.tasks * args.scale))
    with tempfile.TemporaryDirectory(prefix="jointplan-bench-") as tmp:
        folder = Path(tmp) / "ws"
        generate(folder, tasks, args.seed)
        hub = Hub(f"sqlite:///{Path(tmp) / 'bench.db'}", analyses_per_minute=1_000_000)
        import_folder(hub, folder)
        with hub.db.read() as session:
            current = hub.current(session)
        viewer, hidden = _pick(current)
        visible = sorted(current.visible_plans(viewer))[0]
        owner = current.versions[hidden].owner
        for n in range(args.versions - 1):
            with hub.db.read() as session:
                doc = copy.deepcopy(hub.current(session).versions[hidden].doc)
            assert doc is not None
            doc["title"] = f"{doc['title']} ({n + 2})"
            with hub.db.write() as session:
                new_version(hub, session, Actor("bench", "bench", owner, "planner"), doc,
                            "bench")
        with hub.db.write() as session:
            partners = current.workspace.partner_codes
            add_user(session, username="bench-viewer", partner=viewer, role="viewer",
                     password="bench password", partners=partners)
            token = create_token(session, username="bench-viewer", name="bench")[1]
            add_user(session, username="bench-owner", partner=owner, role="viewer",
                     password="bench password", partners=partners)
            owner_token = create_token(session, username="bench-owner", name="bench")[1]
        from fastapi.testclient import TestClient

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client = TestClient(create_app(hub))
        as_owner = {"Authorization": f"Bearer {owner_token}"}
        ids = [v["version"] for v in client.get(f"/api/plans/{hidden}/versions",
                                                headers=as_owner).json()]
        headers = {"Authorization": f"Bearer {token}"}
        missing = "z" * len(hidden)
        diff = {"from": ids[0], "to": ids[-1]}

        def get(path: str, params: dict[str, str] | None = None) -> Any:
            def run() -> tuple[int, bytes]:
                for _ in range(args.requests):
                    r = client.get(path, headers=headers, params=params)
                return r.status_code, r.content
            return run

        methods = [
            Method("/api/me", get("/api/me"), args.requests),
            Method("hidden /versions", get(f"/api/plans/{hidden}/versions"), args.requests),
            Method("missing /versions", get(f"/api/plans/{missing}/versions"), args.requests),
            Method("hidden /diff", get(f"/api/plans/{hidden}/diff", diff), args.requests),
            Method("missing /diff", get(f"/api/plans/{missing}/diff", diff), args.requests),
            Method("visible /versions", get(f"/api/plans/{visible}/versions"), args.requests),
        ]
        t0 = time.perf_counter()
        measure(methods, args.repeat)
        print(f"{tasks} tasks; viewer {viewer}; hidden plan {hidden} ({len(ids)} versions); "
              f"{args.requests} requests a method a round; {time.perf_counter() - t0:.1f} s")
        print(machine())
        print(table("Hidden and missing plan ids as the viewer", methods,
                    {"/api/me": "/api/me"}, "requests"))
        by = {m.name: m for m in methods}
        same = True
        for route in ("/versions", "/diff"):
            h, m = by[f"hidden {route}"], by[f"missing {route}"]
            same = same and h.answer == m.answer and h.answer[0] == 404
            print(f"hidden/missing {route}: {h.best / m.best:.2f}x best wall, "
                  f"{h.median / m.median:.2f}x median wall, {h.best_cpu / m.best_cpu:.2f}x "
                  f"best CPU; answers identical: {h.answer == m.answer} ({h.answer[0]})")
        hub.db.engine.dispose()
    if not same:
        print("FAIL: a hidden plan does not answer exactly like a missing one", file=sys.stderr)
        return 1
    return 0


def _pick(current: Any) -> tuple[str, str]:
    """A partner and a plan it sees nothing of, the largest such plan."""
    ws = current.workspace
    best: tuple[int, str, str] | None = None
    for viewer in ws.partner_codes:
        seen = current.visible_plans(viewer)
        for plan in ws.plans:
            if plan.id not in seen and (best is None or len(plan.tasks) > best[0]):
                best = (len(plan.tasks), viewer, plan.id)
    if best is None:
        raise SystemExit("every partner sees something of every plan; use another --seed")
    return best[1], best[2]


if __name__ == "__main__":
    sys.exit(main())
