"""OTLP requests for the API tests: two services, three traces, logs and every metric type.

Times are minutes before the session started, so the API's default window (the last hour)
covers them.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
    Summary,
    SummaryDataPoint,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
)

MS = 1_000_000
T0 = (time.time_ns() // 10**9 - 600) * 10**9
TRACE_A = bytes.fromhex("a1" * 16)
TRACE_B = bytes.fromhex("b2" * 16)
SHORT_TRACE = bytes.fromhex("00" * 14 + "0abc")
INJECTION = "'; DROP TABLE otel_traces; --"


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def resource(service: str, *extra: KeyValue) -> Resource:
    return Resource(attributes=[kv("service.name", string_value=service), *extra])


def span(
    trace: bytes, span_id: int, name: str, start_ms: int, duration_ms: int, **fields: Any
) -> Span:
    parent = fields.pop("parent", None)
    return Span(
        trace_id=trace,
        span_id=span_id.to_bytes(8, "big"),
        parent_span_id=b"" if parent is None else parent.to_bytes(8, "big"),
        name=name,
        start_time_unix_nano=T0 + start_ms * MS,
        end_time_unix_nano=T0 + (start_ms + duration_ms) * MS,
        **fields,
    )


def traces() -> ExportTraceServiceRequest:
    frontend = [
        span(
            TRACE_A,
            1,
            "GET /cart",
            0,
            100,
            kind=Span.SPAN_KIND_SERVER,
            attributes=[
                kv("http.status_code", int_value=500),
                kv("http.route", string_value="/cart"),
            ],
        ),
        span(
            TRACE_B,
            4,
            "POST /checkout",
            1000,
            400,
            kind=Span.SPAN_KIND_SERVER,
            attributes=[
                kv("http.status_code", int_value=200),
                kv(INJECTION, string_value=INJECTION),
            ],
        ),
    ]
    cart = [
        span(
            TRACE_A,
            2,
            "cart.get",
            10,
            80,
            parent=1,
            status=Status(code=Status.STATUS_CODE_ERROR, message="boom"),
        ),
        span(TRACE_B, 5, "cart.get", 1100, 20, parent=4),
        span(SHORT_TRACE, 6, "cart.sweep", 2000, 5),
    ]
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("frontend", kv("host.name", string_value="h1")),
                scope_spans=[ScopeSpans(spans=frontend)],
            ),
            ResourceSpans(resource=resource("cart"), scope_spans=[ScopeSpans(spans=cart)]),
        ]
    )


def logs() -> ExportLogsServiceRequest:
    records = [
        LogRecord(
            time_unix_nano=T0 + 5 * MS,
            observed_time_unix_nano=T0 + 6 * MS,
            severity_number=9,
            severity_text="INFO",
            body=AnyValue(string_value="cart loaded"),
            trace_id=TRACE_A,
            span_id=(2).to_bytes(8, "big"),
            attributes=[kv("user", string_value="alice")],
        ),
        LogRecord(
            observed_time_unix_nano=T0 + 15 * MS,
            severity_number=17,
            severity_text="ERROR",
            body=AnyValue(
                kvlist_value=KeyValueList(values=[kv("reason", string_value="Timeout FAILED")])
            ),
            trace_id=TRACE_A,
            attributes=[kv("attempt", int_value=3)],
            event_name="cart.failed",
        ),
        LogRecord(
            time_unix_nano=T0 + 25 * MS,
            observed_time_unix_nano=T0 + 26 * MS,
            severity_number=13,
            severity_text="WARN",
        ),
    ]
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(resource=resource("cart"), scope_logs=[ScopeLogs(log_records=records)])
        ]
    )


def metrics() -> ExportMetricsServiceRequest:
    def at(seconds: int) -> dict[str, int]:
        return {"start_time_unix_nano": T0, "time_unix_nano": T0 + seconds * 10**9}

    queue = [
        NumberDataPoint(attributes=[kv("queue", string_value=q)], as_double=float(i), **at(i))
        for q in ("a", "b")
        for i in range(1, 3)
    ]
    items = [
        Metric(
            name="queue.depth",
            unit="{items}",
            description="items waiting",
            gauge=Gauge(data_points=queue),
        ),
        Metric(
            name="requests",
            unit="1",
            sum=Sum(
                aggregation_temporality=2,
                is_monotonic=True,
                data_points=[
                    NumberDataPoint(
                        as_int=7,
                        attributes=[kv("code", int_value=200)],
                        # The request that made the count 7, in TRACE_A.
                        exemplars=[
                            Exemplar(
                                time_unix_nano=T0 + 500_000_000,
                                as_int=1,
                                trace_id=TRACE_A,
                                span_id=bytes.fromhex("a2" * 8),
                                filtered_attributes=[kv("user", string_value="ann")],
                            )
                        ],
                        **at(1),
                    )
                ],
            ),
        ),
        Metric(
            name="latency",
            unit="ms",
            histogram=Histogram(
                aggregation_temporality=2,
                data_points=[
                    HistogramDataPoint(
                        count=3,
                        sum=12.5,
                        min=1.0,
                        max=9.0,
                        bucket_counts=[1, 2],
                        explicit_bounds=[5.0],
                        exemplars=[
                            Exemplar(
                                time_unix_nano=T0 + 700_000_000,
                                as_double=3.0,
                                trace_id=TRACE_B,
                            )
                        ],
                        **at(1),
                    )
                ],
            ),
        ),
        Metric(
            name="size",
            unit="By",
            exponential_histogram=ExponentialHistogram(
                aggregation_temporality=2,
                data_points=[
                    ExponentialHistogramDataPoint(
                        count=4,
                        sum=10.0,
                        scale=1,
                        zero_count=1,
                        positive=ExponentialHistogramDataPoint.Buckets(
                            offset=2, bucket_counts=[1, 2]
                        ),
                        exemplars=[
                            Exemplar(
                                time_unix_nano=T0 + 800_000_000,
                                as_double=2.5,
                                trace_id=TRACE_B,
                            )
                        ],
                        **at(1),
                    )
                ],
            ),
        ),
        Metric(
            name="rtt",
            unit="s",
            summary=Summary(
                data_points=[
                    SummaryDataPoint(
                        count=2,
                        sum=3.0,
                        quantile_values=[SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=1.5)],
                        **at(1),
                    )
                ]
            ),
        ),
    ]
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=resource("cart", kv("host.name", string_value="box-1")),
                scope_metrics=[ScopeMetrics(metrics=items)],
            )
        ]
    )
