"""A database that is down, hung or busy: a clean 503 with Retry-After, one log line.

The connection, each statement and the wait for a pooled connection time out
(store/db.py), so a request fails within bounded time; the pool reconnects by
itself (`pool_pre_ping`) once the database is back, without a restart.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..store.db import describe_fault, is_outage

log = logging.getLogger("jointplan.server")

RETRY_AFTER = 5
"""Seconds a client is asked to wait after the database failed it."""
UNAVAILABLE = {"detail": "the database is unavailable or busy; nothing was stored by this "
               "request — try again shortly"}


def outage_response(request: Request, exc: BaseException) -> JSONResponse:
    log.warning("database unavailable (%s %s): %s", request.method, request.url.path,
                describe_fault(exc))
    return JSONResponse(UNAVAILABLE, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER)})


def install(app: FastAPI) -> None:
    """Answer database outages with 503; other database errors stay bugs (500).

    The pages answer the same in HTML (web/render.py).
    """

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    def _database(request: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):
            raise exc
        return outage_response(request, exc)
