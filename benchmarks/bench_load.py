"""Load: the workspace server under a planning cell's mix, beside a trivial route.

    python benchmarks/bench_load.py [--duration 30] [--rate 100] [--scale 1]
                                    [--postgres postgresql://...] [--only example-sqlite ...]

For each setup — the example workspace and a generated 10k-task workspace
(`generate.py`; `--scale` multiplies its size), on SQLite with one server
process and on PostgreSQL with two (`serve --workers 2`, one address) — it
starts `jointplan serve` on a free loopback port and:

1. offers the baseline, `GET /api/me` (sign-in check and one read), at the
   target rate for a third of the duration;
   Before it, a warm-up asks each kind of read of the mix once for each partner,
   one at a time (printed with the time it took): a stored state's views, checks,
   exports and simulations are made once and kept, and the mix measures the
   server as it runs, not as it starts;
2. offers the mix at the target rate (open loop: requests start on schedule
   whether or not earlier ones were answered) for the duration: 50 users over
   3 partners; 80% reads (analysis, workspace, a plan, its history, threads,
   notifications), 15% writes (observations, threads, plan status — each
   with an Idempotency-Key), 5% exports and simulations;
3. a spike: 200 users at once, each sending as fast as it is answered, for
   5 s; then how long until a read is answered 200 within 300 ms again.

It prints, per class: requests sent, answered 2xx, 429, 503, other (no
answer), the throughput of 2xx answers (from the first request due to the
last answer), and p50/p90/p99 latency of every answer (from the moment it
was due to start), beside the baseline's; `lag99` is how late the generator
started its requests (p99: on a busy machine the generator, which runs here
too, is late itself), and `cpu ms` the server processes' CPU time per
request over the phase (less sensitive to what else runs).

Loopback only; bounded in time (a request waits at most 30 s for a
connection and 30 s for its answer, else it counts as not answered) and in
count (rate x duration; the spike at most 50 requests a user). The PostgreSQL database given with
`--postgres` is EMPTIED first; without it the PostgreSQL setups are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from common import machine  # noqa: E402
from generate import generate  # noqa: E402

EXAMPLE = ROOT / "examples" / "northern-strait"
PARTNERS = ("NOR", "SOU", "RRA")
USERS = 50
SPIKE_USERS = 200
SPIKE_SECONDS = 5.0
SPIKE_MAX_PER_USER = 50
RECOVERY_LIMIT = 30.0
CONNECTIONS = 200
GIVE_UP = 30.0
"""Seconds a request may wait for a connection, and then for its answer."""
"""Connections the generator opens at most (the rest of the requests wait their turn)."""
CLASSES = (("read", 0.80), ("write", 0.15), ("export/sim", 0.05))
READS = (("check", 25), ("workspace", 15), ("plan", 30), ("versions", 5), ("threads", 15),
         ("notifications", 10))
WRITES = (("observation", 60), ("thread", 25), ("status", 15))
HEAVY = (("export", 50), ("simulate", 50))


# -- the server ---------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from jointplan.store.db import database_url

    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def prepare(url: str, folder: Path) -> dict[str, list[str]]:
    """Import the folder; SPIKE_USERS planners over the partners; their tokens by partner."""
    from jointplan.server.hub import Hub
    from jointplan.server.plans import import_folder
    from jointplan.services.accounts import add_user, create_token
    from jointplan.store.tables import User

    hub = Hub(url)
    import_folder(hub, folder)
    tokens: dict[str, list[str]] = {p: [] for p in PARTNERS}
    with hub.db.write() as session:
        joint = hub.joint(session)
        assert joint is not None
        codes = tuple(p["code"] for p in joint["partners"])
        first = add_user(session, username="load-0", partner=PARTNERS[0], role="planner",
                         password="load-benchmark", partners=codes)
        hashed = session.get(User, first.user_id).password_hash  # type: ignore[union-attr]
        for i in range(SPIKE_USERS):
            partner = PARTNERS[i % len(PARTNERS)]
            if i:  # one password hash for all: hashing 200 would only slow the set-up
                session.add(User(username=f"load-{i}", partner=partner, role="planner",
                                 password_hash=hashed))
                session.flush()
            tokens[partner].append(create_token(session, username=f"load-{i}",
                                                name="load")[1])
    hub.db.engine.dispose()
    return tokens


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a server process and its worker processes (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for p in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@contextmanager
def serving(url: str, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-c", "from jointplan.cli import main; main()",
                                 "serve", "--database-url", url, "--port", str(port),
                                 "--workers", str(workers)],
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/api/me", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start within 120 s")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the requests ---------------------------------------------------------------------


@dataclass
class User:
    token: str
    partner: str
    plans: list[str]
    """Plans this user's partner owns (for status changes)."""
    seen_plans: list[str]
    indicators: list[str]
    scenarios: list[str]


