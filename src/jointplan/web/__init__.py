"""The pages planners use in a browser: server-rendered (Jinja2) with htmx, no build step.

Vendored libraries are served from `static/vendor/`, so the pages work
without internet. Every page asks the server's use cases, which ask the
sharing gate; see docs/web.md.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .render import STATIC, error_page

__all__ = ["error_page", "install", "is_page_address"]
NOT_PAGES = ("/api/", "/auth/", "/calendar/", "/static/", "/docs", "/redoc", "/openapi.json")


def is_page_address(path: str) -> bool:
    """Whether an address belongs to the pages (a browser's), not the API or a file."""
    return not path.startswith(NOT_PAGES) and path not in ("/api", "/auth")


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    from .pages import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
