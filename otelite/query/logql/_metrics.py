"""Metric queries: a LogQL expression evaluated at every step of a grid at once.

Range aggregations read samples (``_samples``; counted in the database where
``_counts`` can) and compute each series' value at each step (``_range_vectors``); what
is built on them is PromQL's machinery, over the same packed values (``Vector``:
series x steps), with Loki's semantics where the two languages differ
(``pkg/logql/evaluator.go``, ``engine.go``):

- ``sum`` over a range aggregation (``count_over_time``, ``rate``, ``bytes_*``,
  ``sum_over_time``) hands its grouping down to the samples, as Loki's extractors
  reduce labels at the source, so a ``sum by (level)`` never holds a series per line;
- ``x / 0`` and ``x % 0`` are NaN, never infinite;
- ``sort`` and ``sort_desc`` order an instant query's vector by value (NaN last);
  every other instant vector is ordered by labels, and a range query's series too;
- ``approx_topk`` is ``topk`` (as Loki's querier runs it when it does not shard it);
- ``absent_over_time`` is 1 where no series has a sample, under the labels of the
  selector's equality matchers;
- a number alone is a scalar (a matrix of one series over a range); ``vector(n)`` a
  series without labels;
- more than ``MAX_SERIES`` series fail the query, with Loki's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from otelite.errors import InvalidRequest
from otelite.query._plan import Predicate
from otelite.query.logql._ast import (
    BinaryOperation,
    Grouping,
    LabelReplace,
    Matcher,
    MetricExpr,
    Number,
    RangeAggregation,
    Vector,
    VectorAggregation,
    VectorMatching,
)
from otelite.query.logql._counts import count_in_sql
from otelite.query.logql._entries import Labels
from otelite.query.logql._enums import BinaryOp, Cardinality, MatchOp, RangeFunction, VectorOp
from otelite.query.logql._range_vectors import range_vector
from otelite.query.logql._read import ReadStats
from otelite.query.logql._samples import Extract, Samples, read_samples
from otelite.query.promql import (
    Budget,
    Matching,
    QueryError,
    Scalar,
    aggregate,
    binary_scalars,
    binary_vector_scalar,
    binary_vectors,
    label_replace,
)
from otelite.query.promql import Vector as Series
from otelite.storage import Storage

__all__ = ["MAX_SERIES", "MetricResult", "evaluate_metric"]

MAX_SERIES = 500
"""Loki's default ``max_query_series``: the most series one metric query answers."""

# Range aggregations whose samples may be grouped before the range function (Loki's
# canInjectVectorGrouping): a sum of theirs is theirs of a sum.
_SUMMABLE = frozenset(
    {
        RangeFunction.COUNT_OVER_TIME,
        RangeFunction.RATE,
        RangeFunction.BYTES_OVER_TIME,
        RangeFunction.BYTES_RATE,
        RangeFunction.SUM_OVER_TIME,
    }
)
_BYTES = frozenset({RangeFunction.BYTES_OVER_TIME, RangeFunction.BYTES_RATE})
_CARDINALITY = {
    Cardinality.ONE_TO_ONE: "one-to-one",
    Cardinality.MANY_TO_ONE: "many-to-one",
    Cardinality.ONE_TO_MANY: "one-to-many",
}


@dataclass(frozen=True, slots=True)
class MetricResult:
    """A metric query's value at each step: a vector (series x steps; a series is
    absent at a step where it has no sample) or a scalar (a bare number)."""

    steps_ns: npt.NDArray[np.int64]
    value: Series | Scalar
    by_value: bool
    """An instant vector is in the order ``sort``/``sort_desc`` left, not by labels."""
    stats: ReadStats = field(default_factory=ReadStats)


