"""Which records of an export request otelite can store, and why the others cannot.

``validate`` runs on every request, so it makes one pass over the records and decides
the common case — a record within every rule and limit — from its ids, timestamps, number
of attributes and encoded size, without a function call. Records that break a rule are
removed from the request in place; the rest are stored. The rules:

* Spans: ``trace_id`` is 16 bytes and ``span_id`` 8 bytes, neither all zeros;
  ``parent_span_id`` is empty or 8 bytes; every link's ids follow the span's rules.
* Log records and exemplars: ``trace_id`` and ``span_id`` are each empty (no trace
  context) or of the right size. All-zero ids of the right size are kept: SDKs write them
  for "no context", and dropping a log line over them would lose data.
* Timestamps (span start and end, events, log time and observed time, data point start
  and time, exemplars) fit in signed 64-bit nanoseconds, the range storage uses (up to the
  year 2262). ``end < start`` is allowed: derived durations are clamped, never wrapped.
* The time of a record — a span's start, a log record's time (its observed time when it
  has none), a data point's time — is at most ``Limits.max_future_seconds`` ahead of the
  server's clock and, when ``Limits.max_past_seconds`` is set, at most that far behind.
* Metrics: a data point that breaks a rule is removed and counted in
  ``rejected_data_points``. A metric with no data type (none of gauge, sum, histogram,
  exponential histogram, summary) holds no data points, so it is removed and counted as
  zero rejected points, with a warning in the message.

Resource and scope envelopes that removal leaves empty are removed too; envelopes that
arrived empty are valid OTLP and are kept. Records that are kept are then cut down to the
other limits (attribute counts, events and links per span, value lengths; see
``otelite.otlp._limits``), which the message reports as warnings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Exemplar
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.config import Limits
from otelite.otlp._limits import INT64_MAX, TimeWindow, Trimmer, int64_problem
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)

__all__ = ["MAX_REASONS", "Rejection", "validate"]

MAX_REASONS = 5
"""How many reasons (and how many cuts) a message lists before it says how many more."""

_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
_DEFAULT_LIMITS = Limits()
_UNIT = {Signal.TRACES: "span", Signal.METRICS: "data point", Signal.LOGS: "log record"}
# JSON field name of each metric data type, for the paths in messages.
_DATA_TYPE_PATH = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponential_histogram": "exponentialHistogram",
    "summary": "summary",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """What ``validate`` removed and cut: a count for ``partial_success`` and a message.

    ``count`` is in the signal's unit (spans, data points, log records). An empty message
    means the request was accepted whole and unchanged; a message with ``count == 0`` is a
    warning. The other counts say what the limits cut from records that were kept.
    """

    count: int = 0
    message: str = ""
    dropped_attributes: int = 0
    dropped_events: int = 0
    dropped_links: int = 0
    truncated_values: int = 0


def validate(
    signal: Signal,
    request: ExportRequest,
    limits: Limits = _DEFAULT_LIMITS,
    *,
    encoded_size: int | None = None,
    body: bytes | None = None,
    now_ns: int | None = None,
) -> Rejection:
    """Remove the records of ``request`` that otelite cannot store, cut the rest to
    ``limits``; say how many and why.

    ``encoded_size`` is the size of the body the request was decoded from, when known: a
    body no longer than the value length limit cannot hold a value over it, which spares
    measuring every record. ``body`` is that body itself when it is binary protobuf (its
    size is then implied): the length prefixes in it tell even for a larger body whether
    any record could hold such a value. ``now_ns`` is the clock the time limits read.
    """
    reasons: list[str] = []
    notes: list[str] = []
    window = TimeWindow.of(limits, time.time_ns() if now_ns is None else now_ns)
    trimmer = Trimmer(limits, notes, encoded_size=encoded_size, body=body)
    if isinstance(request, ExportTraceServiceRequest):
        count = _validate_traces(request, reasons, window, trimmer)
    elif isinstance(request, ExportMetricsServiceRequest):
        count = _validate_metrics(request, reasons, window, trimmer)
    else:
        count = _validate_logs(request, reasons, window, trimmer)
    if not reasons and not notes:
        return Rejection()
    cuts = trimmer.cuts
    return Rejection(
        count,
        _message(signal, count, reasons, notes),
        dropped_attributes=cuts.dropped_attributes,
        dropped_events=cuts.dropped_events,
        dropped_links=cuts.dropped_links,
        truncated_values=cuts.truncated_values,
    )


def _message(signal: Signal, count: int, reasons: list[str], notes: list[str]) -> str:
    parts: list[str] = []
    if reasons:
        head = f"rejected {count} {_UNIT[signal]}{'' if count == 1 else 's'}: "
        parts.append(head + _listed(reasons))
    if notes:
        parts.append("accepted with limits applied: " + _listed(notes))
    return "; ".join(parts)


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:MAX_REASONS])
    more = len(items) - MAX_REASONS
    return shown + (f"; and {more} more" if more > 0 else "")


def _validate_traces(
    request: ExportTraceServiceRequest, reasons: list[str], window: TimeWindow, trimmer: Trimmer
) -> int:
    earliest, latest = window.earliest, window.latest
    max_attributes = trimmer.max_attributes
    size_bound = trimmer.size_bound
    measure = trimmer.measure

    def check(spans: Sequence[Span], where: str) -> list[int]:
        bad: list[int] = []
        for k, span in enumerate(spans):
            trace_id = span.trace_id
            span_id = span.span_id
            if (
                len(trace_id) == 16
                and len(span_id) == 8
                and trace_id != _ZERO_TRACE_ID
                and span_id != _ZERO_SPAN_ID
                and len(span.parent_span_id) in (0, 8)
                and earliest <= span.start_time_unix_nano <= latest
                and span.end_time_unix_nano <= INT64_MAX
                and not span.events
                and not span.links
                and len(span.attributes) <= max_attributes
                and (not measure or span.ByteSize() <= size_bound)
            ):
                continue  # the common case, decided without a function call
            problem = _span_problem(span, window)
            if problem is not None:
                bad.append(k)
                reasons.append(f"{where}.spans[{k}]{problem}")
            else:
                trimmer.span(span, f"{where}.spans[{k}]")
        return bad

    return _walk(
        request.resource_spans,
        "resourceSpans",
        "scope_spans",
        "scopeSpans",
        "spans",
        check,
        trimmer,
    )


def _validate_logs(
    request: ExportLogsServiceRequest, reasons: list[str], window: TimeWindow, trimmer: Trimmer
) -> int:
    earliest, latest = window.earliest, window.latest
    max_attributes = trimmer.max_attributes
    size_bound = trimmer.size_bound
    measure = trimmer.measure

    def check(records: Sequence[LogRecord], where: str) -> list[int]:
        bad: list[int] = []
        for k, record in enumerate(records):
            observed = record.observed_time_unix_nano
            if (
                len(record.trace_id) in (0, 16)
                and len(record.span_id) in (0, 8)
                and earliest <= (record.time_unix_nano or observed) <= latest
                and observed <= INT64_MAX
                and len(record.attributes) <= max_attributes
                and (not measure or record.ByteSize() <= size_bound)
            ):
                continue  # the common case, decided without a function call
            problem = _log_problem(record, window)
            if problem is not None:
                bad.append(k)
                reasons.append(f"{where}.logRecords[{k}]: {problem}")
            else:
                trimmer.attributes(record, f"{where}.logRecords[{k}]")
        return bad

    return _walk(
        request.resource_logs,
        "resourceLogs",
        "scope_logs",
        "scopeLogs",
        "log_records",
        check,
        trimmer,
    )


def _validate_metrics(
    request: ExportMetricsServiceRequest, reasons: list[str], window: TimeWindow, trimmer: Trimmer
) -> int:
    rejected = 0
    earliest, latest = window.earliest, window.latest

    def check(metrics: Sequence[Any], where: str) -> list[int]:
        nonlocal rejected
        emptied: list[int] = []
        for k, metric in enumerate(metrics):
            data_type = metric.WhichOneof("data")
            if data_type is None:
                emptied.append(k)
                reasons.append(
                    f"{where}.metrics[{k}]: metric {metric.name[:64]!r} has no data type (gauge, "
                    "sum, histogram, exponentialHistogram or summary); it was dropped"
                )
                continue
            points = getattr(metric, data_type).data_points
            has_exemplars = data_type != "summary"
            bad: list[int] = []
            for m, point in enumerate(points):
                if (
                    point.start_time_unix_nano <= INT64_MAX
                    and earliest <= point.time_unix_nano <= latest
                    and not (has_exemplars and point.exemplars)
                ):
                    continue  # the common case, decided without a function call
                problem = _point_problem(point, has_exemplars, window)
                if problem is not None:
                    bad.append(m)
                    path = _DATA_TYPE_PATH[data_type]
                    reasons.append(f"{where}.metrics[{k}].{path}.dataPoints[{m}]{problem}")
            if bad:
                rejected += len(bad)
                _remove(points, bad)
                if not points:
                    emptied.append(k)
        return emptied

    # ``_walk`` counts removed metrics; the unit here is data points, counted in ``check``.
    _walk(
        request.resource_metrics,
        "resourceMetrics",
        "scope_metrics",
        "scopeMetrics",
        "metrics",
        check,
        trimmer,
    )
    return rejected


def _walk(
    resources: Any,
    resource_path: str,
    scopes_field: str,
    scopes_path: str,
    items_field: str,
    check: Callable[[Any, str], list[int]],
    trimmer: Trimmer,
) -> int:
    """Run ``check`` on every scope's items, remove what it returns, prune what empties.

    Resource and scope attributes are cut to the limits on the way. Returns how many
    items were removed. Paths in messages use the OTLP/JSON field names and the indices
    of the request as it arrived.
    """
    removed = 0
    emptied_resources: list[int] = []
    max_attributes = trimmer.max_attributes
    size_bound = trimmer.size_bound
    measure = trimmer.measure
    for i, resource in enumerate(resources):
        where = f"{resource_path}[{i}]"
        envelope = resource.resource
        if len(envelope.attributes) > max_attributes or (
            measure and envelope.ByteSize() > size_bound
        ):
            trimmer.attributes(envelope, f"{where}.resource")
        scopes = getattr(resource, scopes_field)
        emptied_scopes: list[int] = []
        for j, scope in enumerate(scopes):
            scope_where = f"{where}.{scopes_path}[{j}]"
            envelope = scope.scope
            if len(envelope.attributes) > max_attributes or (
                measure and envelope.ByteSize() > size_bound
            ):
                trimmer.attributes(envelope, f"{scope_where}.scope")
            items = getattr(scope, items_field)
            bad = check(items, scope_where)
            if bad:
                removed += len(bad)
                _remove(items, bad)
                if not items:
                    emptied_scopes.append(j)
        if emptied_scopes:
            _remove(scopes, emptied_scopes)
            if not scopes:
                emptied_resources.append(i)
    _remove(resources, emptied_resources)
    return removed


def _remove(repeated: Any, indices: list[int]) -> None:
    """Delete ``indices`` (ascending) from a repeated field, back to front."""
    for index in reversed(indices):
        del repeated[index]


def _span_problem(span: Span, window: TimeWindow) -> str | None:
    """The first rule ``span`` breaks, as a path suffix and reason, or None."""
    problem = _id_problem(span.trace_id, span.span_id, required=True)
    if problem is not None:
        return f": {problem}"
    parent = span.parent_span_id
    if parent and len(parent) != 8:
        return f": parent_span_id must be empty or 8 bytes, got {len(parent)}"
    problem = window.problem("start_time_unix_nano", span.start_time_unix_nano)
    if problem is not None:
        return f": {problem}"
    if span.end_time_unix_nano > INT64_MAX:
        return f": {int64_problem('end_time_unix_nano', span.end_time_unix_nano)}"
    for e, event in enumerate(span.events):
        if event.time_unix_nano > INT64_MAX:
            return f".events[{e}]: {int64_problem('time_unix_nano', event.time_unix_nano)}"
    for n, link in enumerate(span.links):
        problem = _id_problem(link.trace_id, link.span_id, required=True)
        if problem is not None:
            return f".links[{n}]: {problem}"
    return None


def _log_problem(record: LogRecord, window: TimeWindow) -> str | None:
    problem = _id_problem(record.trace_id, record.span_id, required=False)
    if problem is not None:
        return problem
    if record.time_unix_nano:
        problem = window.problem("time_unix_nano", record.time_unix_nano)
        if problem is None and record.observed_time_unix_nano > INT64_MAX:
            field, value = "observed_time_unix_nano", record.observed_time_unix_nano
            problem = int64_problem(field, value)
        return problem
    return window.problem("observed_time_unix_nano", record.observed_time_unix_nano)


def _point_problem(point: Any, has_exemplars: bool, window: TimeWindow) -> str | None:
    """The first rule a data point breaks, as a path suffix and reason, or None."""
    if point.start_time_unix_nano > INT64_MAX:
        return f": {int64_problem('start_time_unix_nano', point.start_time_unix_nano)}"
    problem = window.problem("time_unix_nano", point.time_unix_nano)
    if problem is not None:
        return f": {problem}"
    if has_exemplars:
        for e, exemplar in enumerate(point.exemplars):
            problem = _exemplar_problem(exemplar)
            if problem is not None:
                return f".exemplars[{e}]: {problem}"
    return None


def _exemplar_problem(exemplar: Exemplar) -> str | None:
    problem = _id_problem(exemplar.trace_id, exemplar.span_id, required=False)
    if problem is None and exemplar.time_unix_nano > INT64_MAX:
        problem = int64_problem("time_unix_nano", exemplar.time_unix_nano)
    return problem


def _id_problem(trace_id: bytes, span_id: bytes, *, required: bool) -> str | None:
    """Check a trace and span id pair; optional ids may be empty (and may be all zeros)."""
    if required:
        if len(trace_id) != 16:
            return f"trace_id must be 16 bytes, got {len(trace_id)}"
        if trace_id == _ZERO_TRACE_ID:
            return "trace_id must not be all zeros"
        if len(span_id) != 8:
            return f"span_id must be 8 bytes, got {len(span_id)}"
        if span_id == _ZERO_SPAN_ID:
            return "span_id must not be all zeros"
        return None
    if trace_id and len(trace_id) != 16:
        return f"trace_id must be empty or 16 bytes, got {len(trace_id)}"
    if span_id and len(span_id) != 8:
        return f"span_id must be empty or 8 bytes, got {len(span_id)}"
    return None
