"""Spans of the query API's requests, for otelite's own telemetry (``--self-telemetry``)."""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.api._status import ResponseStatus

__all__ = ["Traced"]


class Traced:
    """ASGI middleware: one server span per HTTP request, named by method and route.

    Attributes follow OpenTelemetry's HTTP conventions. The route is the template
    (``/api/traces/{traceId}``), never the path with its ids; a 5xx marks the span as an
    error, a 4xx does not (the client's mistake, not the server's).
    """

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self._app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        with self._tracer.start_as_current_span(
            method,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            response = ResponseStatus()
            try:
                await self._app(scope, receive, response.watching(send))
            finally:
                status = response.status
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
