"""A stand-in for otelite's query API with the documented endpoints and fixed answers.

It answers from the sample telemetry in ``support`` and records each request's path and
query parameters, so tests can check what the CLI asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from otelite.otlp import encode_request_json, request_to_json
from otelite.types import ExportRequest, Signal

from .support import T0, TRACE_ID, sample_logs, sample_metrics, sample_traces

SEEN: list[tuple[str, list[tuple[str, str]]]] = []

EXPORTS: dict[Signal, list[ExportRequest]] = {
    Signal.TRACES: [sample_traces(), sample_traces()],
    Signal.METRICS: [sample_metrics()],
    Signal.LOGS: [sample_logs()],
}


def _record(request: Request) -> None:
    SEEN.append((request.url.path, request.query_params.multi_items()))


async def _services(request: Request) -> Response:
    _record(request)
    return JSONResponse(
        {
            "services": [
                {"name": "frontend", "spanCount": 2, "errorCount": 0},
                {"name": "payments", "spanCount": 1, "errorCount": 1},
            ]
        }
    )


async def _operations(request: Request) -> Response:
    _record(request)
    service = request.path_params["service"]
    if service == "nobody":
        return JSONResponse({"error": "unknown service 'nobody'"}, status_code=404)
    return JSONResponse(
        {
            "operations": [
                {
                    "name": "GET /checkout",
                    "spanKind": 2,
                    "spanCount": 1200,
                    "errorCount": 3,
                    "p50Ms": 12.5,
                    "p95Ms": 250.0,
                    "p99Ms": 1830.0,
                },
                {
                    "name": "render",
                    "spanKind": "SPAN_KIND_INTERNAL",
                    "spanCount": 7,
                    "errorCount": 0,
                    "p50Ms": 0.25,
                    "p95Ms": None,
                    "p99Ms": None,
                },
            ]
        }
    )


async def _search_traces(request: Request) -> Response:
    _record(request)
    return JSONResponse(
        {
            "traces": [
                {
                    "traceId": TRACE_ID,
                    "rootServiceName": "frontend",
                    "rootSpanName": "GET /checkout",
                    "startTimeUnixNano": str(T0),
                    "durationMs": 120.0,
                    "spanCount": 3,
                    "errorCount": 1,
                    "services": ["frontend", "payments"],
                }
            ]
        }
    )


async def _trace(request: Request) -> Response:
    _record(request)
    if request.path_params["trace_id"] != TRACE_ID:
        return JSONResponse({"error": "trace not found"}, status_code=404)
    return JSONResponse({"batches": request_to_json(sample_traces())["resourceSpans"]})


async def _search_logs(request: Request) -> Response:
    _record(request)
    return JSONResponse(
        {
            "logs": [
                {
                    "timeUnixNano": str(T0 + 50_000_000),
                    "severityNumber": 17,
                    "severityText": "ERROR",
                    "body": {"stringValue": "card declined\nretrying"},
                    "serviceName": "payments",
                    "traceId": TRACE_ID,
                    "spanId": "b2" * 8,
                    "attributes": [{"key": "card.kind", "value": {"stringValue": "visa"}}],
                    "eventName": "",
                },
                {
                    "timeUnixNano": str(T0 + 60_000_000),
                    "severityNumber": 9,
                    "severityText": "",
                    "body": {
                        "kvlistValue": {"values": [{"key": "n", "value": {"intValue": "42"}}]}
                    },
                    "serviceName": "payments",
                    "traceId": "",
                    "spanId": "",
                    "attributes": [],
                    "eventName": "",
                },
            ]
        }
    )


async def _metrics(request: Request) -> Response:
    _record(request)
    return JSONResponse(
        {
            "metrics": [
                {
                    "name": "http.requests",
                    "type": "sum",
                    "unit": "1",
                    "description": "requests served",
                    "seriesCount": 1,
                }
            ]
        }
    )


async def _series(request: Request) -> Response:
    _record(request)
    if request.path_params["name"] != "http.requests":
        return JSONResponse({"series": []})
    return JSONResponse(
        {
            "series": [
                {
                    "attributes": {"route": "/checkout"},
                    "resource": {"service.name": "frontend"},
                    "points": [
                        {"timeUnixNano": str(T0 + 10**9), "value": 3},
                        {"timeUnixNano": str(T0 + 2 * 10**9), "value": 5},
                    ],
                },
                {
                    "type": "histogram",
                    "attributes": {},
                    "resource": {},
                    "points": [
                        {
                            "timeUnixNano": str(T0),
                            "count": 4,
                            "sum": 10.5,
                            "min": None,
                            "max": 7.0,
                            "bucketCounts": [1, 3],
                            "explicitBounds": [5.0],
                        }
                    ],
                },
            ]
        }
    )


async def _export(request: Request) -> Response:
    _record(request)
    try:
        signal = Signal(request.query_params.get("signal", ""))
    except ValueError:
        return JSONResponse({"error": "signal must be traces, metrics or logs"}, status_code=400)

    async def lines() -> AsyncIterator[bytes]:
        for exported in EXPORTS[signal]:
            yield encode_request_json(exported) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


app = Starlette(
    routes=[
        Route("/api/services", _services),
        Route("/api/services/{service}/operations", _operations),
        Route("/api/search/traces", _search_traces),
        Route("/api/traces/{trace_id}", _trace),
        Route("/api/search/logs", _search_logs),
        Route("/api/metrics", _metrics),
        Route("/api/metrics/{name}/series", _series),
        Route("/api/export", _export),
    ]
)
