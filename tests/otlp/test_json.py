"""OTLP/JSON: what is written, what is read, responses and error bodies."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

import otelite.otlp
from otelite.otlp import (
    decode_request_json,
    decode_response_json,
    encode_request_json,
    encode_response_json,
    encode_status_json,
    request_from_json,
    request_to_json,
    status_proto,
)
from otelite.types import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    Signal,
)

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")


def one_span(span: Span) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(span)
    return request


def span_json(request: Any) -> dict[str, Any]:
    span: dict[str, Any] = request_to_json(request)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    return span


def one_point(**metric: Any) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.append(m.Metric(**metric))
    return request


def metric_json(request: Any) -> dict[str, Any]:
    metric: dict[str, Any] = request_to_json(request)["resourceMetrics"][0]["scopeMetrics"][0][
        "metrics"
    ][0]
    return metric


def one_record(record: LogRecord) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    request.resource_logs.add().scope_logs.add().log_records.append(record)
    return request


def record_json(request: Any) -> dict[str, Any]:
    record: dict[str, Any] = request_to_json(request)["resourceLogs"][0]["scopeLogs"][0][
        "logRecords"
    ][0]
    return record


def test_public_names() -> None:
    assert all(hasattr(otelite.otlp, name) for name in otelite.otlp.__all__)
    assert {"decode_request_json", "encode_request_json", "encode_status_json"} <= set(
        otelite.otlp.__all__
    )


def test_span_is_written_in_otlp_json_form() -> None:
    span = Span(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        name="op",
        kind=Span.SPAN_KIND_SERVER,
        flags=0x100,
        start_time_unix_nano=1544712660000000000,
        end_time_unix_nano=2**64 - 1,
        dropped_links_count=2,
        attributes=[KeyValue(key="n", value=AnyValue(int_value=-(2**63)))],
        status=Status(),
    )
    assert span_json(one_span(span)) == {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "flags": 256,
        "name": "op",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "18446744073709551615",
        "attributes": [{"key": "n", "value": {"intValue": "-9223372036854775808"}}],
        "droppedLinksCount": 2,
        "status": {},
    }


def test_encoding_is_one_compact_line() -> None:
    encoded = encode_request_json(one_span(Span(name="a b", trace_state="x=1")))
    assert encoded == (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceState":"x=1","name":"a b"}]}]}]}'
    )


def test_default_values_are_omitted() -> None:
    assert span_json(one_span(Span(name="", kind=0, start_time_unix_nano=0))) == {}
    assert request_to_json(ExportTraceServiceRequest()) == {}
    assert encode_request_json(ExportLogsServiceRequest()) == b"{}"


def test_presence_is_written_even_when_zero() -> None:
    point = m.HistogramDataPoint(count=0, sum=0.0, min=-0.0, max=0.0)
    written = metric_json(one_point(histogram=m.Histogram(data_points=[point])))
    assert written == {"histogram": {"dataPoints": [{"sum": 0.0, "min": -0.0, "max": 0.0}]}}
    assert math.copysign(1.0, written["histogram"]["dataPoints"][0]["min"]) == -1.0

    numbers = m.Gauge(data_points=[m.NumberDataPoint(as_int=0), m.NumberDataPoint(as_double=0)])
    assert metric_json(one_point(gauge=numbers)) == {
        "gauge": {"dataPoints": [{"asInt": "0"}, {"asDouble": 0.0}]}
    }
    buckets = m.ExponentialHistogramDataPoint(
        positive=m.ExponentialHistogramDataPoint.Buckets(), zero_threshold=0.0
    )
    assert metric_json(
        one_point(exponential_histogram=m.ExponentialHistogram(data_points=[buckets]))
    ) == {"exponentialHistogram": {"dataPoints": [{"positive": {}}]}}
    assert metric_json(one_point(summary=m.Summary())) == {"summary": {}}


def test_log_body_presence() -> None:
    assert record_json(one_record(LogRecord())) == {}
    assert record_json(one_record(LogRecord(body=AnyValue()))) == {"body": {}}
    assert record_json(one_record(LogRecord(body=AnyValue(string_value="")))) == {
        "body": {"stringValue": ""}
    }
    decoded = decode_request_json(
        Signal.LOGS, b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{}}, {}]}]}]}'
    )
    records = decoded.resource_logs[0].scope_logs[0].log_records
    assert records[0].HasField("body")
    assert not records[1].HasField("body")


def test_doubles_and_bytes() -> None:
    record = LogRecord(
        attributes=[
            KeyValue(key="nan", value=AnyValue(double_value=math.nan)),
            KeyValue(key="inf", value=AnyValue(double_value=math.inf)),
            KeyValue(key="ninf", value=AnyValue(double_value=-math.inf)),
            KeyValue(key="third", value=AnyValue(double_value=1 / 3)),
            KeyValue(key="bytes", value=AnyValue(bytes_value=b"\xfb\xff")),
        ]
    )
    values = [a["value"] for a in record_json(one_record(record))["attributes"]]
    assert values == [
        {"doubleValue": "NaN"},
        {"doubleValue": "Infinity"},
        {"doubleValue": "-Infinity"},
        {"doubleValue": 1 / 3},
        {"bytesValue": "+/8="},
    ]


def test_lenient_reading() -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                "spanId": "",
                                "parentSpanId": None,
                                "kind": "SPAN_KIND_CONSUMER",
                                "startTimeUnixNano": 1544712660000000000,
                                "endTimeUnixNano": "1544712661000000000",
                                "droppedEventsCount": "3",
                                "flags": 1.0,
                                "status": {"code": "STATUS_CODE_ERROR"},
                                "attributes": [
                                    {"key": "i", "value": {"intValue": 7}},
                                    {"key": "d", "value": {"doubleValue": "2.5"}},
                                    {"key": "u", "value": {"bytesValue": "-_8"}},
                                    {"key": "n", "value": {"stringValue": None, "boolValue": True}},
                                ],
                                "trace_id": "ignored: snake_case keys are unknown",
                                "unknownField": {"nested": [1, 2]},
                            }
                        ]
                    }
                ]
            }
        ],
        "extra": True,
    }
    expected = Span(
        trace_id=TRACE_ID,
        kind=Span.SPAN_KIND_CONSUMER,
        start_time_unix_nano=1544712660000000000,
        end_time_unix_nano=1544712661000000000,
        dropped_events_count=3,
        flags=1,
        status=Status(code=Status.STATUS_CODE_ERROR),
        attributes=[
            KeyValue(key="i", value=AnyValue(int_value=7)),
            KeyValue(key="d", value=AnyValue(double_value=2.5)),
            KeyValue(key="u", value=AnyValue(bytes_value=b"\xfb\xff")),
            KeyValue(key="n", value=AnyValue(bool_value=True)),
        ],
    )
    assert decode_request_json(Signal.TRACES, orjson.dumps(body)) == one_span(expected)
    assert decode_request_json(Signal.TRACES, orjson.dumps(body).decode()) == one_span(expected)


def test_enum_numbers_outside_the_named_values_are_kept() -> None:
    decoded = request_from_json(Signal.LOGS, {"resourceLogs": [{"scopeLogs": [
        {"logRecords": [{"severityNumber": 99}, {"severityNumber": "SEVERITY_NUMBER_WARN"}]}
    ]}]})  # fmt: skip
    records = decoded.resource_logs[0].scope_logs[0].log_records
    assert [r.severity_number for r in records] == [99, 13]


@pytest.mark.parametrize("signal", list(Signal))
def test_empty_object_is_an_empty_request(signal: Signal) -> None:
    assert decode_request_json(signal, b"{}") == signal.request_type()
    assert decode_request_json(signal, b" { } \n") == signal.request_type()


def test_response_bodies() -> None:
    assert encode_response_json(ExportTraceServiceResponse()) == b"{}"
    partial = ExportTraceServiceResponse(
        partial_success={"rejected_spans": 2, "error_message": "2 spans too old"}
    )
    assert encode_response_json(partial) == (
        b'{"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans too old"}}'
    )
    warning = ExportMetricsServiceResponse(partial_success={"error_message": "clock skew"})
    assert encode_response_json(warning) == (
        b'{"partialSuccess":{"rejectedDataPoints":"0","errorMessage":"clock skew"}}'
    )
    logs = ExportLogsServiceResponse(partial_success={"rejected_log_records": 1})
    assert encode_response_json(logs) == (
        b'{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":""}}'
    )


def test_response_decoding() -> None:
    assert not decode_response_json(Signal.TRACES, b"{}").HasField("partial_success")
    decoded = decode_response_json(
        Signal.METRICS, b'{"partialSuccess":{"rejectedDataPoints":5,"errorMessage":"x"}}'
    )
    assert decoded == ExportMetricsServiceResponse(
        partial_success={"rejected_data_points": 5, "error_message": "x"}
    )
    assert decode_response_json(Signal.LOGS, b'{"partialSuccess":{}}').HasField("partial_success")


def test_status_json() -> None:
    body = encode_status_json(3, 'resourceSpans[0]: "bad"')
    assert body == b'{"code":3,"message":"resourceSpans[0]: \\"bad\\"","details":[]}'


def test_status_proto() -> None:
    status = RpcStatus.FromString(status_proto(8, "over the limit"))
    assert (status.code, status.message, list(status.details)) == (8, "over the limit", [])
