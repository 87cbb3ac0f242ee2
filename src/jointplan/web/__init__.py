"""The pages planners use in a browser: server-rendered (Jinja2) with htmx, no build step.

Vendored libraries are served from `static/vendor/`, so the pages work
without internet. Every page asks the server's use cases, which ask the
sharing gate; see docs/web.md.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .render import STATIC


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    from .pages import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
