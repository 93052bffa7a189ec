"""Reading and writing LogQL's literal spellings: durations, byte sizes, numbers, strings.

Loki reads two kinds of duration and one of size, each mirrored exactly (the duration
rules in :mod:`otelite.query._durations`, which Tempo's TraceQL shares):

* a range (``[5m]``) with Prometheus's rules only: integer counts of ``y w d h m s ms``
  in decreasing order (``1h30m``, ``2d``, ``0``);
* an offset or a duration in a label filter (``offset 1h``, ``latency > 250ms``) with
  Prometheus's rules first and Go's ``time.ParseDuration`` after (``1.5s``, ``300us``,
  ``-1h``), as Loki's lexer does;
* byte sizes (``20MB``, ``1KiB``) with go-humanize's rules: ``KB`` is 1000, ``KiB`` 1024,
  the unit is case-insensitive and may be abbreviated (``1k``, ``1Mi``).

Numbers are Go's ``strconv.ParseFloat`` over decimal text; the writers give the spelling
that reads back to the same value.
"""

from __future__ import annotations

import math
import re

from otelite.query._durations import (
    GO_UNITS,
    MILLISECOND,
    PROMETHEUS_UNITS,
    parse_duration,
    parse_go_duration,
)
from otelite.query._durations import parse_prometheus_duration as parse_range
from otelite.query._strings import quote_string

__all__ = [
    "format_bytes",
    "format_duration",
    "format_number",
    "format_range",
    "parse_bytes",
    "parse_duration",
    "parse_go_duration",
    "parse_integer",
    "parse_number",
    "parse_range",
    "quote_string",
    "read_bytes",
]

_DIGITS = frozenset("0123456789")


# go-humanize's table, keyed by the lower-cased unit. Loki's lexer lets through only the
# letters B, i, k, K, M, G, T and P, so in a query the exa units never arrive.
_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ti": 1024**4,
    "tib": 1024**4,
    "p": 1000**5,
    "pb": 1000**5,
    "pi": 1024**5,
    "pib": 1024**5,
    "e": 1000**6,
    "eb": 1000**6,
    "ei": 1024**6,
    "eib": 1024**6,
}


def parse_bytes(text: str) -> int | None:
    """A byte size as go-humanize's ``ParseBytes`` reads it (``20MB``, ``1.5KiB``), or
    None if ``text`` is not one."""
    try:
        return read_bytes(text)
    except ValueError:
        return None


def read_bytes(text: str) -> int:
    """A byte size as go-humanize's ``ParseBytes`` reads it: a number (commas in it
    ignored), then a unit (``20MB``, ``1.5 KiB``, ``1,024 kB``); ``ValueError`` with its
    message when ``text`` is not one (what Loki's label filters and ``bytes`` report)."""
    number_end = 0
    while number_end < len(text) and (text[number_end].isdecimal() or text[number_end] in ".,"):
        number_end += 1
    digits = text[:number_end].replace(",", "")
    number = _decimal_float(digits)
    if number is None:
        raise ValueError(f"strconv.ParseFloat: parsing {quote_string(digits)}: invalid syntax")
    unit = text[number_end:].strip().lower()
    multiplier = _BYTE_UNITS.get(unit)
    if multiplier is None:
        raise ValueError(f"unhandled size name: {unit}")
    value = number * float(multiplier)  # float arithmetic, truncated, as Go does
    if value >= 2.0**64:
        raise ValueError(f"too large: {text}")
    return int(value)


_DECIMAL = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(r"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _decimal_float(text: str) -> float | None:
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_number(text: str) -> float:
    """A number literal as Go's ``strconv.ParseFloat`` reads it; raises ``ValueError``."""
    if _DECIMAL.fullmatch(text):
        value = float(text)
    elif _HEX_FLOAT.fullmatch(text):
        value = float.fromhex(text)
    else:
        raise ValueError(f"{quote_string(text)} is not a decimal number")
    if not math.isfinite(value):
        raise ValueError(f"{quote_string(text)} is out of range for a 64-bit float")
    return value


def parse_integer(text: str) -> int | None:
    """A decimal integer as Go's ``strconv.Atoi`` reads it (64-bit), or None."""
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


def format_range(nanoseconds: int) -> str:
    """A range as Prometheus writes it, which Prometheus's parser reads back: ``5m``,
    ``1h30m``, ``1w2d``, ``0s``. Ranges are whole milliseconds."""
    if nanoseconds < 0 or nanoseconds % MILLISECOND:
        raise ValueError(f"a range is a whole, non-negative number of ms, not {nanoseconds}ns")
    return _compose(nanoseconds, PROMETHEUS_UNITS) or "0s"


def format_duration(nanoseconds: int) -> str:
    """An offset or label-filter duration that Loki's lexer reads back: Prometheus's
    spelling for whole, non-negative milliseconds (``1d``, ``250ms``), Go's otherwise
    (``-1h30m``, ``1ms500us``)."""
    if nanoseconds == 0:
        return "0s"
    if nanoseconds > 0 and nanoseconds % MILLISECOND == 0:
        return _compose(nanoseconds, PROMETHEUS_UNITS)
    sign = "-" if nanoseconds < 0 else ""
    return sign + _compose(abs(nanoseconds), GO_UNITS)


def _compose(value: int, units: dict[str, int]) -> str:
    parts = []
    for name, size in units.items():
        count, value = divmod(value, size)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)


_BYTE_FORMAT_UNITS = tuple(
    sorted(
        [(1000**power, f"{prefix}B") for power, prefix in enumerate("KMGTP", 1)]
        + [(1024**power, f"{prefix}iB") for power, prefix in enumerate("KMGTP", 1)],
        reverse=True,
    )
)
_EXACT_FLOAT = 1 << 53


def format_bytes(size: int) -> str:
    """A byte size that reads back to ``size``: the largest unit that divides it
    (``1KiB``, ``20MB``, ``1500B``)."""
    if size < 0:
        raise ValueError(f"a byte size cannot be negative: {size}")
    # Above 2**53 a count times a unit may not survive go-humanize's float arithmetic.
    if 0 < size < _EXACT_FLOAT:
        for unit, name in _BYTE_FORMAT_UNITS:
            if size % unit == 0:
                return f"{size // unit}{name}"
    return f"{size}B"


def format_number(value: float) -> str:
    """A finite number as LogQL reads it back: integers without a fraction (``2``,
    ``-3``), others in Python's shortest round-tripping form (``0.5``, ``1e+20``)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} has no LogQL literal")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
