"""TraceQL metrics → a span metric plan, and its rows → series.

The first stage must be one spanset filter (``{ ... } | rate() by (...)``); its condition
and the function's field and ``by`` fields become one aggregate query per time bucket in
the database. Durations are reported in seconds, as Tempo reports them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from otelite.errors import InvalidRequest
from otelite.query._plan import Attribute as PlanAttribute
from otelite.query._plan import (
    Call,
    Column,
    Expr,
    InSpanset,
    Matching,
    Predicate,
    Select,
    TimeRange,
)
from otelite.query._span_metrics import SpanMetric, span_exemplars_plan, span_metric_plan
from otelite.query.traceql._ast import (
    Attribute,
    BottomK,
    Field,
    Float,
    Int,
    IntrinsicField,
    MetricsAggregate,
    MetricsExpr,
    MetricsMath,
    MetricsQuery,
    Pipeline,
    SecondStage,
    TopK,
)
from otelite.query.traceql._enums import BinaryOp, Intrinsic
from otelite.query.traceql._generator import to_text
from otelite.query.traceql._parser import parse
from otelite.query.traceql._plan import KIND_NUMBERS, STATUS_CODES, attribute_scopes, spanset_of

__all__ = [
    "Exemplar",
    "MetricsExpression",
    "MetricsPlan",
    "Series",
    "group_label",
    "metrics_expression",
    "metrics_plan",
    "source_condition",
]

_NOT_METRICS = "a metrics query ends in rate(), count_over_time(), ...: search with /api/search"

_LABEL_COLUMNS: dict[Intrinsic, str] = {
    Intrinsic.SPAN_NAME: "SpanName",
    Intrinsic.SPAN_STATUS: "StatusCode",
    Intrinsic.SPAN_KIND: "SpanKind",
    Intrinsic.SPAN_STATUS_MESSAGE: "StatusMessage",
    Intrinsic.INSTRUMENTATION_NAME: "ScopeName",
    Intrinsic.INSTRUMENTATION_VERSION: "ScopeVersion",
}
# The labels of status and kind groups: the literals the plan translates them from.
_STATUS_NAMES = {number: status.value for status, number in STATUS_CODES.items()}
_KIND_NAMES = {number: kind.value for kind, number in KIND_NUMBERS.items()}


@dataclass(frozen=True, slots=True)
class Exemplar:
    """An example span of a series at one step: the slowest there."""

    trace_id: str
    span_id: str
    at_ns: int
    value: float
    """The span's duration in seconds for metrics of durations; NaN for counts and rates,
    whose points no one span stands for (as Tempo gives them)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One series: its labels (name, value) and samples (bucket start in ns, value)."""

    labels: tuple[tuple[str, object], ...]
    samples: tuple[tuple[int, float], ...]
    exemplars: tuple[Exemplar, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricsPlan:
    """The plan of a TraceQL metrics query, and how to turn its rows into series."""

    plan: Select
    function: SpanMetric
    step_ns: int
    by: tuple[str, ...]
    by_intrinsics: tuple[Intrinsic | None, ...]
    quantiles: tuple[float, ...]
    top: TopK | BottomK | None
    where: Predicate | None
    time: TimeRange
    by_exprs: tuple[Expr, ...]
    durations: bool
    """Whether the function reads span durations (its exemplars then carry them)."""

    def exemplars_plan(self, limit: int) -> Select:
        """The plan of up to ``limit`` exemplars for the series of ``plan``."""
        return span_exemplars_plan(
            where=self.where, time=self.time, step_ns=self.step_ns, by=self.by_exprs, limit=limit
        )

    def series(
        self,
        rows: Iterable[dict[str, Any]],
        *,
        seconds: float | None = None,
        exemplar_rows: Iterable[dict[str, Any]] = (),
    ) -> list[Series]:
        """Series from the plan's rows: values per step, NaN and empty steps left out.
        A rate is per second of the step, or of ``seconds`` when given. The rows of
        ``exemplars_plan`` become the exemplars of the series with their labels."""
        found: dict[tuple[tuple[str, object], ...], dict[int, float]] = {}
        if seconds is None:
            seconds = self.step_ns / 1e9
        examples: dict[tuple[tuple[str, object], ...], list[Exemplar]] = {}
        for row in exemplar_rows:
            value = row["duration_ns"] / 1e9 if self.durations else math.nan
            example = Exemplar(row["trace_id"], row["span_id"], row["at_ns"], value)
            examples.setdefault(self._labels(row), []).append(example)
        for row in rows:
            labels = self._labels(row)
            for extra, value in self._values(row):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                key = labels + extra
                if self.function is SpanMetric.RATE:
                    value = value / seconds
                found.setdefault(key, {})[row["bucket_ns"]] = float(value)
        series = [
            Series(
                labels,
                tuple(sorted(points.items())),
                tuple(examples.get(labels[: len(labels) - self._extra_labels], ())),
            )
            for labels, points in found.items()
        ]
        return _top(series, self.top)

    @property
    def _extra_labels(self) -> int:
        """How many labels a series has beyond its group's (``p``, ``__bucket``)."""
        return 1 if self.function in (SpanMetric.QUANTILE, SpanMetric.HISTOGRAM) else 0

    def _labels(self, row: dict[str, Any]) -> tuple[tuple[str, object], ...]:
        """A row's group labels: its ``by`` values, or the function's name ungrouped."""
        return tuple(
            (name, group_label(row[f"by{n}"], intrinsic))
            for n, (name, intrinsic) in enumerate(zip(self.by, self.by_intrinsics, strict=True))
            if row[f"by{n}"] is not None
        ) or ((("__name__", self.function.value),) if not self.by else ())

    def _values(self, row: dict[str, Any]) -> list[tuple[tuple[tuple[str, object], ...], Any]]:
        if self.function is SpanMetric.QUANTILE:
            return [((("p", q),), row[f"q{n}"]) for n, q in enumerate(self.quantiles)]
        if self.function is SpanMetric.HISTOGRAM:
            return [((("__bucket", row["bucket"]),), row["value"])]
        return [((), row["value"])]


