"""Go's ``time.Time`` as LogQL templates see it: ``__timestamp__``, ``now``, ``date``,
``toDate`` and friends.

Go writes and reads times through *layouts* spelled with a reference time, Mon Jan 2
15:04:05 MST 2006 (``"2006-01-02 15:04:05"``), not ``strftime`` codes; a layout is cut
into literal text and elements once (:func:`layout`) and then formatted here or parsed
by ``_template_time_parse``.

Go's ``Local`` is the server's zone; otelite takes it to be UTC so that a query gives the
same text on every server. Other zones come from the IANA database (:mod:`zoneinfo`).
Civil dates are computed from day counts, so that years Python's ``datetime`` cannot hold
(Go's zero time in a zone west of UTC is in year 0) still format.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import UTC as _PY_UTC
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "LOCAL",
    "MONTHS",
    "UTC",
    "WEEKDAYS",
    "ZERO",
    "Chunk",
    "Clock",
    "GoTime",
    "Zone",
    "clock",
    "date",
    "day_number",
    "days_in_month",
    "format_time",
    "layout",
    "load_zone",
    "now",
]

_NS = 1_000_000_000
_DAY = 86_400
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True, slots=True)
class Zone:
    """A location: a fixed offset (``key`` empty) or an IANA zone (``key`` its name)."""

    name: str
    offset: int = 0  # seconds east of UTC, for a fixed zone
    key: str = ""

    def lookup(self, unix_seconds: int) -> tuple[str, int]:
        """The abbreviation and the offset in force at ``unix_seconds``."""
        if not self.key:
            return self.name, self.offset
        # datetime cannot hold every instant Go can; the nearest one it can will do.
        clamped = min(max(unix_seconds, -62_135_424_000), 253_402_128_000)  # a day inside
        local = datetime.fromtimestamp(clamped, _PY_UTC).astimezone(ZoneInfo(self.key))
        offset = local.utcoffset()
        return local.tzname() or "", int(offset.total_seconds()) if offset else 0


UTC = Zone("UTC")
LOCAL = Zone("UTC")  # Go's Local: see the module's docstring


@dataclass(frozen=True, slots=True)
class GoTime:
    """An instant (nanoseconds since the Unix epoch) and the zone it is shown in."""

    unix_ns: int
    zone: Zone = LOCAL

    @property
    def unix(self) -> int:
        return self.unix_ns // _NS

    def __str__(self) -> str:  # Go's Time.String, without the monotonic clock reading
        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")


ZERO = GoTime(-62_135_596_800 * _NS, UTC)  # Go's time.Time{}: January 1, year 1, UTC


def now() -> GoTime:
    return GoTime(time.time_ns(), LOCAL)


@functools.lru_cache(maxsize=64)
def load_zone(name: str) -> Zone | None:
    """Go's ``time.LoadLocation``: ``""`` and ``UTC`` are UTC, ``Local`` the local zone,
    anything else an IANA name; None if there is no such zone."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return LOCAL
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return Zone(name, key=name)


# -- civil calendar -------------------------------------------------------------------


