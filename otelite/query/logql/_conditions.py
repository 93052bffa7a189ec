"""Label filters (``| status >= 500 and latency > 250ms``) on an entry's labels, as Loki
runs them (``pkg/logql/log/label_filter.go``).

A comparison with a label the entry lacks is false. A value that does not read as a
number, duration or size does not drop the line: it gets ``__error__=LabelFilterErr``
and Go's reason in ``__error_details__`` (the first error stays). ``or`` does not look
at its right side when its left holds; ``ip()`` passes an entry that already has an
error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from otelite.query.logql._ast import (
    AndFilter,
    BytesFilter,
    DurationFilter,
    IPFilter,
    LabelCondition,
    Matcher,
    NumberFilter,
    OrFilter,
)
from otelite.query.logql._entries import EntryLabels
from otelite.query.logql._enums import CompareOp, MatchOp
from otelite.query.logql._literals import parse_go_duration, read_bytes
from otelite.query.logql._match import ip_test, matcher_test
from otelite.query.logql._strconv import go_float

__all__ = ["LABEL_FILTER_ERROR", "LabelTest", "condition_test", "go_duration"]

LABEL_FILTER_ERROR = "LabelFilterErr"

LabelTest = Callable[[EntryLabels], bool]

_COMPARE: dict[CompareOp, Callable[[float, float], bool]] = {
    CompareOp.EQ: lambda a, b: a == b,
    CompareOp.NE: lambda a, b: a != b,
    CompareOp.GT: lambda a, b: a > b,
    CompareOp.GE: lambda a, b: a >= b,
    CompareOp.LT: lambda a, b: a < b,
    CompareOp.LE: lambda a, b: a <= b,
}


@lru_cache(maxsize=4096)  # a label's values repeat from line to line
def go_duration(text: str) -> float:
    """A Go duration (``1.5s``) in nanoseconds; ``ValueError`` with Go's words."""
    value = parse_go_duration(text)
    if value is None:
        raise ValueError(f'time: invalid duration "{text}"')
    return float(value)


def _compared(name: str, op: CompareOp, bound: float, read: Callable[[str], float]) -> LabelTest:
    compare = _COMPARE[op]

    def test(labels: EntryLabels) -> bool:
        text = labels.get(name)
        if text is None:
            return False
        try:
            value = read(text)
        except ValueError as error:
            if not labels.error:
                labels.set_error(LABEL_FILTER_ERROR, str(error))
            return True
        return compare(value, bound)

    return test


def condition_test(condition: LabelCondition) -> LabelTest:
    """Whether an entry passes ``condition`` (which may leave an error on it)."""
    match condition:
        case Matcher():
            name, matches = condition.name, matcher_test(condition)
            return lambda labels: matches(labels.value(name))
        case NumberFilter():
            return _compared(condition.name, condition.op, condition.value, go_float)
        case DurationFilter():
            return _compared(condition.name, condition.op, condition.nanoseconds, go_duration)
        case BytesFilter():
            return _compared(condition.name, condition.op, condition.size, read_bytes)
        case IPFilter():
            return _ip(condition)
        case AndFilter():
            left, right = condition_test(condition.left), condition_test(condition.right)
            return lambda labels: left(labels) & right(labels)
        case OrFilter():
            left, right = condition_test(condition.left), condition_test(condition.right)
            return lambda labels: left(labels) or right(labels)


def _ip(condition: IPFilter) -> LabelTest:
    name, covers = condition.name, ip_test(condition.pattern)
    negated = condition.op is MatchOp.NE

    def test(labels: EntryLabels) -> bool:
        if labels.error:
            return True
        text = labels.get(name)
        if text is None:
            return False
        return covers(text) != negated

    return test
