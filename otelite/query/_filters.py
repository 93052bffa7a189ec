"""Filters as the HTTP API, the CLI and the UI take them, and the plans they make.

Each filter is a set of conditions one record must all meet; ``predicate()`` turns it
into a plan predicate. The ``*_plan`` functions build the standard views (trace search,
service and operation summaries, log search, metric catalog and points) from filters, so
callers never name a column.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from opentelemetry.proto.trace.v1.trace_pb2 import Status

from otelite.query._plan import (
    Attribute,
    Call,
    Column,
    Compare,
    Contains,
    Count,
    Expr,
    HasSpan,
    Literal,
    Op,
    Order,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
    TraceSearch,
    Value,
    all_of,
)
from otelite.types import Signal

__all__ = [
    "LogFilter",
    "SpanFilter",
    "SpanStatus",
    "count_plan",
    "log_search_plan",
    "metric_catalog_plan",
    "metric_points_plan",
    "operation_summary_plan",
    "service_summary_plan",
    "span_ids_plan",
    "trace_search_plan",
]


class SpanStatus(enum.Enum):
    """A span's status code, by the name people filter with."""

    UNSET = Status.STATUS_CODE_UNSET
    OK = Status.STATUS_CODE_OK
    ERROR = Status.STATUS_CODE_ERROR


def _attribute_conditions(attributes: tuple[tuple[str, Value], ...]) -> list[Predicate]:
    # Unscoped: the record's own attribute, else the resource's.
    return [Compare(Attribute(key), Op.EQ, value) for key, value in attributes]


def _equals(column: str, value: Value | None) -> Predicate | None:
    return None if value is None else Compare(Column(column), Op.EQ, value)