def evaluate_metric(
    storage: Storage,
    expr: MetricExpr,
    *,
    start_ns: int,
    end_ns: int,
    step_ns: int,
    budget: Budget | None = None,
) -> MetricResult:
    """``expr`` at ``start_ns``, ``start_ns + step_ns``, ... up to ``end_ns``; a
    ``step_ns`` of 0 is an instant query at ``start_ns``."""
    if step_ns > 0:
        steps = np.arange(start_ns, end_ns + 1, step_ns, dtype=np.int64)
    else:
        steps = np.array([start_ns], dtype=np.int64)
    evaluation = _Evaluation(storage, steps, budget or Budget())
    value = evaluation.value(expr)
    if isinstance(value, Series) and len(value.labels) > MAX_SERIES:
        raise QueryError(
            f"maximum number of series ({MAX_SERIES}) reached for a single query; consider"
            " reducing query cardinality by adding more specific stream selectors, reducing"
            " the time range, or aggregating results with functions like sum(), count() or"
            " topk()"
        )
    return MetricResult(steps, value, _sorts(expr), evaluation.stats)


class _Evaluation:
    def __init__(self, storage: Storage, steps: npt.NDArray[np.int64], budget: Budget) -> None:
        self.storage = storage
        self.steps = steps
        self.budget = budget
        self.stats = ReadStats()

    def value(self, node: MetricExpr) -> Series | Scalar:
        self.budget.check_time()
        match node:
            case Number():
                return Scalar(np.full(len(self.steps), node.value))
            case Vector():
                return _constant(node.value, len(self.steps))
            case RangeAggregation():
                return self.range(node, None)
            case VectorAggregation():
                return self.aggregation(node)
            case BinaryOperation():
                return self.binary(node)
            case LabelReplace():
                inner = self.vector(node.expr)
                return label_replace(
                    inner, node.destination, node.replacement, node.source, node.regex
                )

    def vector(self, node: MetricExpr) -> Series:
        found = self.value(node)
        if not isinstance(found, Series):
            raise InvalidRequest(
                "a vector aggregation or label_replace takes a vector, not a number"
            )
        return found

    # --- range aggregations ---

    def range(self, node: RangeAggregation, pushed: Grouping | None) -> Series:
        """``node``'s series; ``pushed`` is the grouping of a ``sum`` around it."""
        source = node.source
        ends = self.steps - source.offset_ns
        if node.function is RangeFunction.ABSENT_OVER_TIME:
            samples = self._samples(node, Grouping(), ends)
            lo, hi = samples.windows(ends, source.range_ns)
            seen = np.asarray((hi > lo).any(axis=0), dtype=bool)
            labels = _absent_labels(source.query.selector)
            return Series.of([labels], np.ones((1, len(ends))), ~seen[None, :])
        grouping = node.grouping if node.grouping is not None else pushed
        if pushed is not None and not pushed.without:
            counted = count_in_sql(
                self.storage, node, pushed.labels, self.steps, budget=self.budget, stats=self.stats
            )
            if counted is not None:
                if counted.rest is None:
                    return counted.vector
                rest = self._range_vector(node, grouping, ends, counted.rest)
                both = Series(
                    [*counted.vector.labels, *rest.labels],
                    np.concatenate([counted.vector.values, rest.values]),
                    np.concatenate([counted.vector.present, rest.present]),
                )
                return aggregate("sum", both, pushed.labels, without=False)
        return self._range_vector(node, grouping, ends, None)

    def _range_vector(
        self,
        node: RangeAggregation,
        grouping: Grouping | None,
        ends: npt.NDArray[np.int64],
        also: Predicate | None,
    ) -> Series:
        samples = self._samples(node, grouping, ends, also)
        return range_vector(
            node.function,
            samples,
            ends,
            node.source.range_ns,
            unwrapped=node.source.unwrap is not None,
            parameter=node.parameter,
            budget=self.budget,
        )

    def _samples(
        self,
        node: RangeAggregation,
        grouping: Grouping | None,
        ends: npt.NDArray[np.int64],
        also: Predicate | None = None,
    ) -> Samples:
        return read_samples(
            self.storage,
            node.source,
            extract=Extract.BYTES if node.function in _BYTES else Extract.LINES,
            grouping=grouping,
            ends=ends,
            budget=self.budget,
            stats=self.stats,
            also=also,
        )

    # --- vector aggregations and operators ---

    def aggregation(self, node: VectorAggregation) -> Series:
        inner_node = node.expr
        if (
            node.op is VectorOp.SUM
            and isinstance(inner_node, RangeAggregation)
            and inner_node.grouping is None
            and inner_node.function in _SUMMABLE
        ):
            inner = self.range(inner_node, node.grouping)
        else:
            inner = self.vector(inner_node)
        if node.op in (VectorOp.SORT, VectorOp.SORT_DESC):
            return _by_value(inner, descending=node.op is VectorOp.SORT_DESC)
        names, without = node.grouping.labels, node.grouping.without
        if node.op in (VectorOp.TOPK, VectorOp.BOTTOMK, VectorOp.APPROX_TOPK):
            k = np.full(len(self.steps), float(node.parameter or 0))
            op = "bottomk" if node.op is VectorOp.BOTTOMK else "topk"
            return aggregate(op, inner, names, without, k)
        return aggregate(node.op.value, inner, names, without)

    def binary(self, node: BinaryOperation) -> Series | Scalar:
        left, right = self.value(node.left), self.value(node.right)
        op, return_bool = node.op.value, node.return_bool
        if node.op is BinaryOp.DIV:
            right = _nan_for_zero(right)  # Loki: x / 0 is NaN
        if isinstance(left, Series) and isinstance(right, Series):
            return binary_vectors(
                op, left, right, _matching(node.matching), return_bool=return_bool
            )
        if node.op.is_set:
            raise InvalidRequest(f"the {op} operator takes a vector on both sides")
        if isinstance(left, Series):
            assert isinstance(right, Scalar)
            return binary_vector_scalar(op, left, right, scalar_left=False, return_bool=return_bool)
        if isinstance(right, Series):
            return binary_vector_scalar(op, right, left, scalar_left=True, return_bool=return_bool)
        return binary_scalars(op, left, right)


