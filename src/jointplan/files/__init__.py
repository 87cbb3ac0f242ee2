"""The plan format in and out: reading with positions, checking, problems."""

from .load import Loaded, load_workspace, workspace_files
from .problems import InvalidWorkspace, Problem

__all__ = ["InvalidWorkspace", "Loaded", "Problem", "load_workspace", "workspace_files"]
