"""Arithmetic between literals, done before planning: ``10 * 1024 * 1024`` is one number.

A query's constant parts need no database: ``folded`` replaces every arithmetic subtree
whose operands are all numbers (ints, floats, durations) with the literal it computes, and
``constant_holds`` decides a comparison between two literals. What remains refers to a
span and is planned as SQL.

Numbers follow Tempo's static arithmetic where it matters for a comparison: a duration
operand makes the result a duration, a float one a float; ints stay ints where the result
is whole (``7 / 2`` is 3.5). ``%`` keeps the sign of its left operand, as Go's does.
"""

from __future__ import annotations

import math
import re

from otelite.errors import InvalidRequest
from otelite.query._plan import Op
from otelite.query.traceql._ast import (
    Binary,
    Bool,
    Duration,
    FieldExpr,
    Float,
    Int,
    Nil,
    Static,
    String,
    Unary,
)
from otelite.query.traceql._enums import BinaryOp, Kind, Status, UnaryOp
from otelite.query.traceql._literals import MAX_INT, MIN_INT

__all__ = ["ARITHMETIC", "constant_holds", "folded"]

ARITHMETIC = frozenset(
    {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MOD, BinaryOp.POW}
)
_Number = Int | Float | Duration


def folded(expr: FieldExpr) -> FieldExpr:
    """``expr`` with its arithmetic between literals computed."""
    if isinstance(expr, Binary) and expr.op in ARITHMETIC:
        left, right = folded(expr.left), folded(expr.right)
        if isinstance(left, _Number) and isinstance(right, _Number):
            return _compute(expr.op, left, right)
        return Binary(expr.op, left, right)
    if isinstance(expr, Unary) and expr.op is UnaryOp.NEG:
        operand = folded(expr.operand)
        if isinstance(operand, _Number):
            return _compute(BinaryOp.SUB, Int(0), operand)
        return Unary(expr.op, operand)
    return expr


def constant_holds(op: Op, left: Static, right: Static) -> bool:
    """Whether ``left op right`` between two literals; comparing different types, as
    with a missing attribute, is never true."""
    if isinstance(left, _Number) and isinstance(right, _Number):
        if op in (Op.MATCH, Op.NOT_MATCH):
            return False
        return op.holds(_value(left), _value(right))
    if isinstance(left, String) and isinstance(right, String):
        if op in (Op.MATCH, Op.NOT_MATCH):
            try:
                found = re.fullmatch(right.value, left.value) is not None
            except re.error as error:
                raise InvalidRequest(f"TraceQL: invalid regular expression: {error}") from None
            return found == (op is Op.MATCH)
        return {
            Op.EQ: left.value == right.value,
            Op.NE: left.value != right.value,
            Op.LT: left.value < right.value,
            Op.LE: left.value <= right.value,
            Op.GT: left.value > right.value,
            Op.GE: left.value >= right.value,
        }[op]
    same_kind = type(left) is type(right)
    if same_kind and isinstance(left, Bool | Status | Kind | Nil) and op in (Op.EQ, Op.NE):
        return (left == right) == (op is Op.EQ)
    return False


def _value(number: _Number) -> int | float:
    return number.nanoseconds if isinstance(number, Duration) else number.value


def _compute(op: BinaryOp, left: _Number, right: _Number) -> _Number:
    a, b = _value(left), _value(right)
    if b == 0 and op in (BinaryOp.DIV, BinaryOp.MOD):
        raise InvalidRequest("TraceQL: division by zero")
    result: int | float
    if op is BinaryOp.ADD:
        result = a + b
    elif op is BinaryOp.SUB:
        result = a - b
    elif op is BinaryOp.MUL:
        result = a * b
    elif op is BinaryOp.DIV:
        whole = isinstance(a, int) and isinstance(b, int) and a % b == 0
        result = a // b if whole else a / b
    elif op is BinaryOp.MOD:
        result = math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else _go_mod(a, b)
    else:
        if isinstance(a, int) and isinstance(b, int) and b > 63 and abs(a) > 1:
            raise InvalidRequest("TraceQL: the arithmetic overflows a 64-bit integer")
        try:
            result = a**b
        except (OverflowError, ZeroDivisionError):
            raise InvalidRequest("TraceQL: the arithmetic overflows") from None
        if isinstance(result, complex):
            raise InvalidRequest("TraceQL: a negative number to a fractional power")
    if isinstance(left, Duration) or isinstance(right, Duration):
        return Duration(_whole(result))
    if isinstance(result, float) or isinstance(left, Float) or isinstance(right, Float):
        if not math.isfinite(result):
            raise InvalidRequest("TraceQL: the arithmetic overflows")
        return Float(float(result))
    return Int(_whole(result))


def _go_mod(a: int, b: int) -> int:
    """``a % b`` with the sign of ``a``, as Go computes it."""
    remainder = abs(a) % abs(b)
    return remainder if a >= 0 else -remainder


def _whole(result: int | float) -> int:
    if isinstance(result, float) and not math.isfinite(result):
        raise InvalidRequest("TraceQL: the arithmetic overflows")
    whole = int(result)
    if not MIN_INT <= whole <= MAX_INT:
        raise InvalidRequest("TraceQL: the arithmetic overflows a 64-bit integer")
    return whole