@dataclass
class Answer:
    kind: str
    name: str
    status: int
    """HTTP status, or 0 when no answer came (timeout, refused connection)."""
    seconds: float
    at: float
    lag: float = 0.0
    """Seconds the generator started it late (its own CPU share on a busy machine)."""


@dataclass
class Record:
    answers: list[Answer] = field(default_factory=list)


def pick(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def request(rng: random.Random, user: User, kind: str | None = None
            ) -> tuple[str, str, str, str, dict[str, Any] | None]:
    """(class, name, method, path, json body) of one request of the mix."""
    kind = kind or pick(rng, CLASSES)
    if kind == "read":
        name = pick(rng, READS)
        plan = rng.choice(user.seen_plans)
        path = {"check": "/api/check", "workspace": "/api/workspace",
                "plan": f"/api/plans/{plan}", "versions": f"/api/plans/{plan}/versions",
                "threads": "/api/threads", "notifications": "/api/notifications"}[name]
        return kind, name, "GET", path, None
    if kind == "write":
        name = pick(rng, WRITES)
        if name == "observation" and user.indicators:
            return kind, name, "POST", "/api/observations", {
                "indicator": rng.choice(user.indicators), "seen": rng.random() < 0.5}
        if name == "status" and user.plans:
            return kind, name, "POST", f"/api/plans/{rng.choice(user.plans)}/status", {
                "status": rng.choice(("draft", "approved")), "reason": "load benchmark"}
        others = [p for p in PARTNERS if p != user.partner]
        return kind, "thread", "POST", "/api/threads", {
            "subject": {"kind": "scenario", "ref": rng.choice(user.scenarios)},
            "title": "Load benchmark", "text": "Who takes the night shift?",
            "share": [rng.choice(others)]}
    name = pick(rng, HEAVY)
    path = "/api/export" if name == "export" else "/api/simulate?samples=2000"
    return kind, name, "GET", path, None


async def send(client: httpx.AsyncClient, user: User, spec: tuple[str, str, str, str, Any],
               record: Record, t0: float, *, due: float | None = None,
               slots: asyncio.Semaphore | None = None) -> None:
    """One request; its latency runs from ``due`` (when it was meant to start), if given.

    Requests beyond the client's connections wait for ``slots`` in order (a
    connection pool with thousands of queued requests costs the client more
    CPU than the server); that wait counts in the latency, as it would for a
    user.
    """
    kind, name, method, path, body = spec
    headers = {"Authorization": f"Bearer {user.token}"}
    if method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    sent = time.perf_counter()
    start = sent if due is None else due
    try:
        if slots is not None:
            # A request that found no free connection for GIVE_UP seconds is given up
            # (counted as not answered): this bounds the run's length.
            await asyncio.wait_for(slots.acquire(), GIVE_UP)
            try:
                response = await client.request(method, path, json=body, headers=headers)
            finally:
                slots.release()
        else:
            response = await client.request(method, path, json=body, headers=headers)
        status = response.status_code
    except (httpx.HTTPError, TimeoutError):
        status = 0
    end = time.perf_counter()
    record.answers.append(Answer(kind, name, status, end - start, start - t0, sent - start))


async def offered(base: str, users: list[User], rate: float, duration: float,
                  rng: random.Random, kind: str | None = None) -> Record:
    """Requests started on schedule at ``rate`` a second for ``duration`` (open loop)."""
    record = Record()
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    slots = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, timeout=GIVE_UP, limits=limits) as client:
        t0 = time.perf_counter()
        tasks = []
        for i in range(int(rate * duration)):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            user = rng.choice(users)
            spec = (("baseline", "me", "GET", "/api/me", None) if kind == "baseline"
                    else request(rng, user))
            tasks.append(asyncio.create_task(send(client, user, spec, record, t0, due=due,
                                                  slots=slots)))
        await asyncio.gather(*tasks)
    return record


