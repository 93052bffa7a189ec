"""Plans for rate, errors and duration (RED) of each service, in total and over time.

This module holds otelite's one definition of *a request to a service*, which the
services page, the service map's nodes and the trace search link to a service's
requests all use: an *entry span* of the service, that is a server or consumer span, or
a root (a span without a parent, so a batch job that only makes internal spans still has
a rate). A request is an error when its span's status is; its latency is its span's
duration, and quantiles interpolate linearly between the closest ranks (R-7, numpy's
default). In TraceQL the same spans are ``requests_traceql(service)``, which a search
matches each once; the counts here count each stored copy of a re-sent span, as every
count does (README.md, "What counts copies": counting each once costs a distinct count
over every span read).
"""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.query._filters import SpanStatus
from otelite.query._plan import (
    And,
    Call,
    Column,
    Compare,
    Expr,
    Literal,
    Op,
    Or,
    Order,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
    all_of,
)
from otelite.query._strings import quote_string

__all__ = [
    "QUANTILES",
    "requests_traceql",
    "service_red_plan",
    "service_request_counts_plan",
    "service_trend_plan",
]

QUANTILES = (50, 95, 99)
"""The latency percentiles every RED row carries, as ``p50_ns``, ``p95_ns``, ``p99_ns``."""


def _is_request() -> Predicate:
    """The span is a request to its service: a server, consumer or root span."""
    return Or(
        (
            Compare(Column("SpanKind"), Op.EQ, Span.SPAN_KIND_SERVER),
            Compare(Column("SpanKind"), Op.EQ, Span.SPAN_KIND_CONSUMER),
            Compare(Column("ParentSpanId"), Op.EQ, b""),
        )
    )


def requests_traceql(service: str) -> str:
    """A TraceQL query whose matched spans are ``service``'s requests (``_is_request``)."""
    return (
        f"{{ resource.service.name = {quote_string(service)}"
        " && (kind = server || kind = consumer || nestedSetParent < 0) }"
    )


def _red_outputs() -> tuple[Output, ...]:
    duration = Column("Duration")
    is_error = Compare(Column("StatusCode"), Op.EQ, SpanStatus.ERROR.value)
    return (
        Output("request_count", Call("count")),
        Output("error_count", Call("count_if", (is_error,))),
        *(Output(f"p{q}_ns", Call("quantile", (duration, Literal(q / 100)))) for q in QUANTILES),
    )


def _service(service: str | None) -> Predicate | None:
    return None if service is None else Compare(Column("ServiceName"), Op.EQ, service)


def service_red_plan(time: TimeRange, service: str | None = None) -> Select:
    """Per service (``name``): request and error counts and p50/p95/p99 duration in ns."""
    return Select(
        Table.SPANS,
        (Output("name", Column("ServiceName")), *_red_outputs()),
        where=all_of(_is_request(), _service(service)),
        time=time,
        group_by=("name",),
        order_by=(Order("name"),),
    )


def service_trend_plan(time: TimeRange, bucket_ns: int, service: str | None = None) -> Select:
    """The RED figures per service (``name``) and time bucket (``bucket_ns``, its start)."""
    if bucket_ns <= 0:
        raise ValueError(f"bucket_ns must be positive, got {bucket_ns}")
    bucket: Expr = Call("time_bucket_ns", (Column("Timestamp"), Literal(bucket_ns)))
    return Select(
        Table.SPANS,
        (Output("name", Column("ServiceName")), Output("bucket_ns", bucket), *_red_outputs()),
        where=all_of(_is_request(), _service(service)),
        time=time,
        group_by=("name", "bucket_ns"),
        order_by=(Order("name"), Order("bucket_ns")),
    )


def service_request_counts_plan(
    time: TimeRange,
    service: str,
    *,
    operation: str | None = None,
    latency_threshold_ns: int | None = None,
    bucket_ns: int | None = None,
) -> Select:
    """One row: ``request_count``, the service's requests (of span name ``operation``,
    when given), and ``good_count``, those that did not fail and, with
    ``latency_threshold_ns``, took at most that long (an SLO's good events); with
    ``bucket_ns``, a row per time bucket with data (``bucket_ns``, its start), in order."""
    succeeded: Predicate = Compare(Column("StatusCode"), Op.NE, SpanStatus.ERROR.value)
    is_good = (
        succeeded
        if latency_threshold_ns is None
        else And((succeeded, Compare(Column("Duration"), Op.LE, latency_threshold_ns)))
    )
    name = None if operation is None else Compare(Column("SpanName"), Op.EQ, operation)
    counts = (
        Output("request_count", Call("count")),
        Output("good_count", Call("count_if", (is_good,))),
    )
    where = all_of(_is_request(), _service(service), name)
    if bucket_ns is None:
        return Select(Table.SPANS, counts, where=where, time=time)
    if bucket_ns <= 0:
        raise ValueError(f"bucket_ns must be positive, got {bucket_ns}")
    bucket: Expr = Call("time_bucket_ns", (Column("Timestamp"), Literal(bucket_ns)))
    return Select(
        Table.SPANS,
        (Output("bucket_ns", bucket), *counts),
        where=where,
        time=time,
        group_by=("bucket_ns",),
        order_by=(Order("bucket_ns"),),
    )
