from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.config import Limits
from otelite.otlp._validate import Rejection, validate
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)

TRACE_ID = bytes(range(1, 17))
SPAN_ID = bytes(range(1, 9))
INT64_MAX = 2**63 - 1
SPAN_PATH = "resourceSpans[0].scopeSpans[0].spans[0]"
# The int64 range is what these tests are about, so the window on record times is off.
NO_WINDOW = Limits(max_future_seconds=None)


def span(**fields: Any) -> Span:
    values: dict[str, Any] = {
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "name": "op",
        "start_time_unix_nano": 1_700_000_000_000_000_000,
        "end_time_unix_nano": 1_700_000_000_100_000_000,
    }
    values.update(fields)
    return Span(**values)


def traces(*spans: Span) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    return request


def logs(*records: LogRecord) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    request.resource_logs.add().scope_logs.add().log_records.extend(records)
    return request


def metrics(*items: Metric) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.extend(items)
    return request


def gauge(*times: int, **point: Any) -> Metric:
    metric = Metric(name="g")
    for t in times:
        metric.gauge.data_points.add(time_unix_nano=t, as_double=1.0, **point)
    return metric


def test_valid_request_is_untouched() -> None:
    request = traces(
        span(parent_span_id=SPAN_ID, end_time_unix_nano=1, events=[Span.Event(time_unix_nano=5)]),
        span(start_time_unix_nano=INT64_MAX, end_time_unix_nano=0),
        span(links=[Span.Link(trace_id=TRACE_ID, span_id=SPAN_ID)]),
    )
    before = request.SerializeToString()
    assert validate(Signal.TRACES, request, NO_WINDOW) == Rejection()
    assert request.SerializeToString() == before


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"trace_id": b"abc"}, ": trace_id must be 16 bytes, got 3"),
        ({"trace_id": b""}, ": trace_id must be 16 bytes, got 0"),
        ({"trace_id": bytes(16)}, ": trace_id must not be all zeros"),
        ({"span_id": bytes(range(9))}, ": span_id must be 8 bytes, got 9"),
        ({"span_id": bytes(8)}, ": span_id must not be all zeros"),
        ({"parent_span_id": b"\x01"}, ": parent_span_id must be empty or 8 bytes, got 1"),
        (
            {"start_time_unix_nano": 2**64 - 1},
            ": start_time_unix_nano 18446744073709551615 is beyond the signed 64-bit "
            "nanosecond range otelite stores (max 9223372036854775807, in the year 2262)",
        ),
        ({"end_time_unix_nano": INT64_MAX + 1}, ": end_time_unix_nano 9223372036854775808 is"),
        (
            {"events": [Span.Event(time_unix_nano=1), Span.Event(time_unix_nano=2**63)]},
            ".events[1]: time_unix_nano 9223372036854775808 is",
        ),
        (
            {"links": [Span.Link(trace_id=TRACE_ID, span_id=b"\x01\x02")]},
            ".links[0]: span_id must be 8 bytes, got 2",
        ),
        (
            {"links": [Span.Link(trace_id=bytes(16), span_id=SPAN_ID)]},
            ".links[0]: trace_id must not be all zeros",
        ),
    ],
)
def test_invalid_span_is_removed_with_its_reason(fields: dict[str, Any], reason: str) -> None:
    request = traces(span(**fields))
    rejection = validate(Signal.TRACES, request)
    assert rejection.count == 1
    assert rejection.message.startswith(f"rejected 1 span: {SPAN_PATH}{reason}")
    assert len(request.resource_spans) == 0


def test_message_names_original_positions_and_counts() -> None:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.scope_spans.add().spans.extend([span(), span()])
    resource.scope_spans.add().spans.extend([span(), span(trace_id=b"abc"), span(span_id=b"")])
    rejection = validate(Signal.TRACES, request)
    assert rejection == Rejection(
        2,
        "rejected 2 spans: resourceSpans[0].scopeSpans[1].spans[1]: trace_id must be 16 bytes, "
        "got 3; resourceSpans[0].scopeSpans[1].spans[2]: span_id must be 8 bytes, got 0",
    )
    assert [len(s.spans) for s in request.resource_spans[0].scope_spans] == [2, 1]


