"""Aliases and small value types shared across the data path."""

from __future__ import annotations

import enum
from typing import TypeAlias

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

__all__ = [
    "ExportLogsServiceRequest",
    "ExportLogsServiceResponse",
    "ExportMetricsServiceRequest",
    "ExportMetricsServiceResponse",
    "ExportRequest",
    "ExportResponse",
    "ExportTraceServiceRequest",
    "ExportTraceServiceResponse",
    "Signal",
    "SpanId",
    "TraceId",
    "UnixNano",
]

TraceId: TypeAlias = bytes
"""16 raw bytes; rendered as 32 lowercase hex characters at the edges."""
SpanId: TypeAlias = bytes
"""8 raw bytes; rendered as 16 lowercase hex characters at the edges."""
UnixNano: TypeAlias = int
"""Nanoseconds since the Unix epoch, as OTLP carries time."""

ExportRequest: TypeAlias = (
    ExportTraceServiceRequest | ExportMetricsServiceRequest | ExportLogsServiceRequest
)
ExportResponse: TypeAlias = (
    ExportTraceServiceResponse | ExportMetricsServiceResponse | ExportLogsServiceResponse
)


class Signal(enum.StrEnum):
    """The three OTLP signals; the value is the path segment OTLP/HTTP uses."""

    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"

    @property
    def request_type(self) -> type[ExportRequest]:
        return _REQUEST_TYPES[self]

    @property
    def response_type(self) -> type[ExportResponse]:
        return _RESPONSE_TYPES[self]


_REQUEST_TYPES: dict[Signal, type[ExportRequest]] = {
    Signal.TRACES: ExportTraceServiceRequest,
    Signal.METRICS: ExportMetricsServiceRequest,
    Signal.LOGS: ExportLogsServiceRequest,
}
_RESPONSE_TYPES: dict[Signal, type[ExportResponse]] = {
    Signal.TRACES: ExportTraceServiceResponse,
    Signal.METRICS: ExportMetricsServiceResponse,
    Signal.LOGS: ExportLogsServiceResponse,
}
