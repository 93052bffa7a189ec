"""The query API application: routes, error bodies and health probes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from opentelemetry.trace import NoOpTracer, Tracer
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.access import BearerAuth, Guard, Right, Tokens
from otelite.analysis import Notifiers, SloCatalog, SloEvaluator
from otelite.api._alert_receivers import alert_receiver_routes
from otelite.api._compare import compare_routes
from otelite.api._count import count
from otelite.api._critical_path import critical_path_routes
from otelite.api._deployments import deployment_routes
from otelite.api._export import export
from otelite.api._forwarding import forwarding_routes
from otelite.api._jaeger import jaeger_routes
from otelite.api._json import JSONResponse, error_response
from otelite.api._logs import search_logs
from otelite.api._loki import loki_routes
from otelite.api._metrics import metric_series, metrics
from otelite.api._prometheus import prometheus_routes
from otelite.api._self_metrics import SelfMetrics
from otelite.api._service_map import service_map_routes
from otelite.api._slos import slo_routes
from otelite.api._storage import StoragePerTenant
from otelite.api._tempo import tempo_routes
from otelite.api._traces import operations, search_traces, services, trace_v1, trace_v2
from otelite.api._tracing import Traced
from otelite.api._ui_data import ServerInfoSource, ui_data_routes
from otelite.api.mcp import mcp_routes
from otelite.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    OteliteError,
    Overloaded,
    RequestTooLarge,
    RetryableError,
    UnsupportedMediaType,
)
from otelite.pipeline import Forwarding
from otelite.storage import Storage
from otelite.ui import is_ui_request, page_or, ui_routes

__all__ = ["Readiness", "create_app"]

log = logging.getLogger("otelite.api")

Readiness = Callable[[], tuple[bool, str]]
"""Returns (ready, reason); the reason is shown when not ready."""

# HTTP status per error class; the first match wins, so subclasses come first.
_STATUS: tuple[tuple[type[OteliteError], int], ...] = (
    (InvalidRequest, 400),
    (NotFound, 404),
    (Forbidden, 403),
    (RequestTooLarge, 413),
    (UnsupportedMediaType, 415),
    (Overloaded, 429),
    (RetryableError, 503),
    (OteliteError, 400),
)


def create_app(
    storage: Storage | StoragePerTenant,
    *,
    readiness: Readiness | None = None,
    tokens: Tokens | None = None,
    info: ServerInfoSource | None = None,
    self_metrics: SelfMetrics | None = None,
    tracer: Tracer | None = None,
    query_timeout_seconds: float | None = 120.0,
    ingest: Sequence[Route] = (),
    slo_evaluator: SloEvaluator | None = None,
    alert_receivers: Notifiers | None = None,
    forwarding: Forwarding | None = None,
) -> Starlette:
    """The HTTP query API over ``storage`` (see the package docstring for the endpoints).

    With ``tokens``, every route but the health probes and the web UI's page and static
    files (which carry no telemetry) needs one with the query right as a bearer token
    (``/metrics``: the operator right). ``info`` tells ``/api/ui/info`` where the server
    takes OTLP and keeps data. With ``StoragePerTenant``, every request reads the storage
    of the tenant its ``X-Scope-OrgID`` header names, among those its token may query.
    ``self_metrics`` serves ``/metrics`` and times every request. With ``tracer``, every
    request and the storage queries it runs are traced (``--self-telemetry``). A PromQL
    query stops after ``query_timeout_seconds`` (None: no limit). ``ingest`` are routes
    that take data (Loki's push API, which clients send to the URL they query); they guard
    themselves, asking for the ingest right rather than the query right.
    ``slo_evaluator`` keeps the SLOs and evaluates their alerts; without it, SLOs are kept
    in memory and their alerts never fire.
    ``alert_receivers`` answers ``/api/alerts/receivers`` (the operator right).
    ``forwarding`` answers ``/api/forwarding`` (the operator right).
    """

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, reason = (True, "") if readiness is None else readiness()
        if ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    async def ready(request: Request) -> Response:
        """Loki's readiness probe: ``ready`` in plain text, or 503 and the reason."""
        ready, reason = (True, "") if readiness is None else readiness()
        return PlainTextResponse("ready" if ready else reason, status_code=200 if ready else 503)

    mcp, mcp_endpoint = mcp_routes()
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/ready", ready),
        *ingest,
        Route("/api/traces/{traceId}", trace_v1),
        Route("/api/v2/traces/{traceId}", trace_v2),
        Route("/api/search/traces", search_traces),
        Route("/api/services", services),
        Route("/api/services/{service:path}/operations", operations),
        Route("/api/search/logs", search_logs),
        Route("/api/metrics", metrics),
        Route("/api/metrics/{name:path}/series", metric_series),
        Route("/api/export", export),
        Route("/api/count", count),
        *compare_routes(),
        *critical_path_routes(),
        *ui_data_routes(),
        *slo_routes(),
        *deployment_routes(),
        *alert_receiver_routes(),
        *forwarding_routes(),
        *service_map_routes(),
        *jaeger_routes(),
        *tempo_routes(),
        *prometheus_routes(),
        *loki_routes(),
        *mcp,
        *ui_routes(),
    ]
    middleware = []
    if tracer is not None:
        middleware.append(Middleware(Traced, tracer=tracer))
    if self_metrics is not None:
        # The web UI has a page at /metrics too: browsers get the page.
        routes.insert(2, Route("/metrics", page_or(self_metrics.endpoint)))
        middleware.append(Middleware(self_metrics.timed))
    if tokens is not None:
        guard = Guard(tokens, server="query API")
        open_paths = (*_OPEN, *(route.path for route in ingest))
        middleware.append(Middleware(_GuardAllButUI, guard=guard, open_paths=open_paths))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            OteliteError: _otelite_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.storage = storage
    app.state.tracer = tracer or NoOpTracer()
    app.state.server_info = info
    app.state.query_timeout_seconds = query_timeout_seconds
    app.state.slo_evaluator = slo_evaluator
    app.state.slos = SloCatalog(None) if slo_evaluator is None else slo_evaluator.catalog
    app.state.alert_receivers = alert_receivers
    app.state.forwarding = forwarding
    app.state.mcp = mcp_endpoint
    return app


_OPEN = ("/healthz", "/readyz", "/ready")


class _GuardAllButUI:
    """``BearerAuth`` for every request but the UI's page and files and the health probes."""

    def __init__(self, app: ASGIApp, *, guard: Guard, open_paths: Sequence[str]) -> None:
        self._open = app
        self._guarded = BearerAuth(
            app,
            guard=guard,
            reply=_refused,
            right=Right.QUERY,
            # otelite's own metrics and the alert receivers' state are every tenant's:
            # they are the operator's.
            path_rights={
                "/metrics": Right.OPERATOR,
                "/api/alerts/receivers": Right.OPERATOR,
                "/api/forwarding": Right.OPERATOR,
            },
            open_paths=open_paths,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._open if is_ui_request(scope) else self._guarded
        await target(scope, receive, send)


def _refused(headers: Headers, status: int, message: str) -> Response:
    return error_response(status, message)


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
