"""The small type system of field expressions, as far as Tempo checks it before running.

Attributes have no type until a span is read (``ANY`` here, Tempo's ``TypeAttribute``), so
only expressions built from literals and intrinsics can be refused. The rules are
Tempo's: numbers (ints, floats and durations) mix freely, ``nil`` compares with anything
through ``=`` and ``!=`` only, strings order lexically, statuses and kinds only compare
for (in)equality, and a regex match needs a string literal on its right. An arithmetic
result takes the type of its left operand, or of the right one when the left is ``ANY``.
"""

from __future__ import annotations

from enum import Enum

from otelite.query.traceql._ast import (
    Attribute,
    Binary,
    Bool,
    Duration,
    FieldExpr,
    Float,
    Int,
    IntrinsicField,
    Nil,
    String,
    Unary,
)
from otelite.query.traceql._enums import (
    BinaryOp,
    Intrinsic,
    Kind,
    Scope,
    Status,
    UnaryOp,
)

__all__ = ["FieldType", "a_or_an", "binary_problem", "references_span", "type_of", "unary_problem"]


class FieldType(Enum):
    ANY = "attribute"
    BOOL = "boolean"
    INT = "int"
    FLOAT = "float"
    DURATION = "duration"
    STRING = "string"
    STATUS = "status"
    KIND = "kind"
    NIL = "nil"


_NUMERIC = frozenset({FieldType.INT, FieldType.FLOAT, FieldType.DURATION})
_INTRINSIC_TYPES = {
    Intrinsic.SPAN_STATUS: FieldType.STATUS,
    Intrinsic.SPAN_KIND: FieldType.KIND,
    Intrinsic.SPAN_DURATION: FieldType.DURATION,
    Intrinsic.TRACE_DURATION: FieldType.DURATION,
    Intrinsic.EVENT_TIME_SINCE_START: FieldType.DURATION,
    Intrinsic.SPAN_CHILD_COUNT: FieldType.INT,
    Intrinsic.NESTED_SET_LEFT: FieldType.INT,
    Intrinsic.NESTED_SET_RIGHT: FieldType.INT,
    Intrinsic.NESTED_SET_PARENT: FieldType.INT,
    # Tempo gives `parent` the type nil, which would refuse `{ parent }` outright; the
    # intrinsic is unsupported anyway, so it stays untyped here and parses like Tempo's.
    Intrinsic.PARENT: FieldType.ANY,
}
_LITERAL_TYPES: dict[type, FieldType] = {
    String: FieldType.STRING,
    Int: FieldType.INT,
    Float: FieldType.FLOAT,
    Bool: FieldType.BOOL,
    Duration: FieldType.DURATION,
    Nil: FieldType.NIL,
    Status: FieldType.STATUS,
    Kind: FieldType.KIND,
}
_BOOLEAN_OPS = frozenset(
    {
        BinaryOp.OR,
        BinaryOp.AND,
        BinaryOp.EQ,
        BinaryOp.NE,
        BinaryOp.LT,
        BinaryOp.LE,
        BinaryOp.GT,
        BinaryOp.GE,
        BinaryOp.REGEX,
        BinaryOp.NOT_REGEX,
    }
)
_ORDERING = frozenset({BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE})
_EQUALITY = frozenset({BinaryOp.EQ, BinaryOp.NE})
_REGEX = frozenset({BinaryOp.REGEX, BinaryOp.NOT_REGEX})
_ARITHMETIC = frozenset(
    {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MOD, BinaryOp.POW}
)
_ALLOWED_OPS = {
    FieldType.BOOL: _EQUALITY | {BinaryOp.AND, BinaryOp.OR},
    FieldType.INT: _EQUALITY | _ORDERING | _ARITHMETIC,
    FieldType.FLOAT: _EQUALITY | _ORDERING | _ARITHMETIC,
    FieldType.DURATION: _EQUALITY | _ORDERING | _ARITHMETIC,
    FieldType.STRING: _EQUALITY | _ORDERING | _REGEX,
    FieldType.STATUS: _EQUALITY,
    FieldType.KIND: _EQUALITY,
    FieldType.NIL: _EQUALITY,
}
_SERVICE_NAME = Attribute(Scope.RESOURCE, "service.name")


def type_of(expr: FieldExpr) -> FieldType:
    """The type Tempo infers for ``expr`` before reading any span."""
    match expr:
        case Attribute():
            return FieldType.ANY
        case IntrinsicField(intrinsic):
            return _INTRINSIC_TYPES.get(intrinsic, FieldType.STRING)
        case Binary(op, left, right):
            if op in _BOOLEAN_OPS:
                return FieldType.BOOL
            left_type = type_of(left)
            return type_of(right) if left_type is FieldType.ANY else left_type
        case Unary(_, operand):
            return type_of(operand)
        case _:
            return _LITERAL_TYPES[type(expr)]


def references_span(expr: FieldExpr) -> bool:
    """Whether ``expr`` reads anything from a span (an attribute or an intrinsic)."""
    match expr:
        case Attribute() | IntrinsicField():
            return True
        case Binary(_, left, right):
            return references_span(left) or references_span(right)
        case Unary(_, operand):
            return references_span(operand)
        case _:
            return False


def _matching(left: FieldType, right: FieldType) -> bool:
    return (
        FieldType.ANY in (left, right)
        or FieldType.NIL in (left, right)
        or left is right
        or (left in _NUMERIC and right in _NUMERIC)
    )


def binary_problem(op: BinaryOp, left: FieldExpr, right: FieldExpr) -> str | None:
    """Why ``left op right`` cannot be valid, or None if it may be."""
    left_type, right_type = type_of(left), type_of(right)
    if op in _REGEX and not isinstance(right, String):
        return f'`{op.value}` needs a string literal on its right, such as "ab.*"'
    for side in (left_type, right_type):
        if side is not FieldType.ANY and op not in _ALLOWED_OPS[side]:
            return f"`{op.value}` cannot be applied to {a_or_an(side)}"
    if not _matching(left_type, right_type):
        both = f"{a_or_an(left_type)} and {a_or_an(right_type)}"
        return f"`{op.value}` needs operands of one type, not {both}"
    if op is BinaryOp.EQ:
        for operand, other in ((left, right), (right, left)):
            if isinstance(other, Nil) and isinstance(operand, IntrinsicField):
                name = operand.intrinsic.value
                return f"`{name} = nil` is never true: intrinsics always have a value"
            if isinstance(other, Nil) and operand == _SERVICE_NAME:
                return "`resource.service.name = nil` is never true: every span has a service name"
    return None


def unary_problem(op: UnaryOp, operand: FieldExpr) -> str | None:
    """Why ``op operand`` cannot be valid, or None if it may be."""
    operand_type = type_of(operand)
    if operand_type is FieldType.ANY:
        return None
    if op is UnaryOp.NEG and operand_type not in _NUMERIC:
        return f"`-` needs a number or a duration, not {a_or_an(operand_type)}"
    if op is UnaryOp.NOT and operand_type is not FieldType.BOOL:
        return f"`!` needs a boolean, not {a_or_an(operand_type)}"
    return None


def a_or_an(field_type: FieldType) -> str:
    """The type with its article ("an int", "a string"), for messages."""
    if field_type is FieldType.NIL:
        return "nil"
    article = "an" if field_type.value[0] in "aeiou" else "a"
    return f"{article} {field_type.value}"
