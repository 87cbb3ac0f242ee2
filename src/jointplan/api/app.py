"""The FastAPI application: one object for the API (and, later, the pages)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from .. import __version__, web
from ..files import InvalidWorkspace
from ..server.concurrency import Stale
from ..server.exercises import DeliveryLoop
from ..server.federation.keys import NodeError
from ..server.federation.sync import SyncLoop
from ..server.hub import Forbidden, Hub, Invalid, NotFound, RateLimited
from ..server.limits import Limits
from ..server.resolutions import Changed
from ..services.accounts import AccountError
from . import (
    auth,
    collab_routes,
    docs,
    exercise_routes,
    exports,
    faults,
    finding_routes,
    node_routes,
    resolution_routes,
    routes,
    t0_routes,
    taxii,
)
from .idempotency import KeyReader
from .limits import RequestSizeLimit
from .shedding import LoadShedder, Shedding

NOT_FOUND = {"detail": "not found"}


def create_app(hub: Hub, *, shedding: Shedding | None = None, sync_every: int = 0) -> FastAPI:
    """The app for a hub; ``shedding`` bounds the requests in flight (default: from env);
    on a node, ``sync_every`` seconds between pulls of each peer's release (0: none)."""
    app = FastAPI(title="jointplan", version=__version__, docs_url=None, redoc_url=None,
                  description="Joint contingency planning between partners who keep their "
                  "freedom of action. Every answer is cut to what the caller's partner may "
                  "see; an object it may not see answers exactly like one that does not "
                  "exist.")
    app.state.hub = hub
    app.add_middleware(RequestSizeLimit, limits=Limits.from_environment())
    app.include_router(collab_routes.router)  # before routes: /proposals/options, not an id
    app.include_router(routes.router)
    app.include_router(finding_routes.router)
    app.include_router(resolution_routes.router)
    app.include_router(exercise_routes.router)
    app.include_router(auth.router)
    app.include_router(exports.router)
    app.include_router(taxii.router)
    app.include_router(t0_routes.router)
    app.include_router(t0_routes.feeds_router)
    app.include_router(node_routes.router)
    web.install(app)
    docs.install(app)
    faults.install(app)
    app.add_middleware(KeyReader)
    app.add_middleware(LoadShedder, shedding=shedding)  # outermost: sheds before any work
    # Each server process delivers the drills' injects that fall due (server/exercises.py).
    loop = DeliveryLoop(hub)
    app.router.on_startup.append(loop.start)
    app.router.on_shutdown.append(loop.stop)
    # On a node, each process takes its turn pulling the peers' releases (federation/sync.py).
    syncing = SyncLoop(hub, sync_every)
    app.router.on_startup.append(syncing.start)
    app.router.on_shutdown.append(syncing.stop)

    @app.exception_handler(NotFound)
    def _not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(NOT_FOUND, status_code=404)

    @app.exception_handler(404)
    def _no_route(request: Request, __: Exception) -> Response:
        if web.is_page_address(request.url.path):  # a browser's address: an HTML page
            return web.error_page(request, 404)
        return JSONResponse(NOT_FOUND, status_code=404)

    @app.exception_handler(405)
    def _wrong_method(request: Request, exc: Any) -> Response:
        # e.g. reloading the address a form was posted to: a page, not raw JSON
        headers = getattr(exc, "headers", None) or {}
        if web.is_page_address(request.url.path):
            response: Response = web.error_page(request, 405)
        else:
            response = JSONResponse({"detail": "method not allowed"}, status_code=405)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    @app.exception_handler(Forbidden)
    def _forbidden(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(NodeError)
    def _refused_by_node(_: Request, exc: Any) -> JSONResponse:
        # A peer node's request refused (node_routes.py): not a peer, a bad signature,
        # stale, replayed, or over the private deconfliction rate.
        return JSONResponse({"detail": f"{exc.field}: {exc}"}, status_code=403)

    @app.exception_handler(Invalid)
    @app.exception_handler(AccountError)
    def _invalid(_: Request, exc: Any) -> JSONResponse:
        field = exc.field.split(".")
        loc = field if field[0] == "header" else ["body", *field]
        return JSONResponse({"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]},
                            status_code=422)

    @app.exception_handler(Stale)
    def _stale(_: Request, exc: Any) -> JSONResponse:
        # Only the plan's owner gets this far (the gate comes first): it may read it all.
        body = {"detail": str(exc), "current": exc.current, "since": exc.since}
        headers = {"ETag": f'"{exc.current}"'} if exc.since else {}
        return JSONResponse(body, status_code=409, headers=headers)

    @app.exception_handler(Changed)
    def _changed(_: Request, exc: Any) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "changed": exc.changed,
                             "preview": exc.preview}, status_code=409)

    @app.exception_handler(InvalidWorkspace)
    def _problems(_: Request, exc: Any) -> JSONResponse:
        # `detail` keeps the 422 shape the schema declares (each problem names its file);
        # `problems` carries the same located problems as the CLI's --json.
        return JSONResponse({"detail": [{"loc": ["body", "files", p.file],
                                         "msg": f"{p} (nothing was stored)",
                                         "type": "value_error"} for p in exc.problems],
                             "problems": [p.as_json() for p in exc.problems]}, status_code=422)

    @app.exception_handler(RateLimited)
    def _limited(_: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RequestValidationError)
    def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field; never echo the submitted value (it may be someone's secret).
        return JSONResponse({"detail": [{"loc": list(e["loc"]), "msg": e["msg"],
                                         "type": e["type"]} for e in exc.errors()]},
                            status_code=422)

    return app
