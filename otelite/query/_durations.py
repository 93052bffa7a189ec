"""Durations as Tempo and Loki read them: Prometheus's rules first, then Go's.

* Prometheus's ``model.ParseDuration``: integer counts of ``y w d h m s ms`` in
  decreasing order (``1h30m``, ``2d``, ``0``); Loki reads a range (``[5m]``) with these
  rules alone;
* Go's ``time.ParseDuration``, where Prometheus's rules fail: decimal counts of
  ``h m s ms us ns`` in any order, and a sign (``1.5s``, ``300us``, ``1m1h``, ``-1h``).

Both are mirrored exactly, overflow checks included, so that a duration means the same
number of nanoseconds in otelite as in Tempo and Loki.
"""

from __future__ import annotations

from otelite.query._strings import quote_string

__all__ = [
    "GO_UNITS",
    "MAX_DURATION",
    "MILLISECOND",
    "PROMETHEUS_UNITS",
    "parse_duration",
    "parse_go_duration",
    "parse_prometheus_duration",
]

MAX_DURATION = (1 << 63) - 1  # Go's time.Duration is a signed 64-bit count of nanoseconds

_NS = 1
_US = 1000 * _NS
MILLISECOND = 1000 * _US
_S = 1000 * MILLISECOND
_M = 60 * _S
_H = 60 * _M
_D = 24 * _H

# Prometheus's units in the order they must appear, biggest first.
PROMETHEUS_UNITS = {
    "y": 365 * _D,
    "w": 7 * _D,
    "d": _D,
    "h": _H,
    "m": _M,
    "s": _S,
    "ms": MILLISECOND,
}
_PROMETHEUS_ORDER = {unit: position for position, unit in enumerate(PROMETHEUS_UNITS)}
# Go's units as Go writes them, biggest first.
GO_UNITS = {"h": _H, "m": _M, "s": _S, "ms": MILLISECOND, "us": _US, "ns": _NS}
_GO_SPELLINGS = {
    **GO_UNITS,
    "\u00b5s": _US,  # micro sign
    "\u03bcs": _US,  # Greek mu
}
_DIGITS = frozenset("0123456789")


def parse_duration(text: str) -> int | None:
    """Nanoseconds of ``text`` read with Prometheus's rules, or failing those with Go's;
    None if it is a duration to neither."""
    try:
        return parse_prometheus_duration(text)
    except ValueError:
        return parse_go_duration(text)


def parse_prometheus_duration(text: str) -> int:
    """Nanoseconds of ``text`` read with Prometheus's rules alone; raises ``ValueError``
    with Prometheus's message."""
    if text == "0":
        return 0
    if text == "":
        raise ValueError("empty duration string")
    invalid = f"not a valid duration string: {quote_string(text)}"
    rest, total, last = text, 0, -1
    while rest:
        count_end = _run(rest, 0)
        if count_end == 0:
            raise ValueError(invalid)
        count = int(rest[:count_end])
        if count >= 1 << 64:  # beyond Go's ParseUint
            raise ValueError(invalid)
        unit_end = count_end
        while unit_end < len(rest) and rest[unit_end] not in _DIGITS:
            unit_end += 1
        unit = rest[count_end:unit_end]
        rest = rest[unit_end:]
        if not unit:
            raise ValueError(invalid)
        if unit not in PROMETHEUS_UNITS:
            raise ValueError(f"unknown unit {quote_string(unit)} in duration {quote_string(text)}")
        if _PROMETHEUS_ORDER[unit] <= last:
            raise ValueError(invalid)
        last = _PROMETHEUS_ORDER[unit]
        multiplier = PROMETHEUS_UNITS[unit]
        if count > (1 << 63) // multiplier:
            raise ValueError("duration out of range")
        total += count * multiplier
        if total > MAX_DURATION:
            raise ValueError("duration out of range")
    return total


def parse_go_duration(text: str) -> int | None:
    """Nanoseconds of a duration as Go's ``time.ParseDuration`` reads it (``1.5s``,
    ``-300us``; no days), or None; what Loki's duration label filters compare."""
    # [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, overflow checks included.
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        return None
    total = 0
    while rest:
        if rest[0] != "." and rest[0] not in _DIGITS:
            return None
        whole_end = _run(rest, 0)
        whole = int(rest[:whole_end]) if whole_end else 0
        if whole > (1 << 63):
            return None
        fraction, scale, position, has_fraction = 0, 1.0, whole_end, False
        if position < len(rest) and rest[position] == ".":
            fraction_end = _run(rest, position + 1)
            has_fraction = fraction_end > position + 1
            fraction, scale = _go_fraction(rest[position + 1 : fraction_end])
            position = fraction_end
        if not whole_end and not has_fraction:
            return None
        unit_end = position
        while unit_end < len(rest) and rest[unit_end] != "." and rest[unit_end] not in _DIGITS:
            unit_end += 1
        unit = _GO_SPELLINGS.get(rest[position:unit_end])
        if unit is None:
            return None
        rest = rest[unit_end:]
        if whole > (1 << 63) // unit:
            return None
        value = whole * unit
        if fraction:
            value += int(float(fraction) * (float(unit) / scale))
        total += value
        if total > (1 << 63):
            return None
    if negative:
        return -total
    return total if total <= MAX_DURATION else None


def _go_fraction(digits: str) -> tuple[int, float]:
    # Go keeps the leading digits that fit in an int64 and scales them as a float64.
    kept, scale, overflow = 0, 1.0, False
    for digit in digits:
        if overflow:
            continue
        if kept > MAX_DURATION // 10:
            overflow = True
            continue
        kept = kept * 10 + int(digit)
        scale *= 10
    return kept, scale


def _run(text: str, start: int) -> int:
    """The end of the run of decimal digits that starts at ``start``."""
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return end
