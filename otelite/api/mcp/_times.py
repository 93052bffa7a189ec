"""The time range of a tool call, pinned: relative times become absolute at the first call,
so that a cursor's continuation reads the same period."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from mcp.server.mcpserver.exceptions import ToolError

from otelite.query import parse_duration_ns, parse_time

__all__ = ["DEFAULT_RANGE_NS", "Period", "iso", "period"]

DEFAULT_RANGE_NS = 3600 * 10**9
_SECOND = 10**9


@dataclass(frozen=True, slots=True)
class Period:
    """``[start_ns, end_ns)`` in Unix nanoseconds."""

    start_ns: int
    end_ns: int

    @property
    def seconds(self) -> dict[str, str]:
        """``start`` and ``end`` as Unix seconds, as every query API takes them."""
        return {"start": _seconds(self.start_ns), "end": _seconds(self.end_ns)}

    @property
    def pinned(self) -> dict[str, str]:
        """The arguments that name this period again: for a cursor."""
        return {"start": str(self.start_ns), "end": str(self.end_ns)}


def period(start: str | None, end: str | None, default_ns: int = DEFAULT_RANGE_NS) -> Period:
    """The period ``start`` to ``end`` (each ``now``, ``now-2h``, ``2h`` (ago), RFC 3339 or
    Unix seconds/ms/ns; by default the ``default_ns`` before now)."""
    now = time.time_ns()
    end_ns = _time("end", end, now) if end else now
    start_ns = _time("start", start, now) if start else end_ns - default_ns
    if start_ns >= end_ns:
        raise ToolError("start: must be before end")
    return Period(start_ns, end_ns)


def _time(name: str, text: str, now_ns: int) -> int:
    try:
        return parse_time(text, now_ns)
    except ValueError as error:
        try:  # a duration is that long ago, as the command line takes it
            return now_ns - parse_duration_ns(text)
        except ValueError:
            raise ToolError(f"{name}: {error}, or a duration ago such as 2h") from None


def _seconds(ns: int) -> str:
    whole, part = divmod(ns, _SECOND)
    return f"{whole}.{part:09d}".rstrip("0").rstrip(".")


def iso(ns: int) -> str:
    """Unix nanoseconds as RFC 3339 in UTC, to the millisecond."""
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")