def test_message_lists_five_reasons_then_how_many_more() -> None:
    request = traces(*[span(trace_id=b"x") for _ in range(8)], span())
    rejection = validate(Signal.TRACES, request)
    assert rejection.count == 8
    assert rejection.message.count("trace_id must be 16 bytes") == 5
    assert rejection.message.endswith("spans[4]: trace_id must be 16 bytes, got 1; and 3 more")
    assert len(request.resource_spans[0].scope_spans[0].spans) == 1


def test_envelopes_emptied_by_removal_are_pruned_and_empty_ones_kept() -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add()  # arrived empty: kept
    emptied = request.resource_spans.add()
    emptied.scope_spans.add().spans.append(span(trace_id=b""))
    kept = request.resource_spans.add()
    kept.scope_spans.add()  # arrived empty: kept
    kept.scope_spans.add().spans.append(span(span_id=b""))  # emptied: pruned
    kept.scope_spans.add().spans.append(span(name="survivor"))
    assert validate(Signal.TRACES, request).count == 2
    assert len(request.resource_spans) == 2
    assert [len(s.spans) for s in request.resource_spans[1].scope_spans] == [0, 1]
    assert request.resource_spans[1].scope_spans[1].spans[0].name == "survivor"


def test_empty_requests_are_valid() -> None:
    for signal in Signal:
        assert validate(signal, signal.request_type()) == Rejection()


@pytest.mark.parametrize(
    "record",
    [
        LogRecord(),
        LogRecord(trace_id=TRACE_ID, span_id=SPAN_ID),
        LogRecord(trace_id=bytes(16), span_id=bytes(8)),  # SDKs' "no context"
        LogRecord(time_unix_nano=INT64_MAX, observed_time_unix_nano=INT64_MAX),
    ],
)
def test_valid_log_records_are_kept(record: LogRecord) -> None:
    request = logs(record)
    assert validate(Signal.LOGS, request, NO_WINDOW) == Rejection()
    assert len(request.resource_logs[0].scope_logs[0].log_records) == 1


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (LogRecord(trace_id=b"\x01" * 8), "trace_id must be empty or 16 bytes, got 8"),
        (LogRecord(span_id=b"\x01" * 16), "span_id must be empty or 8 bytes, got 16"),
        (LogRecord(time_unix_nano=2**63), "time_unix_nano 9223372036854775808 is beyond"),
        (LogRecord(observed_time_unix_nano=2**64 - 1), "observed_time_unix_nano 184467"),
    ],
)
def test_invalid_log_records_are_removed(record: LogRecord, reason: str) -> None:
    request = logs(LogRecord(body={"string_value": "kept"}), record)
    rejection = validate(Signal.LOGS, request)
    assert rejection.count == 1
    prefix = "rejected 1 log record: resourceLogs[0].scopeLogs[0].logRecords[1]: "
    assert rejection.message.startswith(prefix + reason)
    remaining = request.resource_logs[0].scope_logs[0].log_records
    assert [r.body.string_value for r in remaining] == ["kept"]


def _sum(metric: Metric) -> Metric:
    points = list(metric.gauge.data_points)
    out = Metric(name="s")
    out.sum.data_points.extend(points)
    return out


def _histogram(metric: Metric) -> Metric:
    out = Metric(name="h")
    for p in metric.gauge.data_points:
        point = out.histogram.data_points.add(time_unix_nano=p.time_unix_nano, count=1)
        point.exemplars.extend(p.exemplars)
    return out


