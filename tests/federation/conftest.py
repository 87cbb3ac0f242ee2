"""Federation tests use the server's fixtures: each runs on SQLite and PostgreSQL."""

from tests.server.conftest import database_url  # noqa: F401 - a fixture, used by name