async def spike(base: str, users: list[User], probe: User, rng: random.Random
                ) -> tuple[Record, float | None]:
    """SPIKE_USERS users at once, each closed-loop; then seconds until a read is quick again."""
    record = Record()
    limits = httpx.Limits(max_connections=SPIKE_USERS + 10,
                          max_keepalive_connections=SPIKE_USERS + 10)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        t0 = time.perf_counter()
        end = t0 + SPIKE_SECONDS

        async def one(user: User, seed: int) -> None:
            own = random.Random(seed)
            for _ in range(SPIKE_MAX_PER_USER):
                if time.perf_counter() >= end:
                    return
                await send(client, user, request(own, user), record, t0)

        await asyncio.gather(*(one(u, rng.randrange(1 << 30)) for u in users))
        over = time.perf_counter()
        while time.perf_counter() - over < RECOVERY_LIMIT:
            probe_record = Record()
            spec = ("read", "plan", "GET", f"/api/plans/{probe.seen_plans[0]}", None)
            await send(client, probe, spec, probe_record, t0)
            answer = probe_record.answers[0]
            if answer.status == 200 and answer.seconds < 0.3:
                return record, time.perf_counter() - over
            await asyncio.sleep(0.25)
    return record, None


def warm(base: str, users: list[User], rounds: int) -> tuple[int, float, list[str]]:
    """Each kind of read of the mix once for each partner, one at a time: the answers a
    stored state makes once and keeps (views, checks, exports, simulations), so that
    the mix measures the server as it runs, not as it starts; ``rounds`` times, each
    request on a connection of its own (so that the address spreads them over the
    server's processes: twice a process, each process misses a given read with
    odds of 1 in 16). Returns the requests, the seconds they took and any that was
    not answered 200."""
    firsts = {u.partner: u for u in reversed(users)}
    paths = ["/api/check", "/api/workspace", "/api/threads", "/api/notifications",
             "/api/export", "/api/simulate?samples=2000"]
    sent, failed = 0, []
    started = time.perf_counter()
    for user in [u for _ in range(rounds) for u in firsts.values()]:
        for path in paths + [f"/api/plans/{p}{tail}" for p in user.seen_plans
                             for tail in ("", "/versions")]:
            with httpx.Client(base_url=base, timeout=GIVE_UP) as client:
                r = client.get(path, headers={"Authorization": f"Bearer {user.token}"})
            sent += 1
            if r.status_code != 200:
                failed.append(f"{path} {r.status_code}")
    return sent, time.perf_counter() - started, failed


def discover(base: str, tokens: dict[str, list[str]]) -> list[User]:
    """Each user with what its partner sees (plans, indicators, scenarios)."""
    users = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for partner, secrets in tokens.items():
            view = client.get("/api/workspace",
                              headers={"Authorization": f"Bearer {secrets[0]}"}).json()
            own = [p["id"] for p in view["plans"] if p.get("owner") == partner]
            seen = [p["id"] for p in view["plans"]]
            indicators = [i["id"] for i in view.get("indicators", [])]
            scenarios = [s["id"] for s in view["scenarios"]]
            users += [User(t, partner, own, seen, indicators, scenarios) for t in secrets]
    return users


# -- the figures ----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def row(label: str, answers: list[Answer], base: list[Answer] | None,
        cpu: float | None = None) -> str:
    """One class's figures; 2xx/s over the time from the first request due to the last answer."""
    times = [a.seconds * 1000 for a in answers]
    seconds = max((a.at + a.seconds for a in answers), default=1.0)
    ok = sum(1 for a in answers if 200 <= a.status < 300)
    c429 = sum(1 for a in answers if a.status == 429)
    c503 = sum(1 for a in answers if a.status == 503)
    other = len(answers) - ok - c429 - c503
    p50, p90, p99 = (percentile(times, q) for q in (50, 90, 99))
    ratio = ""
    if base:
        b = [a.seconds * 1000 for a in base]
        ratio = f"{p50 / percentile(b, 50):7.1f} {p99 / percentile(b, 99):7.1f}"
    lag = percentile([a.lag * 1000 for a in answers], 99)
    cpu_text = f"{cpu * 1000 / max(1, len(answers)):7.1f}" if cpu is not None else " " * 7
    return (f"  {label:<13}{len(answers):>6}{ok:>6}{c429:>5}{c503:>5}{other:>6}"
            f"{ok / seconds:>7.1f}{p50:>8.0f}{p90:>8.0f}{p99:>8.0f}{lag:>8.0f}{cpu_text}"
            f"  {ratio}")


HEADER = (f"  {'class':<13}{'sent':>6}{'2xx':>6}{'429':>5}{'503':>5}{'other':>6}"
          f"{'2xx/s':>7}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'lag99':>8}{'cpu ms':>7}"
          "  x baseline p50 p99")