def _exponential(metric: Metric) -> Metric:
    out = Metric(name="e")
    for p in metric.gauge.data_points:
        point = out.exponential_histogram.data_points.add(time_unix_nano=p.time_unix_nano)
        point.exemplars.extend(p.exemplars)
    return out


@pytest.mark.parametrize(
    ("convert", "path"),
    [
        (lambda m: m, "gauge"),
        (_sum, "sum"),
        (_histogram, "histogram"),
        (_exponential, "exponentialHistogram"),
    ],
)
def test_invalid_data_points_are_removed(convert: Callable[[Metric], Metric], path: str) -> None:
    metric = gauge(1, 2**63, 3)
    metric.gauge.data_points[2].exemplars.add(trace_id=b"\x01", time_unix_nano=1)
    metric.gauge.data_points[0].exemplars.add(trace_id=TRACE_ID, span_id=SPAN_ID)
    metric.gauge.data_points[0].exemplars.add(trace_id=bytes(16), span_id=b"")
    request = metrics(convert(metric))
    rejection = validate(Signal.METRICS, request)
    where = f"resourceMetrics[0].scopeMetrics[0].metrics[0].{path}.dataPoints"
    assert rejection.count == 2
    assert rejection.message == (
        f"rejected 2 data points: {where}[1]: time_unix_nano 9223372036854775808 is beyond "
        "the signed 64-bit nanosecond range otelite stores (max 9223372036854775807, in the "
        f"year 2262); {where}[2].exemplars[0]: trace_id must be empty or 16 bytes, got 1"
    )
    kept = request.resource_metrics[0].scope_metrics[0].metrics[0]
    points = getattr(kept, kept.WhichOneof("data")).data_points
    assert [p.time_unix_nano for p in points] == [1]
    assert len(points[0].exemplars) == 2


def test_summary_points_and_start_times_are_checked() -> None:
    metric = Metric(name="q")
    metric.summary.data_points.add(time_unix_nano=1, start_time_unix_nano=2**63)
    metric.summary.data_points.add(time_unix_nano=1, start_time_unix_nano=INT64_MAX)
    request = metrics(metric)
    rejection = validate(Signal.METRICS, request)
    assert rejection.count == 1
    assert ".summary.dataPoints[0]: start_time_unix_nano 9223372036854775808" in rejection.message
    assert len(request.resource_metrics[0].scope_metrics[0].metrics[0].summary.data_points) == 1


def test_metric_without_data_type_is_dropped_with_a_warning() -> None:
    request = metrics(Metric(name="nothing"), gauge(1))
    rejection = validate(Signal.METRICS, request)
    assert rejection == Rejection(
        0,
        "rejected 0 data points: resourceMetrics[0].scopeMetrics[0].metrics[0]: metric "
        "'nothing' has no data type (gauge, sum, histogram, exponentialHistogram or summary); "
        "it was dropped",
    )
    assert [m.name for m in request.resource_metrics[0].scope_metrics[0].metrics] == ["g"]


def test_metric_emptied_of_points_is_pruned_but_one_that_came_empty_is_kept() -> None:
    came_empty = Metric(name="empty")
    came_empty.gauge.SetInParent()
    request = metrics(came_empty, gauge(2**63))
    assert validate(Signal.METRICS, request).count == 1
    assert [m.name for m in request.resource_metrics[0].scope_metrics[0].metrics] == ["empty"]


def test_a_large_valid_request_passes_whole_and_unchanged() -> None:
    # What validation costs a span is measured by bench/flatten.py, not here.
    request = ExportTraceServiceRequest()
    for _ in range(10):
        spans = request.resource_spans.add().scope_spans.add().spans
        for i in range(5_000):
            spans.add(
                trace_id=TRACE_ID,
                span_id=i.to_bytes(8, "big") if i else SPAN_ID,
                start_time_unix_nano=1,
                end_time_unix_nano=2,
            )
    before = request.SerializeToString()
    assert validate(Signal.TRACES, request) == Rejection()
    assert request.SerializeToString() == before
