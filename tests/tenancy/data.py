"""What two tenants send: tenant A the API samples, tenant B a small set of its own."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)
from tests.api import samples
from tests.api.samples import MS, T0, TRACE_A, kv, resource

TRACE_OF_B = bytes.fromhex("cd" * 16)


def tenant_a() -> dict[Signal, ExportRequest]:
    return {
        Signal.TRACES: samples.traces(),
        Signal.LOGS: samples.logs(),
        Signal.METRICS: samples.metrics(),
    }


def tenant_b() -> dict[Signal, ExportRequest]:
    at = T0 + 5_000 * MS
    span = Span(
        trace_id=TRACE_OF_B,
        span_id=(77).to_bytes(8, "big"),
        name="bravo-op",
        start_time_unix_nano=at,
        end_time_unix_nano=at + 30 * MS,
        attributes=[kv("bravo.key", string_value="bravo-value")],
    )
    record = LogRecord(
        time_unix_nano=at,
        severity_number=9,
        body=AnyValue(string_value="bravo says hi"),
        trace_id=TRACE_OF_B,
    )
    gauge = Metric(
        name="bravo.gauge",
        gauge=Gauge(
            data_points=[
                NumberDataPoint(
                    as_int=7,
                    time_unix_nano=at,
                    exemplars=[Exemplar(time_unix_nano=at, as_int=7, trace_id=TRACE_OF_B)],
                )
            ]
        ),
    )
    return {
        Signal.TRACES: ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(resource=resource("bravo"), scope_spans=[ScopeSpans(spans=[span])])
            ]
        ),
        Signal.LOGS: ExportLogsServiceRequest(
            resource_logs=[
                ResourceLogs(
                    resource=resource("bravo"), scope_logs=[ScopeLogs(log_records=[record])]
                )
            ]
        ),
        Signal.METRICS: ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(
                    resource=resource("bravo"), scope_metrics=[ScopeMetrics(metrics=[gauge])]
                )
            ]
        ),
    }


# Tag names for the tag value routes: an attribute name (v1), a TraceQL field (v2).
TAGS = {"tag": "service.name", "field": "resource.service.name", "label": "job"}
# Path parameters naming each tenant's own things, to ask every tenant about both.
ENTITIES = {
    "A": {"traceId": TRACE_A.hex(), "service": "cart", "name": "queue.depth", **TAGS},
    "B": {"traceId": TRACE_OF_B.hex(), "service": "bravo", "name": "bravo.gauge", **TAGS},
}
