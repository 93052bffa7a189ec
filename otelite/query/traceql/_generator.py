"""Syntax tree → canonical TraceQL text.

Canonical means: intrinsics in their scoped form (``span:duration``, not ``duration``),
``{ }`` with inner spaces, one space around binary operators, double-quoted strings,
durations in the largest exact unit (``90m``, ``1500ms``), and parentheses only where
precedence needs them, plus two kinds that it does not: around a ``&&`` inside a ``||``
(or the reverse), because Tempo gives both one level and readers expect otherwise, and
around a negative or prefixed operand of ``*``, ``/``, ``%`` and ``^``, because Tempo's
prefix ``-`` would otherwise take in the operator (``-a * b`` is ``-(a * b)``).

``parse(to_text(query)) == query`` holds for every tree the parser builds.
"""

from __future__ import annotations

from otelite.query.traceql._ast import (
    Aggregate,
    Attribute,
    Binary,
    Bool,
    BottomK,
    Coalesce,
    Compare,
    Duration,
    FieldExpr,
    Float,
    GroupBy,
    Hint,
    Int,
    IntrinsicField,
    MetricsAggregate,
    MetricsExpr,
    MetricsFilter,
    MetricsMath,
    MetricsQuery,
    Nil,
    Node,
    Pipeline,
    Query,
    ScalarBinary,
    ScalarExpr,
    ScalarFilter,
    ScalarPipeline,
    SecondStage,
    SelectStage,
    SpansetExpr,
    SpansetFilter,
    SpansetOperation,
    Stage,
    String,
    TopK,
    Unary,
)
from otelite.query.traceql._enums import (
    BinaryOp,
    Kind,
    Scope,
    SpansetOp,
    Status,
)
from otelite.query.traceql._lexer import is_attribute_rune
from otelite.query.traceql._literals import (
    MAX_INT,
    MIN_INT,
    format_duration,
    format_float,
    quote_string,
)

__all__ = ["to_text"]

_PRECEDENCE = {
    BinaryOp.OR: 1,
    BinaryOp.AND: 1,
    BinaryOp.EQ: 2,
    BinaryOp.NE: 2,
    BinaryOp.LT: 2,
    BinaryOp.LE: 2,
    BinaryOp.GT: 2,
    BinaryOp.GE: 2,
    BinaryOp.REGEX: 2,
    BinaryOp.NOT_REGEX: 2,
    BinaryOp.ADD: 3,
    BinaryOp.SUB: 3,
    BinaryOp.MUL: 4,
    BinaryOp.DIV: 4,
    BinaryOp.MOD: 4,
    BinaryOp.POW: 5,
}
_ATOM = 6
_TIGHT = 4  # operators a prefix `-` or `!` would swallow


def to_text(node: Node) -> str:
    """Canonical TraceQL for a query or any part of one."""
    match node:
        case Query(body, hints):
            text = _pipeline(body) if isinstance(body, Pipeline) else _metrics(body)
            if hints:
                text += " with(" + ", ".join(_hint(hint) for hint in hints) + ")"
            return text
        case Pipeline():
            return _pipeline(node)
        case SpansetFilter() | SpansetOperation():
            return _spanset(node)
        case ScalarFilter() | GroupBy() | Coalesce() | SelectStage():
            return _stage(node)
        case Aggregate() | ScalarBinary() | ScalarPipeline():
            return _scalar(node)
        case MetricsQuery() | MetricsMath():
            return _metrics(node)
        case MetricsAggregate() | Compare():
            return _metrics_function(node)
        case TopK() | BottomK() | MetricsFilter():
            return _second_stage(node).lstrip(" |")
        case Hint():
            return _hint(node)
        case _:
            return _field(node)


# Field expressions -----------------------------------------------------------------------