def _civil(days: int) -> tuple[int, int, int]:
    # Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian).
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def day_number(year: int, month: int, day: int) -> int:
    # The inverse of _civil; month and day may run over (Go's time.Date normalises).
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def days_in_month(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def date(year: int, month: int, day: int, clock: int, nanos: int, zone: Zone) -> GoTime:
    """Go's ``time.Date``: a wall clock (``clock`` seconds into the day) in ``zone``."""
    wall = day_number(year, month, day) * _DAY + clock
    _, offset = zone.lookup(wall)
    _, corrected = zone.lookup(wall - offset)  # the offset in force at that instant
    return GoTime((wall - corrected) * _NS + nanos, zone)


# -- layouts --------------------------------------------------------------------------

# Elements of a layout, by the spelling of the reference time that stands for them.
_ELEMENTS = (
    "January", "Jan", "Monday", "Mon", "MST", "2006", "002", "__2", "_2",
    "01", "02", "03", "04", "05", "06", "15", "1", "2", "3", "4", "5", "PM", "pm",
    "Z07:00:00", "-07:00:00", "Z070000", "-070000", "Z07:00", "-07:00", "Z0700", "-0700",
    "Z07", "-07",
)  # fmt: skip
Chunk = str | tuple[str, str]  # literal text, or (element, separator for fractions)


@functools.lru_cache(maxsize=256)
def layout(text: str) -> tuple[Chunk, ...]:
    """``text`` cut into literal text and elements; a fraction of a second is
    ``("0", sep * n)`` for ``.000`` (n digits kept) or ``("9", ...)`` for ``.999``."""
    chunks: list[Chunk] = []
    literal, at = [], 0
    while at < len(text):
        element = _element_at(text, at)
        if element is None:
            literal.append(text[at])
            at += 1
            continue
        if literal:
            chunks.append("".join(literal))
            literal = []
        chunks.append(element)
        at += len(element[1]) if element[0] in ("0", "9") else len(element[0])
    if literal:
        chunks.append("".join(literal))
    return tuple(chunks)


def _element_at(text: str, at: int) -> tuple[str, str] | None:
    ch = text[at]
    if ch in ".," and at + 1 < len(text) and text[at + 1] in "09":
        end = at + 1
        while end < len(text) and text[end] == text[at + 1]:
            end += 1
        # Only a run of one repeated digit that no other digit follows is a fraction.
        if end == len(text) or text[end] not in "0123456789":
            return text[at + 1], text[at:end]
        return None
    if ch == "_" and text.startswith("_2006", at):
        return None  # "_" then the year: Go reads it so
    for element in _ELEMENTS:
        if text.startswith(element, at):
            if element == "Mon" and text.startswith("Monday", at):
                return "Monday", ""
            return element, ""
    return None


class Clock(NamedTuple):
    """What a wall clock shows for an instant in its zone."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    nanosecond: int
    year_day: int
    weekday: int  # 0 is Sunday
    abbreviation: str
    offset: int


def clock(value: GoTime) -> Clock:
    abbreviation, offset = value.zone.lookup(value.unix)
    days, seconds = divmod(value.unix + offset, _DAY)
    year, month, day = _civil(days)
    year_day = days - day_number(year, 1, 1) + 1
    return Clock(
        year, month, day, seconds // 3600, seconds // 60 % 60, seconds % 60,
        value.unix_ns % _NS, year_day, (days + 4) % 7, abbreviation, offset,
    )  # fmt: skip


def format_time(value: GoTime, layout_text: str) -> str:
    """Go's ``Time.Format``."""
    c = clock(value)
    year, month, day, hour, minute, second = c.year, c.month, c.day, c.hour, c.minute, c.second
    nanos, abbreviation, offset = c.nanosecond, c.abbreviation, c.offset
    out: list[str] = []
    for chunk in layout(layout_text):
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        element, fraction = chunk
        if element in ("0", "9"):
            digits = f"{nanos:09d}"[: len(fraction) - 1]
            if element == "9":
                digits = digits.rstrip("0")
            out.append(fraction[0] + digits if digits else "")
        elif element in ("MST", "-0700", "-07:00", "-07", "-070000", "-07:00:00") or (
            element[0] == "Z"
        ):
            out.append(_format_zone(element, abbreviation, offset))
        else:
            hour12 = hour % 12 or 12
            out.append(
                {
                    "January": MONTHS[month - 1],
                    "Jan": MONTHS[month - 1][:3],
                    "Monday": WEEKDAYS[c.weekday],
                    "Mon": WEEKDAYS[c.weekday][:3],
                    "2006": f"{year:04d}" if year >= 0 else f"-{-year:04d}",
                    "06": f"{year % 100:02d}",
                    "01": f"{month:02d}",
                    "1": str(month),
                    "02": f"{day:02d}",
                    "_2": f"{day:2d}",
                    "2": str(day),
                    "002": f"{c.year_day:03d}",
                    "__2": f"{c.year_day:3d}",
                    "15": f"{hour:02d}",
                    "03": f"{hour12:02d}",
                    "3": str(hour12),
                    "04": f"{minute:02d}",
                    "4": str(minute),
                    "05": f"{second:02d}",
                    "5": str(second),
                    "PM": "PM" if hour >= 12 else "AM",
                    "pm": "pm" if hour >= 12 else "am",
                }[element]
            )
    return "".join(out)


def _format_zone(element: str, abbreviation: str, offset: int) -> str:
    if element == "MST":
        if abbreviation:
            return abbreviation
        element = "-0700"  # a zone without a name is written as its offset
    if element[0] == "Z":
        if offset == 0:
            return "Z"
        element = "-" + element[1:]
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    colon = ":" if ":" in element else ""
    text = f"{sign}{hours:02d}"
    if element != "-07":
        text += f"{colon}{minutes:02d}"
    if len(element.replace(":", "")) == 7:
        text += f"{colon}{seconds:02d}"
    return text
