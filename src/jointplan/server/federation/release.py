"""Signed releases: what the sharing gate releases to a peer, as one signed, versioned bundle.

A bundle holds, for one receiver, the plan files of ``view --as RECEIVER``
that the sending node's partner owns and the observations it made that the
receiver may see — nothing else (never another peer's copies, never the joint
part, which every node imports from the agreed ``workspace.yaml``). Its body is
serialised canonically (JSON, keys sorted, no spaces, UTF-8) and signed whole
with the sender's Ed25519 key; its digest is SHA-256 of that body. It also
carries the secret tags of the items it releases (``tags``): a reference to a third
partner's item is blinded with the item's tag, so only a node that holds the item
can match it.

Receiving is all or nothing: a bad signature, an unknown, rotated or revoked
key, a version older than the one held (rollback), the same bundle again
(replay) or contents that are not the sender's are refused and change nothing.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from nacl.signing import SigningKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...files import InvalidWorkspace
from ...model import Workspace
from ...sharing.view import export_files
from ...store import audit
from ...store.tables import (
    NodePeer,
    ObservationRow,
    PlanVersion,
    ReleaseHeld,
    ReleaseSeen,
    ReleaseSent,
    Setting,
    now,
)
from ..findings import reconcile
from ..hub import Hub, canonical
from ..lapsing import stored_breaks, stored_model
from .keys import NodeError, identity, key_state, signing_key, verify

FORMAT = 1
BODY_KEYS = ("jointplan", "kind", "from", "to", "version", "nonce", "issued", "key", "files",
             "tags")
TAG = re.compile(r"[0-9a-f]{64}")


class Refused(NodeError):
    """A bundle the node will not take; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__("bundle", message)


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def body_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: bundle[k] for k in BODY_KEYS if k in bundle}


def digest_of(bundle: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(body_of(bundle))).hexdigest()


BLIND = "blind:"
TAGS = "federation.tags."
"""Setting ``federation.tags.<PEER>``: the tags of the items that peer's newest release
brought (``{"tags": {...}}``), or ``{"legacy": true}`` for a release without tags."""


def blind(sender: str, receiver: str, ref: str) -> str:
    """A reference to a third partner's item, blinded without a key: the scheme of a node
    that sends no tags (kept for such nodes' releases; anyone can compute it)."""
    digest = hashlib.sha256(f"jointplan-ref|{sender}>{receiver}|{ref}".encode()).hexdigest()
    return BLIND + digest[:32]


def keyed_blind(tag: str, sender: str, receiver: str, ref: str) -> str:
    """A reference to a third partner's item, as it travels from ``sender`` to ``receiver``:
    HMAC-SHA256 keyed by the item's tag, which only the nodes its owner released it to hold.

    The sender cannot know whether the third partner released the item to the
    receiver; the receiver can: it keeps the reference when it holds the item (and so its
    tag) and the value matches, and drops it (listing the field under ``withheld``)
    otherwise, as the central server's gate would. Without the tag a guessed id cannot be
    confirmed (docs/federation.md).
    """
    mac = hmac.new(bytes.fromhex(tag), f"jointplan-ref|{sender}>{receiver}|{ref}".encode(),
                   hashlib.sha256).hexdigest()
    return BLIND + mac[:32]


def item_tag(key: SigningKey, item: str) -> str:
    """The secret tag of an item its node owns: HMAC-SHA256 over the item's id keyed by the
    node's signing seed. Stable while the key is; sent only with the item itself."""
    return hmac.new(bytes(key), f"jointplan-item-tag|{item}".encode(),
                    hashlib.sha256).hexdigest()


def held_tags(session: Session, owner: str) -> dict[str, str] | None:
    """The tags of ``owner``'s items this node holds; None when ``owner``'s newest release
    carried none (a node that sends no tags: its items are blinded without a key)."""
    row = session.get(Setting, TAGS + owner)
    if row is None:
        return {}
    if row.value.get("legacy"):
        return None
    return {str(k): str(v) for k, v in (row.value.get("tags") or {}).items()}