def metrics_plan(text: str, *, time: TimeRange, step_ns: int) -> MetricsPlan:
    """The plan of a TraceQL metrics query of one function; ``InvalidRequest`` for a
    search, arithmetic between queries, or a construct not supported yet."""
    body = parse(text).body
    if isinstance(body, MetricsMath):
        raise InvalidRequest(
            "arithmetic between metrics queries is answered per step only (query_range)"
        )
    if not isinstance(body, MetricsQuery):
        raise InvalidRequest(_NOT_METRICS)
    return _query_plan(body, time, step_ns)


def metrics_expression(text: str, *, time: TimeRange, step_ns: int) -> MetricsExpression:
    """A TraceQL metrics query, arithmetic between queries and numbers included
    (``({ status = error } | rate()) / ({ } | rate())``): its plans, and how their
    series combine."""
    body = parse(text).body
    if isinstance(body, Pipeline):
        raise InvalidRequest(_NOT_METRICS)
    plans: list[MetricsPlan] = []

    def tree(node: MetricsExpr) -> _Tree:
        if isinstance(node, Int | Float):
            return float(node.value)
        if isinstance(node, MetricsQuery):
            plans.append(_query_plan(node, time, step_ns))
            return len(plans) - 1
        top = _top_of(node.stages)
        return _Math(_ARITHMETIC[node.op], tree(node.left), tree(node.right), top)

    root = tree(body)
    if not plans:
        raise InvalidRequest(_NOT_METRICS)
    return MetricsExpression(tuple(plans), root)


def _top_of(stages: tuple[SecondStage, ...]) -> TopK | BottomK | None:
    top: TopK | BottomK | None = None
    for stage in stages:
        if isinstance(stage, TopK | BottomK) and top is None:
            top = stage
        else:
            raise InvalidRequest(
                f"TraceQL: not supported yet after a metrics function: {to_text(stage)}"
            )
    return top


def _query_plan(body: MetricsQuery, time: TimeRange, step_ns: int) -> MetricsPlan:
    if not isinstance(body.function, MetricsAggregate):
        # The parser keeps compare() out of arithmetic; on its own it has its own plan.
        raise InvalidRequest("TraceQL metrics: compare() is planned by metrics_comparison")
    top = _top_of(body.stages)
    where = source_condition(body.source)
    aggregate = body.function
    function = SpanMetric(aggregate.function.value)
    field = None if aggregate.field is None else _value_expr(aggregate.field)
    by = tuple(_label_expr(f) for f in aggregate.by)
    plan = span_metric_plan(
        function,
        where=where,
        time=time,
        step_ns=step_ns,
        field=field,
        by=by,
        quantiles=aggregate.quantiles,
    )
    return MetricsPlan(
        plan,
        function,
        step_ns,
        tuple(to_text(f) for f in aggregate.by),
        tuple(f.intrinsic if isinstance(f, IntrinsicField) else None for f in aggregate.by),
        aggregate.quantiles,
        top,
        where=where,
        time=time,
        by_exprs=by,
        durations=aggregate.field == IntrinsicField(Intrinsic.SPAN_DURATION),
    )


def source_condition(source: Pipeline) -> Predicate | None:
    """The condition on each span of a metrics query's first stage: the spans a metrics
    function (or ``compare()``) counts."""
    spanset = spanset_of(source)
    # One filter is a condition on each span; anything else, the spans it leaves.
    return spanset.where if isinstance(spanset, Matching) else InSpanset(spanset)


@dataclass(frozen=True, slots=True)
class _Math:
    op: Callable[[float, float], float]
    left: _Tree
    right: _Tree
    top: TopK | BottomK | None


_Tree: TypeAlias = "int | float | _Math"
"""A plan's index, a number, or arithmetic between two trees."""

_ARITHMETIC: dict[BinaryOp, Callable[[float, float], float]] = {
    BinaryOp.ADD: operator.add,
    BinaryOp.SUB: operator.sub,
    BinaryOp.MUL: operator.mul,
    BinaryOp.DIV: operator.truediv,
}


