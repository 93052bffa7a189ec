"""Jaeger's query APIs under ``/jaeger/api``, as Grafana's Jaeger data source and Jaeger
UI call them: point either at ``http://host:3200/jaeger``.

v1 answers ``{"data", "total", "limit", "offset", "errors"}`` (``total`` counts services
and operations; it is 0 elsewhere, as in Jaeger), and errors in the same envelope with
the HTTP status: ``{"data": null, ..., "errors": [{"code": 400, "msg": "..."}]}``.
Trace ids are hex (1 to 32 digits) or base64 (of 8 or 16 bytes).

==========================================  ============================================
``GET /jaeger/api/services``                service names
``GET /jaeger/api/services/{s}/operations`` operation names of a service
``GET /jaeger/api/operations``              ``service`` (required) ``spanKind``:
                                            ``{name, spanKind}`` per operation
``GET /jaeger/api/traces``                  ``service`` (required) ``operation tags``
                                            (JSON object) ``tag`` (``k:v``, repeatable)
                                            ``minDuration maxDuration`` (``1.2s``)
                                            ``limit`` (100) ``start end`` (µs; the last 2
                                            days); or ``traceID`` (repeatable) instead
``GET /jaeger/api/traces/{id}``             one trace in Jaeger's JSON model (404 when
                                            unknown; ``start``/``end`` are ignored)
``GET /jaeger/api/dependencies``            ``endTs lookback`` (ms; the last 24 h, at
                                            most 24 h) ``service``: ``{parent, child,
                                            callCount}``, the service map's edges
==========================================  ============================================

v3 answers proto3 JSON; traces are OTLP/JSON in ``{"result": {"resourceSpans": [...]}}``;
errors are ``{"error": {"httpCode": 400, "message": "..."}}``, and a trace search or
lookup that finds nothing is a 404 with the message ``No traces found``.

==========================================  ============================================
``GET /jaeger/api/v3/services``             ``{"services": [...]}``
``GET /jaeger/api/v3/operations``           ``service spanKind``: ``{"operations":
                                            [{name, spanKind}]}``
``GET /jaeger/api/v3/traces/{id}``          one trace (``startTime``/``endTime`` ignored)
``GET /jaeger/api/v3/traces``               ``query.serviceName query.operationName
                                            query.attributes`` (JSON object)
                                            ``query.startTimeMin query.startTimeMax``
                                            (RFC 3339, both required)
                                            ``query.durationMin query.durationMax
                                            query.searchDepth`` (100); the snake_case
                                            names (``query.service_name``...) too
``GET /jaeger/api/v3/trace-summaries``      the same search: ``{"summaries": [...]}``
==========================================  ============================================

A search finds the traces with one span meeting every condition, newest first, and
answers them whole. Tags match the span's attribute, else its resource's, by string
form; the tags the Jaeger model makes from span fields (``error``, ``span.kind``,
``otel.status_code``, ...) match those fields. Services and operations cover every
stored span (retention bounds them), as Jaeger's lists are not windowed either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.api._jaeger_model import jaeger_trace_id, operation_kind, trace_json, trace_summary
from otelite.api._jaeger_params import (
    dependency_range,
    jaeger_trace_id_param,
    v1_search_plan,
    v3_name,
    v3_search_plan,
)
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._service_map import service_map_of
from otelite.api._storage import rows, storage_of
from otelite.errors import InvalidRequest, NotFound
from otelite.otlp import request_to_json
from otelite.query import (
    TimeRange,
    TraceSearch,
    operation_summary_plan,
    service_summary_plan,
)
from otelite.storage import Storage
from otelite.types import ExportTraceServiceRequest

__all__ = ["jaeger_routes"]

Handler = Callable[[Request], Awaitable[Response]]

_NOT_FOUND = "trace not found"  # Jaeger's words, which clients may show


# --- Answers and errors -----------------------------------------------------------------


def _v1(data: Any, *, total: int = 0, errors: list[dict[str, Any]] | None = None) -> Response:
    return JSONResponse({"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors})


def _v1_error(status: int, message: str) -> Response:
    body = {"data": None, "total": 0, "limit": 0, "offset": 0}
    errors = [{"code": status, "msg": message}]
    return JSONResponse({**body, "errors": errors}, status_code=status)


def _v3_error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"httpCode": status, "message": message}}, status_code=status)


def _answering(error: Callable[[int, str], Response]) -> Callable[[Handler], Handler]:
    """Bad input and unknown traces answered in the API's own error shape."""

    def wrap(handler: Handler) -> Handler:
        async def answer(request: Request) -> Response:
            # The tenant first: a missing or refused tenant is the server's answer, the
            # same on every route (as a missing token is), not this API's.
            storage_of(request)
            try:
                return await handler(request)
            except InvalidRequest as problem:
                return error(400, str(problem))
            except NotFound as problem:
                return error(404, str(problem))
            # Anything else (storage trouble) goes to the app's handlers: 503, Retry-After.

        return answer

    return wrap


