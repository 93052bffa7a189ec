"""The analysis queries, over the same filled stores as the other queries: the service
graph, the critical path of one large trace and of many traces, and a group comparison.

The bench's generated traces are small (a request's tens of spans), so the critical path
of "one 1,000-span trace" needs a trace of that size: :func:`big_trace` makes one (a
batch job fanning out to workers, each with its own calls, some overlapping, some
outliving their parent), sent once to each store before the queries start.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from bench._server import OteliteProcess, wait_until
from otelite.types import ExportTraceServiceRequest

__all__ = [
    "ANALYSIS_COMPARE",
    "ANALYSIS_CRITICAL_PATH",
    "ANALYSIS_CRITICAL_PATHS",
    "ANALYSIS_SERVICE_GRAPH",
    "BIG_TRACE_SPANS",
    "analysis_queries",
    "big_trace",
    "send_big_trace",
]

BIG_TRACE_SPANS = 1000
ANALYSIS_SERVICE_GRAPH = "service graph, last hour"
ANALYSIS_CRITICAL_PATH = f"critical path of one {BIG_TRACE_SPANS:,}-span trace"
ANALYSIS_CRITICAL_PATHS = "critical path of 1,000 traces against the rest, last hour"
ANALYSIS_COMPARE = "group comparison: errors against the rest, last hour"

_MS = 10**6


def _attribute(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def big_trace(end_ns: int, *, seed: int = 11) -> tuple[ExportTraceServiceRequest, bytes]:
    """A trace of :data:`BIG_TRACE_SPANS` spans ending near ``end_ns``, and its id."""
    rng = random.Random(seed)
    trace_id = rng.randbytes(16)
    start = end_ns - 15_000 * _MS
    spans: list[Span] = []

    def span(name: str, parent: bytes, begin: int, length: int, kind: int) -> bytes:
        span_id = rng.randbytes(8)
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=parent,
                name=name,
                kind=kind,  # type: ignore[arg-type]
                start_time_unix_nano=begin,
                end_time_unix_nano=begin + length,
                status=Status(code=Status.STATUS_CODE_OK),
            )
        )
        return span_id

    root = span("nightly-reindex", b"", start, 10_000 * _MS, Span.SPAN_KIND_SERVER)
    # Workers of 9 spans each (a worker, 4 calls, each with a database call under it),
    # started in waves that overlap; a few outlive the root.
    at = start + 5 * _MS
    while len(spans) + 9 <= BIG_TRACE_SPANS:
        length = rng.randint(200, 4000) * _MS
        worker = span("reindex-batch", root, at, length, Span.SPAN_KIND_INTERNAL)
        step = at
        for _ in range(4):
            call = rng.randint(10, length // _MS // 4) * _MS
            client = span("GET /documents", worker, step, call, Span.SPAN_KIND_CLIENT)
            span("SELECT documents", client, step + _MS, call - 2 * _MS, Span.SPAN_KIND_CLIENT)
            step += call + rng.randint(0, 5) * _MS
        at += rng.randint(20, 150) * _MS
    while len(spans) < BIG_TRACE_SPANS:
        span("flush", root, at, 3 * _MS, Span.SPAN_KIND_INTERNAL)
        at += 4 * _MS
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_attribute("service.name", "indexer")]),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    return request, trace_id


def send_big_trace(server: OteliteProcess) -> bytes:
    """Send :func:`big_trace` to ``server`` over OTLP/HTTP and wait until it is readable."""
    request, trace_id = big_trace(time.time_ns() - 5 * 60_000 * _MS)
    response = httpx.post(
        f"http://127.0.0.1:{server.http_port}/v1/traces",
        content=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=60,
    )
    response.raise_for_status()
    path = f"{server.url}/api/traces/{trace_id.hex()}"
    wait_until(
        lambda: httpx.get(path, timeout=60).status_code == 200,
        timeout=120,
        what="the 1,000-span trace to be stored",
        every=0.25,
    )
    return trace_id


def analysis_queries(big_trace_id: bytes) -> list[tuple[str, Callable[[], str]]]:
    """The analysis requests, as the UI and API users send them."""
    hour = {"start": "now-1h", "end": "now"}
    graph = "/api/service-graph?" + urlencode(hour)
    path = f"/api/traces/{big_trace_id.hex()}/critical-path"
    paths = "/api/critical-path?" + urlencode({"q": "{ }", "limit": "1000", **hour})
    compare = "/api/compare?" + urlencode({"selection": "{ status = error }", **hour})
    return [
        (ANALYSIS_SERVICE_GRAPH, lambda: graph),
        (ANALYSIS_CRITICAL_PATH, lambda: path),
        (ANALYSIS_CRITICAL_PATHS, lambda: paths),
        (ANALYSIS_COMPARE, lambda: compare),
    ]
