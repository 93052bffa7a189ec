"""Requests to services at chosen times, for SLO tests: each a server span, failed or not."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.types import ExportTraceServiceRequest

MS = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_ids = itertools.count(1)


def request(
    at_ns: int,
    *,
    failed: bool = False,
    duration_ms: int = 10,
    name: str = "POST /charge",
    kind: int = Span.SPAN_KIND_SERVER,
) -> Span:
    """One request starting at ``at_ns``; a fresh trace of its own."""
    number = next(_ids)
    return Span(
        trace_id=number.to_bytes(16, "big"),
        span_id=number.to_bytes(8, "big"),
        parent_span_id=b"\x00" * 7 + b"\x01" if kind == Span.SPAN_KIND_INTERNAL else b"",
        name=name,
        kind=kind,
        start_time_unix_nano=at_ns,
        end_time_unix_nano=at_ns + duration_ms * MS,
        status=Status(code=Status.STATUS_CODE_ERROR if failed else Status.STATUS_CODE_OK),
    )


def batch(service: str, spans: Iterable[Span]) -> ExportTraceServiceRequest:
    """The spans as one export request from ``service``."""
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]
    )
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )


def spread(start_ns: int, end_ns: int, count: int, **fields: object) -> list[Span]:
    """``count`` requests evenly inside ``[start_ns, end_ns)``, away from its edges."""
    step = (end_ns - start_ns) // (count + 1)
    return [request(start_ns + step * (n + 1), **fields) for n in range(count)]  # type: ignore[arg-type]
