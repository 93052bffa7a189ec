"""Plans for metrics computed from spans over time (TraceQL metrics): one row per step.

Every function is an aggregate per time bucket (``bucket_ns``, the start of a step on a
grid of multiples of the step) and per group of ``by`` values, computed in the database:
counts for ``rate`` and ``count_over_time``, the aggregate of a field for
``sum|min|max|avg_over_time``, exact quantiles for ``quantile_over_time``, and counts per
power-of-two bucket of the field for ``histogram_over_time``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from otelite.query._plan import (
    Call,
    Column,
    Expr,
    Literal,
    Order,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
)

__all__ = ["SpanMetric", "span_exemplars_plan", "span_metric_plan"]


class SpanMetric(enum.Enum):
    """A TraceQL metrics function."""

    RATE = "rate"
    COUNT = "count_over_time"
    SUM = "sum_over_time"
    MIN = "min_over_time"
    MAX = "max_over_time"
    AVG = "avg_over_time"
    QUANTILE = "quantile_over_time"
    HISTOGRAM = "histogram_over_time"

    @property
    def needs_field(self) -> bool:
        return self not in (SpanMetric.RATE, SpanMetric.COUNT)


_AGGREGATES = {
    SpanMetric.SUM: "sum",
    SpanMetric.MIN: "min",
    SpanMetric.MAX: "max",
    SpanMetric.AVG: "avg",
}


def span_metric_plan(
    function: SpanMetric,
    *,
    where: Predicate | None,
    time: TimeRange,
    step_ns: int,
    field: Expr | None = None,
    by: Sequence[Expr] = (),
    quantiles: Sequence[float] = (),
) -> Select:
    """Rows of ``bucket_ns``, ``by0``, ``by1``, ... and the values: ``value`` (``rate``
    and ``count_over_time`` count spans; the other aggregates take ``field``), or
    ``q0``, ``q1``, ... for ``quantiles``, or ``bucket`` (the power of two at or above the
    field's value) and ``value`` (its count) for the histogram. Rows with a NULL field
    take no part in the field's aggregates."""
    if step_ns <= 0:
        raise ValueError(f"step_ns must be positive, got {step_ns}")
    if function.needs_field and field is None:
        raise ValueError(f"{function.value} needs a field")
    bucket: Expr = Call("time_bucket_ns", (Column("Timestamp"), Literal(step_ns)))
    keys = [Output("bucket_ns", bucket), *(Output(f"by{n}", e) for n, e in enumerate(by))]
    values: list[Output]
    if function in (SpanMetric.RATE, SpanMetric.COUNT):
        values = [Output("value", Call("count"))]
    elif function is SpanMetric.QUANTILE:
        assert field is not None
        values = [
            Output(f"q{n}", Call("quantile", (field, Literal(q)))) for n, q in enumerate(quantiles)
        ]
    elif function is SpanMetric.HISTOGRAM:
        assert field is not None
        keys.append(Output("bucket", Call("pow2_ceiling", (field,))))
        values = [Output("value", Call("count"))]
    else:
        assert field is not None
        values = [Output("value", Call(_AGGREGATES[function], (field,)))]
    names = tuple(output.name for output in keys)
    return Select(
        Table.SPANS,
        (*keys, *values),
        where=where,
        time=time,
        group_by=names,
        order_by=tuple(Order(name) for name in names),
    )


def span_exemplars_plan(
    *,
    where: Predicate | None,
    time: TimeRange,
    step_ns: int,
    by: Sequence[Expr] = (),
    limit: int,
) -> Select:
    """One example span per step and group of ``by`` values, the slowest: rows of
    ``bucket_ns``, ``by0``, ..., ``trace_id`` and ``span_id`` (hex), ``at_ns`` (its start)
    and ``duration_ns``; at most ``limit`` rows, the earliest steps first."""
    if step_ns <= 0:
        raise ValueError(f"step_ns must be positive, got {step_ns}")
    bucket: Expr = Call("time_bucket_ns", (Column("Timestamp"), Literal(step_ns)))
    keys = [Output("bucket_ns", bucket), *(Output(f"by{n}", e) for n, e in enumerate(by))]
    duration = Column("Duration")

    def slowest(expr: Expr) -> Expr:
        return Call("arg_max", (expr, duration))

    values = [
        Output("trace_id", slowest(Call("to_hex", (Column("TraceId"),)))),
        Output("span_id", slowest(Call("to_hex", (Column("SpanId"),)))),
        Output("at_ns", slowest(Call("timestamp_to_ns", (Column("Timestamp"),)))),
        Output("duration_ns", Call("max", (duration,))),
    ]
    names = tuple(output.name for output in keys)
    return Select(
        Table.SPANS,
        (*keys, *values),
        where=where,
        time=time,
        group_by=names,
        order_by=tuple(Order(name) for name in names),
        limit=limit,
    )