def _constant(value: float, steps: int) -> Series:
    return Series([()], np.full((1, steps), value), np.ones((1, steps), dtype=bool))


def _nan_for_zero(value: Series | Scalar) -> Series | Scalar:
    if isinstance(value, Scalar):
        return Scalar(np.where(value.values == 0, np.nan, value.values))
    return Series(value.labels, np.where(value.values == 0, np.nan, value.values), value.present)


def _matching(matching: VectorMatching | None) -> Matching:
    if matching is None:
        return Matching()
    return Matching(
        card=_CARDINALITY[matching.cardinality],
        on=matching.on,
        labels=matching.labels,
        include=matching.include,
    )


def _by_value(vector: Series, *, descending: bool) -> Series:
    """The rows in order of their value at the last step (NaN last, then by labels)."""
    if not vector.labels:
        return vector
    last = vector.values[:, -1]
    key = np.where(np.isnan(last), np.inf, -last if descending else last)
    by_labels = np.array(sorted(range(len(vector.labels)), key=vector.labels.__getitem__))
    order = by_labels[np.argsort(key[by_labels], kind="stable")]
    return Series([vector.labels[i] for i in order], vector.values[order], vector.present[order])


def _absent_labels(selector: tuple[Matcher, ...]) -> Labels:
    """The labels of ``absent_over_time``'s series: each name the selector matches with
    one equality matcher and nothing else."""
    found: dict[str, str] = {}
    unsure: set[str] = set()
    for matcher in selector:
        if matcher.op is MatchOp.EQ and matcher.name not in found:
            found[matcher.name] = matcher.value
        else:
            unsure.add(matcher.name)
    return tuple(sorted((k, v) for k, v in found.items() if v and k not in unsure))


def _sorts(expr: MetricExpr) -> bool:
    """Whether ``sort`` or ``sort_desc`` appears anywhere in ``expr``."""
    match expr:
        case VectorAggregation():
            return expr.op in (VectorOp.SORT, VectorOp.SORT_DESC) or _sorts(expr.expr)
        case BinaryOperation():
            return _sorts(expr.left) or _sorts(expr.right)
        case LabelReplace():
            return _sorts(expr.expr)
    return False
