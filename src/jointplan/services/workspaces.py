"""Loading a workspace folder with every check, including those that depend on sharing."""

from __future__ import annotations

from pathlib import Path

from ..files import InvalidWorkspace, Loaded, load_workspace
from ..sharing.references import reference_problems


def load_checked(folder: str | Path) -> Loaded:
    """The workspace in ``folder``; InvalidWorkspace lists every problem otherwise."""
    loaded = load_workspace(folder)
    problems = reference_problems(loaded.workspace, loaded.locator)
    if problems:
        raise InvalidWorkspace(problems)
    return loaded


def require_partner(loaded: Loaded, viewer: str | None) -> None:
    """Refuse an ``--as`` code that is not a partner of the workspace."""
    if viewer is not None and viewer not in loaded.workspace.partner_codes:
        raise ValueError(f"{viewer} is not a partner of {loaded.workspace.id}; partners are "
                         + ", ".join(loaded.workspace.partner_codes))
