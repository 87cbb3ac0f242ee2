"""The `check` use case: load, validate, analyse and cut for one viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.run import analyse
from ..sharing import Rules
from ..sharing.cut import check_result
from .workspaces import load_checked, require_partner


def check_report(folder: str | Path, viewer: str | None) -> dict[str, Any]:
    """The object `jointplan check DIR --as VIEWER --json` prints.

    Raises ``InvalidWorkspace`` for a bad folder and ``ValueError`` for a
    viewer that is not a partner.
    """
    loaded = load_checked(folder)
    require_partner(loaded, viewer)
    ws = loaded.workspace
    return check_result(analyse(ws), Rules(ws), viewer)