def _field(expr: FieldExpr) -> str:
    match expr:
        case Binary(op, left, right):
            return f"{_operand(left, op, left=True)} {op.value} {_operand(right, op, left=False)}"
        case Unary(op, operand):
            inner = _field(operand)
            return f"{op.value}({inner})" if _precedence(operand) < _TIGHT else f"{op.value}{inner}"
        case Attribute():
            return _attribute(expr)
        case IntrinsicField(intrinsic):
            return intrinsic.value
        case _:
            return _literal(expr, outer=False)


def _precedence(expr: FieldExpr | ScalarExpr | MetricsExpr) -> int:
    if isinstance(expr, Binary | ScalarBinary | MetricsMath):
        return _PRECEDENCE[expr.op]
    return _ATOM


def _operand(child: FieldExpr, parent: BinaryOp, *, left: bool) -> str:
    text = _field(child)
    if isinstance(child, Unary) or _is_negative_number(child):
        return f"({text})" if _PRECEDENCE[parent] >= _TIGHT else text
    return f"({text})" if _needs_parens(child, parent, left=left) else text


def _is_negative_number(expr: FieldExpr | ScalarExpr | MetricsExpr) -> bool:
    match expr:
        case Int(value) | Float(value) | Duration(value):
            return str(value).startswith("-")  # also -0.0
    return False


def _needs_parens(
    child: FieldExpr | ScalarExpr | MetricsExpr, parent: BinaryOp, *, left: bool
) -> bool:
    child_precedence, parent_precedence = _precedence(child), _PRECEDENCE[parent]
    if child_precedence != parent_precedence:
        return child_precedence < parent_precedence
    if isinstance(child, Binary) and child.op is not parent and parent_precedence == 1:
        return True  # `&&` under `||` or the reverse: correct without, clearer with
    return left == (parent is BinaryOp.POW)  # `^` groups to the right, the others left


def _literal(value: FieldExpr, *, outer: bool) -> str:
    match value:
        case String(text):
            return quote_string(text)
        case Int(number):
            if number == MIN_INT:
                # Tempo reads `minInt` only inside braces and in hints; outside, the
                # bound is reachable by folding.
                return f"(-{MAX_INT} - 1)" if outer else "minInt"
            return str(number)
        case Float(number):
            return format_float(number)
        case Duration(nanoseconds):
            return format_duration(nanoseconds)
        case Bool(flag):
            return "true" if flag else "false"
        case Nil():
            return "nil"
        case Status() | Kind():
            return str(value.value)
    raise TypeError(f"not a literal: {value!r}")


def _attribute(attribute: Attribute) -> str:
    scope, name, parent = attribute.scope, attribute.name, attribute.parent
    prefix = ("parent." if parent else "") + (f"{scope.value}." if scope.value else "")
    if not prefix:
        prefix = "."
    bare = all(is_attribute_rune(ch) and ch != '"' for ch in name)
    if scope is Scope.UNSCOPED and not parent and name[0] in "0123456789":
        bare = False  # `.5` reads as a number
    if scope is Scope.UNSCOPED and parent and name.startswith(("span.", "resource.")):
        bare = False  # `parent.span.x` reads as the span scope
    if bare:
        return prefix + name
    return prefix + '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Spansets and pipelines ------------------------------------------------------------------

_SPANSET_PRECEDENCE = {SpansetOp.AND: 1, SpansetOp.OR: 1}


def _pipeline(pipeline: Pipeline) -> str:
    return " | ".join(_stage(stage) for stage in pipeline.stages)


def _stage(stage: Stage) -> str:
    match stage:
        case Pipeline():
            return f"({_pipeline(stage)})"
        case SpansetFilter() | SpansetOperation():
            return _spanset(stage)
        case ScalarFilter(op, left, right):
            return f"{_scalar(left)} {op.value} {_scalar(right)}"
        case GroupBy(expr):
            return f"by({_field(expr)})"
        case Coalesce():
            return "coalesce()"
        case SelectStage(fields):
            return "select(" + ", ".join(_field(field) for field in fields) + ")"


