"""Use cases shared by the CLI (and, later, the server): load, check, view."""
