"""Setting a node up from its partner's own files (`jointplan node import FOLDER`).

A partner's folder holds the agreed joint part (``workspace.yaml``) and its own
plans and observations. Its plans may refer to peers' tasks and expectations
that reach the node only with their releases: such references lapse until then
(as on the joint server when a share is withdrawn) instead of refusing the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...files import InvalidWorkspace, Problem, workspace_files
from ...files.yamlread import ReadError, read_document
from ...services.workspaces import load_checked
from ...sharing.view import export_files
from ...store import audit
from ...store.tables import ObservationRow, PlanVersion, Setting
from ..findings import reconcile
from ..hub import Hub, canonical
from ..lapsing import stored_breaks, stored_model
from .keys import identity


def _cut(folder: Path, me: str) -> list[tuple[Path, dict[str, Any]]] | None:
    """A whole workspace's folder (every partner's files, as a custodian holds them) cut to
    what ``me`` may see of the joint part and what it owns; None for a folder of its own."""
    try:
        loaded = load_checked(folder)
    except InvalidWorkspace:
        return None
    ws = loaded.workspace
    if me not in ws.partner_codes or all(
            p.owner == me for p in ws.plans) and all(o.by == me for o in ws.observations):
        return None
    out = []
    for name, doc in export_files(ws, me).items():
        if doc.get("kind") == "plan" and doc.get("owner") != me:
            continue
        if doc.get("kind") == "observations":
            doc = {**doc, "observations": [o for o in doc["observations"] if o["by"] == me]}
            if not doc["observations"]:
                continue
        out.append((folder / name, canonical(doc)))
    return out


def import_own(hub: Hub, folder: str | Path) -> dict[str, int]:
    """Store the node partner's own files, all or nothing.

    From a folder of its own, another owner's file is refused; from a whole
    workspace's folder, the partner takes the joint part as the gate gives it
    to it and its own plans and observations, and nothing else.
    """
    paths = workspace_files(Path(folder)) if Path(folder).is_dir() else []
    if not paths:
        raise InvalidWorkspace([Problem(str(folder), 1, 1, "no workspace files here")])
    with hub.db.read() as session:
        cut = _cut(Path(folder), identity(session).partner)
    if cut is not None:
        return _store(hub, folder, cut)
    docs: list[tuple[Path, dict[str, Any]]] = []
    problems = []
    for path in paths:
        try:
            doc = canonical(read_document(path.read_bytes(), is_json=path.suffix == ".json"))
        except ReadError as exc:
            problems.append(Problem(str(path), exc.line, exc.column, exc.message))
            continue
        docs.append((path, doc if isinstance(doc, dict) else {}))
    if problems:
        raise InvalidWorkspace(problems)
    return _store(hub, folder, docs)


def _store(hub: Hub, folder: str | Path, docs: list[tuple[Path, dict[str, Any]]]
           ) -> dict[str, int]:
    problems = []
    with hub.db.write() as session:
        me = identity(session).partner
        joints = [d for _, d in docs if d.get("kind") == "workspace"]
        joint = joints[0] if joints else hub.joint(session)
        if joint is None:
            raise InvalidWorkspace([Problem(str(folder), 1, 1, "no workspace.yaml here and "
                                            "none imported before")])
        for path, doc in docs:
            if doc.get("kind") == "plan" and doc.get("owner") != me:
                problems.append(Problem(str(path), 1, 1, f"this is {me}'s node: a plan of "
                                        f"{doc.get('owner')}'s arrives in its releases"))
            if doc.get("kind") == "observations" and any(
                    isinstance(o, dict) and o.get("by") != me
                    for o in doc.get("observations") or []):
                problems.append(Problem(str(path), 1, 1, f"this is {me}'s node: only {me}'s "
                                        "observations are imported here"))
        if problems:
            raise InvalidWorkspace(problems)
        plans = [d for _, d in docs if d.get("kind") == "plan"]
        observations = [o for _, d in docs if d.get("kind") == "observations"
                        for o in d.get("observations") or []]
        existing = [v.doc for v in hub.latest_versions(session).values()
                    if v.doc is not None and v.doc["id"] not in {p["id"] for p in plans}]
        stored_model(joint, [*existing, *plans], observations,
                     stored_breaks(session))  # refuses what does not read, with positions
        if joints:
            row = session.get(Setting, "workspace")
            if row is None:
                session.add(Setting(key="workspace", value=joint))
            else:
                row.value = joint
            audit.append(session, action="workspace.import", subject=f"workspace:{joint['id']}",
                         user_id=None, partner=None, owners=[me])
        for doc in plans:
            number = 1 + max((v.number for v in hub.latest_versions(session).values()
                              if v.plan_id == doc["id"]), default=0)
            session.add(PlanVersion(plan_id=doc["id"], owner=me, number=number, doc=doc,
                                    author="operator", reason="imported"))
            session.flush()
            audit.append(session, action="plan.version", subject=f"plan:{doc['id']}",
                         user_id=None, partner=None, owners=[me], detail={"reason": "imported"})
        seq = max((o.seq for o in session.query(ObservationRow)), default=0)
        for i, obs in enumerate(observations, start=1):
            session.add(ObservationRow(seq=seq + i, partner=me, doc=obs, author="operator"))
        if observations:
            session.flush()
            audit.append(session, action="observations.import", subject="observations",
                         user_id=None, partner=None, owners=[me],
                         detail={"count": len(observations)})
        reconcile(hub, session)
    return {"plans": len(plans), "observations": len(observations)}
