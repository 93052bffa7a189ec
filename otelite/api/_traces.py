"""Trace endpoints: by id (Tempo's v1 and v2 envelopes), search, services, operations."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from otelite.api._json import JSONResponse
from otelite.api._params import Params, parse_trace_id
from otelite.api._storage import rows, storage_of
from otelite.errors import NotFound
from otelite.otlp import only_spans, request_to_json
from otelite.query import (
    SpanFilter,
    SpanStatus,
    operation_summary_plan,
    service_summary_plan,
    span_ids_plan,
    trace_search_plan,
)
from otelite.query.traceql import span_condition

__all__ = ["operations", "search_traces", "services", "trace_v1", "trace_v2"]

PROTOBUF_TYPES = ("application/protobuf", "application/x-protobuf")
_MS = 1_000_000


def _wants_protobuf(request: Request) -> bool:
    accepted = (
        part.split(";")[0].strip().lower() for part in request.headers.get("accept", "").split(",")
    )
    return any(media in PROTOBUF_TYPES for media in accepted)


async def _trace_response(request: Request, *, v2: bool) -> Response:
    trace_id = parse_trace_id(request.path_params["traceId"])
    query = Params(request.query_params).text("q") if v2 else None
    trace = await run_in_threadpool(storage_of(request).get_trace, trace_id)
    if trace is None:
        raise NotFound(f"trace {trace_id.hex()} not found")
    partial = query is not None
    if query is not None:
        # Tempo's v2 q: only the spans that match one filter, marked as a partial trace.
        plan = span_ids_plan(trace_id, span_condition(query))
        trace = only_spans(trace, {row["span_id"] for row in await rows(request, plan)})
    if _wants_protobuf(request):
        # An ExportTraceServiceRequest is wire-identical to Tempo's Trace message (field 1,
        # repeated ResourceSpans); v2 wraps it as field 1 of a TraceByIDResponse, whose
        # field 3 is the PartialStatus (1: PARTIAL).
        body = trace.SerializeToString()
        if v2:
            body = b"\x0a" + _varint(len(body)) + body + (b"\x18\x01" if partial else b"")
        return Response(body, media_type=PROTOBUF_TYPES[0])
    resource_spans = request_to_json(trace).get("resourceSpans", [])
    if v2:
        answer: dict[str, Any] = {"trace": {"resourceSpans": resource_spans}}
        if partial:
            answer["status"] = "PARTIAL"
        return JSONResponse(answer)
    return JSONResponse({"batches": resource_spans})


async def trace_v1(request: Request) -> Response:
    """``GET /api/traces/{traceId}``: ``{"batches": [ResourceSpans...]}`` or protobuf."""
    return await _trace_response(request, v2=False)


async def trace_v2(request: Request) -> Response:
    """``GET /api/v2/traces/{traceId}``: ``{"trace": {"resourceSpans": [...]}}`` or protobuf."""
    return await _trace_response(request, v2=True)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


async def search_traces(request: Request) -> Response:
    """``GET /api/search/traces``: traces with one span meeting every filter, newest first."""
    params = Params(request.query_params)
    span = SpanFilter(
        service=params.text("service"),
        name=params.text("name"),
        attributes=params.attributes(),
        min_duration_ns=params.duration_ns("minDuration"),
        max_duration_ns=params.duration_ns("maxDuration"),
        status=params.choice("status", SpanStatus),
    )
    plan = trace_search_plan(
        span, params.time_range(), params.limit("limit", default=20, maximum=1000)
    )
    traces = [
        {
            "traceId": row["trace_id"].hex(),
            "rootServiceName": row["root_service"],
            "rootSpanName": row["root_name"],
            "startTimeUnixNano": str(row["start_ns"]),
            "durationMs": max(0, row["end_ns"] - row["start_ns"]) / _MS,
            "spanCount": row["span_count"],
            "errorCount": row["error_count"],
            "services": row["services"],
        }
        for row in await rows(request, plan)
    ]
    return JSONResponse({"traces": traces})


async def services(request: Request) -> Response:
    """``GET /api/services``: span and error counts per service over ``start``/``end``."""
    plan = service_summary_plan(Params(request.query_params).time_range())
    found = [
        {"name": row["name"], "spanCount": row["span_count"], "errorCount": row["error_count"]}
        for row in await rows(request, plan)
    ]
    return JSONResponse({"services": found})


async def operations(request: Request) -> Response:
    """``GET /api/services/{service}/operations``: counts and latency per span name and kind."""
    params = Params(request.query_params)
    plan = operation_summary_plan(request.path_params["service"], params.time_range())
    found = [
        {
            "name": row["name"],
            "spanKind": row["span_kind"],
            "spanCount": row["span_count"],
            "errorCount": row["error_count"],
            **{f"p{q}Ms": _ms(row[f"p{q}_ns"]) for q in (50, 95, 99)},
        }
        for row in await rows(request, plan)
    ]
    return JSONResponse({"operations": found})


def _ms(ns: float | None) -> Any:
    return None if ns is None else ns / _MS
