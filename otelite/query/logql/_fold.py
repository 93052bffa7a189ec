"""Binary operations between two numbers, folded at parse time as Loki's parser does,
with Go's float64 arithmetic: ``x / 0`` and ``x % 0`` are NaN (Loki guards them), a
comparison gives 1 or 0 whether or not ``bool`` is written, ``%`` is ``math.Mod`` and
``^`` is ``math.Pow``, infinities included.
"""

from __future__ import annotations

import math

from otelite.query.logql._enums import BinaryOp

__all__ = ["fold"]


def fold(op: BinaryOp, left: float, right: float) -> float:
    """``left op right`` for an arithmetic or comparison operator."""
    match op:
        case BinaryOp.ADD:
            return left + right
        case BinaryOp.SUB:
            return left - right
        case BinaryOp.MUL:
            return left * right
        case BinaryOp.DIV:
            return math.nan if right == 0 else left / right
        case BinaryOp.MOD:
            if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
                return math.nan
            return math.fmod(left, right)
        case BinaryOp.POW:
            return _pow(left, right)
        case BinaryOp.EQ:
            return float(left == right)
        case BinaryOp.NE:
            return float(left != right)
        case BinaryOp.GT:
            return float(left > right)
        case BinaryOp.GE:
            return float(left >= right)
        case BinaryOp.LT:
            return float(left < right)
        case BinaryOp.LE:
            return float(left <= right)
    raise ValueError(f"{op.value} does not fold")


def _pow(base: float, exponent: float) -> float:
    # Python raises where Go's math.Pow returns an infinity or NaN.
    odd = math.isfinite(exponent) and exponent.is_integer() and exponent % 2 == 1
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return -math.inf if base < 0 and odd else math.inf
    except ValueError:
        if base == 0 and exponent < 0:
            return math.copysign(math.inf, base) if odd else math.inf
        return math.nan