def _blinder(session: Session, sender: str, receiver: str, *, keyed: bool
             ) -> Callable[[str, str], str | None]:
    """How a reference from ``sender`` to ``receiver`` to an item of ``owner`` travels:
    keyed by the item's tag this node holds (None: no tag held, so nothing is sent), or
    without a key when ``keyed`` is false or ``owner``'s node sends no tags. The sending
    and the receiving node use the same function, so the two sides always agree."""
    tags: dict[str, dict[str, str] | None] = {}

    def hide(owner: str, item: str) -> str | None:
        if not keyed:
            return blind(sender, receiver, item)
        if owner not in tags:
            tags[owner] = held_tags(session, owner)
        known = tags[owner]
        if known is None:
            return blind(sender, receiver, item)
        tag = known.get(item)
        return keyed_blind(tag, sender, receiver, item) if tag is not None else None

    return hide


def _keep_tags(session: Session, sender: str, bundle: dict[str, Any]) -> None:
    value: dict[str, Any] = ({"tags": dict(sorted(bundle["tags"].items()))}
                             if "tags" in bundle else {"legacy": True})
    row = session.get(Setting, TAGS + sender)
    if row is None:
        session.add(Setting(key=TAGS + sender, value=value))
    elif row.value != value:
        row.value = value


def _permissive(ws: Workspace, sender: str, receiver: str) -> Workspace:
    """Third partners' plans and indicators seen by all, so references to them survive the cut
    (to be blinded): whether the receiver may see them is for the receiving node to know."""
    def third(owner: str) -> bool:
        return owner not in (sender, receiver)

    return replace(ws, plans=tuple(replace(p, share="all") if third(p.owner) else p
                                   for p in ws.plans),
                   indicators=tuple(replace(i, share="all") if third(i.owner) else i
                                    for i in ws.indicators), _index={})


def release_files(hub: Hub, session: Session, sender: str, receiver: str) -> dict[str, Any]:
    """The sender's plans and observations exactly as the gate releases them to ``receiver``."""
    return _release(hub, session, sender, receiver)[0]


def _release(hub: Hub, session: Session, sender: str, receiver: str
             ) -> tuple[dict[str, Any], list[str]]:
    """The release's files, and the ids of the sender's indicators ``receiver`` may see.

    A reference to a third partner's item travels blinded with the tag this node holds for
    it; with no tag for it (the item never reached this node) it is withheld outright.
    """
    workspace = hub.current(session).workspace
    if receiver not in workspace.partner_codes:
        raise NodeError("to", f"{receiver} is not a partner of the workspace")
    owners = {p.id: p.owner for p in workspace.plans}
    indicator_owners = {i.id: i.owner for i in workspace.indicators}
    hide = _blinder(session, sender, receiver, keyed=True)

    def ref(value: str) -> str | None:
        plan_id = value.split("/", 1)[0] if "/" in value else None
        owner = owners.get(plan_id) if plan_id is not None else None
        if owner is not None and owner not in (sender, receiver):
            return hide(owner, value)
        return value

    def withheld(item: dict[str, Any], field_name: str) -> None:
        item.setdefault("withheld", [])
        if field_name not in item["withheld"]:
            item["withheld"].append(field_name)

    out: dict[str, Any] = {}
    indicators: list[str] = []
    for name, doc in export_files(_permissive(workspace, sender, receiver), receiver).items():
        if doc.get("kind") == "workspace":
            indicators = [i["id"] for i in doc.get("indicators", []) if i.get("owner") == sender]
        elif doc.get("kind") == "plan" and doc.get("owner") == sender:
            for task in doc.get("tasks", []):
                if "after" in task:
                    after = [ref(a) for a in task["after"]]
                    task["after"] = [a for a in after if a is not None]
                    if len(task["after"]) != len(after):
                        withheld(task, "after")
                    if not task["after"]:
                        del task["after"]
            for provision in doc.get("provides", []):
                if "answers" in provision:
                    answers = ref(provision["answers"])
                    if answers is None:
                        del provision["answers"]
                        withheld(provision, "answers")
                    else:
                        provision["answers"] = answers
            out[name] = doc
        elif doc.get("kind") == "observations":
            own = []
            for o in doc["observations"]:
                if o.get("by") != sender:
                    continue
                owner = indicator_owners.get(o["indicator"])
                if owner is not None and owner not in (sender, receiver):
                    hidden = hide(owner, o["indicator"])
                    if hidden is None:
                        continue
                    o = {**o, "indicator": hidden}
                own.append(o)
            if own:
                out[name] = {**doc, "observations": own}
    return out, indicators