_v1_errors = _answering(_v1_error)
_v3_errors = _answering(_v3_error)


# --- Storage ---------------------------------------------------------------------------


def _get_traces(storage: Storage, trace_ids: list[bytes]) -> list[ExportTraceServiceRequest | None]:
    return [storage.get_trace(trace_id) for trace_id in trace_ids]


async def _traces(
    request: Request, trace_ids: list[bytes]
) -> list[ExportTraceServiceRequest | None]:
    """Each trace whole (None for one not stored), read in one worker thread."""
    return await run_in_threadpool(_get_traces, storage_of(request), trace_ids)


async def _found(request: Request, plan: TraceSearch) -> list[ExportTraceServiceRequest]:
    """The traces a search finds, whole, newest first."""
    found = await _traces(request, [row["trace_id"] for row in await rows(request, plan)])
    # A trace can go (retention) between the search and the lookup.
    return [trace for trace in found if trace is not None]


async def _service_names(request: Request) -> list[str]:
    found = await rows(request, service_summary_plan(TimeRange()))
    # Spans whose resource names no service have "": Jaeger lists no such service.
    return [row["name"] for row in found if row["name"]]


async def _operations(request: Request, service: str, kind: str | None) -> list[tuple[str, str]]:
    """(name, Jaeger span kind) of each operation of ``service``, of ``kind`` if given."""
    found = await rows(request, operation_summary_plan(service, TimeRange()))
    pairs = {(row["name"], operation_kind(row["span_kind"])) for row in found}
    return sorted(pair for pair in pairs if not kind or pair[1] == kind)


# --- v1 --------------------------------------------------------------------------------


@_v1_errors
async def services(request: Request) -> Response:
    """``GET /jaeger/api/services``: every service name, sorted."""
    names = await _service_names(request)
    return _v1(names, total=len(names))


@_v1_errors
async def service_operations(request: Request) -> Response:
    """``GET /jaeger/api/services/{service}/operations``: operation names, sorted."""
    found = await _operations(request, request.path_params["service"], None)
    names = sorted({name for name, _ in found})
    return _v1(names, total=len(names))


@_v1_errors
async def operations(request: Request) -> Response:
    """``GET /jaeger/api/operations?service=&spanKind=``: ``{name, spanKind}`` each."""
    params = Params(request.query_params)
    service = params.text("service")
    if service is None:
        raise InvalidRequest("service: required (the service whose operations to list)")
    found = await _operations(request, service, params.text("spanKind"))
    data = [{"name": name, "spanKind": kind} for name, kind in found]
    return _v1(data, total=len(data))


@_v1_errors
async def search(request: Request) -> Response:
    """``GET /jaeger/api/traces``: traces found by a search, or by id (``traceID``)."""
    query = request.query_params
    trace_ids = [
        jaeger_trace_id_param(text, "traceID") for text in query.getlist("traceID") if text
    ]
    if not trace_ids:
        plan = v1_search_plan(Params(query), query)
        return _v1([trace_json(trace) for trace in await _found(request, plan)])
    # By id, the search's other parameters do not apply: the traces come whole.
    traces = await _traces(request, trace_ids)
    missing = [
        {"msg": _NOT_FOUND, "traceID": jaeger_trace_id(trace_id)}
        for trace_id, trace in zip(trace_ids, traces, strict=True)
        if trace is None
    ]
    data = [trace_json(trace) for trace in traces if trace is not None]
    return _v1(data, errors=missing or None)


