"""What an operator outside braces means, given what it joins.

Outside ``{ }`` one token can mean several things, and Tempo's grammar tells them apart by
the operands, as this module does: ``>`` between spansets is the child operator, after an
aggregate (``count() > 2``) it is a comparison, and after a metrics query
(``{ } | rate() > 10``) it filters the series' points. ``!~`` between spansets is "not
sibling"; a regex match exists only inside braces. Arithmetic joins aggregates, or
parenthesised metrics queries and numbers, or two plain numbers, which are folded at
once as Tempo folds them (so ``2 * 3`` is stored as ``6``).
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from typing import TypeAlias

from otelite.query.traceql._ast import (
    Aggregate,
    BottomK,
    Coalesce,
    Compare,
    Constant,
    Duration,
    Float,
    GroupBy,
    Int,
    MetricsFilter,
    MetricsMath,
    MetricsQuery,
    Pipeline,
    ScalarBinary,
    ScalarExpr,
    ScalarFilter,
    ScalarPipeline,
    SelectStage,
    SpansetExpr,
    SpansetFilter,
    SpansetOperation,
    TopK,
)
from otelite.query.traceql._enums import (
    BinaryOp,
    SpansetOp,
)
from otelite.query.traceql._literals import MAX_INT, MIN_INT

__all__ = ["CombineError", "Outer", "Shape", "add_stage", "combine", "shape"]

# Anything an expression outside braces can evaluate to.
Outer: TypeAlias = (
    SpansetExpr
    | ScalarFilter
    | GroupBy
    | Coalesce
    | SelectStage
    | ScalarExpr
    | MetricsQuery
    | MetricsMath
)


class Shape(Enum):
    """The role a value can play; the value is how error messages name it."""

    SPANSET = "a spanset"
    CONSTANT = "a number"
    SCALAR = "an aggregate"
    SCALAR_PIPELINE = "a parenthesised pipeline ending in an aggregate"
    METRICS = "a metrics query"
    FILTER = "a comparison of aggregates"
    PIPELINE_FILTER = "a comparison of parenthesised pipelines"
    STAGE = "a pipeline stage"


class CombineError(Exception):
    """Why two operands cannot be joined; the parser adds the operator's position."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_SPANSET_OPS = {op.value: op for op in SpansetOp}
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "^"})
_METRICS_ARITHMETIC = frozenset({"+", "-", "*", "/"})
_PLAIN_SCALARS = frozenset({Shape.SCALAR, Shape.CONSTANT})
_PIPELINE = Shape.SCALAR_PIPELINE
_MetricsOperand = MetricsQuery | MetricsMath | Int | Float


def shape(value: Outer) -> Shape:
    match value:
        case SpansetFilter() | SpansetOperation() | Pipeline():
            return Shape.SPANSET
        case ScalarFilter(_, left, right):
            has_pipeline = _has_pipeline(left) or _has_pipeline(right)
            return Shape.PIPELINE_FILTER if has_pipeline else Shape.FILTER
        case GroupBy() | Coalesce() | SelectStage():
            return Shape.STAGE
        case Int() | Float() | Duration():
            return Shape.CONSTANT
        case Aggregate() | ScalarBinary() | ScalarPipeline():
            return Shape.SCALAR_PIPELINE if _has_pipeline(value) else Shape.SCALAR
        case MetricsQuery() | MetricsMath():
            return Shape.METRICS


def _has_pipeline(value: ScalarExpr) -> bool:
    match value:
        case ScalarPipeline():
            return True
        case ScalarBinary(_, left, right):
            return _has_pipeline(left) or _has_pipeline(right)
        case _:
            return False


def combine(op: str, left: Outer, right: Outer) -> Outer:
    """``left op right`` outside braces; raises :class:`CombineError`."""
    if isinstance(left, SpansetExpr):
        if op not in _SPANSET_OPS:
            raise CombineError(
                f"`{op}` cannot follow a spanset: spansets combine with &&, ||, >, >>, <, <<, "
                "~ and their ! and & forms"
            )
        if not isinstance(right, SpansetExpr):
            raise CombineError(f"`{op}` joins two spansets, not {shape(right).value}")
        return SpansetOperation(_SPANSET_OPS[op], left, right)
    if op in _COMPARISONS:
        return _compare(BinaryOp(op), left, right)
    if op in _ARITHMETIC:
        return _arithmetic(BinaryOp(op), left, right)
    if op in ("=~", "!~") and not isinstance(right, SpansetExpr):
        raise CombineError(f"`{op}` matches a regular expression only inside braces {{ }}")
    raise CombineError(f"`{op}` joins two spansets, not {shape(left).value}")


