"""Hand-written spans, log records and metric points that use every field and every kind
of value."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AGGREGATION_TEMPORALITY_DELTA, Metric
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
)

T0 = 1_700_000_000_000_000_000
TRACE_A = bytes(range(1, 17))
TRACE_B = bytes(range(17, 33))


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def every_value() -> list[KeyValue]:
    """One attribute per kind of value, including the awkward ones."""
    nested = KeyValueList(
        values=[
            kv("inner", kvlist_value=KeyValueList(values=[kv("deep", int_value=1)])),
            kv("list", array_value=ArrayValue(values=[AnyValue(bool_value=False), AnyValue()])),
            KeyValue(key="no value"),
        ]
    )
    return [
        kv("string", string_value="hello ✓"),
        kv("empty string", string_value=""),
        kv("looks like int", string_value="42"),
        kv("int", int_value=42),
        kv("int min", int_value=-(2**63)),
        kv("int max", int_value=2**63 - 1),
        kv("zero", int_value=0),
        kv("double", double_value=0.1),
        kv("double whole", double_value=2.0),
        kv("double tiny", double_value=5e-324),
        kv("nan", double_value=math.nan),
        kv("inf", double_value=math.inf),
        kv("-inf", double_value=-math.inf),
        kv("-0", double_value=-0.0),
        kv("true", bool_value=True),
        kv("false", bool_value=False),
        kv("bytes", bytes_value=b"\x00\xff\x10raw"),
        kv("empty bytes", bytes_value=b""),
        kv(
            "array",
            array_value=ArrayValue(
                values=[
                    AnyValue(string_value="a"),
                    AnyValue(int_value=1),
                    AnyValue(double_value=1.5),
                    AnyValue(array_value=ArrayValue()),
                ]
            ),
        ),
        kv("empty array", array_value=ArrayValue()),
        kv("kvlist", kvlist_value=nested),
        kv("empty kvlist", kvlist_value=KeyValueList()),
        KeyValue(key="empty value"),
        kv("", string_value="empty key"),
    ]


def resource(service: str, *extra: KeyValue) -> Resource:
    return Resource(
        attributes=[kv("service.name", string_value=service), *extra],
        dropped_attributes_count=3,
    )


def scope(name: str) -> InstrumentationScope:
    return InstrumentationScope(
        name=name,
        version="1.0",
        attributes=[kv("scope.attr", int_value=7)],
        dropped_attributes_count=1,
    )


def span(trace_id: bytes, span_id: int, start: int, end: int | None = None, **fields: Any) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id.to_bytes(8, "big"),
        name=fields.pop("name", f"span {span_id}"),
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1000 if end is None else end,
        **fields,
    )


def full_span() -> Span:
    """A span with every field set to something other than its default."""
    return Span(
        trace_id=TRACE_A,
        span_id=b"\x01\x02\x03\x04\x05\x06\x07\x08",
        trace_state="vendor=a,other=b",
        parent_span_id=b"\x08\x07\x06\x05\x04\x03\x02\x01",
        flags=0x301,
        name="GET /checkout",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=T0 + 1,
        end_time_unix_nano=T0 + 5_000_000_007,
        attributes=every_value(),
        dropped_attributes_count=4,
        events=[
            Span.Event(
                time_unix_nano=T0 + 3,
                name="exception",
                attributes=every_value(),
                dropped_attributes_count=2,
            ),
            Span.Event(time_unix_nano=0, name=""),
        ],
        dropped_events_count=5,
        links=[
            Span.Link(
                trace_id=TRACE_B,
                span_id=b"\xaa" * 8,
                trace_state="k=v",
                attributes=[kv("link.kind", string_value="follows"), kv("n", int_value=-1)],
                dropped_attributes_count=6,
                flags=0x100,
            ),
            Span.Link(trace_id=TRACE_B, span_id=b"\xbb" * 8),
        ],
        dropped_links_count=7,
        status=Status(code=Status.STATUS_CODE_ERROR, message="card declined"),
    )


def trace_request() -> ExportTraceServiceRequest:
    """Two resources, three scopes: a full span plus plain ones, one ending before it starts."""
    backwards = span(TRACE_B, 3, T0 + 10_000, T0 + 4_000, name="clock skew")
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource("checkout", *every_value()),
                schema_url="https://opentelemetry.io/schemas/1.26.0",
                scope_spans=[
                    ScopeSpans(
                        scope=scope("shop"),
                        schema_url="https://scope/1",
                        spans=[full_span(), span(TRACE_A, 2, T0 + 2)],
                    ),
                    ScopeSpans(scope=InstrumentationScope(), spans=[backwards]),
                ],
            ),
            ResourceSpans(
                resource=resource("payments"),
                scope_spans=[ScopeSpans(scope=scope("pay"), spans=[span(TRACE_A, 4, T0 + 50)])],
            ),
        ]
    )


def full_log() -> LogRecord:
    return LogRecord(
        time_unix_nano=T0 + 11,
        observed_time_unix_nano=T0 + 12,
        severity_number=SeverityNumber.SEVERITY_NUMBER_WARN,
        severity_text="WARN",
        body=AnyValue(string_value="payment slow"),
        attributes=every_value(),
        dropped_attributes_count=3,
        flags=1,
        trace_id=TRACE_A,
        span_id=b"\x01" * 8,
        event_name="shop.payment",
    )


def log_bodies() -> list[AnyValue | None]:
    """Every kind of body, and none."""
    return [
        None,
        AnyValue(),
        AnyValue(string_value=""),
        AnyValue(string_value="text"),
        *(item.value for item in every_value()),
    ]


def logs_request() -> ExportLogsServiceRequest:
    records = [full_log()]
    for i, body in enumerate(log_bodies()):
        record = LogRecord(
            time_unix_nano=T0 + 100 + i, severity_number=SeverityNumber.SEVERITY_NUMBER_INFO
        )
        if body is not None:
            record.body.CopyFrom(body)
        records.append(record)
    # No time of its own: stored at its observed time, and sent back without one.
    records.append(LogRecord(observed_time_unix_nano=T0 + 500, body=AnyValue(int_value=5)))
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource("checkout"),
                schema_url="https://opentelemetry.io/schemas/1.26.0",
                scope_logs=[ScopeLogs(scope=scope("logs"), schema_url="s", log_records=records)],
            )
        ]
    )


def traces(*spans: Span) -> ExportTraceServiceRequest:
    """One request holding ``spans`` under an empty resource and a scope named ``test``."""
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    scope_spans.scope.name = "test"
    scope_spans.spans.extend(spans)
    return request


def decoded(table: pa.Table) -> pa.Table:
    """A flattened table with its dictionary-encoded columns decoded, as storage returns it."""
    for index, field in enumerate(table.schema):
        if isinstance(field.type, pa.DictionaryType):
            column = table.column(index)
            value_type = field.type.value_type
            chunks = [chunk.dictionary_decode() for chunk in column.chunks]
            table = table.set_column(
                index, field.with_type(value_type), pa.chunked_array(chunks, value_type)
            )
    return table


def metrics_request() -> ExportMetricsServiceRequest:
    gauge = Metric(name="temperature", unit="Cel", metadata=[kv("origin", string_value="x")])
    gauge.gauge.data_points.add(
        time_unix_nano=T0 + 1, as_int=3, attributes=[kv("room", int_value=1)]
    )
    gauge.gauge.data_points.add(time_unix_nano=T0 + 2, as_double=21.5)
    counter = Metric(name="requests")
    counter.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_DELTA
    counter.sum.is_monotonic = True
    counter.sum.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 3, as_int=7)
    histogram = Metric(name="latency", unit="ms")
    histogram.histogram.data_points.add(
        time_unix_nano=T0 + 4, count=3, sum=1.5, bucket_counts=[1, 2], explicit_bounds=[1.0]
    )
    request = ExportMetricsServiceRequest()
    scope_metrics = request.resource_metrics.add().scope_metrics.add()
    scope_metrics.metrics.extend([gauge, counter, histogram])
    return request
