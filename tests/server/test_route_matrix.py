"""The route matrix: every route, as every partner, over many workspaces, on both databases.

``MATRIX`` holds one entry per route of the API: a function that runs the
route as one partner against a ``World`` (a server with a workspace imported,
plus the record of what the test has done to it) and compares the answers
with the reference models written from the format alone:
``tests/reference/model.py`` for ``check`` and ``tests/reference/view.py`` for
who sees what. Every answer a partner receives passes through ``World.call``,
which fails on a server error and on any text of an object or field that the
partner may not see, in the body or in a header (``secrets``). An object a
partner may not see must answer byte for byte like an id that names nothing
(``World.like_missing``), and every id the server hands out must be opaque.

The matrix runs on the example, on every contract vector and on a few
generated workspaces, on SQLite and on PostgreSQL. A test fails when the app
has a route under /api or /auth that the matrix does not list.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import string
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from jointplan.api import create_app
from jointplan.services import accounts
from jointplan.store.tables import PlanVersion
from tests.conftest import CONTRACT, EXAMPLES
from tests.reference.model import reference_check
from tests.reference.view import (
    ITEMS,
    Folder,
    documents,
    normal_plan,
    normal_view,
    public_texts,
    reference_view,
)
from tests.reference.view import secrets as folder_secrets
from tests.server.conftest import (
    PASSWORD,
    POSTGRES,
    Server,
    _postgres_ready,
    reset_postgres,
    start_server,
)
from tests.strategies import GeneratedWorkspace, workspaces

DATABASES = ["sqlite", "postgresql"]
FOLDERS = {"northern-strait": EXAMPLES / "northern-strait",
           **{v.name: v for v in sorted(CONTRACT.iterdir()) if (v / "workspace.yaml").is_file()}}
GENERATED_EXAMPLES = int(os.environ.get("JOINTPLAN_MATRIX_EXAMPLES", "3"))
# Probes of one kind per partner and route: enough to show an oracle, cheap enough to run.
PROBES = 2
OPAQUE = re.compile(r"[A-Za-z0-9_-]{16,}")
POSTED = "zzzz-matrix-observations.json"
NOT_FOUND = b'{"detail":"not found"}'
# Words every answer may hold: a secret that is one of them (a phase called "response")
# cannot be told apart from the answer's own keys.
VOCABULARY = (" ".join(["responses messages partners subject created detail problems version",
                        "reason status partner stance note withheld kind plan task provision",
                        "expectation objectives tasks expects provides scenarios hidden",
                        "commitment window demand capacity resource conflicts gaps coverage",
                        "likelihood observations indicators areas resources workspace",
                        "username role files tlp answer owner change action user seen share",
                        "title text value_error body loc msg type problems column line file",
                        "present entries history changed open acknowledged being-resolved",
                        "risk-accepted resolved threads proposals decisions about found by the",
                        "analysis no longer again conflict gap"]))
HINT = re.compile(r"; (did you mean '[^']*'\?|known: [^\"(]*?)(?= \(nothing|\"|$)")
RANKS = ["clear", "green", "amber", "amber+strict", "red"]
Json = Any


# --------------------------------------------------------------------- helpers


@contextmanager
def cheap_passwords() -> Iterator[None]:
    """Hash test passwords cheaply: argon2's real cost is the point in production, not here."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", cheap)
        patch.setattr(accounts, "_DUMMY", cheap.hash("not a password"))
        yield


def database(kind: str, folder: Path) -> str:
    """A fresh, empty database of the kind (conftest's rules for a missing PostgreSQL)."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'jointplan.db'}"
    problem = _postgres_ready()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES} ({problem})")
    World.close_live()
    reset_postgres()
    return POSTGRES


def fake_like(real: str, rng: random.Random) -> str:
    """A string of the same length and shape as ``real`` that names nothing."""
    if OPAQUE.fullmatch(real) and not re.fullmatch(r"[a-z0-9-]+", real):
        alphabet = string.ascii_letters + string.digits
        return "".join(rng.choice(alphabet) for _ in real)
    head, dash, tail = real.partition("-")
    body = tail if dash else real
    filler = "".join(rng.choice("qxzjvw") for _ in body)
    return f"{head}-{filler}" if dash else filler


def opaque(value: Any, what: str) -> str:
    """An id that tells nothing: not a number, not short, not guessable."""
    assert isinstance(value, str) and OPAQUE.fullmatch(value), f"{what} id {value!r} is not opaque"
    assert not value.isdigit(), f"{what} id {value!r} is a number"
    return value


def assert_unrelated(ids: list[str]) -> None:
    """Ids share no structure: no repeats, and neighbours differ in most places."""
    assert len(set(ids)) == len(ids), "an id was handed out twice"
    for a, b in zip(ids, ids[1:], strict=False):
        same = sum(x == y for x, y in zip(a, b, strict=False))
        assert same <= len(a) // 2, f"ids {a!r} and {b!r} look sequential"


def canonical(entries: list[Json]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True) for e in entries)


def same_report(got: Json, want: Json) -> None:
    """``check`` as the reference prints it; likelihoods to the sixth decimal."""
    assert set(got) == set(want)
    for key in ("workspace", "as", "coverage"):
        assert got[key] == want[key], f"{key}: {got[key]} != {want[key]}"
    for key in ("conflicts", "gaps"):
        assert canonical(got[key]) == canonical(want[key]), (
            f"{key} differ:\n got  {json.dumps(got[key])}\n want {json.dumps(want[key])}")
    assert set(got["likelihood"]) == set(want["likelihood"])
    for scenario, value in want["likelihood"].items():
        other = got["likelihood"][scenario]
        if value is None or other is None:
            assert other == value, f"likelihood of {scenario}: {other} != {value}"
        else:
            assert abs(other - value) <= 1.5e-6, f"likelihood of {scenario}: {other} != {value}"


def plan_file(owner: str, name: str, scenario: str, **parts: Any) -> dict[str, str]:
    """One plan of ``owner`` as an upload, for probing what an import error reveals."""
    doc = {"jointplan": 1, "kind": "plan", "id": f"{owner.lower()}-{name}", "owner": owner,
           "title": "Matrix probe", "scenarios": [scenario], **parts}
    return {"probe.json": json.dumps(doc)}


# --------------------------------------------------------------------- the world


class World:
    """A server with a workspace imported, and the record of what the matrix did to it."""

    live: World | None = None

    def __init__(self, name: str, source: Path, kind: str, tmp: Path) -> None:
        self.name, self.kind, self.rng = name, kind, random.Random(name)
        self.folder = tmp / "workspace"
        self.folder.mkdir(parents=True)
        for path in source.iterdir():
            if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
                shutil.copy(path, self.folder / path.name)
        with cheap_passwords():
            self.server: Server = start_server(database(kind, tmp), self.folder)
        World.live = self
        self.closed = False
        self.client = self.server.client
        self.model = Folder(self.folder)
        # plan id -> (file name, text), as the partner wrote it
        self.files = {doc["id"]: (name, (self.folder / name).read_text(encoding="utf-8"))
                      for name, doc in documents(self.folder) if doc["kind"] == "plan"}
        self.partners = list(self.server.tokens)
        self.scenario = self.model.joint["scenarios"][0]["id"]
        # Texts every partner may receive; the canaries each may not.
        self.public = public_texts(self.folder)
        self.secrets: list[tuple[str, frozenset[str]]] = folder_secrets(self.folder)
        self.threads: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.acks: set[tuple[str, str, str]] = set()
        self.t0_requests: set[str] = set()
        """Decisions opened by requests to declare or withdraw a T0 (asked: every partner)."""
        self.resolutions: dict[str, set[str]] = {}
        """Resolution id -> its partners (the asking one and the owners of moved tasks)."""
        self.askers: dict[str, str] = {}
        self.ids: list[str] = []
        self.posted: list[dict[str, Any] | None] = []
        self.observed: dict[str, int] = {}  # observation id -> its index in `posted`
        self._counter = 0
        self._forbidden: dict[tuple[str, int], list[str]] = {}
        self._views: dict[tuple[str, str], Json] = {}
        self._nothing: dict[str, Any] = {}

    @classmethod
    def close_live(cls) -> None:
        if cls.live is not None:
            cls.live.close()

    def close(self) -> None:
        if not self.closed:
            self.server.hub.db.engine.dispose()  # type: ignore[attr-defined]
            self.closed = True
        if World.live is self:
            World.live = None

    # ------------------------------------------------------------ canaries

    def canary(self, what: str, audience: set[str]) -> str:
        """A unique text for something the test writes, which only ``audience`` may read."""
        self._counter += 1
        text = f"canary-{what}-{self._counter:04d}-{self.rng.randrange(16**6):06x}"
        self.secrets.append((text, frozenset(audience)))
        return text

    def forbidden(self, partner: str) -> list[str]:
        key = (partner, len(self.secrets))
        if key not in self._forbidden:
            seen = [t for t, who in self.secrets if partner in who] + self.public + [VOCABULARY]
            self._forbidden[key] = [t for t, who in self.secrets if partner not in who
                                    and len(t) >= 5 and not any(t in s for s in seen)]
        return self._forbidden[key]

    # ------------------------------------------------------------ requests

    def call(self, partner: str | None, method: str, path: str, *, body: Json = None,
             params: dict[str, str] | None = None, client: Any = None,
             headers: dict[str, str] | None = None) -> Any:
        """One request; no server error, and nothing the partner may not see in the answer.

        A name the partner sent itself may come back (an error names what it
        asked for); nothing else it may not see may.
        """
        sent = {**(self.server.as_(partner) if partner else {}), **(headers or {})}
        r = (client or self.client).request(method, path, json=body, params=params,
                                            headers=sent)
        assert r.status_code < 500, f"{method} {path} as {partner}: {r.status_code} {r.text}"
        if partner is not None:
            text = r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
            asked = path + json.dumps(body) + json.dumps(params)
            for canary in self.forbidden(partner):
                assert canary in asked or canary not in text, (
                    f"{method} {path} as {partner} shows {canary!r}, which it may not see:\n"
                    f"{text[:3000]}")
        return r

    def like_missing(self, partner: str, method: str, hidden: tuple[str, Json, dict | None],
                     pairs: dict[str, str]) -> None:
        """What ``partner`` may not see answers exactly as what does not exist.

        ``hidden`` is (path, body, params) naming the hidden object; ``pairs``
        maps each real name in it to a fake of the same length. The answers must
        be equal byte for byte once the fakes are read as the real names.
        """

        def swap(value: Json, names: list[str]) -> Json:
            text = json.dumps(value)
            for real, fake in zip(pairs, names, strict=True):
                text = re.sub(rf"(?<![a-z0-9-]){re.escape(real)}(?![a-z0-9-])", fake, text)
            return json.loads(text)

        path, body, params = hidden
        real = self.call(partner, method, path, body=body, params=params)
        # The answer for nothing, asked once per route and partner where it names nothing.
        slots = [f"{{{i}}}" for i in range(len(pairs))]
        key = json.dumps([partner, method, swap([path, body, params], slots)])
        fake = self._nothing.get(key)
        if fake is None:
            fakes = list(pairs.values())
            fake = self.call(partner, method, swap(path, fakes), body=swap(body, fakes),
                             params=swap(params, fakes))
            text = fake.text + json.dumps(dict(fake.headers))
            if not any(name in text for name in fakes):
                self._nothing[key] = fake
        got_body, got_headers = fake.content.decode(), dict(fake.headers)
        for name, stand_in in pairs.items():
            got_body = got_body.replace(stand_in, name)
            got_headers = {k: v.replace(stand_in, name) for k, v in got_headers.items()}
        want_body = real.content.decode()
        if HINT.search(want_body) or HINT.search(got_body):
            # "did you mean" depends on the spelling asked for, not on what is hidden (the
            # canaries show it names nothing hidden): compare the rest.
            want_body, got_body = HINT.sub("; (hint)", want_body), HINT.sub("; (hint)", got_body)
            got_headers.pop("content-length")
            real_headers = {k: v for k, v in real.headers.items() if k != "content-length"}
        else:
            real_headers = dict(real.headers)
        where = f"{method} {path} as {partner}"
        assert real.status_code == fake.status_code, (
            f"{where}: {real.status_code} {real.text} but {fake.status_code} for nothing")
        assert want_body == got_body, (
            f"{where} answers\n  {real.text}\nbut for something that does not exist\n"
            f"  {fake.text}")
        assert real_headers == got_headers, f"{where}: headers differ"

    def missing(self, real: str) -> str:
        return fake_like(real, self.rng)

    def new_id(self, value: Any, what: str) -> str:
        self.ids.append(opaque(value, what))
        return str(value)

    # ------------------------------------------------------------ the reference

    def view(self, partner: str) -> Json:
        """The reference view, with the server's own `status` (every plan stays a draft)."""
        key = (partner, json.dumps(self.posted))
        if key not in self._views:
            want = reference_view(self.folder, partner)
            for plan in want["plans"].values():
                if "owner" in plan:
                    plan["status"] = "draft"
            self._views[key] = want
        return json.loads(json.dumps(self._views[key]))

    def sees_item(self, partner: str, plan: Json, kind: str, item: Json,
                  fields: tuple[str, ...] = ()) -> bool:
        return partner in self.model.item_audience(plan, kind, item) and not set(
            self.model.withheld(plan, item, partner)) & set(fields)

    def others_items(self, partner: str, key: str) -> Iterator[tuple[Json, Json]]:
        for plan in self.model.plans:
            if plan["owner"] != partner:
                for item in plan.get(key) or []:
                    yield plan, item

    def versions(self) -> list[tuple[str, str]]:
        with self.server.hub.db.read() as session:  # type: ignore[attr-defined]
            return list(session.execute(select(PlanVersion.id, PlanVersion.plan_id)
                                        .order_by(PlanVersion.plan_id, PlanVersion.number)))

    def post_observation(self, partner: str, indicator: str, share: list[str] | None) -> None:
        """Post an observation and write it into the model folder, as the reference reads it."""
        self._counter += 1
        body: dict[str, Any] = {"indicator": indicator, "seen": self._counter % 2 == 0,
                                "at": f"2020-01-{1 + self._counter % 28:02d}T00:00Z"}
        if share is not None:
            body["share"] = share
        r = self.call(partner, "POST", "/api/observations", body=body)
        assert r.status_code == 201, r.text
        self.observed[self.new_id(r.json()["id"], "observation")] = len(self.posted)
        self.posted.append({**body, "by": partner})
        self.write_posted()

    def write_posted(self) -> None:
        """The posted observations still counted (a retracted one is None), as the reference
        reads them."""
        (self.folder / POSTED).write_text(json.dumps(
            {"jointplan": 1, "kind": "observations",
             "observations": [o for o in self.posted if o is not None]}))
        self.model = Folder(self.folder)

    # ------------------------------------------------------------ collaboration

    def audience_of_thread(self, thread_id: str) -> set[str]:
        return set(self.threads[thread_id]["audience"])

    def create_thread(self, partner: str, share: list[str], subject: dict[str, str]) -> str:
        audience = {partner, *share}
        body = {"subject": subject, "title": self.canary("thread", audience),
                "text": self.canary("message", audience), "share": share}
        r = self.call(partner, "POST", "/api/threads", body=body)
        assert r.status_code == 201, r.text
        tid = self.new_id(r.json()["id"], "thread")
        self.threads[tid] = {"audience": audience, "subject": subject,
                             "messages": [(partner, audience)]}
        return tid

    def post_message(self, partner: str, thread_id: str, share: list[str]) -> None:
        readers = {partner, *share}
        r = self.call(partner, "POST", f"/api/threads/{thread_id}/messages",
                      body={"text": self.canary("message", readers), "share": share})
        assert r.status_code == 201, r.text
        self.new_id(r.json()["id"], "message")
        self.threads[thread_id]["messages"].append((partner, readers))

    def create_decision(self, partner: str, asked: list[str]) -> str:
        audience = {partner, *asked}
        r = self.call(partner, "POST", "/api/decisions",
                      body={"text": self.canary("decision", audience), "partners": asked})
        assert r.status_code == 201, r.text
        did = self.new_id(r.json()["id"], "decision")
        self.decisions[did] = {"partner": partner, "asked": set(asked), "responses": {}}
        return did

    def proposable(self, proposer: str, owner: str | None = None) -> Iterator[tuple[str, Json]]:
        """(plan id, change) that ``proposer`` may propose and that change nothing analysed."""
        for plan in self.model.plans:
            if plan["owner"] == proposer or (owner and plan["owner"] != owner):
                continue
            if proposer not in self.model.plan_audience(plan):
                continue
            shown = self.call(proposer, "GET", f"/api/plans/{plan['id']}").json()
            for task in shown.get("tasks", []):
                if "flex" in task and "start" in task:
                    yield plan["id"], {"kind": "move-start", "task": task["id"],
                                       "start": task["start"]}
                for resource, quantity in task.get("uses", {}).items():
                    yield plan["id"], {"kind": "set-quantity", "task": task["id"],
                                       "resource": resource, "quantity": quantity}

    def create_proposal(self, proposer: str, plan_id: str, change: Json) -> str:
        owner = self.model.plan(plan_id)["owner"]  # type: ignore[index]
        audience = {proposer, owner}
        r = self.call(proposer, "POST", "/api/proposals",
                      body={"plan": plan_id, "change": change,
                            "reason": self.canary("proposal", audience)})
        assert r.status_code == 201, r.text
        pid = self.new_id(r.json()["id"], "proposal")
        self.proposals[pid] = {"owner": owner, "partner": proposer, "plan": plan_id,
                               "status": "open"}
        return pid

    def open_proposal(self, owner: str) -> str | None:
        """An open proposal on one of ``owner``'s plans, made now if need be."""
        for pid, p in self.proposals.items():
            if p["owner"] == owner and p["status"] == "open" and not p.get("resolution"):
                return pid
        for proposer in self.partners:
            if proposer != owner:
                for plan_id, change in self.proposable(proposer, owner):
                    return self.create_proposal(proposer, plan_id, change)
        return None

    def ensure_collaboration(self) -> None:
        """Some threads and decisions by every partner, so that every reader has cases."""
        if self.threads:
            return
        for i, partner in enumerate(self.partners):
            nxt = self.partners[(i + 1) % len(self.partners)]
            tid = self.create_thread(partner, [nxt],
                                     {"kind": "scenario", "ref": self.scenario})
            self.post_message(partner, tid, [])
            self.post_message(nxt, tid, [partner])
            gap = next(iter(self.findings_of(partner, "gap")), None)
            self.create_thread(partner, [nxt], {"kind": "gap", "ref": gap} if gap else
                               {"kind": "scenario", "ref": self.scenario})
            self.create_decision(partner, [nxt])

    # ------------------------------------------------------------ conflicts and gaps

    def findings(self, family: str) -> dict[str, set[str]]:
        """Each lasting conflict (or gap) id, with the partners that are shown it."""
        out: dict[str, set[str]] = {}
        for q in self.partners:
            r = self.call(q, "GET", f"/api/{family}s")
            assert r.status_code == 200, r.text
            for finding in r.json():
                out.setdefault(finding["id"], set()).add(q)
        return out

    def findings_of(self, partner: str, family: str) -> list[str]:
        return [fid for fid, who in self.findings(family).items() if partner in who]