def _spanset(expr: SpansetExpr) -> str:
    match expr:
        case SpansetFilter(None):
            return "{ }"
        case SpansetFilter(condition):
            assert condition is not None
            return f"{{ {_field(condition)} }}"
        case Pipeline():
            return f"({_pipeline(expr)})"
        case SpansetOperation(op, left, right):
            return " ".join(
                (_spanset_operand(left, op, left=True), op.value, _spanset_operand(right, op))
            )


def _spanset_operand(child: SpansetExpr, parent: SpansetOp, *, left: bool = False) -> str:
    text = _spanset(child)
    if not isinstance(child, SpansetOperation):
        return text
    child_precedence = _SPANSET_PRECEDENCE.get(child.op, 2)
    parent_precedence = _SPANSET_PRECEDENCE.get(parent, 2)
    if child_precedence == parent_precedence:
        mixed = parent_precedence == 1 and child.op is not parent
        return f"({text})" if not left or mixed else text
    return f"({text})" if child_precedence < parent_precedence else text


# Scalars and metrics ---------------------------------------------------------------------


def _scalar(expr: ScalarExpr) -> str:
    match expr:
        case Aggregate(function, None):
            return f"{function.value}()"
        case Aggregate(function, field):
            assert field is not None
            return f"{function.value}({_field(field)})"
        case ScalarPipeline(source, aggregate):
            return f"({_pipeline(source)} | {_scalar(aggregate)})"
        case ScalarBinary(op, left, right):
            return _arithmetic(op, left, right)
        case _:
            return _literal(expr, outer=True)


def _arithmetic(
    op: BinaryOp, left: ScalarExpr | MetricsExpr, right: ScalarExpr | MetricsExpr
) -> str:
    return f"{_arithmetic_operand(left, op, left=True)} {op.value} {_arithmetic_operand(right, op)}"


def _arithmetic_operand(
    child: ScalarExpr | MetricsExpr, parent: BinaryOp, *, left: bool = False
) -> str:
    if isinstance(child, MetricsQuery) or (isinstance(child, MetricsMath) and child.stages):
        return f"({_metrics(child)})"
    text = _metrics(child) if isinstance(child, MetricsMath) else _scalar(child)
    if _is_negative_number(child):
        return f"({text})" if _PRECEDENCE[parent] >= _TIGHT else text
    return f"({text})" if _needs_parens(child, parent, left=left) else text


def _metrics(expr: MetricsExpr) -> str:
    match expr:
        case MetricsQuery(source, function, stages):
            text = f"{_pipeline(source)} | {_metrics_function(function)}"
        case MetricsMath(op, left, right, stages):
            text = _arithmetic(op, left, right)
        case _:
            return _literal(expr, outer=True)
    return text + "".join(_second_stage(stage) for stage in stages)


def _metrics_function(function: MetricsAggregate | Compare) -> str:
    match function:
        case Compare(selection, top_n, start, end):
            arguments = [_spanset(selection)]
            if (start, end) != (0, 0):
                arguments += [str(top_n), str(start), str(end)]
            elif top_n != 10:
                arguments.append(str(top_n))
            return "compare(" + ", ".join(arguments) + ")"
        case MetricsAggregate(name, field, quantiles, by):
            arguments = [] if field is None else [_field(field)]
            arguments += [format_float(quantile) for quantile in quantiles]
            text = f"{name.value}(" + ", ".join(arguments) + ")"
            if by:
                text += " by (" + ", ".join(_field(group) for group in by) + ")"
            return text


def _second_stage(stage: SecondStage) -> str:
    match stage:
        case TopK(limit):
            return f" | topk({limit})"
        case BottomK(limit):
            return f" | bottomk({limit})"
        case MetricsFilter(op, value):
            return f" {op.value} {_literal(value, outer=True)}"


def _hint(hint: Hint) -> str:
    return f"{hint.name}={_literal(hint.value, outer=False)}"
