"""Reading and writing TraceQL's literal spellings: durations, numbers and strings.

Tempo reads a duration with Prometheus's rules first (``1d``, ``2w``, ``1y``, ``1h30m``)
and Go's after (``1.5s``, ``300us``, ``1h15m30.9s``), as Loki does: the lexer reads them
with :mod:`otelite.query._durations`, and the writers here give the spelling that reads
back to the same value.
"""

from __future__ import annotations

import math

from otelite.query._durations import GO_UNITS
from otelite.query._strings import quote_string

__all__ = [
    "MAX_INT",
    "MIN_INT",
    "format_duration",
    "format_float",
    "quote_string",
]

MAX_INT = (1 << 63) - 1
MIN_INT = -(1 << 63)


def format_duration(nanoseconds: int) -> str:
    """The canonical spelling: an integer count of the largest exact unit (``90m``,
    ``1500ms``, ``-5s``, ``0s``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    magnitude = abs(nanoseconds)
    # Go's units only: days are left out because Go's parser (Tempo's fallback) does
    # not know them.
    name, unit = next((n, u) for n, u in GO_UNITS.items() if magnitude % u == 0)
    return f"{sign}{magnitude // unit}{name}"


def format_float(value: float) -> str:
    """Python's shortest round-tripping spelling, which TraceQL's lexer reads back as a
    float (``1.0``, ``1e+20``, ``2.5e-07``)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be written in TraceQL")
    return repr(value)
