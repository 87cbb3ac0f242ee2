"""Defaults shared by the server and the light CLI (importing nothing heavy)."""

DEFAULT_DATABASE_URL = "sqlite:///jointplan.db"