@dataclass(frozen=True, slots=True)
class SpanFilter:
    """Conditions one span must all meet; ``None`` or empty means no condition."""

    service: str | None = None
    name: str | None = None
    attributes: tuple[tuple[str, Value], ...] = ()
    """Key and value; see ``_plan`` for how a value's type decides what it matches."""
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    status: SpanStatus | None = None

    def predicate(self) -> Predicate | None:
        """The conjunction of the conditions set, or None when none is."""
        duration = Column("Duration")
        return all_of(
            _equals("ServiceName", self.service),
            _equals("SpanName", self.name),
            *_attribute_conditions(self.attributes),
            None
            if self.min_duration_ns is None
            else Compare(duration, Op.GE, self.min_duration_ns),
            None
            if self.max_duration_ns is None
            else Compare(duration, Op.LE, self.max_duration_ns),
            None
            if self.status is None
            else Compare(Column("StatusCode"), Op.EQ, self.status.value),
        )


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Conditions one log record must all meet."""

    service: str | None = None
    min_severity: int | None = None
    text: str | None = None
    """Case-insensitive substring of the body (of its text form for non-string bodies)."""
    trace_id: bytes | None = None
    attributes: tuple[tuple[str, Value], ...] = ()

    def predicate(self) -> Predicate | None:
        return all_of(
            _equals("ServiceName", self.service),
            None
            if self.min_severity is None
            else Compare(Column("SeverityNumber"), Op.GE, self.min_severity),
            None if self.text is None else Contains(Column("Body"), self.text),
            _equals("TraceId", self.trace_id),
            *_attribute_conditions(self.attributes),
        )


def _ns(column: str) -> Expr:
    return Call("timestamp_to_ns", (Column(column),))


def _error_count() -> Expr:
    is_error = Compare(Column("StatusCode"), Op.EQ, SpanStatus.ERROR.value)
    return Call("count_if", (is_error,))


def trace_search_plan(span: SpanFilter, time: TimeRange, limit: int) -> TraceSearch:
    """Traces with a span that meets every condition of ``span``, newest first."""
    return TraceSearch(HasSpan(span.predicate()), time, limit)


def service_summary_plan(time: TimeRange) -> Select:
    """``name``, ``span_count``, ``error_count`` per service, by name."""
    return Select(
        Table.SPANS,
        (
            Output("name", Column("ServiceName")),
            Output("span_count", Call("count")),
            Output("error_count", _error_count()),
        ),
        time=time,
        group_by=("name",),
        order_by=(Order("name"),),
    )


_SIGNAL_TABLES = {
    Signal.TRACES: (Table.SPANS,),
    Signal.LOGS: (Table.LOGS,),
    Signal.METRICS: Table.metrics(),
}


def count_plan(signal: Signal, time: TimeRange) -> Count:
    """Stored spans, log records or metric data points (of every metric type) in ``time``.

    Rows as stored: a span sent twice counts twice, as in ``service_summary_plan``.
    """
    return Count(_SIGNAL_TABLES[signal], time)


def operation_summary_plan(service: str, time: TimeRange) -> Select:
    """Per span name and kind of one service: counts and p50/p95/p99 duration in ns."""
    duration = Column("Duration")
    return Select(
        Table.SPANS,
        (
            Output("name", Column("SpanName")),
            Output("span_kind", Column("SpanKind")),
            Output("span_count", Call("count")),
            Output("error_count", _error_count()),
            *(
                Output(f"p{q}_ns", Call("quantile", (duration, Literal(q / 100))))
                for q in (50, 95, 99)
            ),
        ),
        where=Compare(Column("ServiceName"), Op.EQ, service),
        time=time,
        group_by=("name", "span_kind"),
        order_by=(Order("span_count", descending=True), Order("name"), Order("span_kind")),
    )


def log_search_plan(log: LogFilter, time: TimeRange, limit: int) -> Select:
    """Log records meeting ``log``, newest first, with every column a result needs."""
    columns = (
        "TimestampIsObserved",
        "SeverityNumber",
        "SeverityText",
        "Body",
        "BodyType",
        "ServiceName",
        "TraceId",
        "SpanId",
        "LogAttributes",
        "LogAttributeTypes",
        "EventName",
    )
    return Select(
        Table.LOGS,
        (
            Output("time_ns", _ns("Timestamp")),
            Output("observed_ns", _ns("ObservedTimestamp")),
            *(Output(c, Column(c)) for c in columns),
        ),
        where=log.predicate(),
        time=time,
        order_by=(Order("time_ns", descending=True),),
        limit=limit,
    )


def metric_catalog_plan(table: Table, service: str | None, time: TimeRange) -> Select:
    """Per metric name in one metric table: latest unit and description, series count."""
    latest = Column("TimeUnix")
    series = Call("hash2", (Column("ResourceAttributes"), Column("Attributes")))
    return Select(
        table,
        (
            Output("name", Column("MetricName")),
            Output("unit", Call("arg_max", (Column("MetricUnit"), latest))),
            Output("description", Call("arg_max", (Column("MetricDescription"), latest))),
            Output("series_count", Call("count_distinct", (series,))),
        ),
        where=_equals("ServiceName", service),
        time=time,
        group_by=("name",),
        order_by=(Order("name"),),
    )


_POINT_COLUMNS = {
    Table.GAUGE: ("Value", "ValueInt"),
    Table.SUM: ("Value", "ValueInt"),
    Table.HISTOGRAM: ("Count", "Sum", "Min", "Max", "BucketCounts", "ExplicitBounds"),
    Table.EXPONENTIAL_HISTOGRAM: (
        "Count",
        "Sum",
        "Min",
        "Max",
        "Scale",
        "ZeroCount",
        "ZeroThreshold",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
    ),
    Table.SUMMARY: ("Count", "Sum", "ValueAtQuantiles"),
}

# Part of a series' identity besides its attributes: how its points add up over time.
_SERIES_KIND = {
    Table.SUM: ("AggregationTemporality", "IsMonotonic"),
    Table.HISTOGRAM: ("AggregationTemporality",),
    Table.EXPONENTIAL_HISTOGRAM: ("AggregationTemporality",),
}


def metric_points_plan(
    table: Table,
    name: str,
    *,
    service: str | None,
    attributes: tuple[tuple[str, Value], ...],
    time: TimeRange,
    limit: int,
) -> Select:
    """Data points of one metric in one table, series after series, each in time order.

    Rows carry the series identity (``ResourceAttributes``, ``Attributes`` and their type
    maps, and ``AggregationTemporality`` and ``IsMonotonic`` where the type has them),
    ``start_ns``, ``time_ns`` and the point columns of the table's metric type.
    """
    kind = _SERIES_KIND.get(table, ())
    identity = (
        "ResourceAttributes",
        "ResourceAttributeTypes",
        "Attributes",
        "AttributeTypes",
        *kind,
    )
    series = Call("hash2", (Column("ResourceAttributes"), Column("Attributes")))
    return Select(
        table,
        (
            Output("series", series),
            *(Output(c, Column(c)) for c in identity),
            Output("start_ns", _ns("StartTimeUnix")),
            Output("time_ns", _ns("TimeUnix")),
            *(Output(c, Column(c)) for c in _POINT_COLUMNS[table]),
        ),
        where=all_of(
            Compare(Column("MetricName"), Op.EQ, name),
            _equals("ServiceName", service),
            *_attribute_conditions(attributes),
        ),
        time=time,
        order_by=(Order("series"), *(Order(c) for c in kind), Order("time_ns")),
        limit=limit,
    )


def span_ids_plan(trace_id: bytes, where: Predicate | None) -> Select:
    """The ids (``span_id``) of the spans of one trace that meet ``where``."""
    return Select(
        Table.SPANS,
        (Output("span_id", Column("SpanId")),),
        where=all_of(Compare(Column("TraceId"), Op.EQ, trace_id), where),
    )
