"""Reading and writing TraceQL's literal spellings: durations, numbers and strings.

Tempo reads a duration first with Prometheus's rules (``1d``, ``2w``, ``1y``, ``1h30m``,
integers only, units in decreasing order) and, failing that, with Go's
``time.ParseDuration`` (``1.5s``, ``300us``, ``1h15m30.9s``). Both are mirrored here,
overflow checks included, so that a duration means the same number of nanoseconds in
otelite as in Tempo.
"""

from __future__ import annotations

import math
import re

from otelite.query._strings import quote_string

__all__ = [
    "MAX_INT",
    "MIN_INT",
    "format_duration",
    "format_float",
    "parse_duration",
    "quote_string",
]

MAX_INT = (1 << 63) - 1
MIN_INT = -(1 << 63)

_NS = 1
_US = 1000 * _NS
_MS = 1000 * _US
_S = 1000 * _MS
_M = 60 * _S
_H = 60 * _M
_D = 24 * _H

_PROMETHEUS_UNITS = {"y": 365 * _D, "w": 7 * _D, "d": _D, "h": _H, "m": _M, "s": _S, "ms": _MS}
_PROMETHEUS = re.compile(
    r"(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?"
    r"(?:([0-9]+)ms)?"
)
# Go also accepts U+03BC (Greek mu), but Tempo's lexer never hands it one.
_GO_UNITS = {
    "ns": _NS,
    "us": _US,
    "\u00b5s": _US,
    "\u03bcs": _US,
    "ms": _MS,
    "s": _S,
    "m": _M,
    "h": _H,
}
_GO_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]+)")

# Canonical output: the largest unit that divides the value exactly. Days are left out
# because Go's parser (Tempo's fallback) does not know them.
_FORMAT_UNITS = (("h", _H), ("m", _M), ("s", _S), ("ms", _MS), ("us", _US))


def parse_duration(text: str) -> int | None:
    """Nanoseconds for ``text`` as Tempo reads it, or None if it is not a duration."""
    if text == "0":
        return 0
    prometheus = _parse_prometheus(text)
    return prometheus if prometheus is not None else _parse_go(text)


def _parse_prometheus(text: str) -> int | None:
    match = _PROMETHEUS.fullmatch(text)
    if not text or match is None:
        return None
    total = 0
    for count, unit in zip(match.groups(), _PROMETHEUS_UNITS.values(), strict=True):
        if count is not None:
            total += int(count) * unit
    return total if total <= MAX_INT else None


def _parse_go(text: str) -> int | None:
    position, total = 0, 0
    while position < len(text):
        match = _GO_COMPONENT.match(text, position)
        if match is None:
            return None
        whole, fraction, unit_name = match.groups()
        unit = _GO_UNITS.get(unit_name)
        if unit is None or (not whole and not fraction):
            return None
        total += int(whole or "0") * unit + _go_fraction(fraction or "", unit)
        if total > MAX_INT:
            return None
        position = match.end()
    return total if text else None


def _go_fraction(digits: str, unit: int) -> int:
    # Go keeps the leading digits that fit in an int64, then scales them with float64
    # arithmetic and truncates; the same steps give the same nanosecond.
    kept, scale = 0, 1.0
    for digit in digits:
        if kept > MAX_INT // 10:
            break
        kept = kept * 10 + int(digit)
        scale *= 10
    return int(float(kept) * (float(unit) / scale))


def format_duration(nanoseconds: int) -> str:
    """The canonical spelling: an integer count of the largest exact unit (``90m``,
    ``1500ms``, ``-5s``, ``0s``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    magnitude = abs(nanoseconds)
    for name, unit in _FORMAT_UNITS:
        if magnitude % unit == 0:
            return f"{sign}{magnitude // unit}{name}"
    return f"{sign}{magnitude}ns"


def format_float(value: float) -> str:
    """Python's shortest round-tripping spelling, which TraceQL's lexer reads back as a
    float (``1.0``, ``1e+20``, ``2.5e-07``)."""
    if not math.isfinite(value):
        raise ValueError(f"{value} cannot be written in TraceQL")
    return repr(value)
