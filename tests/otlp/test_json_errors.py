"""Undecodable OTLP/JSON: every failure is InvalidRequest with the path of the bad field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.errors import InvalidRequest
from otelite.otlp import (
    any_value_from_json,
    decode_request_json,
    decode_response_json,
    key_values_from_json,
    request_from_json,
)
from otelite.otlp._anyvalue import MAX_DEPTH
from otelite.types import ExportLogsServiceRequest, Signal

SPAN = "resourceSpans[0].scopeSpans[0].spans[0]"
POINT = "resourceMetrics[0].scopeMetrics[0].metrics[0]"
RECORD = "resourceLogs[0].scopeLogs[0].logRecords[0]"


def traces(span: dict[str, Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}


def metrics(metric: dict[str, Any]) -> dict[str, Any]:
    return {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}


def logs(record: dict[str, Any]) -> dict[str, Any]:
    return {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}


def attribute(value: Any) -> dict[str, Any]:
    return traces({"attributes": [{"key": "k", "value": value}]})


U64 = "[0, 18446744073709551615]"
CASES: list[tuple[str, Signal, dict[str, Any], str]] = [
    (
        "path-with-indices",
        Signal.TRACES,
        {"resourceSpans": [{"scopeSpans": [{}, {"spans": [{}, {}, {}, {"traceId": "zz"}]}]}]},
        "resourceSpans[0].scopeSpans[1].spans[3].traceId: not a hex string",
    ),
    (
        "base64-trace-id",
        Signal.TRACES,
        traces({"traceId": "AAAAAAAAAAAAAAAAAAAAAA=="}),
        f"{SPAN}.traceId: not a hex string",
    ),
    (
        "odd-length-span-id",
        Signal.TRACES,
        traces({"spanId": "eee19b7ec3c1b17"}),
        f"{SPAN}.spanId: not a hex string",
    ),
    (
        "spaced-hex",
        Signal.TRACES,
        traces({"parentSpanId": "ee e1 9b 7e"}),
        f"{SPAN}.parentSpanId: not a hex string",
    ),
    (
        "non-ascii-hex",
        Signal.TRACES,
        traces({"spanId": "éé"}),
        f"{SPAN}.spanId: not a hex string",
    ),
    ("id-as-number", Signal.TRACES, traces({"spanId": 12}), f"{SPAN}.spanId: not a hex string"),
    (
        "link-id",
        Signal.TRACES,
        traces({"links": [{}, {"traceId": "g" * 32}]}),
        f"{SPAN}.links[1].traceId: not a hex string",
    ),
    (
        "exemplar-id",
        Signal.METRICS,
        metrics({"gauge": {"dataPoints": [{"exemplars": [{"spanId": "x"}]}]}}),
        f"{POINT}.gauge.dataPoints[0].exemplars[0].spanId: not a hex string",
    ),
    (
        "log-trace-id",
        Signal.LOGS,
        logs({"traceId": "5B8EFFF798038103D269B633813FC60"}),
        f"{RECORD}.traceId: not a hex string",
    ),
    (
        "unknown-enum-name",
        Signal.TRACES,
        traces({"kind": "SPAN_KIND_NOPE"}),
        f"{SPAN}.kind: unknown SpanKind name 'SPAN_KIND_NOPE'",
    ),
    (
        "enum-name-of-other-enum",
        Signal.LOGS,
        logs({"severityNumber": "SPAN_KIND_SERVER"}),
        f"{RECORD}.severityNumber: unknown SeverityNumber name 'SPAN_KIND_SERVER'",
    ),
    (
        "lower-case-enum-name",
        Signal.TRACES,
        traces({"status": {"code": "status_code_ok"}}),
        f"{SPAN}.status.code: unknown StatusCode name 'status_code_ok'",
    ),
    (
        "enum-out-of-int32",
        Signal.METRICS,
        metrics({"sum": {"aggregationTemporality": 2**31}}),
        f"{POINT}.sum.aggregationTemporality: 2147483648 is out of range for an enum "
        "[-2147483648, 2147483647]",
    ),
    (
        "negative-time",
        Signal.TRACES,
        traces({"startTimeUnixNano": "-1"}),
        f"{SPAN}.startTimeUnixNano: -1 is out of range for uint64 {U64}",
    ),
    (
        "time-over-uint64",
        Signal.TRACES,
        traces({"endTimeUnixNano": "18446744073709551616"}),
        f"{SPAN}.endTimeUnixNano: 18446744073709551616 is out of range for uint64 {U64}",
    ),
    (
        "int-value-over-int64",
        Signal.TRACES,
        attribute({"intValue": str(2**63)}),
        f"{SPAN}.attributes[0].value.intValue: 9223372036854775808 is out of range for int64 "
        "[-9223372036854775808, 9223372036854775807]",
    ),
    (
        "uint32-over",
        Signal.TRACES,
        traces({"droppedAttributesCount": 2**32}),
        f"{SPAN}.droppedAttributesCount: 4294967296 is out of range for uint32 [0, 4294967295]",
    ),
    (
        "flags-negative",
        Signal.LOGS,
        logs({"flags": -1}),
        f"{RECORD}.flags: -1 is out of range for uint32 [0, 4294967295]",
    ),
    (
        "scale-over-int32",
        Signal.METRICS,
        metrics({"exponentialHistogram": {"dataPoints": [{"scale": 2**31}]}}),
        f"{POINT}.exponentialHistogram.dataPoints[0].scale: 2147483648 is out of range for "
        "int32 [-2147483648, 2147483647]",
    ),
    (
        "thousands-of-digits",
        Signal.TRACES,
        traces({"startTimeUnixNano": "9" * 5000}),
        f"{SPAN}.startTimeUnixNano: {'9' * 30}… is out of range for uint64 {U64}",
    ),
    (
        "fractional-integer",
        Signal.TRACES,
        attribute({"intValue": 1.5}),
        f"{SPAN}.attributes[0].value.intValue: expected an integer, got 1.5",
    ),
    (
        "integer-string-with-space",
        Signal.TRACES,
        traces({"startTimeUnixNano": " 1"}),
        f"{SPAN}.startTimeUnixNano: expected an integer, got ' 1'",
    ),
    (
        "integer-string-with-underscore",
        Signal.TRACES,
        traces({"startTimeUnixNano": "1_000"}),
        f"{SPAN}.startTimeUnixNano: expected an integer, got '1_000'",
    ),
    (
        "integer-as-bool",
        Signal.METRICS,
        metrics({"gauge": {"dataPoints": [{"asInt": True}]}}),
        f"{POINT}.gauge.dataPoints[0].asInt: expected an integer, got true",
    ),
    (
        "string-as-number",
        Signal.TRACES,
        traces({"name": 5}),
        f"{SPAN}.name: expected a string, got 5",
    ),
    (
        "bool-as-string",
        Signal.METRICS,
        metrics({"sum": {"isMonotonic": "true"}}),
        f"{POINT}.sum.isMonotonic: expected true or false, got 'true'",
    ),
    (
        "double-as-word",
        Signal.METRICS,
        metrics({"gauge": {"dataPoints": [{"asDouble": "inf"}]}}),
        f"{POINT}.gauge.dataPoints[0].asDouble: expected a number, got 'inf'",
    ),
    (
        "double-string-overflow",
        Signal.METRICS,
        metrics({"histogram": {"dataPoints": [{"explicitBounds": [1, "1e999"]}]}}),
        f"{POINT}.histogram.dataPoints[0].explicitBounds[1]: 1e999 is out of range for a double",
    ),
    (
        "repeated-item",
        Signal.METRICS,
        metrics({"histogram": {"dataPoints": [{"bucketCounts": [1, "x"]}]}}),
        f"{POINT}.histogram.dataPoints[0].bucketCounts[1]: expected an integer, got 'x'",
    ),
    (
        "repeated-not-list",
        Signal.METRICS,
        metrics({"histogram": {"dataPoints": [{"bucketCounts": 3}]}}),
        f"{POINT}.histogram.dataPoints[0].bucketCounts: expected a list, got 3",
    ),
    (
        "list-not-list",
        Signal.TRACES,
        {"resourceSpans": {}},
        "resourceSpans: expected a list, got an object",
    ),
    (
        "message-not-object",
        Signal.TRACES,
        {"resourceSpans": [{"resource": []}]},
        "resourceSpans[0].resource: expected an object, got a list",
    ),
    (
        "null-list-item",
        Signal.TRACES,
        {"resourceSpans": [None]},
        "resourceSpans[0]: expected an object, got null",
    ),
    (
        "two-metric-types",
        Signal.METRICS,
        metrics({"gauge": {}, "sum": {}}),
        f"{POINT}.sum: only one of gauge and sum may be set",
    ),
    (
        "two-point-values",
        Signal.METRICS,
        metrics({"gauge": {"dataPoints": [{"asInt": "1", "asDouble": 1}]}}),
        f"{POINT}.gauge.dataPoints[0].asDouble: only one of asInt and asDouble may be set",
    ),
    (
        "two-any-values",
        Signal.TRACES,
        attribute({"stringValue": "x", "intValue": "1"}),
        f"{SPAN}.attributes[0].value: only one of stringValue and intValue may be set",
    ),
    (
        "attributes-not-list",
        Signal.TRACES,
        traces({"attributes": {"k": "v"}}),
        f"{SPAN}.attributes: expected a list of key-values, got an object",
    ),
    (
        "attribute-not-object",
        Signal.TRACES,
        traces({"attributes": [{"key": "a"}, "b"]}),
        f"{SPAN}.attributes[1]: expected an object with key and value, got 'b'",
    ),
    (
        "attribute-key-not-string",
        Signal.TRACES,
        traces({"attributes": [{"key": 1, "value": {}}]}),
        f"{SPAN}.attributes[0].key: expected a string, got 1",
    ),
    (
        "attribute-value-not-object",
        Signal.TRACES,
        attribute("plain"),
        f"{SPAN}.attributes[0].value: expected an AnyValue object, got 'plain'",
    ),
    (
        "bytes-value-not-base64",
        Signal.TRACES,
        attribute({"bytesValue": "not base64!"}),
        f"{SPAN}.attributes[0].value.bytesValue: not valid base64",
    ),
    (
        "deep-any-value",
        Signal.TRACES,
        attribute(
            {
                "arrayValue": {
                    "values": [
                        {"kvlistValue": {"values": [{"key": "x", "value": {"boolValue": 1}}]}}
                    ]
                }
            }
        ),
        f"{SPAN}.attributes[0].value.arrayValue.values[0].kvlistValue.values[0].value.boolValue: "
        "expected true or false, got 1",
    ),
    (
        "kvlist-as-list",
        Signal.LOGS,
        logs({"body": {"kvlistValue": [{"key": "type", "value": {"intValue": "0"}}]}}),
        f"{RECORD}.body.kvlistValue: expected an object with a values list, got a list",
    ),
    (
        "array-values-not-list",
        Signal.LOGS,
        logs({"body": {"arrayValue": {"values": "x"}}}),
        f"{RECORD}.body.arrayValue.values: expected a list, got 'x'",
    ),
    (
        "metadata",
        Signal.METRICS,
        metrics({"metadata": [{"key": "a", "value": {"doubleValue": "x"}}]}),
        f"{POINT}.metadata[0].value.doubleValue: expected a number, got 'x'",
    ),
]


@pytest.mark.parametrize(
    ("signal", "obj", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_field_names_its_path(signal: Signal, obj: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_request_json(signal, orjson.dumps(obj))
    assert str(caught.value) == message
    with pytest.raises(InvalidRequest) as again:
        request_from_json(signal, obj)
    assert str(again.value) == message


BODIES: list[tuple[str, bytes | str, str]] = [
    ("list", b"[]", "body: expected a JSON object, got a list"),
    ("string", b'"x"', "body: expected a JSON object, got 'x'"),
    ("null", b"null", "body: expected a JSON object, got null"),
    ("number", b"1", "body: expected a JSON object, got 1"),
    ("bool", b"true", "body: expected a JSON object, got true"),
    ("invalid-utf8", b'{"resourceSpans": "\xc3\x28"}', "body is not valid UTF-8 (byte 19)"),
    ("latin1", '{"a": "é"}'.encode("latin-1"), "body is not valid UTF-8 (byte 7)"),
]


@pytest.mark.parametrize(("body", "message"), [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
def test_invalid_body(body: bytes | str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_request_json(Signal.TRACES, body)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"{'a': 1}", b'{"a": NaN}', b"{} {}", b'{"a": "\\ud800"}', '{"a": "\ud800"}'],
)
def test_not_json(body: bytes | str) -> None:
    with pytest.raises(InvalidRequest, match=r"^body is not valid JSON: "):
        decode_request_json(Signal.LOGS, body)


def test_response_errors_are_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as caught:
        decode_response_json(Signal.TRACES, b'{"partialSuccess": {"rejectedSpans": "x"}}')
    assert str(caught.value) == "partialSuccess.rejectedSpans: expected an integer, got 'x'"


def _nested_body(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}}
    return logs({"body": value})


def test_nesting_up_to_the_protobuf_limit_is_accepted_and_reparses() -> None:
    # request, resourceLogs, scopeLogs, logRecord, body: 5 levels, then 2 per array.
    levels = (MAX_DEPTH - 5) // 2
    request = request_from_json(Signal.LOGS, _nested_body(levels))
    reparsed = ExportLogsServiceRequest.FromString(request.SerializeToString())
    assert reparsed == request


def test_nesting_beyond_the_protobuf_limit_is_refused() -> None:
    levels = (MAX_DEPTH - 5) // 2 + 1
    with pytest.raises(InvalidRequest, match=r"nested deeper than 100 messages$"):
        request_from_json(Signal.LOGS, _nested_body(levels))


def test_very_deep_json_is_refused_without_recursion_error() -> None:
    body = '{"arrayValue": {"values": [' * 3000 + "{}" + "]}}" * 3000
    with pytest.raises(InvalidRequest):
        decode_request_json(
            Signal.LOGS,
            '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": ' + body + "}]}]}]}",
        )


def test_any_value_helpers_prefix_the_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        any_value_from_json({"arrayValue": {"values": [{"intValue": "x"}]}}, "Body")
    assert str(caught.value) == "Body.arrayValue.values[0].intValue: expected an integer, got 'x'"
    with pytest.raises(InvalidRequest) as again:
        key_values_from_json(
            [{"key": "a", "value": {"boolValue": 0}}], "Attributes", Span().attributes
        )
    assert str(again.value) == "Attributes[0].value.boolValue: expected true or false, got 0"


def test_lone_surrogates_from_python_objects_are_invalid_request() -> None:
    name = traces({"name": "\ud800"})
    with pytest.raises(InvalidRequest) as caught:
        request_from_json(Signal.TRACES, name)
    assert str(caught.value) == f"{SPAN}.name: not valid Unicode text (lone surrogate)"
    with pytest.raises(InvalidRequest, match=r"^resourceSpans\[0\].*\.attributes: not valid"):
        request_from_json(Signal.TRACES, attribute({"stringValue": "\udc00"}))
    with pytest.raises(InvalidRequest, match=r"^Body: not valid Unicode text"):
        any_value_from_json({"stringValue": "\udc00"}, "Body")


def test_python_int_too_large_for_a_double() -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_json(Signal.LOGS, logs({"body": {"doubleValue": 10**400}}))
    assert (
        str(caught.value)
        == f"{RECORD}.body.doubleValue: {'1' + '0' * 59} is out of range for a double"
    )
