"""What ClickHouse's errors mean for otelite: data it will never take, a statement that is
wrong, or a store that is down (everything else, so retried)."""

from __future__ import annotations

import re

__all__ = ["message", "refuses_content", "refuses_statement"]

# Codes that mean "this data is wrong" (parsing, types, sizes, values out of range).
_CONTENT = frozenset({6, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 131, 190, 321, 349, 395})
# Codes that mean "this statement is wrong" (unknown names, bad arguments, syntax).
_STATEMENT = frozenset({36, 43, 44, 46, 47, 48, 60, 62, 81, 184, 215, 386, 427})
_CODE = re.compile(r"Code: (\d+)")


def refuses_content(error: BaseException) -> bool:
    """ClickHouse refused the data itself: sending it again cannot succeed."""
    return _code(error) in _CONTENT


def refuses_statement(error: BaseException) -> bool:
    """ClickHouse refused the statement: the query, not the store, is at fault."""
    return _code(error) in _STATEMENT


def message(error: BaseException) -> str:
    """The first line of a driver error, without the query text it may repeat; anything
    but the driver's own errors also names its type, so a surprise can be traced."""
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0][:500]
    if type(error).__module__.startswith("clickhouse_connect"):
        return first
    return f"{type(error).__name__}: {first}"


def _code(error: BaseException) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    match = _CODE.search(str(error))
    return int(match.group(1)) if match else None
