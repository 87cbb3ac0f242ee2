"""CPU per request of the load mix, in one process, per kind of request; a profile of all.

    python benchmarks/profile_load.py [--requests 900] [--postgres postgresql://...]
                                      [--generated] [--profile out.prof] [--top 40]

The requests of `bench_load.py`'s mix (the same users, partners and weights),
one at a time, through the application in this process (no sockets, no
server process, no concurrency): what each kind costs in CPU, which a loaded
machine changes far less than latency. Every tenth request is the baseline,
`GET /api/me`, in the same run. The application's own thread pool is
bypassed (handlers run inline) so that `--profile` sees the handlers' work;
the figures include the in-process client's share (a few tenths of a ms).

With `--profile FILE` it also writes a cProfile of the measured requests and
prints the functions with the most cumulative time (`--top`); the profile
slows everything down, so read its shares, not its times. The PostgreSQL
database given with `--postgres` is EMPTIED first.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

import bench_load as bl  # noqa: E402
from common import machine  # noqa: E402
from generate import generate  # noqa: E402


def _inline_threadpool() -> None:
    """Run the app's sync handlers inline, in this thread (so a profile sees them)."""
    import fastapi.dependencies.utils
    import fastapi.routing
    import starlette.concurrency

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    for module in (starlette.concurrency, fastapi.routing, fastapi.dependencies.utils):
        module.run_in_threadpool = inline  # type: ignore[attr-defined]


async def run(url: str, folder: Path, n: int, seed: int, profile: cProfile.Profile | None
              ) -> dict[str, list[tuple[float, int]]]:
    import httpx

    from jointplan.api.app import create_app
    from jointplan.api.shedding import Shedding
    from jointplan.server.hub import Hub

    tokens = bl.prepare(url, folder)
    hub = Hub(url, migrate=False)
    app = create_app(hub, shedding=Shedding(10_000, 60, 10_000))
    per: dict[str, list[tuple[float, int]]] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://load") as client:
        users = []
        for partner, secrets in tokens.items():
            view = (await client.get("/api/workspace", headers={
                "Authorization": f"Bearer {secrets[0]}"})).json()
            own = [p["id"] for p in view["plans"] if p.get("owner") == partner]
            seen = [p["id"] for p in view["plans"]]
            indicators = [i["id"] for i in view.get("indicators", [])]
            scenarios = [s["id"] for s in view["scenarios"]]
            users += [bl.User(t, partner, own, seen, indicators, scenarios) for t in secrets]
        users = users[::len(users) // bl.USERS][:bl.USERS]
        rng = random.Random(seed)

        async def one(spec: tuple[str, str, str, str, Any], user: bl.User) -> int:
            _, _, method, path, body = spec
            headers = {"Authorization": f"Bearer {user.token}"}
            if method == "POST":
                headers["Idempotency-Key"] = uuid.uuid4().hex
            response = await client.request(method, path, json=body, headers=headers)
            return response.status_code

        for _ in range(30):  # warm up: the first reads build the model
            user = rng.choice(users)
            await one(bl.request(rng, user), user)
        for i in range(n):
            user = rng.choice(users)
            spec = bl.request(rng, user) if i % 10 else ("baseline", "me", "GET", "/api/me",
                                                          None)
            started = time.process_time()
            if profile is not None:
                profile.enable()
            status = await one(spec, user)
            if profile is not None:
                profile.disable()
            per.setdefault(spec[1], []).append((time.process_time() - started, status))
    getattr(hub.db, "dispose", hub.db.engine.dispose)()  # (older sources: engine only)
    return per


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=900)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--postgres", help="a PostgreSQL database to EMPTY and use")
    p.add_argument("--generated", action="store_true",
                   help="the generated 10k-task workspace instead of the example")
    p.add_argument("--profile", type=Path, help="write a cProfile of the requests here")
    p.add_argument("--top", type=int, default=40)
    args = p.parse_args(argv)
    if not 10 <= args.requests <= 100_000:
        p.error("--requests between 10 and 100000")
    print(machine())
    _inline_threadpool()
    profile = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = bl.EXAMPLE
        if args.generated:
            folder = Path(tmp) / "generated"
            generate(folder, tasks=10_000, seed=args.seed)
        if args.postgres:
            bl.reset_postgres(args.postgres)
            url = args.postgres
        else:
            url = f"sqlite:///{Path(tmp) / 'profile.db'}"
        per = asyncio.run(run(url, folder, args.requests, args.seed, profile))
    print(f"\n{folder.name} on {'PostgreSQL' if args.postgres else 'SQLite'}: "
          f"{args.requests} requests, one at a time, in one process")
    print(f"  {'request':<14}{'n':>5}{'cpu ms':>9}{'x /me':>7}{'cpu s':>8}  statuses")
    base = per.get("me", [])
    base_ms = 1000 * sum(d for d, _ in base) / max(1, len(base))
    total = 0.0
    for name, done in sorted(per.items()):
        seconds = sum(d for d, _ in done)
        total += seconds
        ms = 1000 * seconds / len(done)
        print(f"  {name:<14}{len(done):>5}{ms:>9.2f}{ms / base_ms:>7.1f}{seconds:>8.2f}  "
              f"{sorted({s for _, s in done})}")
    print(f"  {'all':<14}{args.requests:>5}{1000 * total / args.requests:>9.2f}"
          f"{1000 * total / args.requests / base_ms:>7.1f}{total:>8.2f}")
    if profile is not None:
        profile.dump_stats(args.profile)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
