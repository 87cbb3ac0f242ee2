"""The `deconflict` use case: load, validate, solve one leaf, cut for one viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.deconflict import Options, deconflict
from ..sharing import Rules
from ..sharing.deconflict_cut import cut_resolution
from .workspaces import load_checked, require_partner


def deconflict_report(folder: str | Path, viewer: str | None, scenario: str,
                      options: Options | None = None) -> dict[str, Any]:
    """The object `jointplan deconflict DIR --scenario LEAF --as VIEWER --json` prints.

    Raises ``InvalidWorkspace`` for a bad folder and ``ValueError`` for a
    viewer that is not a partner or a scenario that is not a leaf.
    """
    loaded = load_checked(folder)
    require_partner(loaded, viewer)
    ws = loaded.workspace
    if scenario not in ws.leaves():
        known = {s.id for s in ws.scenarios}
        what = "not a leaf scenario" if scenario in known else "not a scenario"
        raise ValueError(f"{scenario} is {what} of {ws.id}; its leaf scenarios are "
                         + ", ".join(ws.leaves()))
    resolution = deconflict(ws, scenario, options or Options())
    return cut_resolution(resolution, Rules(ws), viewer)
