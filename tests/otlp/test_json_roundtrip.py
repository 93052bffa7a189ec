"""Round-trip tables: hand-written messages that together set every field of OTLP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    EntityRef,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.otlp import (
    decode_request_json,
    decode_response_json,
    encode_request_json,
    encode_response_json,
    request_from_json,
    request_to_json,
)
from otelite.types import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    ExportRequest,
    ExportResponse,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    Signal,
)
from tests.strategies import same_message

TRACE_ID = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN_ID = bytes.fromhex("b7ad6b7169203331")
MAX_U64 = 2**64 - 1
MAX_I64 = 2**63 - 1
MIN_I64 = -(2**63)


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


# Every AnyValue kind, extremes of each range, nesting, and the presence cases.
ATTRIBUTES = [
    kv("s", string_value='héllo ☃ \x00 "quoted"'),
    kv("empty.string", string_value=""),
    kv("b", bool_value=False),
    kv("i.max", int_value=MAX_I64),
    kv("i.min", int_value=MIN_I64),
    kv("i.zero", int_value=0),
    kv("d", double_value=-0.0),
    kv("d.nan", double_value=math.nan),
    kv("d.inf", double_value=math.inf),
    kv("d.ninf", double_value=-math.inf),
    kv("d.tiny", double_value=5e-324),
    kv("bytes", bytes_value=b"\x00\xff\xfe binary"),
    kv("bytes.empty", bytes_value=b""),
    kv("array.empty", array_value=ArrayValue()),
    kv("kvlist.empty", kvlist_value=KeyValueList()),
    kv(
        "nested",
        array_value=ArrayValue(
            values=[
                AnyValue(),
                AnyValue(int_value=1),
                AnyValue(kvlist_value=KeyValueList(values=[kv("inner", double_value=1.5)])),
            ]
        ),
    ),
    kv("empty.value"),
    KeyValue(key="no.value"),
    KeyValue(key="", value=AnyValue(string_value_strindex=7), key_strindex=3),
    kv("duplicate", string_value="first"),
    kv("duplicate", string_value="second"),
]

RESOURCE = Resource(
    attributes=ATTRIBUTES,
    dropped_attributes_count=4,
    entity_refs=[
        EntityRef(
            schema_url="https://opentelemetry.io/schemas/1.30.0",
            type="service",
            id_keys=["service.name", "service.namespace"],
            description_keys=["service.version"],
        )
    ],
)
SCOPE = InstrumentationScope(
    name="lib",
    version="2.0",
    attributes=[kv("scope.attr", int_value=1)],
    dropped_attributes_count=2,
)

FULL_SPAN = Span(
    trace_id=TRACE_ID,
    span_id=SPAN_ID,
    trace_state="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    parent_span_id=bytes.fromhex("00f067aa0ba902b7"),
    flags=0x301,
    name="GET /users/{id}",
    kind=Span.SPAN_KIND_CLIENT,
    start_time_unix_nano=1_700_000_000_000_000_000,
    end_time_unix_nano=MAX_I64,
    attributes=ATTRIBUTES,
    dropped_attributes_count=1,
    events=[
        Span.Event(
            time_unix_nano=1_700_000_000_000_000_001,
            name="exception",
            attributes=[kv("exception.type", string_value="ValueError")],
            dropped_attributes_count=3,
        ),
        Span.Event(),
    ],
    dropped_events_count=5,
    links=[
        Span.Link(
            trace_id=TRACE_ID,
            span_id=bytes.fromhex("0000000000000001"),
            trace_state="k=v",
            attributes=[kv("link.attr", bool_value=True)],
            dropped_attributes_count=6,
            flags=0x100,
        ),
        Span.Link(),
    ],
    dropped_links_count=7,
    status=Status(message="boom", code=Status.STATUS_CODE_ERROR),
)

TRACES = ExportTraceServiceRequest(
    resource_spans=[
        ResourceSpans(
            resource=RESOURCE,
            schema_url="https://opentelemetry.io/schemas/1.21.0",
            scope_spans=[
                ScopeSpans(
                    scope=SCOPE,
                    schema_url="https://opentelemetry.io/schemas/1.22.0",
                    spans=[
                        FULL_SPAN,
                        Span(trace_id=TRACE_ID, span_id=SPAN_ID, status=Status()),
                        Span(trace_id=TRACE_ID, span_id=SPAN_ID, kind=999),
                    ],
                ),
                ScopeSpans(scope=InstrumentationScope()),
                ScopeSpans(),
            ],
        ),
        ResourceSpans(resource=Resource()),
        ResourceSpans(),
    ]
)

EXEMPLARS = [
    m.Exemplar(
        filtered_attributes=[kv("user", string_value="u1")],
        time_unix_nano=MAX_I64,
        as_double=0.0,
        span_id=SPAN_ID,
        trace_id=TRACE_ID,
    ),
    m.Exemplar(as_int=MIN_I64),
    m.Exemplar(),
]
POINT_TIMES: dict[str, Any] = {
    "start_time_unix_nano": 1_700_000_000_000_000_000,
    "time_unix_nano": MAX_U64,
}

METRICS = ExportMetricsServiceRequest(
    resource_metrics=[
        m.ResourceMetrics(
            resource=RESOURCE,
            schema_url="https://example.com/r",
            scope_metrics=[
                m.ScopeMetrics(
                    scope=SCOPE,
                    schema_url="https://example.com/s",
                    metrics=[
                        m.Metric(
                            name="g",
                            description="a gauge",
                            unit="By",
                            metadata=[kv("prometheus.type", string_value="gauge")],
                            gauge=m.Gauge(
                                data_points=[
                                    m.NumberDataPoint(
                                        attributes=ATTRIBUTES,
                                        as_double=math.nan,
                                        exemplars=EXEMPLARS,
                                        flags=1,
                                        **POINT_TIMES,
                                    ),
                                    m.NumberDataPoint(as_int=0),
                                    m.NumberDataPoint(as_double=0.0),
                                    m.NumberDataPoint(),
                                ]
                            ),
                        ),
                        m.Metric(
                            name="s",
                            sum=m.Sum(
                                aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE,
                                is_monotonic=True,
                                data_points=[m.NumberDataPoint(as_int=MAX_I64, **POINT_TIMES)],
                            ),
                        ),
                        m.Metric(name="empty.sum", sum=m.Sum()),
                        m.Metric(
                            name="h",
                            histogram=m.Histogram(
                                aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
                                data_points=[
                                    m.HistogramDataPoint(
                                        attributes=[kv("a", string_value="b")],
                                        count=MAX_U64,
                                        sum=0.0,
                                        bucket_counts=[0, 1, MAX_U64],
                                        explicit_bounds=[-math.inf, 0.5, 1e300],
                                        exemplars=EXEMPLARS,
                                        flags=1,
                                        min=-0.0,
                                        max=0.0,
                                        **POINT_TIMES,
                                    ),
                                    m.HistogramDataPoint(count=3),
                                ],
                            ),
                        ),
                        m.Metric(
                            name="e",
                            exponential_histogram=m.ExponentialHistogram(
                                aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
                                data_points=[
                                    m.ExponentialHistogramDataPoint(
                                        attributes=[kv("a", int_value=2)],
                                        count=10,
                                        sum=12.5,
                                        scale=-10,
                                        zero_count=MAX_U64,
                                        positive=m.ExponentialHistogramDataPoint.Buckets(
                                            offset=-(2**31), bucket_counts=[1, 0, 3]
                                        ),
                                        negative=m.ExponentialHistogramDataPoint.Buckets(),
                                        flags=1,
                                        exemplars=EXEMPLARS,
                                        min=1.0,
                                        max=math.inf,
                                        zero_threshold=1e-9,
                                        **POINT_TIMES,
                                    ),
                                    m.ExponentialHistogramDataPoint(scale=20),
                                ],
                            ),
                        ),
                        m.Metric(
                            name="q",
                            summary=m.Summary(
                                data_points=[
                                    m.SummaryDataPoint(
                                        attributes=[kv("a", bool_value=True)],
                                        count=4,
                                        sum=-1.25,
                                        quantile_values=[
                                            m.SummaryDataPoint.ValueAtQuantile(
                                                quantile=0.99, value=math.nan
                                            ),
                                            m.SummaryDataPoint.ValueAtQuantile(),
                                        ],
                                        flags=1,
                                        **POINT_TIMES,
                                    )
                                ]
                            ),
                        ),
                        m.Metric(name="no.data"),
                    ],
                )
            ],
        )
    ]
)

LOGS = ExportLogsServiceRequest(
    resource_logs=[
        ResourceLogs(
            resource=RESOURCE,
            schema_url="https://example.com/r",
            scope_logs=[
                ScopeLogs(
                    scope=SCOPE,
                    schema_url="https://example.com/s",
                    log_records=[
                        LogRecord(
                            time_unix_nano=1,
                            observed_time_unix_nano=MAX_U64,
                            severity_number=24,
                            severity_text="FATAL4",
                            body=AnyValue(
                                kvlist_value=KeyValueList(values=[kv("k", string_value="v")])
                            ),
                            attributes=ATTRIBUTES,
                            dropped_attributes_count=9,
                            flags=0xFFFFFFFF,
                            trace_id=TRACE_ID,
                            span_id=SPAN_ID,
                            event_name="browser.page_view",
                        ),
                        LogRecord(body=AnyValue()),
                        LogRecord(body=AnyValue(string_value="")),
                        LogRecord(severity_number=99),
                        LogRecord(),
                    ],
                )
            ],
        )
    ]
)

REQUESTS: list[tuple[str, Signal, ExportRequest]] = [
    ("traces", Signal.TRACES, TRACES),
    ("metrics", Signal.METRICS, METRICS),
    ("logs", Signal.LOGS, LOGS),
    ("empty-traces", Signal.TRACES, ExportTraceServiceRequest()),
    ("empty-metrics", Signal.METRICS, ExportMetricsServiceRequest()),
    ("empty-logs", Signal.LOGS, ExportLogsServiceRequest()),
]


@pytest.mark.parametrize(
    ("signal", "request_"), [r[1:] for r in REQUESTS], ids=[r[0] for r in REQUESTS]
)
def test_request_round_trips(signal: Signal, request_: ExportRequest) -> None:
    encoded = encode_request_json(request_)
    assert b"\n" not in encoded
    assert same_message(decode_request_json(signal, encoded), request_)
    assert same_message(request_from_json(signal, request_to_json(request_)), request_)


RESPONSES: list[tuple[Signal, ExportResponse]] = [
    (Signal.TRACES, ExportTraceServiceResponse()),
    (Signal.TRACES, ExportTraceServiceResponse(partial_success={})),
    (
        Signal.TRACES,
        ExportTraceServiceResponse(
            partial_success={"rejected_spans": MAX_I64, "error_message": "too old"}
        ),
    ),
    (
        Signal.METRICS,
        ExportMetricsServiceResponse(
            partial_success={"rejected_data_points": 3, "error_message": "bad points"}
        ),
    ),
    (
        Signal.LOGS,
        ExportLogsServiceResponse(partial_success={"error_message": "warning only"}),
    ),
    (Signal.LOGS, ExportLogsServiceResponse(partial_success={"rejected_log_records": 2})),
]


@pytest.mark.parametrize(("signal", "response"), RESPONSES)
def test_response_round_trips(signal: Signal, response: ExportResponse) -> None:
    decoded = decode_response_json(signal, encode_response_json(response))
    assert decoded == response
    assert decoded.HasField("partial_success") == response.HasField("partial_success")


def _fields_reachable(descriptor: Descriptor, seen: set[str]) -> Iterator[str]:
    if descriptor.full_name in seen:
        return
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        yield field.full_name
        if field.message_type is not None:
            yield from _fields_reachable(field.message_type, seen)


def _fields_set(message: Any) -> Iterator[str]:
    for field, value in message.ListFields():
        yield field.full_name
        if field.message_type is None:
            continue
        for child in value if field.is_repeated else [value]:
            yield from _fields_set(child)


def test_tables_set_every_field_of_every_message() -> None:
    seen: set[str] = set()
    reachable: set[str] = set()
    covered: set[str] = set()
    for _, _, request in REQUESTS:
        reachable.update(_fields_reachable(request.DESCRIPTOR, seen))
        covered.update(_fields_set(request))
    for _, response in RESPONSES:
        reachable.update(_fields_reachable(response.DESCRIPTOR, seen))
        covered.update(_fields_set(response))
    assert reachable - covered == set()
