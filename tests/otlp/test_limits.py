"""The limits ``validate`` applies: cuts the OpenTelemetry way, time windows, messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.config import Limits
from otelite.otlp._limits import records_fit
from otelite.otlp._validate import Rejection, validate
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)
from tests.strategies import export_requests, same_message

TRACE_ID = bytes(range(1, 17))
SPAN_ID = bytes(range(1, 9))
NOW = 1_700_000_000_000_000_000
SPAN = "resourceSpans[0].scopeSpans[0].spans[0]"


def attrs(n: int, value: str = "v") -> list[KeyValue]:
    return [KeyValue(key=f"k{i}", value=AnyValue(string_value=value)) for i in range(n)]


def span(**fields: object) -> Span:
    values: dict[str, object] = {
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "start_time_unix_nano": NOW,
        "end_time_unix_nano": NOW + 1,
    }
    values.update(fields)
    return Span(**values)  # type: ignore[arg-type]


def traces(*spans: Span) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    return request


DEFAULTS = Limits()


def check(request: ExportTraceServiceRequest, limits: Limits = DEFAULTS) -> Rejection:
    return validate(Signal.TRACES, request, limits, now_ns=NOW)


def test_attributes_past_the_limit_are_dropped_and_counted() -> None:
    request = traces(span(attributes=attrs(131), dropped_attributes_count=2))
    rejection = check(request)
    kept = request.resource_spans[0].scope_spans[0].spans[0]
    assert [a.key for a in kept.attributes] == [f"k{i}" for i in range(128)]
    assert kept.dropped_attributes_count == 5
    assert rejection == Rejection(
        0,
        f"accepted with limits applied: {SPAN}: 3 of 131 attributes dropped "
        "(limit max_attributes=128)",
        dropped_attributes=3,
    )


def test_events_links_and_their_attributes_are_cut() -> None:
    event = Span.Event(time_unix_nano=NOW, attributes=attrs(3))
    link = Span.Link(trace_id=TRACE_ID, span_id=SPAN_ID, attributes=attrs(4))
    request = traces(span(events=[event] * 5, links=[link] * 3))
    limits = Limits(max_attributes=2, max_events_per_span=4, max_links_per_span=1)
    rejection = check(request, limits)
    kept = request.resource_spans[0].scope_spans[0].spans[0]
    assert (len(kept.events), kept.dropped_events_count) == (4, 1)
    assert (len(kept.links), kept.dropped_links_count) == (1, 2)
    assert all(len(e.attributes) == 2 and e.dropped_attributes_count == 1 for e in kept.events)
    assert (len(kept.links[0].attributes), kept.links[0].dropped_attributes_count) == (2, 2)
    assert (rejection.dropped_events, rejection.dropped_links) == (1, 2)
    assert rejection.dropped_attributes == 4 * 1 + 2
    assert rejection.message.startswith(
        f"accepted with limits applied: {SPAN}: 1 of 5 events dropped "
        f"(limit max_events_per_span=4); {SPAN}.events[0]: 1 of 3 attributes dropped "
        "(limit max_attributes=2); "
    )
    assert rejection.message.endswith("; and 2 more")


def test_resource_scope_and_log_attributes_are_cut() -> None:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(attrs(3))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.attributes.extend(attrs(4))
    scope_logs.log_records.append(LogRecord(time_unix_nano=NOW, attributes=attrs(5)))
    rejection = validate(Signal.LOGS, request, Limits(max_attributes=2), now_ns=NOW)
    assert resource_logs.resource.dropped_attributes_count == 1
    assert scope_logs.scope.dropped_attributes_count == 2
    assert scope_logs.log_records[0].dropped_attributes_count == 3
    assert rejection.dropped_attributes == 6
    assert "resourceLogs[0].resource: 1 of 3 attributes dropped" in rejection.message
    assert "resourceLogs[0].scopeLogs[0].logRecords[0]: 3 of 5" in rejection.message


def test_long_values_are_truncated_everywhere_they_nest() -> None:
    nested = AnyValue()
    nested.array_value.values.add().string_value = "é" * 12
    nested.array_value.values.add().kvlist_value.values.add(
        key="inner", value=AnyValue(bytes_value=b"\xff" * 11)
    )
    attributes = [
        KeyValue(key="short", value=AnyValue(string_value="x" * 10)),
        KeyValue(key="long", value=AnyValue(string_value="x" * 11)),
        KeyValue(key="nested", value=nested),
    ]
    request = traces(span(attributes=attributes))
    rejection = check(request, Limits(max_attribute_value_length=10))
    kept = request.resource_spans[0].scope_spans[0].spans[0].attributes
    assert kept[0].value.string_value == "x" * 10
    assert kept[1].value.string_value == "x" * 10
    assert kept[2].value.array_value.values[0].string_value == "é" * 10  # characters
    inner = kept[2].value.array_value.values[1].kvlist_value.values[0].value
    assert inner.bytes_value == b"\xff" * 10
    assert rejection.truncated_values == 3
    assert rejection.message == (
        f"accepted with limits applied: {SPAN}.attributes[1] 'long': string of 11 characters "
        "truncated to 10 (limit max_attribute_value_length=10); "
        f"{SPAN}.attributes[2] 'nested'[0]: string of 12 characters truncated to 10 "
        "(limit max_attribute_value_length=10); "
        f"{SPAN}.attributes[2] 'nested'[1].'inner': bytes value of 11 bytes truncated to 10 "
        "(limit max_attribute_value_length=10)"
    )


def test_a_small_body_is_not_measured_and_limits_can_be_off() -> None:
    long = span(attributes=attrs(200, value="x" * 100))
    small_body = traces(span(attributes=[KeyValue(key="k", value=AnyValue(string_value="x"))]))
    assert check(small_body, Limits(max_attribute_value_length=1)).truncated_values == 0
    off = Limits(max_attributes=None, max_attribute_value_length=None)
    assert check(traces(long), off) == Rejection()


def test_records_too_far_in_the_future_are_rejected() -> None:
    day = 86_400 * 10**9
    request = traces(span(start_time_unix_nano=NOW + day), span(start_time_unix_nano=NOW + 2 * day))
    rejection = check(request)
    assert [s.start_time_unix_nano for s in request.resource_spans[0].scope_spans[0].spans] == [
        NOW + day
    ]
    assert rejection == Rejection(
        1,
        "rejected 1 span: resourceSpans[0].scopeSpans[0].spans[1]: start_time_unix_nano "
        f"{NOW + 2 * day} (2023-11-16T22:13:20Z) is 2.0 days ahead of the server clock "
        "(limit max_future_seconds=86400)",
    )


def test_past_bound_is_off_by_default_and_applies_when_set() -> None:
    old = span(start_time_unix_nano=NOW - 400 * 86_400 * 10**9)
    zero = span(start_time_unix_nano=0, end_time_unix_nano=0)
    assert check(traces(old, zero)) == Rejection()
    rejection = check(traces(old, zero), Limits(max_past_seconds=30 * 86400))
    assert rejection.count == 2
    assert "is 400.0 days behind the server clock (limit max_past_seconds=2.592e+06)" in (
        rejection.message
    )


def test_log_and_data_point_times_are_windowed() -> None:
    future = NOW + 2 * 86_400 * 10**9
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    records.extend(
        [
            LogRecord(time_unix_nano=future),
            LogRecord(observed_time_unix_nano=future),  # no time: the observed time counts
            LogRecord(time_unix_nano=NOW, observed_time_unix_nano=future),  # only int64
            LogRecord(),
        ]
    )
    rejection = validate(Signal.LOGS, logs, now_ns=NOW)
    assert rejection.count == 2
    assert "logRecords[0]: time_unix_nano" in rejection.message
    assert "logRecords[1]: observed_time_unix_nano" in rejection.message
    metrics = ExportMetricsServiceRequest()
    metric = Metric(name="g")
    metric.gauge.data_points.add(time_unix_nano=future)
    metric.gauge.data_points.add(time_unix_nano=NOW)
    metrics.resource_metrics.add().scope_metrics.add().metrics.append(metric)
    rejection = validate(Signal.METRICS, metrics, now_ns=NOW)
    assert rejection.count == 1
    assert "gauge.dataPoints[0]: time_unix_nano" in rejection.message


def test_rejections_come_before_warnings_in_the_message() -> None:
    request = traces(span(trace_id=b"x"), span(attributes=attrs(3)))
    rejection = check(request, Limits(max_attributes=2))
    assert rejection.message == (
        "rejected 1 span: resourceSpans[0].scopeSpans[0].spans[0]: trace_id must be 16 bytes, "
        "got 1; accepted with limits applied: resourceSpans[0].scopeSpans[0].spans[1]: "
        "1 of 3 attributes dropped (limit max_attributes=2)"
    )


# --- records_fit: the body's length prefixes stand in for measuring records ----------

EXAMPLES = settings(max_examples=40, deadline=None)


def _sizes(message: Any, depth: int = 0) -> list[int]:
    """Encoded sizes of every resource, scope, record and schema URL of a request."""
    sizes: list[int] = []
    for field, value in message.ListFields():
        items = value if field.is_repeated else [value]
        descend = (depth == 0 and field.number == 1) or (depth == 1 and field.number == 2)
        for item in items:
            if descend:
                sizes += _sizes(item, depth + 1)
            else:
                sizes.append(len(item.encode()) if isinstance(item, str) else item.ByteSize())
    return sizes


@pytest.mark.parametrize("signal", list(Signal))
@EXAMPLES
@given(data=st.data())
def test_records_fit_reads_the_largest_record_off_the_body(
    signal: Signal, data: st.DataObject
) -> None:
    request = data.draw(export_requests(signal, extended=True))
    largest = max(_sizes(request), default=0)
    bound = data.draw(st.integers(max(0, largest - 2), largest + 1))
    assert records_fit(request.SerializeToString(), bound) == (largest <= bound)


@pytest.mark.parametrize("signal", [Signal.TRACES, Signal.LOGS])
@EXAMPLES
@given(data=st.data())
def test_validating_with_the_body_cuts_exactly_what_measuring_does(
    signal: Signal, data: st.DataObject
) -> None:
    request = data.draw(export_requests(signal))
    limits = Limits(
        max_attribute_value_length=data.draw(st.integers(0, 13)),
        max_attributes=data.draw(st.sampled_from([None, 1, 128])),
    )
    body = request.SerializeToString()
    measured = type(request).FromString(body)
    read = type(request).FromString(body)
    expected = validate(signal, measured, limits, encoded_size=len(body), now_ns=NOW)
    assert validate(signal, read, limits, body=body, now_ns=NOW) == expected
    assert same_message(read, measured)


def test_records_fit_follows_any_field_order_and_is_unsure_of_the_unusual() -> None:
    long = AnyValue(string_value="x" * 300)
    request = traces(span(attributes=[KeyValue(key="k", value=long)]))
    request.resource_spans[0].resource.attributes.add(key="r", value=AnyValue(string_value="r"))
    body = request.SerializeToString()
    assert not records_fit(body, 299)
    assert records_fit(body, 400)
    # A resource sent in two halves (protobuf merges them) is read half by half.
    resource_spans = request.resource_spans[0]
    halves = ExportTraceServiceRequest()
    halves.resource_spans.add().resource.CopyFrom(resource_spans.resource)
    twice = halves.SerializeToString() + body
    assert ExportTraceServiceRequest.FromString(twice).resource_spans[0].resource.attributes
    assert records_fit(twice, 400)
    # A group (a wire type no OTLP field has) and a cut-off body: unsure, so measured.
    group = bytes([0x0A, 0x04, (9 << 3) | 3, (9 << 3) | 4, 0x12, 0x00])
    assert not records_fit(group, 400)
    assert not records_fit(body[:-1], 400)


def test_a_large_body_with_a_long_value_deep_inside_is_cut() -> None:
    event = Span.Event(time_unix_nano=NOW, name="e", attributes=attrs(1, "x" * 70))
    request = traces(*[span(name=f"s{i}", attributes=attrs(3)) for i in range(20)])
    request.resource_spans[0].scope_spans[0].spans[7].events.append(event)
    body = request.SerializeToString()
    assert len(body) > 70
    limits = Limits(max_attribute_value_length=64)
    rejection = validate(Signal.TRACES, request, limits, body=body, now_ns=NOW)
    assert rejection.truncated_values == 1
    assert rejection.message == (
        "accepted with limits applied: resourceSpans[0].scopeSpans[0].spans[7].events[0]"
        ".attributes[0] 'k0': string of 70 characters truncated to 64 "
        "(limit max_attribute_value_length=64)"
    )
