"""Query-string parameters, read with messages that name the parameter and its form."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import TypeVar

from starlette.datastructures import QueryParams

from otelite.errors import InvalidRequest
from otelite.query import TimeRange, parse_duration_ns, parse_severity, parse_time

__all__ = ["Params", "parse_trace_id"]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_INT64_MAX = 2**63 - 1
_DEFAULT_WINDOW_NS = 3600 * 10**9
_MAX_PARAM_CHARS = 4096


def parse_trace_id(text: str, name: str = "traceId") -> bytes:
    """Hex trace id → 16 bytes; shorter ids are left-padded with zeros, as Tempo does."""
    cleaned = text.strip()
    if not 0 < len(cleaned) <= 32:
        raise InvalidRequest(f"{name}: expected 1 to 32 hex characters, got {len(cleaned)}")
    try:
        raw = bytes.fromhex(cleaned.rjust(32, "0"))
    except ValueError:
        raise InvalidRequest(f"{name}: expected hex characters, got {text!r:.40}") from None
    if raw == bytes(16):
        raise InvalidRequest(f"{name}: the all-zero trace id is not valid")
    return raw


class Params:
    """Typed access to a request's query parameters; each getter raises ``InvalidRequest``."""

    def __init__(self, query: QueryParams, *, now_ns: int | None = None) -> None:
        self._query = query
        self.now_ns = time.time_ns() if now_ns is None else now_ns
        for key, value in query.multi_items():
            if len(value) > _MAX_PARAM_CHARS:
                raise InvalidRequest(f"{key}: longer than {_MAX_PARAM_CHARS} characters")

    def text(self, name: str) -> str | None:
        """The parameter, or None when absent or empty."""
        value = self._query.get(name)
        return value if value else None

    def _parsed(self, name: str, parse: Callable[[str], T], form: str) -> T | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError:
            raise InvalidRequest(f"{name}: expected {form}, got {value!r:.80}") from None

    def time(self, name: str) -> int | None:
        """A point in time in Unix ns (see ``parse_time`` for the forms)."""
        value = self._parsed(
            name,
            lambda text: parse_time(text, self.now_ns),
            "RFC 3339, Unix seconds/ms/ns, now or now-1h",
        )
        if value is not None and not 0 <= value <= _INT64_MAX:
            raise InvalidRequest(f"{name}: outside 1970 to 2262")
        return value

    def time_range(self, *, default_window: bool = True) -> TimeRange:
        """``start``/``end``; by default the last hour, else unbounded where absent."""
        end = self.time("end")
        start = self.time("start")
        if default_window:
            end = self.now_ns if end is None else end
            start = max(0, end - _DEFAULT_WINDOW_NS) if start is None else start
        if start is not None and end is not None and end < start:
            raise InvalidRequest("start: must not be after end (end defaults to now)")
        return TimeRange(start, end)

    def duration_ns(self, name: str) -> int | None:
        return self._parsed(name, parse_duration_ns, "a duration like 250ms, 1.5s or 1h30m")

    def severity(self, name: str) -> int | None:
        return self._parsed(name, parse_severity, "a severity name (TRACE..FATAL) or 1-24")

    def limit(self, name: str, *, default: int, maximum: int) -> int:
        value = self._parsed(name, int, f"an integer from 1 to {maximum}")
        if value is None:
            return default
        if not 1 <= value <= maximum:
            raise InvalidRequest(f"{name}: expected an integer from 1 to {maximum}, got {value}")
        return value

    def choice(self, name: str, kind: type[E]) -> E | None:
        """An enum member by its lower-case name."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind[value.upper()]
        except KeyError:
            names = "|".join(member.name.lower() for member in kind)
            raise InvalidRequest(f"{name}: expected {names}, got {value!r:.40}") from None

    def attributes(self, name: str = "attr") -> tuple[tuple[str, str], ...]:
        """Every ``name=key=value``; the value is matched in its string form."""
        pairs = []
        for item in self._query.getlist(name):
            key, equals, value = item.partition("=")
            if not key or not equals:
                raise InvalidRequest(f"{name}: expected key=value, got {item!r:.80}")
            pairs.append((key, value))
        return tuple(pairs)

    def trace_id(self, name: str) -> bytes | None:
        value = self.text(name)
        return None if value is None else parse_trace_id(value, name)
