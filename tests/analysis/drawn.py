"""Traces drawn by hand for the comparison tests: spans as (id, parent, service, name,
start ms, end ms), and two versions of one checkout request."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.storage import WriteBatch
from otelite.types import ExportTraceServiceRequest

MS = 1_000_000
T0 = 1_700_000_000 * 10**9
ID_A, ID_B = "0a" * 16, "0b" * 16


@dataclass(frozen=True)
class S:
    """A span as drawn: id, parent id (0: none), service, name, start and end in ms."""

    id: int
    parent: int
    service: str
    name: str
    start: int
    end: int
    error: bool = False


def trace(
    spans: list[S], *, offset_ms: int = 0, trace_id: bytes = b"\x01" * 16
) -> ExportTraceServiceRequest:
    """One request, a resource per service, the spans in the order given."""
    by_service: dict[str, list[Span]] = {}
    for s in spans:
        by_service.setdefault(s.service, []).append(
            Span(
                trace_id=trace_id,
                span_id=s.id.to_bytes(8, "big"),
                parent_span_id=s.parent.to_bytes(8, "big") if s.parent else b"",
                name=s.name,
                start_time_unix_nano=T0 + (offset_ms + s.start) * MS,
                end_time_unix_nano=T0 + (offset_ms + s.end) * MS,
                status=Status(code=Status.STATUS_CODE_ERROR if s.error else 0),
            )
        )
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key="service.name", value=AnyValue(string_value=svc))]
                ),
                scope_spans=[ScopeSpans(spans=found)],
            )
            for svc, found in by_service.items()
        ]
    )


ROOT = ("frontend", "GET /checkout")
CART = ("cart", "GetCart")
ORDER = ("checkout", "PlaceOrder")
INSERT = ("db", "INSERT")
CHARGE = ("payments", "Charge")
PROVIDER = ("provider", "POST")
RECOMMEND = ("recommend", "List")

#   a: GET /checkout 0-100
#        GetCart 10-30 · PlaceOrder 30-90 [INSERT 40-50, INSERT 50-60, Charge 60-85]
#        List 90-95
A = [
    S(1, 0, *ROOT, 0, 100),
    S(2, 1, *CART, 10, 30),
    S(3, 1, *ORDER, 30, 90),
    S(4, 3, *INSERT, 40, 50),
    S(5, 3, *INSERT, 50, 60),
    S(6, 3, *CHARGE, 60, 85),
    S(7, 1, *RECOMMEND, 90, 95),
]
#   b: GET /checkout 0-200
#        GetCart 10-15 · PlaceOrder 30-190 [INSERT 40-50, INSERT 50-61, INSERT 61-70,
#        Charge 70-180 [POST 75-175 (error)]]          (no List)
# Different span ids, and the whole trace an hour later: alignment is by path alone.
B = [
    S(11, 0, *ROOT, 0, 200),
    S(12, 11, *CART, 10, 15),
    S(13, 11, *ORDER, 30, 190),
    S(14, 13, *INSERT, 40, 50),
    S(15, 13, *INSERT, 50, 61),
    S(16, 13, *INSERT, 61, 70),
    S(17, 13, *CHARGE, 70, 180),
    S(18, 17, *PROVIDER, 75, 175, error=True),
]


def checkout_batch() -> WriteBatch:
    """Trace ``A`` (id ``ID_A``) and, an hour later, trace ``B`` (``ID_B``)."""
    return WriteBatch(
        traces=[
            trace(A, trace_id=bytes.fromhex(ID_A)),
            trace(B, offset_ms=3_600_000, trace_id=bytes.fromhex(ID_B)),
        ]
    )