def report(title: str, baseline: Record, mix: Record, spiked: Record,
           recovered: float | None, cpu: tuple[float, float]) -> str:
    lines = [title, HEADER]
    lines.append(row("baseline /me", baseline.answers, None, cpu[0]))
    for kind, _ in CLASSES:
        lines.append(row(kind, [a for a in mix.answers if a.kind == kind], baseline.answers))
    lines.append(row("all", mix.answers, baseline.answers, cpu[1]))
    errors = sorted({(a.name, a.status) for a in mix.answers
                     if a.status == 0 or a.status >= 400})
    if errors:
        lines.append("  not 2xx (request, status): " + ", ".join(f"{n} {s}" for n, s in errors))
    s = spiked.answers
    counts = {k: sum(1 for a in s if a.status == k) for k in (200, 201, 429, 503, 0)}
    lines.append(
        f"  spike: {SPIKE_USERS} users for {SPIKE_SECONDS:.0f} s: {len(s)} requests, "
        f"2xx {counts[200] + counts[201]}, 429 {counts[429]}, 503 {counts[503]}, "
        f"no answer {counts[0]}, other {len(s) - sum(counts.values())}; p50 "
        f"{percentile([a.seconds * 1000 for a in s], 50):.0f} ms, p99 "
        f"{percentile([a.seconds * 1000 for a in s], 99):.0f} ms (of the 503s: p50 "
        f"{percentile([a.seconds * 1000 for a in s if a.status == 503], 50):.0f} ms); "
        + (f"a read answered within 300 ms again {recovered:.1f} s after the spike"
           if recovered is not None else f"NOT recovered within {RECOVERY_LIMIT:.0f} s"))
    return "\n".join(lines)


def run_setup(name: str, url: str, workers: int, folder: Path, args: argparse.Namespace,
              log: Path) -> str:
    tokens = prepare(url, folder)
    rng = random.Random(args.seed)
    with serving(url, workers, log) as (base, pid):
        users = discover(base, tokens)
        steady = [u for i, u in enumerate(users) if i % (SPIKE_USERS // USERS) == 0][:USERS]
        base_seconds = max(3.0, args.duration / 3)
        # Warm up: the first reads build the model and what each partner's answers keep.
        warmed = warm(base, steady, 1 if workers == 1 else 2 * workers)
        c0 = server_cpu(pid)
        baseline = asyncio.run(offered(base, steady, args.rate, base_seconds, rng, "baseline"))
        c1 = server_cpu(pid)
        mix = asyncio.run(offered(base, steady, args.rate, args.duration, rng))
        c2 = server_cpu(pid)
        time.sleep(2)
        spiked, recovered = asyncio.run(spike(base, users, steady[0], rng))
    title = (f"{name}: {workers} process{'es' if workers > 1 else ''}, mix offered at "
             f"{args.rate:g} req/s for {args.duration:g} s, baseline for {base_seconds:g} s")
    sent, seconds, failed = warmed
    title += (f"\n  warm-up (each kind of read once a partner, one at a time): {sent} requests "
              f"in {seconds:.1f} s" + (f"; not 200: {', '.join(failed)}" if failed else ""))
    return report(title, baseline, mix, spiked, recovered, (c1 - c0, c2 - c1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=30.0, help="seconds of the mix (30)")
    p.add_argument("--rate", type=float, default=100.0, help="requests a second offered (100)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the generated workspace's 10k tasks by this")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--postgres", default=os.environ.get("JOINTPLAN_BENCH_POSTGRES"),
                   help="a PostgreSQL database to EMPTY and use ($JOINTPLAN_BENCH_POSTGRES)")
    p.add_argument("--only", nargs="*", default=None,
                   help="setups to run: example-sqlite example-postgres generated-sqlite "
                   "generated-postgres")
    args = p.parse_args(argv)
    if not (1 <= args.duration <= 600 and 1 <= args.rate <= 1000):
        p.error("--duration between 1 and 600 s, --rate between 1 and 1000 a second")
    print(machine())
    tasks = max(100, int(10_000 * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated"
        generate(generated, tasks=tasks, seed=args.seed)
        setups = [("example-sqlite", EXAMPLE, "sqlite", 1),
                  ("example-postgres", EXAMPLE, "postgres", 2),
                  (f"generated-sqlite ({tasks} tasks)", generated, "sqlite", 1),
                  (f"generated-postgres ({tasks} tasks)", generated, "postgres", 2)]
        for name, folder, kind, workers in setups:
            if args.only is not None and name.split(" ")[0] not in args.only:
                continue
            if kind == "postgres":
                if not args.postgres:
                    print(f"\n{name}: left out (give --postgres URL of a database to empty)")
                    continue
                reset_postgres(args.postgres)
                url = args.postgres
            else:
                url = f"sqlite:///{Path(tmp) / (name.split(' ')[0] + '.db')}"
            print()
            print(run_setup(name, url, workers, folder, args, Path(tmp) / "server.log"),
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