@dataclass(frozen=True, slots=True)
class MetricsExpression:
    """The plans of a metrics query, and how their series combine."""

    plans: tuple[MetricsPlan, ...]
    tree: _Tree

    def series(self, results: Sequence[Iterable[dict[str, Any]]]) -> list[Series]:
        """The series of the whole expression from each plan's rows, in plan order.

        Two sides combine series with the same labels (the function's ``__name__``
        aside); a side without ``by`` labels applies to every series of the other. A
        point is kept where both sides have one and the result is a number.
        """
        found = [plan.series(rows) for plan, rows in zip(self.plans, results, strict=True)]
        result = _evaluate(self.tree, found)
        assert not isinstance(result, float), "an expression with a query gives series"
        return result


def _evaluate(tree: _Tree, found: list[list[Series]]) -> list[Series] | float:
    if isinstance(tree, float):
        return tree  # a number (the plans' indexes are ints)
    if not isinstance(tree, _Math):
        return found[tree]
    left, right = _evaluate(tree.left, found), _evaluate(tree.right, found)
    if isinstance(left, float) and isinstance(right, float):
        return tree.op(left, right)
    combined = _combine(tree.op, left, right)
    return _top(combined, tree.top)


def _combine(
    op: Callable[[float, float], float], left: list[Series] | float, right: list[Series] | float
) -> list[Series]:
    def name_less(labels: tuple[tuple[str, object], ...]) -> tuple[tuple[str, object], ...]:
        return tuple((k, v) for k, v in labels if k != "__name__")

    def pairs() -> Iterator[tuple[tuple[tuple[str, object], ...], Series | float, Series | float]]:
        if isinstance(left, float):
            assert not isinstance(right, float)
            yield from ((name_less(s.labels), left, s) for s in right)
        elif isinstance(right, float):
            yield from ((name_less(s.labels), s, right) for s in left)
        else:
            lefts = {name_less(s.labels): s for s in left}
            rights = {name_less(s.labels): s for s in right}
            for labels in lefts.keys() & rights.keys():
                yield labels, lefts[labels], rights[labels]
            # One side ungrouped: it applies to every series of the other.
            for one, many, flip in ((lefts, rights, False), (rights, lefts, True)):
                if set(one) == {()} and set(many) != {()}:
                    for labels, series in many.items():
                        yield (labels, one[()], series) if not flip else (labels, series, one[()])

    out = []
    for labels, a, b in pairs():
        a_points = dict(a.samples) if isinstance(a, Series) else None
        b_points = dict(b.samples) if isinstance(b, Series) else None
        steps = sorted((a_points or b_points or {}).keys() & (b_points or a_points or {}).keys())
        samples = []
        for step in steps:
            x = a if a_points is None else a_points[step]
            y = b if b_points is None else b_points[step]
            assert isinstance(x, float) and isinstance(y, float)
            try:
                value = op(x, y)
            except ZeroDivisionError:
                continue
            if math.isfinite(value):
                samples.append((step, value))
        if samples:
            out.append(Series(labels, tuple(samples)))
    return out


def _value_expr(field: Field) -> Expr:
    """A numeric field: durations in seconds, attributes as doubles."""
    if isinstance(field, IntrinsicField):
        if field.intrinsic in (Intrinsic.SPAN_DURATION,):
            return Call("ns_to_seconds", (Column("Duration"),))
        raise InvalidRequest(f"TraceQL metrics: {field.intrinsic.value} is not a number")
    return Call("to_double", (_attribute(field),))


def _label_expr(field: Field) -> Expr:
    if isinstance(field, IntrinsicField):
        column = _LABEL_COLUMNS.get(field.intrinsic)
        if column is None:
            raise InvalidRequest(f"TraceQL metrics: cannot group by {field.intrinsic.value} yet")
        return Column(column)
    return _attribute(field)


def _attribute(field: Attribute) -> PlanAttribute:
    scopes = attribute_scopes(field)
    return PlanAttribute(field.name, scopes[0] if len(scopes) == 1 else None)


def group_label(value: object, intrinsic: Intrinsic | None) -> object:
    """A group's label value: a status or kind number by its TraceQL name (``error``,
    ``server``), as Tempo labels them; any other value as it is."""
    if intrinsic is Intrinsic.SPAN_STATUS and isinstance(value, int):
        return _STATUS_NAMES.get(value, str(value))
    if intrinsic is Intrinsic.SPAN_KIND and isinstance(value, int):
        return _KIND_NAMES.get(value, str(value))
    return value


def _top(series: list[Series], top: TopK | BottomK | None) -> list[Series]:
    """topk/bottomk per step: at each step, the series among the n highest (lowest)."""
    if top is None:
        return series
    keep: dict[int, set[int]] = {}
    steps = {t for s in series for t, _ in s.samples}
    for step in steps:
        ranked = sorted(
            ((dict(s.samples)[step], n) for n, s in enumerate(series) if step in dict(s.samples)),
            reverse=isinstance(top, TopK),
        )
        for _, n in ranked[: top.limit]:
            keep.setdefault(n, set()).add(step)
    kept = []
    for n, s in enumerate(series):
        samples = tuple((t, v) for t, v in s.samples if t in keep.get(n, set()))
        if samples:
            kept.append(Series(s.labels, samples))
    return kept