def _compare(op: BinaryOp, left: Outer, right: Outer) -> Outer:
    left_shape, right_shape = shape(left), shape(right)
    if isinstance(left, MetricsQuery | MetricsMath):
        if not isinstance(right, Int | Float | Duration):
            raise CombineError(f"a metrics query compares with a number, such as {op.value} 10")
        return add_stage(left, MetricsFilter(op, right))
    if left_shape is Shape.CONSTANT and right_shape is Shape.METRICS:
        raise CombineError(f"put the metrics query first: ({{ }} | rate()) {op.value} 10")
    if left_shape is right_shape is Shape.CONSTANT:
        raise CombineError(f"`{op.value}` outside braces needs an aggregate such as count()")
    # Tempo compares parenthesised pipelines with each other or with a number on the right,
    # and aggregates with each other or with numbers on either side.
    pipelines = left_shape is _PIPELINE and right_shape in (_PIPELINE, Shape.CONSTANT)
    if pipelines or {left_shape, right_shape} <= _PLAIN_SCALARS:
        return ScalarFilter(op, _scalar(left), _scalar(right))
    raise CombineError(f"`{op.value}` cannot compare {left_shape.value} with {right_shape.value}")


def _arithmetic(op: BinaryOp, left: Outer, right: Outer) -> Outer:
    if isinstance(left, Int | Float | Duration) and isinstance(right, Int | Float | Duration):
        return fold(op, left, right)
    left_shape, right_shape = shape(left), shape(right)
    if isinstance(left, _MetricsOperand) and isinstance(right, _MetricsOperand):
        if op.value not in _METRICS_ARITHMETIC:
            raise CombineError(f"metrics arithmetic has + - * / but not `{op.value}`")
        if _has_compare(left) or _has_compare(right):
            raise CombineError("compare() cannot be used in arithmetic")
        return MetricsMath(op, left, right)
    if Shape.METRICS in (left_shape, right_shape) and Duration in (type(left), type(right)):
        raise CombineError("a duration cannot be used in metrics arithmetic")
    # Tempo's grammar has no arithmetic between a parenthesised pipeline and a number.
    pipelines = left_shape is right_shape is _PIPELINE
    if pipelines or {left_shape, right_shape} <= _PLAIN_SCALARS:
        return ScalarBinary(op, _scalar(left), _scalar(right))
    raise CombineError(f"`{op.value}` cannot join {left_shape.value} and {right_shape.value}")


def _scalar(value: Outer) -> ScalarExpr:
    assert isinstance(value, Aggregate | ScalarBinary | ScalarPipeline | Int | Float | Duration)
    return value


def _has_compare(value: MetricsQuery | MetricsMath | Int | Float) -> bool:
    match value:
        case MetricsQuery(_, function):
            return isinstance(function, Compare)
        case MetricsMath(_, left, right):
            return _has_compare(left) or _has_compare(right)
        case _:
            return False


def add_stage(
    metrics: MetricsQuery | MetricsMath, stage: TopK | BottomK | MetricsFilter
) -> MetricsQuery | MetricsMath:
    """``metrics`` followed by one more second stage."""
    if _has_compare(metrics):
        raise CombineError("compare() cannot be followed by topk(), bottomk() or a comparison")
    return dataclasses.replace(metrics, stages=(*metrics.stages, stage))


def fold(op: BinaryOp, left: Constant, right: Constant) -> Constant:
    """Tempo's parse-time arithmetic between two numbers outside braces: ints stay ints
    (dividing with truncation, as Go does), anything with a float becomes a float."""
    if isinstance(left, Duration) or isinstance(right, Duration):
        raise CombineError("a duration cannot be used in arithmetic outside a spanset filter")
    if op.value not in _METRICS_ARITHMETIC:
        raise CombineError(f"`{op.value}` between two numbers works only inside a spanset filter")
    if right.value == 0 and op is BinaryOp.DIV:
        raise CombineError("division by zero")
    if isinstance(left, Int) and isinstance(right, Int):
        a, b = left.value, right.value
        if op is BinaryOp.DIV:
            quotient = abs(a) // abs(b)
            result = -quotient if (a < 0) != (b < 0) else quotient
        else:
            result = a + b if op is BinaryOp.ADD else a - b if op is BinaryOp.SUB else a * b
        if not MIN_INT <= result <= MAX_INT:
            raise CombineError("integer overflow in constant arithmetic")
        return Int(result)
    x, y = float(left.value), float(right.value)
    if op is BinaryOp.ADD:
        value = x + y
    elif op is BinaryOp.SUB:
        value = x - y
    elif op is BinaryOp.MUL:
        value = x * y
    else:
        value = x / y
    if not math.isfinite(value):
        raise CombineError("float overflow in constant arithmetic")
    return Float(value)
