"""The parameters of Loki's HTTP API, read as Loki reads them (``pkg/loghttp/params.go``),
and durations written as its messages write them."""

from __future__ import annotations

import math
import time

from otelite.api._form import Form
from otelite.errors import InvalidRequest
from otelite.query import parse_time
from otelite.query.logql import Direction, parse_range

__all__ = ["DEFAULT_LIMIT", "DEFAULT_SINCE_NS", "MAX_POINTS", "Params", "go_duration"]

DEFAULT_LIMIT = 100
DEFAULT_SINCE_NS = 3600 * 10**9
MAX_POINTS = 11_000
"""The most steps one range query may have."""
_MAX_NS = 2**63 - 1


class Params(Form):
    """A request's parameters, read as Loki reads them (``pkg/loghttp/params.go``)."""

    def timestamp(self, name: str, default: int) -> int:
        """Unix ns from ``name``: float seconds (ms precision), up to 10 digits of
        seconds, more digits of ns, or RFC 3339; times before 1970 are 1970's first."""
        return max(0, min(self._timestamp(name, default), _MAX_NS))

    def _timestamp(self, name: str, default: int) -> int:
        text = self.get(name)
        if text is None:
            return default
        if "." in text:
            try:
                seconds = float(text)
            except ValueError:
                pass
            else:
                if not math.isfinite(seconds) or abs(seconds) > 2**33:
                    raise InvalidRequest(f"could not parse '{name}' parameter: out of range")
                whole = math.trunc(seconds)
                return whole * 10**9 + round((seconds - whole) * 1000) * 10**6
        if text.lstrip("-").isdigit() and text.isascii():
            value = int(text)
            if len(text) <= 10:
                return value * 10**9
            if abs(value) < 2**63:
                return value
        try:
            return parse_time(text, time.time_ns())
        except ValueError:
            raise InvalidRequest(
                f"could not parse '{name}' parameter: cannot parse \"{text}\" to a valid timestamp"
            ) from None

    def bounds(self, now: int) -> tuple[int, int]:
        """``start`` and ``end``: by default the ``since`` (1h) before the end (or before
        now, when the end is later) and now."""
        since = DEFAULT_SINCE_NS
        text = self.get("since")
        if text is not None:
            try:
                since = parse_range(text)
            except ValueError as problem:
                raise InvalidRequest(f"could not parse 'since' parameter: {problem}") from None
        end = self.timestamp("end", now)
        start = self.timestamp("start", min(end, now) - since)
        return start, end

    def duration(self, name: str) -> int | None:
        """Seconds (a float) or a duration, in ns; None when absent."""
        text = self.get(name)
        if text is None:
            return None
        try:
            seconds = float(text)
        except ValueError:
            pass
        else:
            if not math.isfinite(seconds) or abs(seconds) * 1e9 > 2**63:
                raise InvalidRequest(
                    f'cannot parse "{text}" to a valid duration. It overflows int64'
                )
            return round(seconds * 1e9)
        try:
            return parse_range(text)
        except ValueError:
            raise InvalidRequest(f'cannot parse "{text}" to a valid duration') from None

    def step(self, start: int, end: int) -> int:
        """``step`` in ns: by default a 250th of the range in whole seconds (at least
        one); at most ``MAX_POINTS`` steps between ``start`` and ``end``."""
        step = self.duration("step")
        if step is None:
            step = max((end - start) // 10**9 // 250, 1) * 10**9
        if step <= 0:
            raise InvalidRequest(
                "zero or negative query resolution step widths are not accepted. Try a"
                " positive integer"
            )
        if (end - start) // step > MAX_POINTS:
            raise InvalidRequest(
                "exceeded maximum resolution of 11,000 points per time series. Try"
                " increasing the value of the step parameter"
            )
        return step

    def count(self, name: str, default: int) -> int:
        """A whole number; ``default`` when absent."""
        text = self.get(name)
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            raise InvalidRequest(
                f'strconv.Atoi: parsing "{text}": invalid syntax ({name} is a whole number)'
            ) from None

    def positive(self, name: str, default: int) -> int:
        """A whole number above 0; ``default`` when absent."""
        value = self.count(name, default)
        if value <= 0:
            raise InvalidRequest("limit must be a positive value")
        return value

    def limit(self) -> int:
        return self.positive("limit", DEFAULT_LIMIT)

    def direction(self) -> Direction:
        text = self.get("direction")
        if text is None:
            return Direction.BACKWARD
        try:
            return Direction(text.lower())
        except ValueError:
            raise InvalidRequest(f"invalid direction '{text}'") from None


_UNITS = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def go_duration(ns: int) -> str:
    """A duration as Loki's messages write it (Prometheus's ``model.Duration``): years
    and weeks only when they divide it."""
    ms, text = ns // 10**6, ""
    for unit, size, exact in _UNITS:
        if exact and ms % size:
            continue
        count, ms = divmod(ms, size)
        if count:
            text += f"{count}{unit}"
    return text or "0s"
