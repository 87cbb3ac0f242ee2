"""The REST API (FastAPI) over the server's use cases."""

from .app import create_app

__all__ = ["create_app"]
