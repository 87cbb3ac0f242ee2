"""The `deconflict` use case: load, validate, solve one leaf, cut for one viewer.

The command line reads a folder (`deconflict_report`); the server solves the
stored workspace (`check_leaf`, `resolve`) and cuts the one answer for each
partner that is shown it (`sharing.deconflict_cut.cut_resolution`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.deconflict import Options, Resolution, deconflict
from ..analysis.run import Analysis
from ..model import Workspace
from ..sharing import Rules
from ..sharing.deconflict_cut import apply_moves, cut_resolution
from .workspaces import load_checked, require_partner

__all__ = ["Options", "Resolution", "check_leaf", "deconflict_report", "matches", "resolve",
           "resolved"]


def check_leaf(ws: Workspace, scenario: str) -> None:
    """Go on when ``scenario`` is a leaf of ``ws``; ValueError saying which are otherwise."""
    if scenario not in ws.leaves():
        known = {s.id for s in ws.scenarios}
        what = "not a leaf scenario" if scenario in known else "not a scenario"
        raise ValueError(f"{scenario} is {what} of {ws.id}; its leaf scenarios are "
                         + ", ".join(ws.leaves()))


def deconflict_report(folder: str | Path, viewer: str | None, scenario: str,
                      options: Options | None = None) -> dict[str, Any]:
    """The object `jointplan deconflict DIR --scenario LEAF --as VIEWER --json` prints.

    Raises ``InvalidWorkspace`` for a bad folder and ``ValueError`` for a
    viewer that is not a partner or a scenario that is not a leaf.
    """
    loaded = load_checked(folder)
    require_partner(loaded, viewer)
    ws = loaded.workspace
    check_leaf(ws, scenario)
    resolution = deconflict(ws, scenario, options or Options())
    return cut_resolution(resolution, Rules(ws), viewer)


def resolve(ws: Workspace, scenario: str, options: Options | None = None
            ) -> tuple[Resolution, Analysis]:
    """The custodian's resolution of one leaf and the analysis of the files once moved.

    The analysis is what every viewer's cut of the resolution starts from
    (``cut_resolution(..., after=...)``), so cutting for several partners
    analyses the moved files once.
    """
    from ..analysis.run import analyse

    check_leaf(ws, scenario)
    resolution = deconflict(ws, scenario, options or Options())
    moved = apply_moves(ws, {(m.plan, m.task): m.to for m in resolution.moves})
    return resolution, analyse(moved)


def _names(entry: dict[str, Any]) -> set[tuple[str, str]]:
    return {(x["plan"], x.get("task") or x.get("provision") or "")
            for x in entry.get("tasks", []) if not x.get("hidden")}


def matches(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two conflict entries, as one viewer is told them, are the same collision.

    The rule the server keeps lasting conflicts by (docs/server.md), on what the
    viewer sees: the same kind and place (the resource; an area in common), and
    an item in common or windows that overlap.
    """
    if a["kind"] != b["kind"]:
        return False
    if a["kind"] == "capacity" and a["resource"] != b["resource"]:
        return False
    if a["kind"] == "area" and not set(a["areas"]) & set(b["areas"]):
        return False
    (a0, a1), (b0, b1) = a["window"], b["window"]
    return bool(_names(a) & _names(b)) or (a0 < b1 and b0 < a1)


def resolved(before: list[dict[str, Any]], remaining: list[dict[str, Any]],
             leaf: str) -> list[int]:
    """Indexes of the ``before`` conflicts (a viewer's `check` entries) of ``leaf`` that no
    ``remaining`` entry continues: those the moves resolve there."""
    return [i for i, e in enumerate(before)
            if leaf in e["scenarios"] and not any(matches(e, r) for r in remaining)]
