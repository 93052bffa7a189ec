"""What every tool shares: its arguments resumed from a cursor, its period, and the checks
that turn a near miss (a misspelt service) into an error saying what to write instead."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mcp.server.mcpserver.exceptions import ToolError

from otelite.api.mcp._calls import QueryApi
from otelite.api.mcp._pages import Cursor, budget_of
from otelite.api.mcp._times import Period, period

__all__ = ["Call", "close_names", "figures", "known_service", "path_segment", "rounded"]

_SERVICES_LOOKBACK = "now-7d"


class Call:
    """One tool call: its arguments (from the call, or from the cursor it continues, which
    wins), its period pinned, and the cursor of its first item."""

    def __init__(self, tool: str, cursor: str | None, args: Mapping[str, Any]) -> None:
        if cursor:
            resumed = Cursor.decode(cursor, tool)
            self.args: dict[str, Any] = dict(resumed.args)
            self.offset = resumed.offset
        else:
            self.args = {k: v for k, v in args.items() if v is not None}
            self.offset = 0
        self.tool = tool

    def period(self, default_ns: int | None = None) -> Period:
        """The call's ``start``/``end`` pinned (kept pinned in its cursor)."""
        start, end = self.args.pop("start", None), self.args.pop("end", None)
        found = period(start, end) if default_ns is None else period(start, end, default_ns)
        self.args.update(found.pinned)
        return found

    def optional_period(self, first: str, second: str) -> Period | None:
        """A second range, given by the arguments ``first`` and ``second`` (both or
        neither), pinned as ``period`` is."""
        low, high = self.args.pop(first, None), self.args.pop(second, None)
        if low is None and high is None:
            return None
        if low is None or high is None:
            raise ToolError(f"{first}, {second}: give both or neither")
        found = period(low, high)
        self.args.update({first: str(found.start_ns), second: str(found.end_ns)})
        return found

    def text(self, name: str) -> str:
        """A required text argument (an empty one is missing)."""
        found = self.args.get(name)
        if not isinstance(found, str) or not found:
            raise ToolError(f"{name}: required (or the cursor of an earlier answer)")
        return found

    @property
    def budget(self) -> int:
        """The answer's budget: ``max_chars``, kept in the cursor too."""
        return budget_of(self.args.get("max_chars"))

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tool, self.args, self.offset)


async def known_service(api: QueryApi, name: str) -> None:
    """A ``ToolError`` naming the closest service names when no span of the last week
    comes from ``name``."""
    found = await api.json("/api/services", {"start": _SERVICES_LOOKBACK, "end": "now"})
    names = [s["name"] for s in found.get("services", [])]
    if name in names:
        return
    close = close_names(name, names)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listed = "" if close else f"; the services are: {', '.join(sorted(names)[:30]) or 'none yet'}"
    raise ToolError(f"service: no span of the last 7 days comes from {name!r}{hint}{listed}")


def close_names(name: str, names: list[str]) -> list[str]:
    """Up to three of ``names`` that ``name`` may have meant: alike, or one in the other."""
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    if not close:
        lowered = name.lower()
        close = [n for n in names if lowered in n.lower() or n.lower() in lowered][:3]
    return close


def path_segment(value: str) -> str:
    """``value`` as one URL path segment (service names may hold ``/``)."""
    return quote(value, safe="")


def rounded(value: float | None, digits: int) -> float | None:
    """``value`` to ``digits`` decimals (None stays None)."""
    return None if value is None else round(value, digits)


def figures(found: Mapping[str, Any]) -> dict[str, Any]:
    """The API's RED figures (``requestCount`` ... ``p99Ms``), rounded for reading."""
    return {
        "requestCount": found["requestCount"],
        "errorCount": found["errorCount"],
        "ratePerSecond": rounded(found["ratePerSecond"], 4),
        "errorRate": rounded(found["errorRate"], 4),
        "p50Ms": rounded(found["p50Ms"], 3),
        "p95Ms": rounded(found["p95Ms"], 3),
        "p99Ms": rounded(found["p99Ms"], 3),
    }
