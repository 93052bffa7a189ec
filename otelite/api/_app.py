"""The query API application: routes, error bodies and health probes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.api._export import export
from otelite.api._json import JSONResponse, error_response
from otelite.api._logs import search_logs
from otelite.api._metrics import metric_series, metrics
from otelite.api._traces import operations, search_traces, services, trace_v1, trace_v2
from otelite.errors import (
    InvalidRequest,
    NotFound,
    OteliteError,
    Overloaded,
    RequestTooLarge,
    RetryableError,
    UnsupportedMediaType,
)
from otelite.storage import Storage

__all__ = ["Readiness", "create_app"]

log = logging.getLogger("otelite.api")

Readiness = Callable[[], tuple[bool, str]]
"""Returns (ready, reason); the reason is shown when not ready."""

# HTTP status per error class; the first match wins, so subclasses come first.
_STATUS: tuple[tuple[type[OteliteError], int], ...] = (
    (InvalidRequest, 400),
    (NotFound, 404),
    (RequestTooLarge, 413),
    (UnsupportedMediaType, 415),
    (Overloaded, 429),
    (RetryableError, 503),
    (OteliteError, 400),
)


def create_app(storage: Storage, *, readiness: Readiness | None = None) -> Starlette:
    """The HTTP query API over ``storage`` (see the package docstring for the endpoints)."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, reason = (True, "") if readiness is None else readiness()
        if ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/api/traces/{traceId}", trace_v1),
        Route("/api/v2/traces/{traceId}", trace_v2),
        Route("/api/search/traces", search_traces),
        Route("/api/services", services),
        Route("/api/services/{service:path}/operations", operations),
        Route("/api/search/logs", search_logs),
        Route("/api/metrics", metrics),
        Route("/api/metrics/{name:path}/series", metric_series),
        Route("/api/export", export),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            OteliteError: _otelite_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.storage = storage
    return app


async def _otelite_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OteliteError)
    status = next(code for kind, code in _STATUS if isinstance(error, kind))
    headers = None
    if isinstance(error, RetryableError):
        headers = {"Retry-After": str(max(1, round(error.retry_after)))}
    return error_response(status, str(error), headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    message = "no such endpoint" if error.status_code == 404 else error.detail
    return error_response(error.status_code, message, error.headers)


async def _internal_error(request: Request, error: Exception) -> Response:
    log.exception("query API: %s %s failed", request.method, request.url.path)
    return error_response(500, "internal error (see the server log)")