# --------------------------------------------------------------------- the matrix

Route = tuple[str, str]
MATRIX: dict[Route, Callable[[World, str], None]] = {}


def route(method: str, path: str) -> Callable[[Callable[[World, str], None]],
                                              Callable[[World, str], None]]:
    def register(check: Callable[[World, str], None]) -> Callable[[World, str], None]:
        MATRIX[(method, path)] = check
        return check
    return register


@route("GET", "/api/me")
def _me(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/me")
    assert r.status_code == 200
    assert r.json() == {"username": w.server.usernames[p], "partner": p, "role": "planner"}


@route("GET", "/api/workspace")
def _workspace(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/workspace")
    assert r.status_code == 200
    assert normal_view(r.json()) == w.view(p)


@route("GET", "/api/plans")
def _plans(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/plans")
    assert r.status_code == 200
    got = {plan["id"]: normal_plan(plan, p) for plan in r.json()}
    assert len(got) == len(r.json())
    assert got == w.view(p)["plans"]


@route("GET", "/api/plans/{plan_id}")
def _plan(w: World, p: str) -> None:
    want = w.view(p)["plans"]
    for plan in w.model.plans:
        pid = plan["id"]
        if pid in want:
            r = w.call(p, "GET", f"/api/plans/{pid}")
            assert r.status_code == 200
            assert normal_plan(r.json(), p) == want[pid]
        else:
            w.like_missing(p, "GET", (f"/api/plans/{pid}", None, None), {pid: w.missing(pid)})
    r = w.call(p, "GET", f"/api/plans/{w.missing('nor-nothing')}")
    assert (r.status_code, r.content) == (404, NOT_FOUND)


@route("GET", "/api/plans/{plan_id}/versions")
def _versions(w: World, p: str) -> None:
    want = w.view(p)["plans"]
    stored = w.versions()
    for plan in w.model.plans:
        pid = plan["id"]
        if pid not in want:
            w.like_missing(p, "GET", (f"/api/plans/{pid}/versions", None, None),
                           {pid: w.missing(pid)})
            continue
        r = w.call(p, "GET", f"/api/plans/{pid}/versions")
        assert r.status_code == 200
        history = r.json()
        # Only versions whose view changed for the partner: every write here changes none.
        first = next(v for v, q in stored if q == pid)
        assert [h["version"] for h in history] == [first]
        for entry in history:
            opaque(entry["version"], "version")
            assert entry["reason"] is None or plan["owner"] == p
            assert entry["by"] is None or plan["owner"] == p  # who: the owner's side only
            if "owner" not in want[pid]:
                # Only an item addressed to it: the plan's id and nothing else of it.
                assert entry.get("status") is None, (
                    f"{p} sees only items of {pid} addressed to it, yet its history "
                    f"tells the plan's status: {entry}")


@route("GET", "/api/plans/{plan_id}/diff")
def _diff(w: World, p: str) -> None:
    want = w.view(p)["plans"]
    stored = w.versions()
    # A diff reads every version of the plan: a few plans of each kind say enough.
    shown = [plan for plan in w.model.plans if plan["id"] in want][:PROBES]
    hidden = [plan for plan in w.model.plans if plan["id"] not in want][:PROBES]
    for plan in shown + hidden:
        pid = plan["id"]
        mine = [v for v, q in stored if q == pid]
        path = f"/api/plans/{pid}/diff"
        if pid not in want:
            v = mine[0]
            w.like_missing(p, "GET", (path, None, {"from": v, "to": v}),
                           {pid: w.missing(pid), v: w.missing(v)})
            continue
        history = [h["version"] for h in w.call(p, "GET", f"/api/plans/{pid}/versions").json()]
        r = w.call(p, "GET", path, params={"from": history[0], "to": history[-1]})
        assert (r.status_code, r.text) == (200, "")
        # A version the partner was never shown, or of another plan, is no version at all.
        unseen = [v for v in mine if v not in history][:1]
        unseen += [v for v, q in stored if q != pid][:1]
        for v in unseen:
            w.like_missing(p, "GET", (path, None, {"from": v, "to": history[0]}),
                           {v: w.missing(v)})


@route("POST", "/api/plans/{plan_id}/status")
def _status(w: World, p: str) -> None:
    want = w.view(p)["plans"]
    body = {"status": "draft", "reason": w.canary("status", {p})}
    for plan in w.model.plans:
        pid = plan["id"]
        path = f"/api/plans/{pid}/status"
        if plan["owner"] == p:
            r = w.call(p, "POST", path, body=body)
            assert r.status_code == 201, r.text
            w.new_id(r.json()["version"], "version")
        elif pid in want and "owner" in want[pid]:
            r = w.call(p, "POST", path, body=body)
            assert r.status_code == 403, r.text
        else:
            w.like_missing(p, "POST", (path, body, None), {pid: w.missing(pid)})


@route("POST", "/api/import")
def _import(w: World, p: str) -> None:
    own = dict(w.files[plan["id"]] for plan in w.model.plans if plan["owner"] == p)
    if own:  # the partner's own files again: a new version each, nothing changes for anyone
        r = w.call(p, "POST", "/api/import", body={"files": own, "reason": "matrix"})
        assert r.status_code == 201, r.text
        assert r.json()["plans"] == sorted(plan["id"] for plan in w.model.plans
                                           if plan["owner"] == p)
        for v in r.json()["versions"]:
            w.new_id(v, "version")
    # A plan waiting for a task whose start and duration it may not see: as for no task.
    hidden = [(plan, t) for plan, t in w.others_items(p, "tasks")
              if not w.sees_item(p, plan, "task", t, ("start", "duration"))]
    for n, (plan, task) in enumerate(hidden[:PROBES]):
        files = plan_file(p, "probe", w.scenario, tasks=[{
            "id": "probe", "title": "Probe", "start": "T+0h", "duration": "1h",
            "after": [f"{plan['id']}/{task['id']}"]}])
        w.like_missing(p, "POST", ("/api/import", {"files": files}, None),
                       {task["id"]: w.missing(task["id"])})
        if n == 0:
            w.like_missing(p, "POST", ("/api/import", {"files": files}, None), {
                plan["id"]: w.missing(plan["id"]), task["id"]: w.missing(task["id"])})
    # A provision answering an expectation it may not see: as for no expectation.
    unseen = [(plan, e) for plan, e in w.others_items(p, "expects")
              if not w.sees_item(p, plan, "expectation", e)]
    for n, (plan, exp) in enumerate(unseen[:PROBES]):
        files = plan_file(p, "probe", w.scenario, provides=[{
            "id": "probe", "to": plan["owner"], "what": "Probe", "window": ["T+0h", "T+1h"],
            "answers": f"{plan['id']}/{exp['id']}"}])
        w.like_missing(p, "POST", ("/api/import", {"files": files}, None),
                       {exp["id"]: w.missing(exp["id"])})
        if n == 0:
            w.like_missing(p, "POST", ("/api/import", {"files": files}, None), {
                plan["id"]: w.missing(plan["id"]), exp["id"]: w.missing(exp["id"])})
    # An observation of an indicator it may not see: as for no indicator.
    for ind in [i for i in w.model.indicators
                if p not in w.model.indicator_audience(i)][:PROBES]:
        files = {"probe-observations.json": json.dumps({
            "jointplan": 1, "kind": "observations",
            "observations": [{"indicator": ind["id"], "at": "2020-01-01T00:00Z",
                              "seen": True}]})}
        w.like_missing(p, "POST", ("/api/import", {"files": files}, None),
                       {ind["id"]: w.missing(ind["id"])})
    _close_a_cycle(w, p)


def _close_a_cycle(w: World, p: str) -> None:
    """A plan of ``p`` that closes a dependency cycle through another partner's plan.

    ``p`` sees every task and edge of the cycle (the other task's `after`
    included), so the import must fail naming it, and every partner must still
    read the workspace afterwards. (A cycle through anything hidden from the
    importer is accepted and broken: tests/server/test_share_changes.py.)
    """
    for plan in w.model.plans:
        if plan["owner"] != p:
            continue
        name, text = w.files[plan["id"]]
        for other, task in w.others_items(p, "tasks"):
            if not w.sees_item(p, other, "task", task, ("start", "duration", "after")):
                continue
            for ref in task.get("after") or []:
                pid, _, tid = ref.rpartition("/")
                target = w.model.find(pid, "tasks", tid) if pid == plan["id"] else None
                line = re.search(rf"^( *)- id: {re.escape(tid)}[ \t]*$", text, re.M)
                if target is None or "after" in target or line is None:
                    continue
                closed = (text[:line.end()] + f"\n{line.group(1)}  after: "
                          f"[{other['id']}/{task['id']}]" + text[line.end():])
                r = w.call(p, "POST", "/api/import", body={"files": {"0-probe.yaml": closed}})
                assert r.status_code == 422 and "dependency cycle" in r.text, r.text
                for q in w.partners:
                    assert w.call(q, "GET", "/api/plans").status_code == 200
                return


@route("GET", "/api/export")
def _export(w: World, p: str) -> None:
    view = w.view(p)
    whole = [plan for plan in view["plans"].values() if "owner" in plan]
    refused = sorted(plan["id"] for plan in whole if plan["tlp"] == "red" and plan["owner"] != p)
    r = w.call(p, "GET", "/api/export")
    if refused:
        assert r.status_code == 403, r.text
        assert sorted(r.json()["detail"].split(": ", 1)[1].split(", ")) == refused
        return
    assert r.status_code == 200, r.text
    tlps = [plan["tlp"] for plan in whole]
    tlp = max(tlps, key=RANKS.index) if tlps else "clear"
    assert r.json()["tlp"] == tlp
    # The files hold the plans, items and fields of the view: no more, no less.
    exported = {}
    for name, text in r.json()["files"].items():
        assert text.startswith(f"# TLP:{tlp.upper()}\n"), f"{name} is not marked {tlp}"
        doc = yaml.safe_load(text)
        if doc["kind"] == "plan":
            exported[doc["id"]] = doc
    assert set(exported) == set(view["plans"])
    ignored = {"share", "withhold", "withheld"}
    for pid, plan in view["plans"].items():
        if "owner" in plan:
            assert {k: exported[pid].get(k) for k in ("owner", "title", "scenarios", "tlp")} == {
                k: plan[k] for k in ("owner", "title", "scenarios", "tlp")}
        for key, _ in ITEMS:
            got = {x["id"]: x for x in normal_plan(exported[pid], p).get(key, [])}
            want = {x["id"]: x for x in plan.get(key, [])}
            assert list(got) == list(want), f"{pid} {key}: {list(got)} != {list(want)}"
            for item_id, item in want.items():
                shown = {k: v for k, v in got[item_id].items() if k not in ignored}
                assert shown == {k: v for k, v in item.items() if k not in ignored}, (
                    f"{pid}/{item_id} exported as {got[item_id]}, viewed as {item}")
                assert set(item.get("withheld", [])) <= set(got[item_id].get("withheld", []))


def _unfolded_text(kind: str, r: Any) -> str:
    """An export's text as a partner reads it: iCalendar lines unfolded, a workbook's cells."""
    if kind == "xlsx":
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(r.content), read_only=True)
        text = "\n".join("\t".join("" if v is None else str(v) for v in row)
                         for sheet in book for row in sheet.iter_rows(values_only=True))
        book.close()
        return text
    return re.sub(r"\r\n[ \t]", "", r.text)


@route("GET", "/api/exports/{kind}")
def _exports(w: World, p: str) -> None:
    import csv
    import io

    view = w.view(p)
    raw = {plan["id"]: plan for plan in w.model.plans}
    kept = {pid for pid in view["plans"] if not (raw[pid].get("tlp") == "red"
                                                 and raw[pid]["owner"] != p)}
    tasks = {(pid, t["id"]) for pid in kept for t in view["plans"][pid].get("tasks", [])}
    tops = [s["id"] for s in w.model.joint["scenarios"] if not s.get("parent")]
    params = {"geojson": None, "csv": None, "xlsx": None, "stix": None,
              "ical": {"t0": [f"{s}=2026-11-20T08:00Z" for s in tops]}}
    for kind, query in params.items():
        r = w.call(p, "GET", f"/api/exports/{kind}", params=query)
        assert r.status_code == 200, f"{kind} as {p}: {r.status_code} {r.text}"
        text = _unfolded_text(kind, r)
        for canary in w.forbidden(p):
            assert canary not in text, f"the {kind} export as {p} shows {canary!r}"
        if kind == "geojson":
            located = {(f["properties"]["plan"], f["properties"]["task"]["id"])
                       for f in r.json()["features"] if f["properties"]["kind"] == "task"}
            want = {(pid, t["id"]) for pid in kept
                    for t in view["plans"][pid].get("tasks", []) if "area" in t}
            assert located == want, f"geojson as {p}: {located} != {want}"
        elif kind == "csv":
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert {(row["plan"], row["id"]) for row in rows} == tasks
        elif kind == "stix":
            objects = r.json()["objects"]
            assert {o["x_jointplan_id"] for o in objects if o["type"] == "indicator"} == set(
                view["indicators"])
            assert sum(o["type"] == "sighting" for o in objects) == len(view["observations"])
    r = w.call(p, "GET", "/api/exports/nothing")
    assert (r.status_code, r.content) == (404, NOT_FOUND)


TAXII = "/api/taxii2"


def _collection_id(w: World, p: str) -> str:
    from jointplan.server.taxii import collection_id

    return collection_id(w.model.joint["id"], p)


@route("GET", "/api/taxii2/")
def _taxii_discovery(w: World, p: str) -> None:
    r = w.call(p, "GET", f"{TAXII}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/taxii+json")
    assert len(r.json()["api_roots"]) == 1 and r.json()["default"].endswith("/root/")


@route("GET", "/api/taxii2/root/")
def _taxii_root(w: World, p: str) -> None:
    r = w.call(p, "GET", f"{TAXII}/root/")
    assert r.status_code == 200 and r.json()["versions"] == ["application/taxii+json;version=2.1"]


@route("GET", "/api/taxii2/root/collections/")
def _taxii_collections(w: World, p: str) -> None:
    r = w.call(p, "GET", f"{TAXII}/root/collections/")
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["collections"]] == [_collection_id(w, p)]


@route("GET", "/api/taxii2/root/collections/{collection_id}/")
def _taxii_collection(w: World, p: str) -> None:
    mine = _collection_id(w, p)
    r = w.call(p, "GET", f"{TAXII}/root/collections/{mine}/")
    assert r.status_code == 200 and r.json()["id"] == mine and not r.json()["can_write"]
    for q in w.partners[:PROBES + 1]:
        if q != p:
            theirs = _collection_id(w, q)
            w.like_missing(p, "GET", (f"{TAXII}/root/collections/{theirs}/", None, None),
                           {theirs: w.missing(theirs)})


@route("GET", "/api/taxii2/root/collections/{collection_id}/objects/")
def _taxii_objects(w: World, p: str) -> None:
    view = w.view(p)
    mine = _collection_id(w, p)
    got: list[Json] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        r = w.call(p, "GET", f"{TAXII}/root/collections/{mine}/objects/", params=params)
        assert r.status_code == 200, r.text
        got.extend(r.json()["objects"])
        if not r.json()["more"]:
            break
        params = {"limit": "2", "next": r.json()["next"]}
    assert len({o["id"] for o in got}) == len(got), "a page repeated an object"
    assert {o["x_jointplan_id"] for o in got if o["type"] == "indicator"} == set(
        view["indicators"])
    assert sum(o["type"] == "sighting" for o in got) == len(view["observations"])
    for q in w.partners[:PROBES + 1]:
        if q != p:
            theirs = _collection_id(w, q)
            w.like_missing(p, "GET", (f"{TAXII}/root/collections/{theirs}/objects/", None,
                                      None), {theirs: w.missing(theirs)})


@route("POST", "/api/observations")
def _observe(w: World, p: str) -> None:
    seen = [i for i in w.model.indicators if p in w.model.indicator_audience(i)]
    others = [q for q in w.partners if q != p]
    if seen:  # shared with one other partner: it, and only it, counts the report
        w.post_observation(p, seen[0]["id"], others[:1])
    for ind in [i for i in w.model.indicators
                if p not in w.model.indicator_audience(i)][:PROBES]:
        body = {"indicator": ind["id"], "seen": True, "at": "2020-01-01T00:00Z"}
        w.like_missing(p, "POST", ("/api/observations", body, None),
                       {ind["id"]: w.missing(ind["id"])})


@route("GET", "/api/simulate")
def _simulate(w: World, p: str) -> None:
    from jointplan.services.simulate import simulate_workspace

    params = {"samples": "300", "seed": "3"}
    r = w.call(p, "GET", "/api/simulate", params=params)
    try:
        expected = [run.report for run in simulate_workspace(w.folder, p, None, samples=300,
                                                             seed=3)]
    except ValueError:
        # Nothing of the partner's own to simulate: a 422 naming the field.
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"][-1] == "scenario"
        return
    assert r.status_code == 200, r.text
    # The server runs the same kernel and the same cut on what it stores.
    assert r.json() == json.loads(json.dumps(expected))


@route("GET", "/api/check")
def _check(w: World, p: str) -> None:
    def notes() -> dict[str, list[str]]:
        return {q: [n["text"] for n in w.call(q, "GET", "/api/notifications").json()]
                for q in w.partners}

    def analyses() -> int:
        return sum(1 for e in w.call(p, "GET", "/api/audit").json()
                   if (e["action"], e["subject"]) == ("analysis", f"partner:{p}"))

    before, counted = notes(), analyses()
    r = w.call(p, "GET", "/api/check")
    assert r.status_code == 200, r.text
    report = dict(r.json())
    # The server adds the declared T0s the partner may see: the same as GET /api/t0.
    assert report.pop("declarations") == w.call(p, "GET", "/api/t0").json()
    same_report(report, reference_check(w.folder, p))
    # Deconfliction can be probed: a result that shows hidden counterparts is audited once
    # per partner and result, and the owner of a hidden item that showed is told once per
    # new conflict (and no one else); a result that shows none, or shows again, writes nothing.
    exposed = {t["partner"] for c in r.json()["conflicts"] for t in c["tasks"]
               if t.get("hidden") and t["partner"] != p}
    after, recorded = notes(), analyses()
    assert recorded in ((counted, counted + 1) if exposed else (counted,))
    for q in w.partners:
        told = after[q][:len(after[q]) - len(before[q])]
        assert len(told) <= (q in exposed), f"{q} after {p}'s analysis: told {told}"
        assert all(p in text for text in told)
    again = w.call(p, "GET", "/api/check")
    assert again.json() == r.json()
    assert (notes(), analyses()) == (after, recorded)


def _thread_seen(w: World, p: str, tid: str) -> list[tuple[str, set[str]]]:
    return [m for m in w.threads[tid]["messages"] if p in m[1]]


def _subject_seen(w: World, p: str, subject: dict[str, str]) -> bool:
    """Whether ``p`` may see what a thread is about (scenarios are joint)."""
    if subject["kind"] in ("conflict", "gap"):
        return p in w.findings(subject["kind"]).get(subject["ref"], set())
    if subject["kind"] not in ("plan", "task"):
        return True
    pid, _, tid = subject["ref"].partition("/")
    plan = w.view(p)["plans"].get(pid)
    if plan is None:
        return False
    return subject["kind"] == "plan" or any(t["id"] == tid for t in plan.get("tasks", []))


def _check_thread(w: World, p: str, tid: str) -> None:
    path = f"/api/threads/{tid}"
    if p not in w.audience_of_thread(tid):
        w.like_missing(p, "GET", (path, None, None), {tid: w.missing(tid)})
        return
    r = w.call(p, "GET", path)
    assert r.status_code == 200, r.text
    got = r.json()
    messages = _thread_seen(w, p, tid)
    assert [m["partner"] for m in got["messages"]] == [m[0] for m in messages]
    subject = w.threads[tid]["subject"]
    if _subject_seen(w, p, subject):
        assert got["subject"] == subject
    else:
        assert got["subject"].get("ref") is None, (
            f"{p} may not see {subject['ref']}, yet a thread about it names it: {got}")


@route("GET", "/api/threads")
def _threads(w: World, p: str) -> None:
    w.ensure_collaboration()
    r = w.call(p, "GET", "/api/threads")
    assert r.status_code == 200
    got = {t["id"]: t["messages"] for t in r.json()}
    assert got == {tid: len(_thread_seen(w, p, tid)) for tid in w.threads
                   if p in w.audience_of_thread(tid)}


@route("POST", "/api/threads")
def _new_thread(w: World, p: str) -> None:
    others = [q for q in w.partners if q != p]
    made = [w.create_thread(p, [], {"kind": "scenario", "ref": w.scenario})]
    for family in ("conflict", "gap"):
        known = w.findings(family)
        for fid in [f for f, who in known.items() if p in who][:1]:
            # Shared with every partner: those not shown the conflict are not told which.
            made.append(w.create_thread(p, others, {"kind": family, "ref": fid}))
        for fid in [f for f, who in known.items() if p not in who][:PROBES]:
            w.like_missing(p, "POST", ("/api/threads", {
                "title": "Probe", "text": "Probe", "share": [],
                "subject": {"kind": family, "ref": fid}}, None), {fid: w.missing(fid)})
    for plan in w.model.plans:
        if p in w.model.plan_audience(plan):
            made.append(w.create_thread(p, others, {"kind": "plan", "ref": plan["id"]}))
            tasks = [t for t in plan.get("tasks") or [] if w.sees_item(p, plan, "task", t)]
            if tasks:
                made.append(w.create_thread(p, others, {
                    "kind": "task", "ref": f"{plan['id']}/{tasks[0]['id']}"}))
            break
    for tid in made:
        for q in w.partners:
            _check_thread(w, q, tid)
    # A thread about a plan or task it may not see: as about nothing.
    base = {"title": "Probe", "text": "Probe", "share": []}
    for plan in w.model.plans:
        if plan["id"] not in w.view(p)["plans"]:
            w.like_missing(p, "POST", ("/api/threads", {
                **base, "subject": {"kind": "plan", "ref": plan["id"]}}, None),
                {plan["id"]: w.missing(plan["id"])})
    for plan, task in [(pl, t) for pl, t in w.others_items(p, "tasks")
                       if not w.sees_item(p, pl, "task", t)][:PROBES]:
        ref = f"{plan['id']}/{task['id']}"
        w.like_missing(p, "POST", ("/api/threads", {
            **base, "subject": {"kind": "task", "ref": ref}}, None),
            {task["id"]: w.missing(task["id"])})


@route("GET", "/api/threads/{thread_id}")
def _thread(w: World, p: str) -> None:
    w.ensure_collaboration()
    for tid in w.threads:
        _check_thread(w, p, tid)


@route("POST", "/api/threads/{thread_id}/messages")
def _message(w: World, p: str) -> None:
    w.ensure_collaboration()
    inside = [tid for tid in w.threads if p in w.audience_of_thread(tid)]
    outside = [tid for tid in w.threads if p not in w.audience_of_thread(tid)]
    for tid in inside[-PROBES:]:
        w.post_message(p, tid, [])  # for itself alone: no one else counts it
        for q in w.audience_of_thread(tid):
            _check_thread(w, q, tid)
    for tid in outside[-PROBES:]:
        path = f"/api/threads/{tid}/messages"
        w.like_missing(p, "POST", (path, {"text": "Probe"}, None), {tid: w.missing(tid)})


def _check_proposal(w: World, p: str, pid: str) -> None:
    record = w.proposals[pid]
    path = f"/api/proposals/{pid}"
    if p not in (record["owner"], record["partner"]):
        w.like_missing(p, "GET", (path, None, None), {pid: w.missing(pid)})
        return
    r = w.call(p, "GET", path)
    assert r.status_code == 200, r.text
    assert (r.json()["plan"], r.json()["status"]) == (record["plan"], record["status"])


@route("GET", "/api/proposals")
def _proposals(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/proposals")
    assert r.status_code == 200
    assert {x["id"]: x["status"] for x in r.json()} == {
        pid: x["status"] for pid, x in w.proposals.items() if p in (x["owner"], x["partner"])}


@route("POST", "/api/proposals")
def _new_proposal(w: World, p: str) -> None:
    made = []
    kinds = set()
    for plan_id, change in w.proposable(p):
        if change["kind"] not in kinds:
            kinds.add(change["kind"])
            made.append(w.create_proposal(p, plan_id, change))
    for pid in made:
        for q in w.partners:
            _check_proposal(w, q, pid)
    # A proposal on a plan it may not see whole: as on no plan.
    for plan in w.model.plans:
        if "owner" not in w.view(p)["plans"].get(plan["id"], {}):
            body = {"plan": plan["id"], "reason": "Probe",
                    "change": {"kind": "move-start", "task": "probe", "start": "T+0h"}}
            w.like_missing(p, "POST", ("/api/proposals", body, None),
                           {plan["id"]: w.missing(plan["id"])})


@route("GET", "/api/proposals/{proposal_id}")
def _proposal(w: World, p: str) -> None:
    w.open_proposal(p)
    for pid in w.proposals:
        _check_proposal(w, p, pid)


def _decide(w: World, p: str, verb: str) -> None:
    pid = w.open_proposal(p)
    if pid is not None:
        body = {"reason": w.canary("answer", {p, w.proposals[pid]["partner"]})}
        r = w.call(p, "POST", f"/api/proposals/{pid}/{verb}", body=body)
        assert r.status_code == 200, r.text
        w.proposals[pid]["status"] = "accepted" if verb == "accept" else "declined"
        assert r.json()["status"] == w.proposals[pid]["status"]
        if verb == "accept":
            w.new_id(r.json()["answer"], "version")
        again = w.call(p, "POST", f"/api/proposals/{pid}/{verb}", body=body)
        assert again.status_code == 422
    for pid, x in w.proposals.items():
        path = f"/api/proposals/{pid}/{verb}"
        if p not in (x["owner"], x["partner"]):
            w.like_missing(p, "POST", (path, {"reason": "Probe"}, None), {pid: w.missing(pid)})
        elif p != x["owner"]:
            assert w.call(p, "POST", path, body={"reason": "Probe"}).status_code == 403


@route("POST", "/api/proposals/{proposal_id}/accept")
def _accept(w: World, p: str) -> None:
    _decide(w, p, "accept")


@route("POST", "/api/proposals/{proposal_id}/decline")
def _decline(w: World, p: str) -> None:
    _decide(w, p, "decline")


def _check_decision(w: World, p: str, did: str) -> None:
    record = w.decisions[did]
    path = f"/api/decisions/{did}"
    if p not in {record["partner"], *record["asked"]}:
        w.like_missing(p, "GET", (path, None, None), {did: w.missing(did)})
        return
    r = w.call(p, "GET", path)
    assert r.status_code == 200
    got = r.json()
    assert set(got["partners"]) == record["asked"]
    assert {k: v["stance"] for k, v in got["responses"].items() if v} == record["responses"]


@route("GET", "/api/decisions")
def _decisions(w: World, p: str) -> None:
    w.ensure_collaboration()
    r = w.call(p, "GET", "/api/decisions")
    assert r.status_code == 200
    assert {d["id"] for d in r.json()} == {
        did for did, d in w.decisions.items() if p in {d["partner"], *d["asked"]}}


@route("POST", "/api/decisions")
def _new_decision(w: World, p: str) -> None:
    others = [q for q in w.partners if q != p]
    made = [w.create_decision(p, [p]), w.create_decision(p, others[:1])]
    for did in made:
        for q in w.partners:
            _check_decision(w, q, did)
    # A decision about a conflict: asked partners not shown it are not told which.
    for fid, who in list(w.findings("conflict").items())[:PROBES]:
        body = {"text": w.canary("decision", set(w.partners)), "partners": others,
                "about": {"kind": "conflict", "ref": fid}}
        if p not in who:
            w.like_missing(p, "POST", ("/api/decisions", body, None), {fid: w.missing(fid)})
            continue
        r = w.call(p, "POST", "/api/decisions", body=body)
        assert r.status_code == 201, r.text
        did = w.new_id(r.json()["id"], "decision")
        w.decisions[did] = {"partner": p, "asked": set(others), "responses": {}}
        for q in w.partners:
            about = w.call(q, "GET", f"/api/decisions/{did}").json()["about"]
            assert about == ({"kind": "conflict", "ref": fid} if q in who
                             else {"kind": "conflict", "hidden": True})
            if q in who:
                assert did in w.call(q, "GET", f"/api/conflicts/{fid}").json()["decisions"]


@route("GET", "/api/decisions/{decision_id}")
def _decision(w: World, p: str) -> None:
    w.ensure_collaboration()
    for did in w.decisions:
        _check_decision(w, p, did)


@route("POST", "/api/decisions/{decision_id}/responses")
def _respond(w: World, p: str) -> None:
    w.ensure_collaboration()
    for did, d in list(w.decisions.items()):
        path = f"/api/decisions/{did}/responses"
        audience = {d["partner"], *d["asked"]}
        body = {"stance": "reservation", "note": w.canary("note", audience)}
        if p in d["asked"] and d.get("closed"):
            assert w.call(p, "POST", path, body=body).status_code == 422
        elif p in d["asked"]:
            r = w.call(p, "POST", path, body=body)
            assert r.status_code == 200, r.text
            d["responses"][p] = "reservation"
            for q in audience:
                _check_decision(w, q, did)
        elif p in audience:
            assert w.call(p, "POST", path, body=body).status_code == 403
        else:
            w.like_missing(p, "POST", (path, {"stance": "concur"}, None), {did: w.missing(did)})


@route("POST", "/api/expectations/{plan_id}/{expectation_id}/acknowledge")
def _acknowledge(w: World, p: str) -> None:
    for plan in w.model.plans:
        for exp in plan.get("expects") or []:
            path = f"/api/expectations/{plan['id']}/{exp['id']}/acknowledge"
            if exp["from"] == p:
                r = w.call(p, "POST", path)
                assert (r.status_code, r.content) == (204, b"")
                w.acks.add((plan["id"], exp["id"], p))
            elif w.sees_item(p, plan, "expectation", exp):
                assert w.call(p, "POST", path).status_code == 403
            else:
                w.like_missing(p, "POST", (path, None, None), {exp["id"]: w.missing(exp["id"])})
                w.like_missing(p, "POST", (path, None, None),
                               {plan["id"]: w.missing(plan["id"]),
                                exp["id"]: w.missing(exp["id"])})
    r = w.call(p, "POST", f"/api/expectations/{w.missing('nor-nothing')}/none/acknowledge")
    assert (r.status_code, r.content) == (404, NOT_FOUND)


@route("GET", "/api/acknowledgements")
def _acknowledgements(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/acknowledgements")
    assert r.status_code == 200
    owners = {plan["id"]: plan["owner"] for plan in w.model.plans}
    assert {(a["expectation"], a["partner"]) for a in r.json()} == {
        (f"{pl}/{e}", q) for pl, e, q in w.acks if p in (q, owners[pl])}


@route("GET", "/api/people")
def _people(w: World, p: str) -> None:
    # The matrix signs in planners: only an admin reads its people (tests/server/test_people.py).
    r = w.call(p, "GET", "/api/people")
    assert r.status_code == 403 and "only an admin" in r.json()["detail"], r.text


@route("GET", "/api/notifications")
def _notifications(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/notifications")
    assert r.status_code == 200
    for note in r.json():
        opaque(note["id"], "notification")


def _about_its_own(w: World, p: str, entry: Json) -> bool:
    """Whether an audit entry is about ``p``'s own data or people (what it may read)."""
    kind, _, ref = entry["subject"].partition(":")
    owners = {plan["id"]: plan["owner"] for plan in w.model.plans}
    if kind == "plan":
        return owners.get(ref) == p
    if kind == "thread":
        return p in w.audience_of_thread(ref)
    if kind == "proposal":
        return p in (w.proposals[ref]["owner"], w.proposals[ref]["partner"])
    if kind == "decision":
        return p in {w.decisions[ref]["partner"], *w.decisions[ref]["asked"]}
    if kind == "expectation":
        return any(f"{pl}/{e}" == ref and p in (q, owners[pl]) for pl, e, q in w.acks)
    if kind == "partner":  # an analysis that showed its hidden items to another partner
        return ref == p or entry["action"] in ("analysis", "deconflict.preview")
    if kind == "resolution":
        return p in w.resolutions[ref]
    if kind == "workspace":
        return True
    if kind == "scenario":  # a declared T0: every partner sees every (joint) scenario
        return entry["action"] in ("t0.declare", "t0.undeclare")
    if kind in ("conflict", "gap"):
        return p in w.findings(kind).get(ref, set())
    if kind == "observations":
        return entry["partner"] in (None, p)
    return bool(entry["partner"] == p)  # users, tokens, sessions, observations


@route("GET", "/api/audit")
def _audit(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/audit")
    assert r.status_code == 200
    for entry in r.json():
        assert entry["user"] in (None, w.server.usernames[p]), entry
        if entry["partner"] != p:
            assert entry["detail"] == {}, f"{p} reads the detail of another's entry: {entry}"
        assert _about_its_own(w, p, entry), f"{p} reads an audit entry about others: {entry}"


# -- real time: declared T0s, the caller's zone, calendar feeds ------------------------


def _tops(w: World) -> list[str]:
    return [s["id"] for s in w.model.joint["scenarios"] if not s.get("parent")]


@route("GET", "/api/t0")
def _t0_list(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/t0")
    assert r.status_code == 200
    assert {d["scenario"] for d in r.json()} <= set(_tops(w))


@route("POST", "/api/t0")
def _t0_declare(w: World, p: str) -> None:
    top = _tops(w)[0]
    r = w.call(p, "POST", "/api/t0", body={"scenario": top, "t0": "2026-11-20T09:00+01:00"})
    assert r.status_code == 201, r.text
    assert (r.json()["partner"], r.json()["t0"]) == (p, "2026-11-20T08:00:00Z")
    for q in w.partners:  # a scenario is joint: every partner sees its T0
        got = w.call(q, "GET", "/api/t0").json()
        assert [(d["scenario"], d["partner"]) for d in got if d["scenario"] == top] == [(top, p)]
    fake = w.missing(top)
    r = w.call(p, "POST", "/api/t0", body={"scenario": fake, "t0": "2026-11-20T08:00Z"})
    assert (r.status_code, r.content) == (404, NOT_FOUND)
    child = next((s["id"] for s in w.model.joint["scenarios"] if s.get("parent")), None)
    if child is not None:
        r = w.call(p, "POST", "/api/t0", body={"scenario": child, "t0": "2026-11-20T08:00Z"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "scenario"]
    assert w.call(p, "DELETE", f"/api/t0/{top}").status_code == 204


@route("DELETE", "/api/t0/{scenario}")
def _t0_undeclare(w: World, p: str) -> None:
    top = _tops(w)[-1]
    assert w.call(p, "POST", "/api/t0", body={"scenario": top, "t0": "2026-11-20T08:00Z"}
                  ).status_code == 201
    assert w.call(p, "DELETE", f"/api/t0/{top}").status_code == 204
    for q in w.partners:
        assert top not in {d["scenario"] for d in w.call(q, "GET", "/api/t0").json()}
    r = w.call(p, "DELETE", f"/api/t0/{top}")
    assert (r.status_code, r.content) == (404, NOT_FOUND)


def _mode(w: World, mode: str) -> None:
    """The operator sets the workspace's T0 mode (as `jointplan settings t0-mode` does)."""
    from jointplan.server import t0 as realtime

    realtime.set_mode(w.server.hub, None, mode)  # type: ignore[arg-type]


def _as_admin(w: World, p: str, admin: bool) -> None:
    """Make ``p``'s planner an admin, or a planner again (the same user and token)."""
    from jointplan.store.tables import User

    with w.server.hub.db.write() as session:  # type: ignore[attr-defined]
        user = session.scalar(select(User).where(User.username == w.server.usernames[p]))
        user.role = "admin" if admin else "planner"


@route("GET", "/api/workspace/t0-mode")
def _t0_mode(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/workspace/t0-mode")
    assert r.status_code == 200 and r.json()["mode"] == "planner", r.text


@route("PUT", "/api/workspace/t0-mode")
def _set_t0_mode(w: World, p: str) -> None:
    r = w.call(p, "PUT", "/api/workspace/t0-mode", body={"mode": "joint"})
    assert r.status_code == 403 and "admin" in r.text  # a planner may not
    _as_admin(w, p, True)
    try:
        r = w.call(p, "PUT", "/api/workspace/t0-mode", body={"mode": "sometimes"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "mode"]
        r = w.call(p, "PUT", "/api/workspace/t0-mode", body={"mode": "joint"})
        assert r.status_code == 200 and r.json()["mode"] == "joint", r.text
        for q in w.partners:
            assert w.call(q, "GET", "/api/workspace/t0-mode").json()["mode"] == "joint"
        assert w.call(p, "PUT", "/api/workspace/t0-mode", body={"mode": "planner"}
                      ).json()["mode"] == "planner"
    finally:
        _as_admin(w, p, False)
        _mode(w, "planner")


def _asked_through(w: World, p: str, body: Json, t0: str | None) -> str:
    """``p`` asks; every other partner concurs in turn; T0 changes at the last one only."""
    top = body["scenario"]
    before = {q: w.call(q, "GET", "/api/t0").json() for q in w.partners}
    r = w.call(p, "POST", "/api/t0/requests", body=body)
    assert r.status_code == 201, r.text
    req = r.json()
    did = w.new_id(req["id"], "decision")
    asked = sorted(w.partners)  # scenarios are joint: every partner may see it
    assert (req["asked"], req["concurred"], req["partner"]) == (asked, [p], p)
    w.decisions[did] = {"partner": p, "asked": set(asked), "responses": {p: "concur"}}
    w.t0_requests.add(did)
    for q in (x for x in asked if x != p):
        for x in w.partners:  # not yet: T0 waits for every partner asked
            assert w.call(x, "GET", "/api/t0").json() == before[x]
        r = w.call(q, "POST", f"/api/decisions/{did}/responses", body={"stance": "concur"})
        assert r.status_code == 200, r.text
        w.decisions[did]["responses"][q] = "concur"
    w.decisions[did]["closed"] = True
    for q in w.partners:
        got = {d["scenario"]: d for d in w.call(q, "GET", "/api/t0").json()}
        if t0 is None:
            assert top not in got
        else:
            assert (got[top]["t0"], got[top]["partner"], got[top]["decision"]) == (t0, p, did)
        d = w.call(q, "GET", f"/api/decisions/{did}").json()
        assert d["status"] == "closed" and "Accepted by every partner asked" in d["outcome"]
    return did


@route("POST", "/api/t0/requests")
def _t0_request(w: World, p: str) -> None:
    top = _tops(w)[0]
    body = {"scenario": top, "t0": "2026-11-21T09:00+01:00"}
    r = w.call(p, "POST", "/api/t0/requests", body=body)
    assert r.status_code == 403  # a planner declares directly unless the workspace says
    _mode(w, "joint")
    try:
        r = w.call(p, "POST", "/api/t0", body=body)
        assert r.status_code == 403 and "/api/t0/requests" in r.text
        fake = w.missing(top)
        r = w.call(p, "POST", "/api/t0/requests", body={**body, "scenario": fake})
        assert (r.status_code, r.content) == (404, NOT_FOUND)
        r = w.call(p, "POST", "/api/t0/requests", body={"action": "undeclare",
                                                         "scenario": top})
        assert (r.status_code, r.content) == (404, NOT_FOUND)  # nothing declared to withdraw
        _asked_through(w, p, body, "2026-11-21T08:00:00Z")
        assert w.call(p, "DELETE", f"/api/t0/{top}").status_code == 403
        _asked_through(w, p, {"action": "undeclare", "scenario": top}, None)
    finally:
        _mode(w, "planner")


@route("GET", "/api/t0/requests")
def _t0_requests(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/t0/requests")
    assert r.status_code == 200
    assert {q["id"] for q in r.json()} == {
        did for did in w.t0_requests
        if p in {w.decisions[did]["partner"], *w.decisions[did]["asked"]}}
    for q in r.json():
        assert q["status"] == "accepted" and q["scenario"] in _tops(w)


@route("PUT", "/api/me/timezone")
def _timezone(w: World, p: str) -> None:
    r = w.call(p, "PUT", "/api/me/timezone", body={"timezone": "Asia/Tokyo"})
    assert r.status_code == 200 and r.json() == {"timezone": "Asia/Tokyo"}
    r = w.call(p, "PUT", "/api/me/timezone", body={"timezone": "Nowhere/Atlantis"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "timezone"]


@route("GET", "/api/calendar-feeds")
def _feeds(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/calendar-feeds")
    assert r.status_code == 200
    for feed in r.json():
        opaque(feed["id"], "calendar feed")


@route("POST", "/api/calendar-feeds")
def _new_feed(w: World, p: str) -> None:
    top = _tops(w)[0]
    w.call(p, "POST", "/api/t0", body={"scenario": top, "t0": "2026-11-20T08:00Z"})
    r = w.call(p, "POST", "/api/calendar-feeds", body={"name": "matrix"})
    assert r.status_code == 201, r.text
    feed = r.json()
    w.new_id(feed["id"], "calendar feed")
    path = "/calendar/" + feed["url"].rsplit("/calendar/", 1)[1]
    # without any header, as a calendar client asks; the canaries of p are checked
    got = w.call(p, "GET", path, headers={"Authorization": ""})
    assert got.status_code == 200 and got.text.startswith("BEGIN:VCALENDAR")
    for canary in w.forbidden(p):
        assert canary not in re.sub(r"\r\n[ \t]", "", got.text), canary
    assert feed["secret"] not in w.call(p, "GET", "/api/calendar-feeds").text
    w.call(p, "DELETE", f"/api/t0/{top}")


@route("DELETE", "/api/calendar-feeds/{feed_id}")
def _revoke_feed(w: World, p: str) -> None:
    feed = w.call(p, "POST", "/api/calendar-feeds", body={"name": "to revoke"}).json()
    path = "/calendar/" + feed["url"].rsplit("/calendar/", 1)[1]
    q = w.partners[(w.partners.index(p) + 1) % len(w.partners)]
    if q != p:  # another partner's feed answers as one that does not exist
        w.like_missing(q, "DELETE", (f"/api/calendar-feeds/{feed['id']}", None, None),
                       {feed["id"]: w.missing(feed["id"])})
    assert w.call(p, "DELETE", f"/api/calendar-feeds/{feed['id']}").status_code == 204
    gone = w.call(None, "GET", path)
    unknown = w.call(None, "GET", path.replace(feed["secret"], w.missing(feed["secret"])))
    assert gone.status_code == unknown.status_code == 404 and gone.content == unknown.content
    r = w.call(p, "DELETE", f"/api/calendar-feeds/{feed['id']}")
    assert (r.status_code, r.content) == (404, NOT_FOUND)


def _shown(w: World, p: str, family: str) -> set[str]:
    """What the reference says ``p`` is shown: its check entries, scenarios aside."""
    return {json.dumps({k: v for k, v in e.items() if k != "scenarios"}, sort_keys=True)
            for e in reference_check(w.folder, p)[f"{family}s"]}


def _findings(w: World, p: str, family: str) -> None:
    r = w.call(p, "GET", f"/api/{family}s")
    assert r.status_code == 200, r.text
    got = r.json()
    # Every conflict the reference shows the partner is one lasting conflict, and no more.
    entries = {json.dumps({k: v for k, v in e.items() if k != "scenarios"}, sort_keys=True)
               for f in got if f["present"] for e in f["entries"]}
    assert entries == _shown(w, p, family)
    for f in got:
        opaque(f["id"], family)
        assert f["status"] in ("open", "acknowledged", "being-resolved", "risk-accepted")
        assert f["present"] and f["entries"], f"{family} {f['id']} shown with nothing in it"


@route("GET", "/api/conflicts")
def _conflicts(w: World, p: str) -> None:
    _findings(w, p, "conflict")


@route("GET", "/api/gaps")
def _gaps(w: World, p: str) -> None:
    _findings(w, p, "gap")


def _finding(w: World, p: str, family: str) -> None:
    """One conflict: the same id, status and history for every partner shown it."""
    known = w.findings(family)
    answers = {}
    for fid, who in known.items():
        path = f"/api/{family}s/{fid}"
        if p not in who:
            w.like_missing(p, "GET", (path, None, None), {fid: w.missing(fid)})
            continue
        r = w.call(p, "GET", path)
        assert r.status_code == 200, r.text
        answers[fid] = r.json()
        for q in who - {p}:
            other = w.call(q, "GET", path).json()
            assert (other["status"], other["history"]) == (r.json()["status"],
                                                            r.json()["history"])
    r = w.call(p, "GET", f"/api/{family}s/{w.missing('x' * 16)}")
    assert (r.status_code, r.content) == (404, NOT_FOUND)
    for fid, got in answers.items():
        listed = next(f for f in w.call(p, "GET", f"/api/{family}s").json() if f["id"] == fid)
        assert {k: got[k] for k in listed} == listed


@route("GET", "/api/conflicts/{conflict_id}")
def _conflict(w: World, p: str) -> None:
    _finding(w, p, "conflict")


@route("GET", "/api/gaps/{gap_id}")
def _gap(w: World, p: str) -> None:
    _finding(w, p, "gap")


def _finding_status(w: World, p: str, family: str) -> None:
    known = w.findings(family)
    mine = [fid for fid, who in known.items() if p in who][:PROBES]
    for fid in mine:
        path = f"/api/{family}s/{fid}/status"
        reason = w.canary("status", known[fid])
        r = w.call(p, "POST", path, body={"status": "being-resolved", "reason": reason})
        assert r.status_code == 200, r.text
        for q in known[fid]:
            got = w.call(q, "GET", f"/api/{family}s/{fid}").json()
            assert got["status"] == "being-resolved"
            assert (got["history"][-1]["partner"], got["history"][-1]["reason"]) == (p, reason)
        # Resolved is the analysis's to say.
        r = w.call(p, "POST", path, body={"status": "resolved", "reason": "Probe"})
        assert r.status_code == 422
    for fid in [fid for fid, who in known.items() if p not in who][:PROBES]:
        w.like_missing(p, "POST", (f"/api/{family}s/{fid}/status",
                                   {"status": "acknowledged", "reason": "Probe"}, None),
                       {fid: w.missing(fid)})


@route("POST", "/api/conflicts/{conflict_id}/status")
def _conflict_status(w: World, p: str) -> None:
    _finding_status(w, p, "conflict")


@route("POST", "/api/gaps/{gap_id}/status")
def _gap_status(w: World, p: str) -> None:
    _finding_status(w, p, "gap")


@route("POST", "/auth/login")
def _login(w: World, p: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
        browser = TestClient(w.client.app)
    name = w.server.usernames[p]
    r = w.call(p, "POST", "/auth/login", client=browser,
               body={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["partner"] == p
    csrf = r.json()["csrf"]
    # The session passes the same gate as a token.
    by_cookie = w.call(None, "GET", "/api/workspace", client=browser)
    assert by_cookie.content == w.call(p, "GET", "/api/workspace").content
    fake_plan = w.missing("nor-nothing")
    body = {"status": "draft", "reason": "Probe"}
    r = w.call(None, "POST", f"/api/plans/{fake_plan}/status", body=body, client=browser)
    assert r.status_code == 403, "a write from a browser session needs its CSRF token"
    r = w.call(None, "POST", f"/api/plans/{fake_plan}/status", body=body, client=browser,
               headers={"x-csrf-token": csrf})
    assert (r.status_code, r.content) == (404, NOT_FOUND)
    # A wrong password and an unknown user answer the same.
    wrong = w.call(None, "POST", "/auth/login", body={"username": name, "password": "x" * 21})
    unknown = w.call(None, "POST", "/auth/login",
                     body={"username": w.missing(name), "password": "x" * 21})
    assert (wrong.status_code, wrong.content) == (unknown.status_code, unknown.content)
    assert wrong.status_code == 401


@route("POST", "/auth/logout")
def _logout(w: World, p: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
        browser = TestClient(w.client.app)
    r = w.call(p, "POST", "/auth/login", client=browser,
               body={"username": w.server.usernames[p], "password": PASSWORD})
    assert r.status_code == 200
    assert w.call(None, "GET", "/api/me", client=browser).status_code == 200
    assert w.call(None, "POST", "/auth/logout", client=browser).status_code == 204
    browser.cookies.clear()
    assert w.call(None, "GET", "/api/me", client=browser).status_code == 401


# --------------------------------------------------------------------- beyond one route


# --------------------------------------------------------------------- resolutions

MATRIX_TIME_LIMIT = 2.0


def _leaves(w: World) -> list[str]:
    from jointplan.files import load_workspace

    return list(load_workspace(w.folder).workspace.leaves())


def _reference_resolution(w: World, p: str | None, leaf: str) -> Json:
    from jointplan.analysis.deconflict import Options
    from jointplan.services.deconflict import deconflict_report

    return deconflict_report(w.folder, p, leaf, Options(time_limit=MATRIX_TIME_LIMIT))


def _resolution_preview(w: World, p: str, leaf: str) -> Json:
    r = w.call(p, "POST", "/api/deconflict",
               body={"scenario": leaf, "time_limit": MATRIX_TIME_LIMIT})
    assert r.status_code == 200, r.text
    return r.json()


def _resolve(w: World, p: str) -> str | None:
    """A resolution asked for by ``p`` in the first leaf with moves; its id, if any."""
    for rid, asker in w.askers.items():
        if asker == p:
            return rid
    for leaf in _leaves(w):
        custodian = _reference_resolution(w, None, leaf)
        if not custodian["moves"]:
            continue
        parties = {p, *(m["partner"] for m in custodian["moves"])}
        known = {q: {x["id"] for x in w.call(q, "GET", "/api/proposals").json()}
                 for q in parties}
        token = _resolution_preview(w, p, leaf)["preview"]
        r = w.call(p, "POST", "/api/resolutions",
                   body={"preview": token, "reason": w.canary("resolution", parties)})
        assert r.status_code == 201, r.text
        rid = w.new_id(r.json()["id"], "resolution")
        w.resolutions[rid], w.askers[rid] = parties, p
        for q in parties:
            for x in w.call(q, "GET", "/api/proposals").json():
                if x["id"] not in known[q] and x["id"] not in w.proposals:
                    w.proposals[w.new_id(x["id"], "proposal")] = {
                        "owner": x["owner"], "partner": x["partner"], "plan": x["plan"],
                        "status": x["status"], "resolution": rid}
        return rid
    return None


@route("POST", "/api/deconflict")
def _deconflict(w: World, p: str) -> None:
    for leaf in _leaves(w)[:2]:
        got = _resolution_preview(w, p, leaf)
        want = _reference_resolution(w, p, leaf)
        assert {k: v for k, v in got.items() if k in want} == want
        assert got["focus"] is None and got["conflict"] is None
    # A conflict it is not shown: as for no conflict at all.
    for fid, shown in w.findings("conflict").items():
        if p not in shown:
            w.like_missing(p, "POST", ("/api/deconflict", {"conflict": fid}, None),
                           {fid: w.missing(fid)})
            break


@route("POST", "/api/resolutions")
def _new_resolution(w: World, p: str) -> None:
    rid = _resolve(w, p)
    if rid is not None:
        for q in w.partners:
            _check_resolution(w, q, rid)


def _check_resolution(w: World, p: str, rid: str) -> None:
    path = f"/api/resolutions/{rid}"
    if p not in w.resolutions[rid]:
        w.like_missing(p, "GET", (path, None, None), {rid: w.missing(rid)})
        return
    r = w.call(p, "GET", path)
    assert r.status_code == 200, r.text
    assert r.json()["resolution"]["as"] == p
    for x in r.json()["proposals"]:
        assert p in (w.proposals[x["id"]]["owner"], w.proposals[x["id"]]["partner"])


@route("GET", "/api/resolutions")
def _resolutions(w: World, p: str) -> None:
    _resolve(w, p)
    r = w.call(p, "GET", "/api/resolutions")
    assert r.status_code == 200, r.text
    assert {x["id"] for x in r.json()} == {rid for rid, who in w.resolutions.items()
                                           if p in who}


@route("GET", "/api/resolutions/{resolution_id}")
def _resolution(w: World, p: str) -> None:
    _resolve(w, p)
    for rid in w.resolutions:
        _check_resolution(w, p, rid)


# ----------------------------------------------- collaboration pages' steps (0008)


@route("GET", "/api/proposals/options")
def _change_options(w: World, p: str) -> None:
    want = w.view(p)["plans"]
    for plan in w.model.plans:
        pid = plan["id"]
        params = {"plan": pid}
        if plan["owner"] == p or "owner" not in want.get(pid, {}):
            # Its own plan is changed directly; a plan it may not see is missing.
            w.like_missing(p, "GET", ("/api/proposals/options", None, params),
                           {pid: w.missing(pid)})
            continue
        shown = w.call(p, "GET", f"/api/plans/{pid}").json()
        for task in shown.get("tasks", [])[:PROBES]:
            r = w.call(p, "GET", "/api/proposals/options", params={"plan": pid,
                                                                    "task": task["id"]})
            assert r.status_code == 200, r.text
            kinds = [c["kind"] for c in r.json()["changes"]]
            assert ("move-start" in kinds) == ("flex" in task and "start" in task)
            assert sorted(c["resource"] for c in r.json()["changes"]
                          if c["kind"] == "set-quantity") == sorted(task.get("uses", {}))


@route("POST", "/api/proposals/preview")
def _preview(w: World, p: str) -> None:
    for done, (plan_id, change) in enumerate(w.proposable(p), start=1):
        # Each proposable change here leaves every value as it is: nothing moves.
        r = w.call(p, "POST", "/api/proposals/preview", body={"plan": plan_id,
                                                              "change": change})
        assert r.status_code == 200, r.text
        for family in ("conflicts", "gaps"):
            effect = r.json()[family]
            assert (effect["added"], effect["removed"], effect["changed"]) == ([], [], [])
        if done >= PROBES:
            break
    for plan in w.model.plans:
        if "owner" not in w.view(p)["plans"].get(plan["id"], {}):
            body = {"plan": plan["id"],
                    "change": {"kind": "move-start", "task": "probe", "start": "T+0h"}}
            w.like_missing(p, "POST", ("/api/proposals/preview", body, None),
                           {plan["id"]: w.missing(plan["id"])})


@route("GET", "/api/proposals/{proposal_id}/effect")
def _effect(w: World, p: str) -> None:
    w.open_proposal(p)
    for pid, x in list(w.proposals.items())[:4 * PROBES]:
        path = f"/api/proposals/{pid}/effect"
        if p not in (x["owner"], x["partner"]):
            w.like_missing(p, "GET", (path, None, None), {pid: w.missing(pid)})
            continue
        r = w.call(p, "GET", path)
        if x["status"] != "open":
            assert r.status_code == 422, r.text
        elif r.status_code == 200:
            assert r.json()["plan"] == x["plan"]
        else:  # an open proposal an accepted one made stale
            assert r.status_code in (409, 422), r.text


@route("POST", "/api/proposals/{proposal_id}/withdraw")
def _withdraw(w: World, p: str) -> None:
    for plan_id, change in w.proposable(p):
        pid = w.create_proposal(p, plan_id, change)
        owner = w.proposals[pid]["owner"]
        path = f"/api/proposals/{pid}/withdraw"
        assert w.call(owner, "POST", path).status_code == 403
        r = w.call(p, "POST", path)
        assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
        w.proposals[pid]["status"] = "withdrawn"
        assert w.call(p, "POST", path).status_code == 422
        assert w.call(owner, "POST", f"/api/proposals/{pid}/accept",
                      body={}).status_code == 422
        break
    for pid, x in w.proposals.items():
        if p not in (x["owner"], x["partner"]):
            w.like_missing(p, "POST", (f"/api/proposals/{pid}/withdraw", None, None),
                           {pid: w.missing(pid)})


@route("POST", "/api/decisions/{decision_id}/close")
def _close(w: World, p: str) -> None:
    w.ensure_collaboration()
    others = [q for q in w.partners if q != p]
    audience = {p, *others[:1]}
    title = w.canary("title", audience)
    r = w.call(p, "POST", "/api/decisions", body={
        "title": title, "text": w.canary("decision", audience), "partners": others[:1],
        "deadline": "2030-01-01T10:00+02:00"})
    assert r.status_code == 201, r.text
    did = w.new_id(r.json()["id"], "decision")
    w.decisions[did] = {"partner": p, "asked": set(others[:1]), "responses": {}}
    got = w.call(p, "GET", f"/api/decisions/{did}").json()
    assert (got["title"], got["deadline"], got["status"]) == (title, "2030-01-01T08:00:00Z",
                                                               "open")
    bad = w.call(p, "POST", "/api/decisions", body={"text": "x", "partners": others[:1],
                                                    "deadline": "2030-01-01T10:00"})
    assert bad.status_code == 422 and "deadline" in bad.text
    outcome = w.canary("outcome", audience)
    if others:
        assert w.call(others[0], "POST", f"/api/decisions/{did}/close",
                      body={"outcome": "Probe"}).status_code == 403
    r = w.call(p, "POST", f"/api/decisions/{did}/close", body={"outcome": outcome})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["outcome"]) == ("closed", outcome)
    w.decisions[did]["closed"] = True
    assert w.call(p, "POST", f"/api/decisions/{did}/close",
                  body={"outcome": outcome}).status_code == 422
    for q in w.partners:
        _check_decision(w, q, did)
    for did, d in w.decisions.items():
        if p not in {d["partner"], *d["asked"]}:
            w.like_missing(p, "POST", (f"/api/decisions/{did}/close", {"outcome": "x"}, None),
                           {did: w.missing(did)})


@route("GET", "/api/notifications/unread")
def _unread(w: World, p: str) -> None:
    notes = w.call(p, "GET", "/api/notifications").json()
    r = w.call(p, "GET", "/api/notifications/unread")
    assert r.status_code == 200
    assert r.json() == {"unread": sum(1 for n in notes if not n["read"])}


@route("POST", "/api/notifications/read")
def _mark_read(w: World, p: str) -> None:
    w.ensure_collaboration()
    mine = w.call(p, "GET", "/api/notifications").json()
    unread = [n["id"] for n in mine if not n["read"]]
    if unread:
        r = w.call(p, "POST", "/api/notifications/read", body={"ids": unread[:1]})
        assert r.status_code == 200, r.text
        assert r.json() == {"marked": 1, "unread": len(unread) - 1}
    for q in w.partners:
        if q == p:
            continue
        theirs = [n["id"] for n in w.call(q, "GET", "/api/notifications").json()]
        for nid in theirs[:1]:  # another partner's notification: as one that does not exist
            w.like_missing(p, "POST", ("/api/notifications/read", {"ids": [nid]}, None),
                           {nid: w.missing(nid)})
            assert w.call(q, "GET", "/api/notifications").json()[0]["id"] == nid
    r = w.call(p, "POST", "/api/notifications/read", body={})
    assert r.status_code == 200 and r.json()["unread"] == 0


@route("POST", "/api/observations/preview")
def _observation_preview(w: World, p: str) -> None:
    seen = [i for i in w.model.indicators if p in w.model.indicator_audience(i)]
    for ind in seen[:PROBES]:
        body = {"indicator": ind["id"], "seen": True, "at": "2020-01-01T00:00Z"}
        r = w.call(p, "POST", "/api/observations/preview", body=body)
        assert r.status_code == 200, r.text
        now = w.call(p, "GET", "/api/check").json()["likelihood"]
        assert {x["scenario"]: x["before"] for x in r.json()["likelihood"]} == now
    for ind in [i for i in w.model.indicators
                if p not in w.model.indicator_audience(i)][:PROBES]:
        body = {"indicator": ind["id"], "seen": True, "at": "2020-01-01T00:00Z"}
        w.like_missing(p, "POST", ("/api/observations/preview", body, None),
                       {ind["id"]: w.missing(ind["id"])})


def _observation_key(o: Json) -> str:
    seen = o["seen"] if isinstance(o["seen"], bool) else str(o["seen"]).lower() in ("true",
                                                                                  "yes")
    return json.dumps([o["indicator"], o["by"], seen])


@route("GET", "/api/observations")
def _observations(w: World, p: str) -> None:
    r = w.call(p, "GET", "/api/observations")
    assert r.status_code == 200
    got = sorted(_observation_key(o) for o in r.json() if o["state"] == "current")
    want = sorted(_observation_key(o) for o in w.model.observations
                  if p in w.model.observation_audience(o))
    assert got == want
    for o in r.json():
        opaque(o["id"], "observation")


def _amend(w: World, p: str, kind: str) -> None:
    seen = [i for i in w.model.indicators if p in w.model.indicator_audience(i)]
    others = [q for q in w.partners if q != p]
    if seen:
        w.post_observation(p, seen[0]["id"], others[:1])
        oid = next(i for i, k in w.observed.items() if k == len(w.posted) - 1)
        index = w.observed[oid]
        audience = {p, *others[:1]} & w.model.indicator_audience(seen[0])
        body: dict[str, Any] = {"reason": w.canary("amend", audience)}
        if kind == "correct":
            body["seen"] = not w.posted[index]["seen"]  # type: ignore[index]
        for q in others:
            if q in audience:
                assert w.call(q, "POST", f"/api/observations/{oid}/{kind}",
                              body=body).status_code == 403
            else:
                w.like_missing(q, "POST", (f"/api/observations/{oid}/{kind}", body, None),
                               {oid: w.missing(oid)})
        r = w.call(p, "POST", f"/api/observations/{oid}/{kind}", body=body)
        assert r.status_code == (201 if kind == "correct" else 200), r.text
        if kind == "correct":
            new = w.new_id(r.json()["id"], "observation")
            w.posted[index] = {**w.posted[index], "seen": body["seen"]}  # type: ignore[dict-item]
            w.observed[new] = index
        else:
            w.posted[index] = None
        w.write_posted()
        assert w.call(p, "POST", f"/api/observations/{oid}/{kind}",
                      body=body).status_code == 422  # recorded once; the old one stays
        for q in w.partners:
            listed = {o["id"]: o for o in w.call(q, "GET", "/api/observations").json()}
            if q in audience:
                assert listed[oid]["state"] == ("corrected" if kind == "correct"
                                                 else "retracted")
                assert listed[oid]["amendments"][0]["reason"] == body["reason"]
            else:
                assert oid not in listed
            _observations(w, q)
        # Only current observations count: every partner's likelihoods are the reference's.
        for q in w.partners:
            got = w.call(q, "GET", "/api/check").json()["likelihood"]
            assert got == reference_check(w.folder, q)["likelihood"]


@route("POST", "/api/observations/{observation_id}/correct")
def _correct(w: World, p: str) -> None:
    _amend(w, p, "correct")


@route("POST", "/api/observations/{observation_id}/retract")
def _retract(w: World, p: str) -> None:
    _amend(w, p, "retract")


def anonymous(w: World) -> None:
    """No route under /api answers without a sign-in."""
    for method, path in MATRIX:
        if path.startswith("/api/"):
            concrete = re.sub(r"\{[a-z_]+\}", "x" * 16, path)
            r = w.call(None, method, concrete, body={} if method == "POST" else None,
                       params={"from": "a", "to": "b"} if path.endswith("/diff") else None)
            assert r.status_code == 401, f"{method} {path} without a sign-in: {r.status_code}"


def snapshot(w: World, p: str) -> dict[str, bytes]:
    """Everything ``p`` can read without writing anything."""
    paths = ["/api/me", "/api/workspace", "/api/plans", "/api/threads", "/api/proposals",
             "/api/decisions", "/api/acknowledgements", "/api/notifications", "/api/audit",
             "/api/conflicts", "/api/gaps"]
    for plan in w.view(p)["plans"]:
        paths.append(f"/api/plans/{plan}/versions")
    out = {}
    for path in paths:
        r = w.call(p, "GET", path)
        out[path] = r.content
    for tid in w.threads:
        if p in w.audience_of_thread(tid):
            out[tid] = w.call(p, "GET", f"/api/threads/{tid}").content
    taxii = f"/api/taxii2/root/collections/{_collection_id(w, p)}/objects/"
    out[taxii] = w.call(p, "GET", taxii).content
    return out


def out_of_sight(w: World, p: str) -> None:
    """What other partners do without ``p`` leaves no trace in anything ``p`` can read."""
    before = snapshot(w, p)
    q = w.partners[(w.partners.index(p) + 1) % len(w.partners)]
    third = [x for x in w.partners if x not in (p, q)]
    tid = w.create_thread(q, third[:1], {"kind": "scenario", "ref": w.scenario})
    w.post_message(q, tid, [])
    w.create_decision(q, [q, *third[:1]])
    for ind in w.model.indicators:
        if q in w.model.indicator_audience(ind):
            w.post_observation(q, ind["id"], None)
            break
    for plan in w.model.plans:
        if plan["owner"] == q and p not in w.model.id_audience(plan):
            r = w.call(q, "POST", f"/api/plans/{plan['id']}/status",
                       body={"status": "draft", "reason": w.canary("status", {q})})
            assert r.status_code == 201
    if third:
        for plan_id, change in w.proposable(q, third[0]):
            w.create_proposal(q, plan_id, change)
            break
    w.call(q, "GET", "/api/export")
    w.call(q, "GET", "/api/exports/stix")
    feed = w.call(q, "POST", "/api/calendar-feeds", body={"name": "out of sight"}).json()
    w.call(q, "GET", "/calendar/" + feed["url"].rsplit("/calendar/", 1)[1])
    w.call(q, "PUT", "/api/me/timezone", body={"timezone": "Europe/Oslo"})
    after = snapshot(w, p)
    for key in before:
        assert before[key] == after[key], f"{key} as {p} changed when others acted out of sight"


def run_everything(w: World) -> None:
    """The whole matrix on one world (the generated workspaces)."""
    for check in MATRIX.values():
        for p in w.partners:
            check(w, p)
    anonymous(w)
    for p in w.partners:
        out_of_sight(w, p)
    assert_unrelated(w.ids)


# --------------------------------------------------------------------- drills
# One exercise per world: the first partner controls, the middle ones play, and
# (with three or more partners) the last takes no part. Inject and expectation
# ids, each inject's text and sender are canaries: an inject's text only for the
# controller and its recipients, ids and expectations for the controller alone.


def _drill(w: World) -> dict[str, Any]:
    found = getattr(w, "_drill", None)
    if found is not None:
        return found  # type: ignore[no-any-return]
    controller = w.partners[0]
    players = w.partners[1:-1] if len(w.partners) >= 3 else w.partners[1:]
    scenarios = w.model.joint["scenarios"]
    parents = {s.get("parent") for s in scenarios}
    leaf = next(s["id"] for s in scenarios if s["id"] not in parents)
    lines = ["jointplan: 1", "kind: exercise", "id: matrix-drill", "title: Matrix drill",
             f"scenario: {leaf}", "start: 2026-12-03T08:00Z", "participants:",
             f"  - {{partner: {controller}, role: controller}}",
             *(f"  - {{partner: {p}, role: player}}" for p in players), "injects:"]
    expectation = None
    for plan in w.model.plans:
        active = {s for s in plan.get("scenarios", [])}
        path, node = [], leaf
        while node is not None:
            path.append(node)
            node = next(s.get("parent") for s in scenarios if s["id"] == node)
        if plan["owner"] in players and active & set(path):
            task = next((t for t in plan.get("tasks") or []
                         if controller in w.model.item_audience(plan, "task", t)), None)
            if task is not None:
                expectation = (plan["owner"], f"{plan['id']}/{task['id']}")
                break
    for n, (at, to) in enumerate([("T+0h", players), ("T+30d", players)]):
        if not to:
            break
        iid = w.canary("inject-id", {controller})
        text = w.canary("inject", {controller, *to} if at == "T+0h" else {controller})
        lines += [f"  - id: {iid}", f"    at: {at}", f"    to: [{', '.join(to)}]",
                  f"    from: Control {text}", "    channel: message", f"    text: {text}"]
        if expectation is not None and n == 0:
            eid = w.canary("expect", {controller})
            lines += ["    expect:", f"      - {{id: {eid}, partner: {expectation[0]}, "
                      f"task: {expectation[1]}, by: T+2h}}"]
    drill = {"text": "\n".join(lines) + "\n", "controller": controller, "players": players,
             "outside": [p for p in w.partners if p != controller and p not in players]}
    r = w.call(controller, "POST", "/api/exercises", body={"text": drill["text"]})
    assert r.status_code == 201, r.text
    drill["id"] = w.new_id(r.json()["id"], "exercise")
    assert w.call(controller, "POST", f"/api/exercises/{drill['id']}/control",
                  body={"action": "start"}).status_code == 200
    from jointplan.server.exercises import deliver_due
    deliver_due(w.server.hub)  # type: ignore[arg-type]
    w._drill = drill  # type: ignore[attr-defined]
    return drill


def _drill_like_missing(w: World, p: str, method: str, suffix: str, body: Json) -> None:
    d = _drill(w)
    w.like_missing(p, method, (f"/api/exercises/{d['id']}{suffix}", body, None),
                   {d["id"]: w.missing(d["id"])})


@route("GET", "/api/exercises")
def _exercises(w: World, p: str) -> None:
    d = _drill(w)
    r = w.call(p, "GET", "/api/exercises")
    assert r.status_code == 200
    mine = [e for e in r.json() if e["exercise"] == "matrix-drill"]
    assert bool(mine) == (p not in d["outside"])
    assert all(e["banner"] == "EXERCISE EXERCISE EXERCISE" for e in r.json())


@route("POST", "/api/exercises")
def _exercise_create(w: World, p: str) -> None:
    d = _drill(w)
    r = w.call(p, "POST", "/api/exercises", body={"text": d["text"]})
    assert r.status_code == (201 if p == d["controller"] else 403), r.text
    if r.status_code == 201:
        w.new_id(r.json()["id"], "exercise")
    bad = w.call(p, "POST", "/api/exercises", body={"text": "jointplan: 1\nkind: exercise\n"})
    assert bad.status_code == 422


@route("GET", "/api/exercises/{exercise_id}")
def _exercise(w: World, p: str) -> None:
    d = _drill(w)
    if p in d["outside"]:
        _drill_like_missing(w, p, "GET", "", None)
        return
    r = w.call(p, "GET", f"/api/exercises/{d['id']}")
    assert r.status_code == 200
    feed = r.json()
    assert feed["banner"] == "EXERCISE EXERCISE EXERCISE"
    if p == d["controller"]:
        assert "expectations" in feed and "schedule" in feed
    else:
        assert "expectations" not in feed and "schedule" not in feed
        assert feed["deliveries"] and all(x["partner"] == p for x in feed["deliveries"])


@route("POST", "/api/exercises/{exercise_id}/control")
def _exercise_control(w: World, p: str) -> None:
    d = _drill(w)
    body = {"action": "speed", "speed": 1}
    if p in d["outside"]:
        _drill_like_missing(w, p, "POST", "/control", body)
        return
    r = w.call(p, "POST", f"/api/exercises/{d['id']}/control", body=body)
    assert r.status_code == (200 if p == d["controller"] else 403), r.text


@route("POST", "/api/exercises/{exercise_id}/injects")
def _exercise_inject(w: World, p: str) -> None:
    d = _drill(w)
    if not d["players"]:
        return
    to = d["players"][:1]
    body = {"to": to, "from": "Control", "channel": "call",
            "text": w.canary("by-hand", {d["controller"], *to})}
    if p in d["outside"]:
        _drill_like_missing(w, p, "POST", "/injects", body)
        return
    r = w.call(p, "POST", f"/api/exercises/{d['id']}/injects", body=body)
    assert r.status_code == (201 if p == d["controller"] else 403), r.text
    if r.status_code == 201:
        for made in r.json():
            w.new_id(made["id"], "delivery")


@route("GET", "/api/exercises/{exercise_id}/report")
def _exercise_report(w: World, p: str) -> None:
    d = _drill(w)
    if p in d["outside"]:
        _drill_like_missing(w, p, "GET", "/report", None)
        return
    r = w.call(p, "GET", f"/api/exercises/{d['id']}/report")
    # The drill runs through the matrix: only the control cell reads its report now.
    assert r.status_code == (200 if p == d["controller"] else 403), r.text
    if r.status_code == 200:
        assert r.json()["banner"] == "EXERCISE EXERCISE EXERCISE"
        assert r.json()["partner"] is None


def _drill_item(w: World) -> str | None:
    d = _drill(w)
    if "item" not in d and d["players"]:
        r = w.call(d["controller"], "POST", f"/api/exercises/{d['id']}/items", body={
            "kind": "improvement", "title": w.canary("item", {d["controller"], d["players"][0]}),
            "owner": d["players"][0], "due": "2027-01-31"})
        assert r.status_code == 201, r.text
        d["item"] = w.new_id(r.json()["id"], "item")
    return d.get("item")


@route("POST", "/api/exercises/{exercise_id}/ratings")
def _exercise_rate(w: World, p: str) -> None:
    d = _drill(w)
    body = {"kind": "objective", "target": "nothing", "rating": "S",
            "notes": w.canary("rating", {d["controller"]})}
    if p in d["outside"]:
        _drill_like_missing(w, p, "POST", "/ratings", body)
        return
    r = w.call(p, "POST", f"/api/exercises/{d['id']}/ratings", body=body)
    assert r.status_code == (422 if p == d["controller"] else 403), r.text


@route("POST", "/api/exercises/{exercise_id}/items")
def _exercise_items(w: World, p: str) -> None:
    d = _drill(w)
    _drill_item(w)
    body = {"kind": "strength", "title": w.canary("strength", {d["controller"]}),
            "owner": d["controller"], "due": "2027-01-31"}
    if p in d["outside"]:
        _drill_like_missing(w, p, "POST", "/items", body)
        return
    r = w.call(p, "POST", f"/api/exercises/{d['id']}/items", body=body)
    assert r.status_code == (201 if p == d["controller"] else 403), r.text
    if r.status_code == 201:
        w.new_id(r.json()["id"], "item")


@route("POST", "/api/exercises/{exercise_id}/items/{item_id}/status")
def _exercise_item_status(w: World, p: str) -> None:
    d = _drill(w)
    item = _drill_item(w)
    if item is None:
        return
    body = {"status": "in-progress"}
    path = f"/api/exercises/{d['id']}/items/{item}/status"
    if p in d["outside"] or p not in (d["controller"], d["players"][0]):
        w.like_missing(p, "POST", (path, body, None), {item: w.missing(item)})
        return
    assert w.call(p, "POST", path, body=body).status_code == 200


@route("POST", "/api/exercises/{exercise_id}/items/{item_id}/proposal")
def _exercise_item_proposal(w: World, p: str) -> None:
    d = _drill(w)
    item = _drill_item(w)
    if item is None:
        return
    body = {"plan": "nothing", "task": "nothing", "start": "T+1h"}
    path = f"/api/exercises/{d['id']}/items/{item}/proposal"
    if p in d["outside"] or p not in (d["controller"], d["players"][0]):
        w.like_missing(p, "POST", (path, body, None), {item: w.missing(item)})
        return
    r = w.call(p, "POST", path, body=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "plan"], r.text


@route("POST", "/api/exercises/{exercise_id}/actions")
def _exercise_action(w: World, p: str) -> None:
    d = _drill(w)
    body = {"text": w.canary("action", {p, d["controller"]})}
    if p in d["outside"]:
        _drill_like_missing(w, p, "POST", "/actions", body)
        return
    r = w.call(p, "POST", f"/api/exercises/{d['id']}/actions", body=body)
    assert r.status_code == (201 if p in d["players"] else 403), r.text
    if r.status_code == 201:
        w.new_id(r.json()["id"], "action")


# --------------------------------------------------------------------- the tests


@pytest.fixture(scope="module", params=[(kind, name) for kind in DATABASES for name in FOLDERS],
                ids=lambda param: f"{param[0]}-{param[1]}")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    kind, name = request.param
    w = World(name, FOLDERS[name], kind, tmp_path_factory.mktemp(f"{kind}-{name}"))
    yield w
    w.close()


@pytest.fixture
def live(world: World) -> World:
    assert not world.closed, "another test reset this world's database in the middle of it"
    return world


def app_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves, through included routers and mounts."""
    for r in routes:
        if hasattr(r, "original_router"):  # FastAPI keeps an included router whole
            inner = prefix + (getattr(r.include_context, "prefix", "") or "")
            yield from app_routes(r.original_router.routes, inner)
        elif hasattr(r, "routes") and getattr(r, "path", None) is not None:
            yield from app_routes(r.routes, prefix + r.path)  # a mounted router
        else:
            for method in getattr(r, "methods", None) or {"*"}:
                if method != "HEAD":
                    yield method, prefix + getattr(r, "path", "")


def test_every_route_is_in_the_matrix() -> None:
    app = create_app(None)  # type: ignore[arg-type]  # the routes need no database
    served = {(m, path) for m, path in app_routes(app.routes)
              if path.startswith(("/api/", "/auth/"))}
    assert len(served) >= 30
    assert served - set(MATRIX) == set(), "routes the matrix does not run"
    assert set(MATRIX) - served == set(), "the matrix lists routes the app no longer has"


@pytest.mark.parametrize("method_path", list(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_route_answers_every_partner_as_the_reference_says(live: World,
                                                                method_path: Route) -> None:
    for partner in live.partners:
        MATRIX[method_path](live, partner)


def test_no_route_answers_without_a_sign_in(live: World) -> None:
    anonymous(live)


def test_what_others_do_out_of_sight_leaves_no_trace(live: World) -> None:
    for partner in live.partners:
        out_of_sight(live, partner)


def test_ids_are_opaque(live: World) -> None:
    assert len(live.ids) >= 4
    assert_unrelated(live.ids)


def plans_in(generated: GeneratedWorkspace) -> int:
    return sum(1 for name in generated.files
               if name != "workspace.yaml" and not name.startswith("observations"))


@pytest.mark.parametrize("kind", DATABASES)
def test_the_matrix_holds_on_generated_workspaces(
        kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    World.close_live()

    @settings(max_examples=GENERATED_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(workspaces().filter(lambda g: plans_in(g) >= 2))
    def run(generated: GeneratedWorkspace) -> None:
        tmp = tmp_path_factory.mktemp(f"generated-{kind}")
        source = generated.write(tmp / "source")
        w = World("generated", source, kind, tmp)
        try:
            run_everything(w)
        finally:
            w.close()

    run()

