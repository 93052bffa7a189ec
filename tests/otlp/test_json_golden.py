"""The OTLP/JSON examples of the protocol repository decode to the values they describe."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.otlp import decode_request_json, encode_request_json
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)

FIXTURES = Path(__file__).parent / "fixtures"
T0 = 1544712660300000000


def text(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


RESOURCE = Resource(attributes=[text("service.name", "my.service")])
SCOPE = InstrumentationScope(
    name="my.library",
    version="1.0.0",
    attributes=[text("my.scope.attribute", "some scope attribute")],
)

TRACE = ExportTraceServiceRequest(
    resource_spans=[
        ResourceSpans(
            resource=RESOURCE,
            scope_spans=[
                ScopeSpans(
                    scope=SCOPE,
                    spans=[
                        Span(
                            trace_id=bytes.fromhex("5b8efff798038103d269b633813fc60c"),
                            span_id=bytes.fromhex("eee19b7ec3c1b174"),
                            parent_span_id=bytes.fromhex("eee19b7ec3c1b173"),
                            name="I'm a server span",
                            start_time_unix_nano=1544712660000000000,
                            end_time_unix_nano=1544712661000000000,
                            kind=Span.SPAN_KIND_SERVER,
                            attributes=[text("my.span.attr", "some value")],
                        )
                    ],
                )
            ],
        )
    ]
)

METRICS = ExportMetricsServiceRequest(
    resource_metrics=[
        m.ResourceMetrics(
            resource=RESOURCE,
            scope_metrics=[
                m.ScopeMetrics(
                    scope=SCOPE,
                    metrics=[
                        m.Metric(
                            name="my.counter",
                            unit="1",
                            description="I am a Counter",
                            sum=m.Sum(
                                aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
                                is_monotonic=True,
                                data_points=[
                                    m.NumberDataPoint(
                                        as_double=5.0,
                                        start_time_unix_nano=T0,
                                        time_unix_nano=T0,
                                        attributes=[text("my.counter.attr", "some value")],
                                    )
                                ],
                            ),
                        ),
                        m.Metric(
                            name="my.gauge",
                            unit="1",
                            description="I am a Gauge",
                            gauge=m.Gauge(
                                data_points=[
                                    m.NumberDataPoint(
                                        as_double=10.0,
                                        time_unix_nano=T0,
                                        attributes=[text("my.gauge.attr", "some value")],
                                    )
                                ]
                            ),
                        ),
                        m.Metric(
                            name="my.histogram",
                            unit="1",
                            description="I am a Histogram",
                            histogram=m.Histogram(
                                aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
                                data_points=[
                                    m.HistogramDataPoint(
                                        start_time_unix_nano=T0,
                                        time_unix_nano=T0,
                                        count=2,
                                        sum=2.0,
                                        bucket_counts=[1, 1],
                                        explicit_bounds=[1.0],
                                        min=0.0,
                                        max=2.0,
                                        attributes=[text("my.histogram.attr", "some value")],
                                    )
                                ],
                            ),
                        ),
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
            scope_logs=[
                ScopeLogs(
                    scope=SCOPE,
                    log_records=[
                        LogRecord(
                            time_unix_nano=T0,
                            observed_time_unix_nano=T0,
                            severity_text="Information",
                            trace_id=bytes.fromhex("5b8efff798038103d269b633813fc60c"),
                            span_id=bytes.fromhex("eee19b7ec3c1b174"),
                            body=AnyValue(string_value="Example log record"),
                            attributes=[
                                text("string.attribute", "some string"),
                                KeyValue(key="boolean.attribute", value=AnyValue(bool_value=True)),
                                KeyValue(key="int.attribute", value=AnyValue(int_value=10)),
                                KeyValue(
                                    key="double.attribute", value=AnyValue(double_value=637.704)
                                ),
                                KeyValue(
                                    key="array.attribute",
                                    value=AnyValue(
                                        array_value=ArrayValue(
                                            values=[
                                                AnyValue(string_value="many"),
                                                AnyValue(string_value="values"),
                                            ]
                                        )
                                    ),
                                ),
                                KeyValue(
                                    key="map.attribute",
                                    value=AnyValue(
                                        kvlist_value=KeyValueList(
                                            values=[text("some.map.key", "some value")]
                                        )
                                    ),
                                ),
                            ],
                        )
                    ],
                )
            ],
        )
    ]
)

GOLDEN: list[tuple[str, Signal, ExportRequest]] = [
    ("trace.json", Signal.TRACES, TRACE),
    ("metrics.json", Signal.METRICS, METRICS),
    ("logs.json", Signal.LOGS, LOGS),
]


@pytest.mark.parametrize(("name", "signal", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_fixture_decodes_to_expected_message(
    name: str, signal: Signal, expected: ExportRequest
) -> None:
    decoded = decode_request_json(signal, (FIXTURES / name).read_bytes())
    assert decoded == expected


def test_trace_ids_are_hex_not_base64() -> None:
    decoded = decode_request_json(Signal.TRACES, (FIXTURES / "trace.json").read_bytes())
    span = decoded.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == b"\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c"
    assert span.span_id == b"\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74"
    assert span.parent_span_id == b"\xee\xe1\x9b\x7e\xc3\xc1\xb1\x73"


def test_histogram_min_of_zero_is_present() -> None:
    decoded = decode_request_json(Signal.METRICS, (FIXTURES / "metrics.json").read_bytes())
    point = decoded.resource_metrics[0].scope_metrics[0].metrics[2].histogram.data_points[0]
    assert point.HasField("min")
    assert point.HasField("sum")
    assert point.HasField("max")
    assert (point.min, point.sum, point.max) == (0.0, 2.0, 2.0)


def test_trace_fixture_reencodes_in_canonical_form() -> None:
    decoded = decode_request_json(Signal.TRACES, (FIXTURES / "trace.json").read_bytes())
    span = orjson.loads(encode_request_json(decoded))["resourceSpans"][0]["scopeSpans"][0]
    assert span["spans"][0] == {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "eee19b7ec3c1b173",
        "name": "I'm a server span",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}],
    }
    assert span["scope"] == {
        "name": "my.library",
        "version": "1.0.0",
        "attributes": [
            {"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}
        ],
    }


@pytest.mark.parametrize(("name", "signal", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_fixture_round_trips(name: str, signal: Signal, expected: ExportRequest) -> None:
    assert decode_request_json(signal, encode_request_json(expected)) == expected
