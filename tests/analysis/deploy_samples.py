"""Hand-built requests of services whose ``service.version`` changes, and a reference RED.

Every service takes one request every 10 s; each request is a server span (the service's
entry span) with an internal child span that RED must not count. The versions:

* ``clean``: 1.0 until 30 min, then 2.0 (a clean switch);
* ``rolling``: 1.0 until 40 min, and 2.0 from 30:05 (ten minutes of overlap);
* ``rollback``: a until 20 min, b until 40 min, then a again;
* ``paused``: 1.0 until 10 min, no traffic, then 1.1 from 50 min;
* ``steady``: one version throughout (no deploy);
* ``unversioned``: no ``service.version`` at all.

Version 2.0 and b are slower, and every fourth of their requests fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.types import ExportTraceServiceRequest

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
MS = 1_000_000
T0 = 1_700_000_000 * SECOND
"""The start of the range the tests read; it ends at ``T0 + 2h``."""
END = T0 + 120 * MINUTE
HORIZON = 60 * MINUTE
"""Requests stop an hour in."""


@dataclass(frozen=True, slots=True)
class Request:
    service: str
    version: str | None
    start_ns: int
    duration_ns: int
    error: bool


def _every_10s(
    service: str, version: str | None, start: int, end: int, offset: int = 0, slow: bool = False
) -> Iterator[Request]:
    """Requests of one version from ``start`` to ``end`` (ns after ``T0``), 10 s apart."""
    for i, at in enumerate(range(start + offset, end, 10 * SECOND)):
        base = 40 if slow else 10
        yield Request(
            service,
            version,
            T0 + at,
            (base + i % 7) * MS,
            error=slow and i % 4 == 0,
        )


def requests() -> list[Request]:
    """Every request of every service."""
    m = MINUTE
    return [
        *_every_10s("clean", "1.0", 0, 30 * m),
        *_every_10s("clean", "2.0", 30 * m, HORIZON, slow=True),
        *_every_10s("rolling", "1.0", 0, 40 * m),
        *_every_10s("rolling", "2.0", 30 * m, HORIZON, offset=5 * SECOND, slow=True),
        *_every_10s("rollback", "a", 0, 20 * m),
        *_every_10s("rollback", "b", 20 * m, 40 * m, slow=True),
        *_every_10s("rollback", "a", 40 * m, HORIZON),
        *_every_10s("paused", "1.0", 0, 10 * m),
        *_every_10s("paused", "1.1", 50 * m, HORIZON),
        *_every_10s("steady", "3.1", 0, HORIZON),
        *_every_10s("unversioned", None, 0, HORIZON),
    ]


def export_request() -> ExportTraceServiceRequest:
    """The requests as OTLP: one resource per (service, version)."""
    groups: dict[tuple[str, str | None], list[Span]] = {}
    for n, r in enumerate(requests()):
        trace = (n + 1).to_bytes(16, "big")
        server = Span(
            trace_id=trace,
            span_id=(2 * n + 1).to_bytes(8, "big"),
            name="GET /",
            kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=r.start_ns,
            end_time_unix_nano=r.start_ns + r.duration_ns,
            status=Status(code=Status.STATUS_CODE_ERROR if r.error else Status.STATUS_CODE_OK),
        )
        child = Span(
            trace_id=trace,
            span_id=(2 * n + 2).to_bytes(8, "big"),
            parent_span_id=server.span_id,
            name="work",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=r.start_ns + MS,
            end_time_unix_nano=r.start_ns + MS + 5 * r.duration_ns,
            status=Status(code=Status.STATUS_CODE_ERROR),
        )
        groups.setdefault((r.service, r.version), []).extend((server, child))
    resources = []
    for (service, version), spans in groups.items():
        attributes = [KeyValue(key="service.name", value=AnyValue(string_value=service))]
        if version is not None:
            attributes.append(KeyValue(key="service.version", value=AnyValue(string_value=version)))
        resources.append(
            ResourceSpans(
                resource=Resource(attributes=attributes),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        )
    return ExportTraceServiceRequest(resource_spans=resources)


@dataclass(frozen=True, slots=True)
class Expected:
    """RED of a set of requests over a window of ``seconds``, worked out independently."""

    requests: int
    errors: int
    p50_ns: float
    p95_ns: float
    p99_ns: float
    seconds: float


def expected_red(service: str, start_ns: int, end_ns: int, version: str | None = None) -> Expected:
    """RED of ``service`` (of one ``version`` when given) over ``[start_ns, end_ns)``."""
    chosen = [
        r
        for r in requests()
        if r.service == service
        and start_ns <= r.start_ns < end_ns
        and (version is None or r.version == version)
    ]
    durations = sorted(r.duration_ns for r in chosen)
    return Expected(
        len(chosen),
        sum(r.error for r in chosen),
        *(_quantile(durations, q) for q in (0.5, 0.95, 0.99)),
        seconds=(end_ns - start_ns) / SECOND,
    )


def _quantile(ordered: list[int], q: float) -> float:
    """Linear interpolation between the closest ranks (Hyndman and Fan's type 7)."""
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])