def release_tags(key: SigningKey, files: dict[str, Any], indicators: list[str]
                 ) -> dict[str, str]:
    """The tags of exactly the sender's items a release carries: the tasks and expectations
    of its plan files, and the sender's indicators the receiver may see."""
    items = [f"{doc['id']}/{item['id']}" for doc in files.values() if doc.get("kind") == "plan"
             for name in ("tasks", "expects") for item in doc.get(name, [])]
    return {item: item_tag(key, item) for item in sorted([*items, *indicators])}


def _unblind(hub: Hub, session: Session, me: str, sender: str, keyed: bool,
             plans: dict[str, dict[str, Any]], observations: list[dict[str, Any]]
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Blinded references resolved against what this node holds; the rest dropped.

    ``keyed``: the bundle carried tags, so its sender blinds with the items' tags (and
    without a key only the items of a node that sends none); otherwise it blinds all
    without a key, as nodes did before tags.
    """
    workspace = hub.current(session).workspace
    hide = _blinder(session, sender, me, keyed=keyed)

    known: dict[str, str] = {}
    for plan in workspace.plans:
        if plan.owner in (sender, me):
            continue
        for item_id in [t.id for t in plan.tasks] + [e.id for e in plan.expects]:
            target = f"{plan.id}/{item_id}"
            hidden = hide(plan.owner, target)
            if hidden is not None:
                known[hidden] = target
    for indicator in workspace.indicators:
        if indicator.owner in (sender, me):
            continue
        hidden = hide(indicator.owner, indicator.id)
        if hidden is not None:
            known[hidden] = indicator.id
    out: dict[str, dict[str, Any]] = {}
    for pid, doc in plans.items():
        doc = copy.deepcopy(doc)
        for key, field_name in (("tasks", "after"), ("provides", "answers")):
            for item in doc.get(key, []):
                if field_name not in item:
                    continue
                values = item[field_name] if field_name == "after" else [item[field_name]]
                kept = [known.get(v) if v.startswith(BLIND) else v for v in values]
                resolved = [v for v in kept if v is not None]
                if len(resolved) != len(values):
                    item.setdefault("withheld", [])
                    if field_name not in item["withheld"]:
                        item["withheld"].append(field_name)
                if field_name == "after":
                    item["after"] = resolved
                    if not resolved:
                        del item["after"]
                elif resolved:
                    item["answers"] = resolved[0]
                else:
                    del item["answers"]
        out[pid] = doc
    kept_obs = []
    for obs in observations:
        if obs["indicator"].startswith(BLIND):
            if obs["indicator"] not in known:
                continue
            obs = {**obs, "indicator": known[obs["indicator"]]}
        kept_obs.append(obs)
    return out, kept_obs


def issue(hub: Hub, session: Session, receiver: str) -> str:
    """The signed bundle for ``receiver`` (a write): a new version only when its files changed.

    Returns the bundle's canonical JSON text.
    """
    sender, key = signing_key(session)
    peer = session.get(NodePeer, receiver)
    if peer is None:
        raise NodeError("to", f"{receiver} is not a peer of this node")
    files, indicators = _release(hub, session, sender, receiver)
    tags = release_tags(key, files, indicators)
    content = hashlib.sha256(canonical_bytes({"files": files, "tags": tags})).hexdigest()
    public = key.verify_key.encode().hex()
    sent = session.get(ReleaseSent, receiver)
    if sent is not None and sent.content == content and json.loads(sent.bundle)["key"] == public:
        return sent.bundle
    version = (sent.version if sent is not None else 0) + 1
    body = {"jointplan": FORMAT, "kind": "release", "from": sender, "to": receiver,
            "version": version, "nonce": secrets.token_hex(16),
            "issued": datetime.now(UTC).isoformat(timespec="seconds"), "key": public,
            "files": files, "tags": tags}
    signature = key.sign(canonical_bytes(body)).signature.hex()
    text = canonical_bytes({**body, "signature": signature}).decode("utf-8")
    if sent is None:
        session.add(ReleaseSent(receiver=receiver, version=version, content=content,
                                bundle=text))
    else:
        sent.version, sent.content, sent.bundle = version, content, text
    audit.append(session, action="node.release.issue", subject=f"peer:{receiver}",
                 user_id=None, partner=None, owners=[sender],
                 detail={"to": receiver, "version": version,
                         "digest": hashlib.sha256(canonical_bytes(body)).hexdigest(),
                         "plans": sorted(d["id"] for d in files.values()
                                         if d.get("kind") == "plan")})
    return text


@dataclass
class Imported:
    sender: str
    version: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    observations: int = 0
    unchanged: bool = False

    def summary(self) -> str:
        if self.unchanged:
            return f"{self.sender}: up to date (version {self.version})"
        parts = [f"{self.sender} version {self.version}:"]
        for label, ids in (("added", self.added), ("changed", self.changed),
                           ("withdrawn", self.withdrawn)):
            if ids:
                parts.append(f"{label} {', '.join(ids)};")
        parts.append(f"{self.observations} observation(s)")
        return " ".join(parts)


def parse(data: bytes, where: str) -> dict[str, Any]:
    """A bundle's JSON, or Refused naming ``where`` (a file or an address)."""
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        raise Refused(f"{where}:{line}:{col}: not a release bundle (JSON expected)") from None
    if not isinstance(bundle, dict) or bundle.get("kind") != "release":
        raise Refused(f"{where}:1:1: not a release bundle (kind: release expected)")
    types = {"jointplan": int, "from": str, "to": str, "version": int, "nonce": str,
             "issued": str, "key": str, "files": dict, "signature": str}
    for name, kind in types.items():
        if not isinstance(bundle.get(name), kind):
            raise Refused(f"{where}:1:1: the bundle's `{name}` is missing or not a "
                          f"{kind.__name__}")
    if "tags" in bundle and not (isinstance(bundle["tags"], dict) and all(
            isinstance(k, str) and isinstance(v, str) and TAG.fullmatch(v)
            for k, v in bundle["tags"].items())):
        raise Refused(f"{where}:1:1: the bundle's `tags` is not a map of item ids to tags "
                      "(64 hex digits)")
    if bundle["jointplan"] != FORMAT:
        raise Refused(f"{where}:1:1: release format {bundle['jointplan']} is not known here")
    return bundle


