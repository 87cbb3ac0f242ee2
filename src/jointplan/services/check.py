"""The `check` use case: analyse a workspace and cut the result for one viewer.

The one place it is done: `jointplan check` calls ``check_report`` on a folder,
the server's ``analysis.check_for`` calls ``check_analysed`` on the analysis it
keeps for the stored state (computed once, cut per partner on request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.run import Analysis, analyse
from ..model import Workspace
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
    return check_workspace(loaded.workspace, viewer)


def check_workspace(ws: Workspace, viewer: str | None) -> dict[str, Any]:
    """The contract's `check --json` object for ``viewer`` of a workspace already read."""
    return check_analysed(analyse(ws), Rules(ws), viewer)


def check_analysed(analysis: Analysis, rules: Rules, viewer: str | None) -> dict[str, Any]:
    """The `check --json` object for ``viewer`` from a full analysis already made."""
    return check_result(analysis, rules, viewer)
