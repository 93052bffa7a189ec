"""PromQL evaluation: an expression over a grid of steps, against a source of series.

The expression is parsed by ``promql-parser`` (Prometheus's grammar, Prometheus 3's
quoted names included) and evaluated here, node by node, over the whole grid at once:
selectors read each series' samples once from the source and pick, for every step, the
latest sample within the lookback delta (an instant selector) or the samples of its
window (a range selector); subqueries evaluate their expression on a grid of their own
and hand the result on as samples. The source decides which series a selector means
(``Source``); the storage one is in ``_source``.

Prometheus 3's semantics: windows are left-open (``(t - range, t]``), the lookback
delta too, ``offset`` moves a selector back (forward when negative) and ``@`` pins it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import promql_parser as pp

from otelite.errors import InvalidRequest
from otelite.query.promql._binary import (
    binary_scalars,
    binary_vector_scalar,
    binary_vectors,
)
from otelite.query.promql._functions import (
    ELEMENTWISE,
    TIME_PARTS,
    histogram_quantile,
    label_join,
    label_replace,
    mapped,
    time_part,
)
from otelite.query.promql._native import (
    is_histogram_part,
    joined,
    per_histogram,
    split_histograms,
)
from otelite.query.promql._native_ops import (
    HISTOGRAM_FUNCTIONS,
    aggregate_all,
    histogram_fraction,
)
from otelite.query.promql._native_windows import histogram_windows
from otelite.query.promql._selection import Selection, Source
from otelite.query.promql._series import (
    NAME,
    Floats,
    Labels,
    Matrix,
    QueryError,
    QueryTimeout,
    Scalar,
    String,
    Times,
    Value,
    Vector,
    bounds,
    drop_name,
    merge_same_labels,
)
from otelite.query.promql._syntax import matching, selector
from otelite.query.promql._windows import RANGE_FUNCTIONS, windowed

__all__ = [
    "DEFAULT_LOOKBACK_MS",
    "DEFAULT_MAX_SAMPLES",
    "Budget",
    "evaluate",
]

DEFAULT_LOOKBACK_MS = 5 * 60 * 1000
DEFAULT_MAX_SAMPLES = 50_000_000  # as Prometheus's --query.max-samples
DEFAULT_SUBQUERY_STEP_MS = 60 * 1000  # Prometheus's default evaluation interval
# Functions of range vectors that keep the metric name.
_KEEP_NAME = frozenset({"last_over_time"})
_WITH_PARAMETER = frozenset(
    {"quantile_over_time", "predict_linear", "double_exponential_smoothing"}
)


@dataclass(slots=True)
class Budget:
    """What one query may spend: samples held (read from the source, and the cells of
    the vectors it computes) and time, after which it stops with ``QueryTimeout``."""

    max_samples: int = DEFAULT_MAX_SAMPLES
    timeout_s: float | None = None
    samples: int = 0
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.timeout_s is not None:
            self.deadline = time.monotonic() + self.timeout_s

    def spend(self, samples: int) -> None:
        self.samples += samples
        if self.samples > self.max_samples:
            raise QueryError(
                "query processing would load too many samples into memory in query execution"
                f" (more than {self.max_samples})"
            )
        self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout(f"query timed out after {self.timeout_s:g}s")


def evaluate(
    expr: Any,
    source: Source,
    steps: Times,
    *,
    start_ms: int,
    end_ms: int,
    lookback_ms: int = DEFAULT_LOOKBACK_MS,
    budget: Budget | None = None,
) -> Value:
    """``expr`` at each of ``steps``; ``start_ms`` and ``end_ms`` are the query's, for
    ``@ start()`` and ``@ end()``. ``budget`` bounds its samples and time (by default
    Prometheus's 50 million samples, and no time limit)."""
    evaluation = _Evaluation(source, steps, start_ms, end_ms, lookback_ms, budget or Budget())
    return evaluation.eval(expr)


def _ms(delta: timedelta | None) -> int:
    return 0 if delta is None else round(delta.total_seconds() * 1000)


class _Evaluation:
    def __init__(
        self,
        source: Source,
        steps: Times,
        start_ms: int,
        end_ms: int,
        lookback_ms: int,
        budget: Budget,
    ) -> None:
        self.source = source
        self.steps = steps
        self.start_ms, self.end_ms = start_ms, end_ms
        self.lookback_ms = lookback_ms
        self.budget = budget

    def eval(self, node: Any) -> Value:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise InvalidRequest(f"unsupported PromQL expression: {node}")
        self.budget.check_time()
        value: Value = method(node)
        if isinstance(value, Vector):
            self.budget.spend(value.values.size)
        return value

    def scalar(self, node: Any) -> Floats:
        value = self.eval(node)
        if not isinstance(value, Scalar):
            raise InvalidRequest(f"expected a scalar, got {type(value).__name__.lower()}")
        return value.values

    def vector(self, node: Any) -> Vector:
        value = self.eval(node)
        if not isinstance(value, Vector):
            raise InvalidRequest(f"expected an instant vector, got {type(value).__name__.lower()}")
        return value

    def matrix(self, node: Any) -> Matrix:
        value = self.eval(node)
        if not isinstance(value, Matrix):
            raise InvalidRequest(f"expected a range vector, got {type(value).__name__.lower()}")
        return value

    # --- leaves ---

    def _NumberLiteral(self, node: Any) -> Value:
        return Scalar(np.full(len(self.steps), float(node.val)))

    def _StringLiteral(self, node: Any) -> Value:
        return String(str(node.val))

    def _ParenExpr(self, node: Any) -> Value:
        return self.eval(node.expr)

    def _UnaryExpr(self, node: Any) -> Value:
        inner = self.eval(node.expr)
        if isinstance(inner, Scalar):
            return Scalar(-inner.values)
        if isinstance(inner, Vector):
            # Prometheus 3 negates native histograms too: every part of them.
            labels = [drop_name(lb) for lb in inner.labels]
            return merge_same_labels(Vector(labels, -inner.values, inner.present))
        raise InvalidRequest("unary minus applies to scalars and instant vectors")

    def _times(self, offset: timedelta | None, at: Any) -> Times:
        """When a selector reads, at each step: the step's time (or the ``@`` time)
        moved back by the offset."""
        pinned = self._at(at)
        base = self.steps if pinned is None else np.full(len(self.steps), pinned)
        return (base - _ms(offset)).astype(np.int64)

    def _at(self, at: Any) -> int | None:
        if at is None:
            return None
        kind = str(at.type).rsplit(".", 1)[-1]
        if kind == "Start":
            return self.start_ms
        if kind == "End":
            return self.end_ms
        return round(float(at.at.timestamp()) * 1000)

    def _read(self, node: Any, earliest: int, latest: int) -> Selection:
        found = self.source.select(selector(node), earliest, latest)
        self.budget.spend(len(found.times))
        return found

    def _selected(self, node: Any) -> tuple[Selection, npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """An instant selector's series, and for each series and step the position of
        its latest sample at the time the step reads and whether that sample counts
        (within the lookback, not a staleness marker)."""
        times = self._times(node.offset, node.at)
        found = self._read(node, int(times.min()) - self.lookback_ms, int(times.max()))
        lo, hi = bounds(found.offsets, found.times, times - self.lookback_ms, times)
        latest = np.maximum(hi - 1, 0)
        present = (hi > lo) & ~found.stale[latest] if len(found.stale) else hi > lo
        return found, latest, present

    def _VectorSelector(self, node: Any) -> Value:
        found, latest, present = self._selected(node)
        if not len(found) or not len(found.times):
            return Vector.empty(len(self.steps))
        return Vector.of(found.labels, found.values[latest], present)

    def _MatrixSelector(self, node: Any) -> Value:
        selector = node.vector_selector
        range_ms = _ms(node.range)
        ends = self._times(selector.offset, selector.at)
        found = self._read(selector, int(ends.min()) - range_ms, int(ends.max())).without_stale()
        return Matrix(found.labels, found.times, found.values, found.offsets, range_ms, ends)

    def _SubqueryExpr(self, node: Any) -> Value:
        range_ms = _ms(node.range)
        step = _ms(node.step) or DEFAULT_SUBQUERY_STEP_MS
        ends = self._times(node.offset, node.at)
        # The inner grid: multiples of its step, from the first after the earliest
        # window's start to the latest window's end.
        first = -(-(int(ends.min()) - range_ms) // step) * step
        inner_steps = np.arange(first, int(ends.max()) + 1, step, dtype=np.int64)
        inner = _Evaluation(
            self.source, inner_steps, self.start_ms, self.end_ms, self.lookback_ms, self.budget
        ).eval(node.expr)
        if isinstance(inner, Scalar):
            raise InvalidRequest("subquery is only allowed on instant vector")
        if not isinstance(inner, Vector):
            raise InvalidRequest("subquery is only allowed on instant vector")
        # Row by row, each row's samples in step order: packed as they lie.
        rows, columns = np.nonzero(inner.present)
        offsets = np.searchsorted(rows, np.arange(len(inner.labels) + 1)).astype(np.intp)
        return Matrix(
            list(inner.labels),
            inner_steps[columns],
            inner.values[rows, columns],
            offsets,
            range_ms,
            ends,
        )

    # --- operators ---

    def _AggregateExpr(self, node: Any) -> Value:
        op = str(node.op)
        vector = self.vector(node.expr)
        names: list[str] = []
        without = False
        if node.modifier is not None:
            names = list(node.modifier.labels)
            without = str(node.modifier.type).endswith("Without")
        parameter: Floats | str | None = None
        if op in ("topk", "bottomk", "quantile"):
            parameter = self.scalar(node.param)
        elif op == "count_values":
            label = self.eval(node.param)
            if not isinstance(label, String):
                raise InvalidRequest("count_values needs a label name as its first argument")
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label.value):
                raise QueryError(f"invalid label name {label.value!r}")
            parameter = label.value
        return aggregate_all(op, vector, names, without, parameter)

    def _BinaryExpr(self, node: Any) -> Value:
        op = str(node.op)
        left, right = self.eval(node.lhs), self.eval(node.rhs)
        modifier = node.modifier
        return_bool = bool(modifier is not None and modifier.return_bool)
        if isinstance(left, Scalar) and isinstance(right, Scalar):
            return binary_scalars(op, left, right)
        if isinstance(left, Vector) and isinstance(right, Scalar):
            return binary_vector_scalar(op, left, right, scalar_left=False, return_bool=return_bool)
        if isinstance(left, Scalar) and isinstance(right, Vector):
            return binary_vector_scalar(op, right, left, scalar_left=True, return_bool=return_bool)
        if isinstance(left, Vector) and isinstance(right, Vector):
            return binary_vectors(op, left, right, matching(modifier), return_bool=return_bool)
        raise InvalidRequest(f"operator {op} does not apply to these operands")

    # --- functions ---

    def _Call(self, node: Any) -> Value:
        name = node.func.name
        args = list(node.args)
        if name in RANGE_FUNCTIONS and name not in _WITH_PARAMETER:
            return self._over_windows(name, self.matrix(args[0]))
        if name in ELEMENTWISE:
            return mapped(self.vector(args[0]), ELEMENTWISE[name])
        if name in TIME_PARTS:
            return self._time_part(name, args)
        if name in HISTOGRAM_FUNCTIONS:
            return HISTOGRAM_FUNCTIONS[name](self.vector(args[0]))
        handler = getattr(self, f"_function_{name}", None)
        if handler is None:
            raise InvalidRequest(f"the PromQL function {name}() is not supported yet")
        value: Value = handler(args)
        return value

    def _over_windows(self, name: str, matrix: Matrix, *parameters: Floats) -> Vector:
        """A vector of the range function ``name`` (with its scalar ``parameters``) over
        every series of ``matrix``: its float series here, its native histograms by
        ``histogram_windows``."""
        keep = name in _KEEP_NAME
        floats = matrix.take(
            [row for row, lb in enumerate(matrix.labels) if not is_histogram_part(lb)]
        )
        found = Vector.empty(len(self.steps))
        if len(floats):
            values, present = windowed(name, floats, parameters)
            labels = [lb if keep else drop_name(lb) for lb in floats.labels]
            found = merge_same_labels(Vector.of(labels, values, present))
        return joined(found, histogram_windows(name, matrix, keep_name=keep))

    def _function_quantile_over_time(self, args: list[Any]) -> Value:
        q, matrix = self.scalar(args[0]), self.matrix(args[1])
        return self._over_windows("quantile_over_time", matrix, q)

    def _function_predict_linear(self, args: list[Any]) -> Value:
        matrix, seconds = self.matrix(args[0]), self.scalar(args[1])
        return self._over_windows("predict_linear", matrix, seconds)

    def _function_double_exponential_smoothing(self, args: list[Any]) -> Value:
        matrix = self.matrix(args[0])
        smoothing, trend = self.scalar(args[1]), self.scalar(args[2])
        return self._over_windows("double_exponential_smoothing", matrix, smoothing, trend)

    def _absent_labels(self, node: Any) -> Labels:
        """The labels ``absent`` answers with: the selector's equality matchers."""
        if isinstance(node, pp.MatrixSelector):
            node = node.vector_selector
        if not isinstance(node, pp.VectorSelector):
            return ()
        found: dict[str, str | None] = {}
        for m in node.matchers.matchers:
            if m.name == NAME:
                continue
            equal = str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual")
            value = m.value if equal else None
            found[m.name] = None if m.name in found else value
        return tuple(sorted((k, v) for k, v in found.items() if v))

    def _function_absent(self, args: list[Any]) -> Value:
        vector = self.vector(args[0])
        missing: npt.NDArray[np.bool_] = ~np.asarray(vector.present.any(axis=0))
        return Vector.of(
            [self._absent_labels(args[0])], np.ones((1, len(self.steps))), missing[None, :]
        )

    def _function_absent_over_time(self, args: list[Any]) -> Value:
        matrix = self.matrix(args[0])
        lo, hi = matrix.windows()
        anywhere = np.asarray((hi > lo).any(axis=0))
        return Vector.of(
            [self._absent_labels(args[0])], np.ones((1, len(self.steps))), ~anywhere[None, :]
        )

    def _function_time(self, args: list[Any]) -> Value:
        return Scalar(self.steps / 1000.0)

    def _function_pi(self, args: list[Any]) -> Value:
        return Scalar(np.full(len(self.steps), np.pi))

    def _function_vector(self, args: list[Any]) -> Value:
        number = self.scalar(args[0])
        return Vector([()], number[None, :].copy(), np.ones((1, len(self.steps)), dtype=bool))

    def _function_scalar(self, args: list[Any]) -> Value:
        vector = self.vector(args[0])
        single = vector.present.sum(axis=0) == 1
        picked = np.where(vector.present, vector.values, 0.0).sum(axis=0)
        return Scalar(np.where(single, picked, np.nan))

    def _function_timestamp(self, args: list[Any]) -> Value:
        node = args[0]
        while isinstance(node, pp.ParenExpr):
            node = node.expr
        if isinstance(node, pp.VectorSelector):
            found, latest, present = self._selected(node)
            if not len(found) or not len(found.times):
                return Vector.empty(len(self.steps))
            labels = [drop_name(labels) for labels in found.labels]
            seconds = found.times[latest] / 1000.0
            return per_histogram(merge_same_labels(Vector.of(labels, seconds, present)))
        vector = self.vector(node)
        at_steps = np.broadcast_to(self.steps / 1000.0, vector.values.shape).copy()
        return mapped(per_histogram(Vector(vector.labels, at_steps, vector.present)), lambda v: v)

    def _function_round(self, args: list[Any]) -> Value:
        vector = self.vector(args[0])
        nearest = self.scalar(args[1]) if len(args) > 1 else np.ones(len(self.steps))
        inverse = 1.0 / nearest
        return mapped(vector, lambda v: np.floor(v * inverse + 0.5) / inverse)

    def _function_clamp(self, args: list[Any]) -> Value:
        vector, low, high = self.vector(args[0]), self.scalar(args[1]), self.scalar(args[2])
        clamped = mapped(vector, lambda v: np.fmax(low, np.fmin(high, v)))
        # min > max answers nothing at that step.
        return Vector.of(clamped.labels, clamped.values, clamped.present & ~(low > high))

    def _function_clamp_min(self, args: list[Any]) -> Value:
        low = self.scalar(args[1])
        return mapped(self.vector(args[0]), lambda v: np.fmax(low, v))

    def _function_clamp_max(self, args: list[Any]) -> Value:
        high = self.scalar(args[1])
        return mapped(self.vector(args[0]), lambda v: np.fmin(high, v))

    def _function_sort(self, args: list[Any]) -> Value:
        return _sorted(self.vector(args[0]), descending=False)

    def _function_sort_desc(self, args: list[Any]) -> Value:
        return _sorted(self.vector(args[0]), descending=True)

    def _function_label_replace(self, args: list[Any]) -> Value:
        vector = self.vector(args[0])
        texts = [self._string(a) for a in args[1:5]]
        return label_replace(vector, *texts)

    def _function_label_join(self, args: list[Any]) -> Value:
        vector = self.vector(args[0])
        texts = [self._string(a) for a in args[1:]]
        return label_join(vector, texts[0], texts[1], texts[2:])

    def _function_histogram_quantile(self, args: list[Any]) -> Value:
        return histogram_quantile(self.scalar(args[0]), self.vector(args[1]))

    def _function_histogram_fraction(self, args: list[Any]) -> Value:
        lower, upper = self.scalar(args[0]), self.scalar(args[1])
        return histogram_fraction(lower, upper, self.vector(args[2]))

    def _string(self, node: Any) -> str:
        value = self.eval(node)
        if not isinstance(value, String):
            raise InvalidRequest("expected a string argument")
        return value.value

    def _time_part(self, part: str, args: list[Any]) -> Value:
        """``minute()``, ``hour()``, ...: a part of the time each value holds (default:
        the step's time)."""
        if not args:
            seconds = (self.steps / 1000.0)[None, :]
            present = np.ones_like(seconds, dtype=bool)
            return Vector([()], time_part(part, seconds), present)
        return mapped(self.vector(args[0]), lambda v: time_part(part, v))


def _sorted(vector: Vector, *, descending: bool) -> Vector:
    """Rows in order of their value at the last step (an instant query has one); NaN
    last, as Prometheus sorts. Native histograms have no place in the order and are
    left out, as Prometheus 3 leaves them out."""
    vector, _ = split_histograms(vector)
    if not vector.labels:
        return vector
    last = vector.values[:, -1]
    key = np.where(np.isnan(last), np.inf, -last if descending else last)
    order = np.argsort(key, kind="stable")
    return Vector([vector.labels[i] for i in order], vector.values[order], vector.present[order])