@_v1_errors
async def trace(request: Request) -> Response:
    """``GET /jaeger/api/traces/{traceID}``: one trace, whole, in Jaeger's JSON model."""
    trace_id = jaeger_trace_id_param(request.path_params["traceId"], "traceID")
    [found] = await _traces(request, [trace_id])
    if found is None:
        raise NotFound(_NOT_FOUND)
    return _v1([trace_json(found)])


@_v1_errors
async def dependencies(request: Request) -> Response:
    """``GET /jaeger/api/dependencies?endTs=&lookback=``: the service map's edges (calls
    between services, and to the databases and peers they call), one per caller and
    callee whatever the kind of connection."""
    params = Params(request.query_params)
    time = dependency_range(params)
    if time.start == time.end:
        return _v1([])
    found = await service_map_of(request, time, params.text("service"))
    calls: Counter[tuple[str, str]] = Counter()
    for edge in found.edges:
        calls[edge.client, edge.server] += edge.figures.requests
    data = [
        {"parent": parent, "child": child, "callCount": count}
        for (parent, child), count in sorted(calls.items())
    ]
    return _v1(data)


# --- v3 --------------------------------------------------------------------------------


def _v3_traces(traces: list[ExportTraceServiceRequest]) -> Response:
    if not traces:
        return _v3_error(404, "No traces found")
    resource_spans = [
        resource for trace in traces for resource in request_to_json(trace).get("resourceSpans", [])
    ]
    return JSONResponse({"result": {"resourceSpans": resource_spans}})


@_v3_errors
async def services_v3(request: Request) -> Response:
    """``GET /jaeger/api/v3/services``: every service name, sorted."""
    return JSONResponse({"services": await _service_names(request)})


@_v3_errors
async def operations_v3(request: Request) -> Response:
    """``GET /jaeger/api/v3/operations?service=&spanKind=``: ``{name, spanKind}`` each."""
    params = Params(request.query_params)
    service = params.text("service")
    kind = params.text(v3_name(params, "spanKind", "span_kind"))
    found = [] if service is None else await _operations(request, service, kind)
    # v3 names an unspecified kind as internal, as the OpenTelemetry API does.
    data = [{"name": name, "spanKind": stored or "internal"} for name, stored in found]
    return JSONResponse({"operations": data})


@_v3_errors
async def trace_v3(request: Request) -> Response:
    """``GET /jaeger/api/v3/traces/{trace_id}``: one trace as OTLP/JSON."""
    trace_id = jaeger_trace_id_param(request.path_params["traceId"], "trace_id")
    [found] = await _traces(request, [trace_id])
    return _v3_traces([] if found is None else [found])


@_v3_errors
async def search_v3(request: Request) -> Response:
    """``GET /jaeger/api/v3/traces``: the traces a search finds, as OTLP/JSON."""
    plan = v3_search_plan(Params(request.query_params))
    return _v3_traces(await _found(request, plan))


@_v3_errors
async def trace_summaries(request: Request) -> Response:
    """``GET /jaeger/api/v3/trace-summaries``: a summary of each trace a search finds."""
    plan = v3_search_plan(Params(request.query_params))
    found = await _found(request, plan)
    return JSONResponse({"summaries": [trace_summary(trace) for trace in found]})


def jaeger_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    api = "/jaeger/api"
    return [
        Route(f"{api}/services", services),
        Route(f"{api}/services/{{service:path}}/operations", service_operations),
        Route(f"{api}/operations", operations),
        Route(f"{api}/traces", search),
        # :path, so that a base64 id may hold "/" (sent as %2F).
        Route(f"{api}/traces/{{traceId:path}}", trace),
        Route(f"{api}/dependencies", dependencies),
        Route(f"{api}/v3/services", services_v3),
        Route(f"{api}/v3/operations", operations_v3),
        Route(f"{api}/v3/traces", search_v3),
        Route(f"{api}/v3/traces/{{traceId:path}}", trace_v3),
        Route(f"{api}/v3/trace-summaries", trace_summaries),
    ]
