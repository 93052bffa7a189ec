"""Times and durations as people and tools write them, to Unix nanoseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from otelite.config import parse_duration

__all__ = ["parse_duration_ns", "parse_time"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?)?"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RELATIVE = re.compile(r"now\s*(?:([+-])\s*(.+))?", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")
# A Unix number's unit follows from its size: seconds up to the year 5138, then
# milliseconds, microseconds and nanoseconds over the same span of years.
_UNIT_LIMITS = ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_duration_ns(text: str) -> int:
    """``"250ms"``, ``"1.5s"``, ``"1h30m"``, ``"90"`` (seconds) → nanoseconds.

    Raises ``ValueError`` naming the accepted forms.
    """
    cleaned = text.strip()
    parts = _DURATION_PART.findall(cleaned)
    if parts and "".join(n + u for n, u in parts) == cleaned:
        return sum(round(parse_duration(n + u) * 1e9) for n, u in parts)
    return round(parse_duration(cleaned) * 1e9)


def parse_time(text: str, now_ns: int) -> int:
    """A point in time → Unix nanoseconds.

    Accepts RFC 3339 (``2024-05-01T12:00:00.123456789Z``, offsets, or a bare date in UTC),
    Unix seconds, milliseconds, microseconds or nanoseconds (told apart by size; seconds may
    carry a fraction), ``now`` and ``now-1h`` / ``now+90s``. Raises ``ValueError``.
    """
    cleaned = text.strip()
    relative = _RELATIVE.fullmatch(cleaned)
    if relative is not None:
        sign, amount = relative.groups()
        if sign is None:
            return now_ns
        offset = parse_duration_ns(amount)
        return now_ns - offset if sign == "-" else now_ns + offset
    if _NUMBER.fullmatch(cleaned):
        number = Decimal(cleaned)
        for limit, scale in _UNIT_LIMITS:
            if number < limit:
                return int(number * scale)
        return int(number)
    match = _RFC3339.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"not a time: {text!r:.80} (use RFC 3339, Unix seconds/ms/ns, now or now-1h)"
        )
    return _rfc3339_ns(match)


def _rfc3339_ns(match: re.Match[str]) -> int:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    tz = UTC
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(-delta if offset[0] == "-" else delta)
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise ValueError(f"not a time: {match.string!r:.80} ({exc})") from None
    # Whole seconds through datetime, the fraction separately: datetime stops at µs.
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    nanos = int((fraction or "").ljust(9, "0"))
    return seconds * 10**9 + nanos
