"""The FastAPI application: one object for the API (and, later, the pages)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import __version__, web
from ..files import InvalidWorkspace
from ..server.hub import Forbidden, Hub, Invalid, NotFound, RateLimited
from ..services.accounts import AccountError
from . import auth, finding_routes, routes

NOT_FOUND = {"detail": "not found"}


def create_app(hub: Hub) -> FastAPI:
    app = FastAPI(title="jointplan", version=__version__,
                  description="Joint contingency planning between partners who keep their "
                  "freedom of action. Every answer is cut to what the caller's partner may "
                  "see; an object it may not see answers exactly like one that does not "
                  "exist.")
    app.state.hub = hub
    app.include_router(routes.router)
    app.include_router(finding_routes.router)
    app.include_router(auth.router)
    web.install(app)

    @app.exception_handler(NotFound)
    def _not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(NOT_FOUND, status_code=404)

    @app.exception_handler(404)
    def _no_route(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(NOT_FOUND, status_code=404)

    @app.exception_handler(Forbidden)
    def _forbidden(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(Invalid)
    @app.exception_handler(AccountError)
    def _invalid(_: Request, exc: Any) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body", *exc.field.split(".")],
                                         "msg": str(exc), "type": "value_error"}]},
                            status_code=422)

    @app.exception_handler(InvalidWorkspace)
    def _problems(_: Request, exc: Any) -> JSONResponse:
        # `detail` keeps the 422 shape the schema declares (each problem names its file);
        # `problems` carries the same located problems as the CLI's --json.
        return JSONResponse({"detail": [{"loc": ["body", "files", p.file],
                                         "msg": f"{p} (nothing was stored)",
                                         "type": "value_error"} for p in exc.problems],
                             "problems": [p.as_json() for p in exc.problems]}, status_code=422)

    @app.exception_handler(RateLimited)
    def _limited(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": "60"})

    @app.exception_handler(RequestValidationError)
    def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field; never echo the submitted value (it may be someone's secret).
        return JSONResponse({"detail": [{"loc": list(e["loc"]), "msg": e["msg"],
                                         "type": e["type"]} for e in exc.errors()]},
                            status_code=422)

    return app