def _authenticate(session: Session, bundle: dict[str, Any], me: str, where: str) -> str:
    sender = bundle["from"]
    label = f"{where}: refused"
    if bundle["to"] != me:
        raise Refused(f"{label}: the bundle is addressed to {bundle['to']}; this node is {me}")
    if session.get(NodePeer, sender) is None:
        raise Refused(f"{label}: {sender} is not a peer of this node")
    known = key_state(session, bundle["key"])
    if known is None:
        raise Refused(f"{label}: signed by an unknown key, not one of {sender}'s")
    owner, state = known
    if owner != sender:
        raise Refused(f"{label}: signed by {owner}'s key but claims to come from {sender}")
    if state == "revoked":
        raise Refused(f"{label}: signed by a revoked key of {sender}")
    if state != "active":
        raise Refused(f"{label}: signed by a key {sender} has rotated out")
    if not verify(bundle["key"], canonical_bytes(body_of(bundle)), bundle["signature"]):
        raise Refused(f"{label}: bad signature: the bundle was altered or not signed by "
                      f"{sender}'s key")
    return str(sender)


def _contents(bundle: dict[str, Any], sender: str, where: str
              ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    plans: dict[str, dict[str, Any]] = {}
    observations: list[dict[str, Any]] = []
    for name, doc in sorted(bundle["files"].items()):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == "plan" and doc.get("owner") == sender and isinstance(doc.get("id"), str):
            plans[doc["id"]] = canonical(doc)
        elif kind == "observations" and isinstance(doc.get("observations"), list) and all(
                isinstance(o, dict) and o.get("by") == sender for o in doc["observations"]):
            observations.extend(canonical(o) for o in doc["observations"])
        else:
            raise Refused(f"{where}: refused: {name} is not a plan or observations of "
                          f"{sender}'s; a node releases only what its partner owns")
    return plans, observations


def receive(hub: Hub, data: bytes, where: str, *, sync: bool = False) -> Imported:
    """Take a peer's bundle, all or nothing (a write). ``where`` names the file or address.

    With ``sync``, the very bundle already held is "up to date" rather than a replay.
    """
    bundle = parse(data, where)
    with hub.db.write() as session:
        me = identity(session).partner
        sender = _authenticate(session, bundle, me, where)
        digest, version = digest_of(bundle), bundle["version"]
        held = session.get(ReleaseHeld, sender)
        if sync and held is not None and held.digest == digest:
            return _refresh(hub, session, me, sender, bundle, where)
        if held is not None and version < held.version:
            raise Refused(f"{where}: refused: rollback: version {version} is older than "
                          f"version {held.version} already held from {sender}")
        if session.get(ReleaseSeen, digest) is not None:
            raise Refused(f"{where}: refused: replayed: this bundle ({sender} → {me} version "
                          f"{version}) was imported before")
        if held is not None and version == held.version:
            raise Refused(f"{where}: refused: version {version} from {sender} is already "
                          "held with other contents")
        plans, observations = _contents(bundle, sender, where)
        plans, observations = _unblind(hub, session, me, sender, "tags" in bundle, plans,
                                       observations)
        result = _apply(hub, session, me, sender, version, plans, observations, where)
        _keep_tags(session, sender, bundle)
        if held is None:
            session.add(ReleaseHeld(sender=sender, version=version, digest=digest))
        else:
            held.version, held.digest, held.received = version, digest, now()
        session.add(ReleaseSeen(digest=digest, sender=sender, kind="release"))
        audit.append(session, action="node.release.import", subject=f"peer:{sender}",
                     user_id=None, partner=None, owners=[me],
                     detail={"from": sender, "version": version, "digest": digest,
                             "added": result.added, "changed": result.changed,
                             "withdrawn": result.withdrawn,
                             "observations": result.observations})
        return result


def _refresh(hub: Hub, session: Session, me: str, sender: str, bundle: dict[str, Any],
             where: str) -> Imported:
    """The bundle already held, taken again: its blinded references resolved anew against
    what this node holds now. A reference to a third partner's item that arrived after
    this bundle holds from here on (and one whose item was withdrawn since lapses), so the
    order in which peers' releases arrive does not change what the node shows."""
    version = int(bundle["version"])
    plans, observations = _contents(bundle, sender, where)
    plans, observations = _unblind(hub, session, me, sender, "tags" in bundle, plans,
                                   observations)
    _keep_tags(session, sender, bundle)
    before = [o for o in hub.observation_docs(session) if o.get("by") == sender]
    result = _apply(hub, session, me, sender, version, plans, observations, where)
    if not (result.added or result.changed or result.withdrawn) and before == observations:
        return Imported(sender, version, unchanged=True)
    audit.append(session, action="node.release.import", subject=f"peer:{sender}",
                 user_id=None, partner=None, owners=[me],
                 detail={"from": sender, "version": version, "digest": digest_of(bundle),
                         "refreshed": True, "added": result.added,
                         "changed": result.changed, "withdrawn": result.withdrawn,
                         "observations": result.observations})
    return result


def _apply(hub: Hub, session: Session, me: str, sender: str, version: int,
           plans: dict[str, dict[str, Any]], observations: list[dict[str, Any]],
           where: str) -> Imported:
    current = hub.current(session)
    latest = {k: v for k, v in current.versions.items() if v.doc is not None}
    for plan_id in plans:
        if plan_id in latest and latest[plan_id].owner != sender:
            raise Refused(f"{where}: refused: plan {plan_id} belongs to "
                          f"{latest[plan_id].owner} here, not to {sender}")
    # A received copy is the receiver's (shared with all in it, as the format says); it is
    # never released onwards: a release holds only its sender's own plans.
    copies = plans
    kept = [v.doc for k, v in sorted(latest.items()) if v.owner != sender and v.doc is not None]
    joint = hub.joint(session)
    assert joint is not None
    others = [o for o in hub.observation_docs(session) if o.get("by") != sender]
    try:
        stored_model(joint, [*kept, *copies.values()], [*others, *observations],
                     stored_breaks(session))
    except InvalidWorkspace as exc:
        first = exc.problems[0]
        raise Refused(f"{where}: refused: the released files do not read: {first.message} "
                      f"({len(exc.problems)} problem(s))") from None
    result = Imported(sender, version)
    author, reason = f"peer:{sender}", f"release {version} from {sender}"
    for pid, doc in sorted(copies.items()):
        old = latest.get(pid)
        if old is not None and old.doc == doc:
            continue
        (result.changed if old is not None else result.added).append(pid)
        number = (session.scalar(select(PlanVersion.number).where(PlanVersion.plan_id == pid)
                                 .order_by(PlanVersion.number.desc()).limit(1)) or 0) + 1
        session.add(PlanVersion(plan_id=pid, owner=sender, number=number,
                                status=old.status if old is not None else "draft",
                                doc=doc, author=author, reason=reason))
        session.flush()
        audit.append(session, action="plan.version", subject=f"plan:{pid}", user_id=None,
                     partner=None, owners=[sender, me], detail={"reason": reason})
    for pid, old in sorted(latest.items()):
        if old.owner == sender and pid not in copies:
            result.withdrawn.append(pid)
            session.add(PlanVersion(plan_id=pid, owner=sender, number=old.number + 1,
                                    status=old.status, doc=None, author=author,
                                    reason=f"withdrawn in {reason}"))
            session.flush()
            audit.append(session, action="plan.version", subject=f"plan:{pid}",
                         user_id=None, partner=None, owners=[sender, me],
                         detail={"reason": f"withdrawn in {reason}"})
    before = [o for o in hub.observation_docs(session) if o.get("by") == sender]
    if before != observations:
        session.execute(delete(ObservationRow).where(ObservationRow.partner == sender))
        seq = int(session.scalar(select(ObservationRow.seq).order_by(
            ObservationRow.seq.desc()).limit(1)) or 0)
        for i, obs in enumerate(observations, start=1):
            session.add(ObservationRow(seq=seq + i, partner=sender, doc=obs, author=author))
        session.flush()
        audit.append(session, action="observations.import", subject="observations",
                     user_id=None, partner=None, owners=[sender, me],
                     detail={"count": len(observations), "from": sender})
    result.observations = len(observations)
    if result.added or result.changed or result.withdrawn:
        reconcile(hub, session)
    return result
