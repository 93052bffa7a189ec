"""The named constants of LogQL: matchers, filters, conversions, functions and operators.

Each member's value is its canonical LogQL spelling, so that writing one back is a lookup.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "BinaryOp",
    "Cardinality",
    "CompareOp",
    "Conversion",
    "LineOp",
    "MatchOp",
    "RangeFunction",
    "VectorOp",
]


class MatchOp(Enum):
    """How a label matcher compares: in stream selectors, string label filters, ``drop``
    and ``keep``. Regular expressions are anchored at both ends, as in Prometheus."""

    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


class LineOp(Enum):
    """A line filter. ``|=`` and ``!=`` look for a substring, ``|~`` and ``!~`` for an
    unanchored regular expression, ``|>`` and ``!>`` for a pattern (``<_> error <_>``)."""

    CONTAINS = "|="
    NOT_CONTAINS = "!="
    MATCHES = "|~"
    NOT_MATCHES = "!~"
    PATTERN = "|>"
    NOT_PATTERN = "!>"

    @property
    def negated(self) -> bool:
        """True for ``!=``, ``!~`` and ``!>``: the line passes if no value matches."""
        return self.value.startswith("!")


class CompareOp(Enum):
    """A numeric, duration or byte-size label filter; ``=`` is read as ``==``."""

    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


class Conversion(Enum):
    """How ``unwrap`` turns a label's text into a number: ``duration`` and
    ``duration_seconds`` read a Go duration (``1.5s``) as seconds, ``bytes`` a byte size
    (``2KiB``) as bytes; without one the text is read as a float."""

    BYTES = "bytes"
    DURATION = "duration"
    DURATION_SECONDS = "duration_seconds"


class RangeFunction(Enum):
    """A range aggregation over the entries of ``[range]``."""

    COUNT_OVER_TIME = "count_over_time"
    RATE = "rate"
    RATE_COUNTER = "rate_counter"
    BYTES_OVER_TIME = "bytes_over_time"
    BYTES_RATE = "bytes_rate"
    AVG_OVER_TIME = "avg_over_time"
    SUM_OVER_TIME = "sum_over_time"
    MIN_OVER_TIME = "min_over_time"
    MAX_OVER_TIME = "max_over_time"
    STDVAR_OVER_TIME = "stdvar_over_time"
    STDDEV_OVER_TIME = "stddev_over_time"
    QUANTILE_OVER_TIME = "quantile_over_time"
    FIRST_OVER_TIME = "first_over_time"
    LAST_OVER_TIME = "last_over_time"
    ABSENT_OVER_TIME = "absent_over_time"


class VectorOp(Enum):
    """A vector aggregation across series. ``approx_topk`` is Loki's probabilistic topk
    for instant queries."""

    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    STDDEV = "stddev"
    STDVAR = "stdvar"
    TOPK = "topk"
    BOTTOMK = "bottomk"
    APPROX_TOPK = "approx_topk"
    SORT = "sort"
    SORT_DESC = "sort_desc"


class BinaryOp(Enum):
    """An operator between metric expressions or numbers."""

    OR = "or"
    AND = "and"
    UNLESS = "unless"
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    POW = "^"

    @property
    def precedence(self) -> int:
        """Loki's binding strength, 1 (``or``) to 6 (``^``); ``^`` alone groups to the right."""
        return _PRECEDENCE[self]

    @property
    def is_comparison(self) -> bool:
        return self in _COMPARISONS

    @property
    def is_set(self) -> bool:
        """``and``, ``or`` and ``unless``: they match series, they compute nothing."""
        return self in (BinaryOp.OR, BinaryOp.AND, BinaryOp.UNLESS)


_COMPARISONS = frozenset(
    (BinaryOp.EQ, BinaryOp.NE, BinaryOp.GT, BinaryOp.GE, BinaryOp.LT, BinaryOp.LE)
)
_PRECEDENCE = {
    BinaryOp.OR: 1,
    BinaryOp.AND: 2,
    BinaryOp.UNLESS: 2,
    **dict.fromkeys(_COMPARISONS, 3),
    BinaryOp.ADD: 4,
    BinaryOp.SUB: 4,
    BinaryOp.MUL: 5,
    BinaryOp.DIV: 5,
    BinaryOp.MOD: 5,
    BinaryOp.POW: 6,
}


class Cardinality(Enum):
    """Which side of a binary operation may have several series per match."""

    ONE_TO_ONE = ""
    MANY_TO_ONE = "group_left"
    ONE_TO_MANY = "group_right"
