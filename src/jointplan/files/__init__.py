"""The plan format in and out: reading with positions, checking, problems."""

from .load import (
           Loaded,
           Piece,
           load_pieces,
           load_sources,
           load_workspace,
           read_source,
           workspace_files,
)
from .problems import InvalidWorkspace, Problem

__all__ = ["InvalidWorkspace", "Loaded", "Piece", "Problem", "load_pieces", "load_sources",
           "load_workspace", "read_source", "workspace_files"]
