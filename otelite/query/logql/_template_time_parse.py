"""Go's ``time.ParseInLocation`` for ``toDate`` and ``toDateInZone``: a value read
through a layout (``"2006-01-02T15:04:05Z07:00"``).

Go's rules, quirks included: a run of spaces matches a run of spaces, month and day
names match in any case, a fraction of a second is read after the seconds even if the
layout has none, elements the layout lacks default to January 1 of year 0, an offset
that is not the zone's makes a zone of its own, and an unknown zone abbreviation keeps
its name with offset 0.
"""

from __future__ import annotations

from otelite.query.logql._template_time import (
    MONTHS,
    UTC,
    WEEKDAYS,
    Chunk,
    GoTime,
    Zone,
    date,
    days_in_month,
    layout,
)

__all__ = ["parse_time"]

_NS = 1_000_000_000
_SHORT_MONTHS = tuple(month[:3] for month in MONTHS)
_SHORT_WEEKDAYS = tuple(day[:3] for day in WEEKDAYS)


class _Bad(Exception):
    """The value does not match the layout."""


def parse_time(layout_text: str, value: str, zone: Zone) -> GoTime | None:
    """Go's ``time.ParseInLocation``; None where Go returns an error."""
    try:
        return _parse(layout(layout_text), value, zone)
    except _Bad:
        return None


def _parse(chunks: tuple[Chunk, ...], value: str, zone: Zone) -> GoTime:
    year, month, day, yday = 0, -1, -1, -1
    hour = minute = second = nanos = 0
    pm: bool | None = None
    utc, zone_offset, zone_name = False, None, ""
    for index, chunk in enumerate(chunks):
        if isinstance(chunk, str):
            value = _skip(value, chunk)
            continue
        element, fraction = chunk
        if element == "2006":
            if len(value) < 4 or not _digits(value[:4]):
                raise _Bad
            year, value = int(value[:4]), value[4:]
        elif element == "06":
            number, value = _number(value, 2, fixed=True)
            year = number + (1900 if number >= 69 else 2000)
        elif element in ("January", "Jan"):
            found, value = _name(value, MONTHS if element == "January" else _SHORT_MONTHS)
            month = found + 1
        elif element in ("Monday", "Mon"):
            _, value = _name(
                value, WEEKDAYS if element == "Monday" else tuple(d[:3] for d in WEEKDAYS)
            )
        elif element in ("01", "1"):
            month, value = _number(value, 2, fixed=element == "01")
            _check(1 <= month <= 12)
        elif element in ("02", "_2", "2"):
            if element == "_2" and value[:1] == " ":
                value = value[1:]
            day, value = _number(value, 2, fixed=element == "02")
        elif element in ("002", "__2"):
            if element == "__2":
                value = value[1:] if value[:1] == " " else value
                value = value[1:] if value[:1] == " " else value
            yday, value = _number(value, 3, fixed=element == "002")
            _check(1 <= yday <= 366)
        elif element in ("15", "03", "3"):
            hour, value = _number(value, 2, fixed=element == "03")
            _check(hour < 24 if element == "15" else hour <= 12)
        elif element in ("04", "4"):
            minute, value = _number(value, 2, fixed=element == "04")
            _check(minute < 60)
        elif element in ("05", "5"):
            second, value = _number(value, 2, fixed=element == "05")
            _check(second < 60)
            # A fraction the layout does not mention is read all the same.
            following = next((c for c in chunks[index + 1 :] if isinstance(c, tuple)), ("",))
            if (
                len(value) >= 2
                and value[0] in ".,"
                and _digits(value[1])
                and following[0] not in ("0", "9")
            ):
                end = 2
                while end < len(value) and _digits(value[end]):
                    end += 1
                nanos, value = _nanos(value[:end]), value[end:]
        elif element in ("PM", "pm"):
            marker, value = value[:2], value[2:]
            if marker not in (("PM", "AM") if element == "PM" else ("pm", "am")):
                raise _Bad
            pm = marker in ("PM", "pm")
        elif element == "0":
            width = len(fraction)
            if len(value) < width or value[0] not in ".,":
                raise _Bad
            nanos, value = _nanos(value[:width]), value[width:]
        elif element == "9":
            if len(value) >= 2 and value[0] in ".," and _digits(value[1]):
                end = 2
                while end < len(value) and _digits(value[end]):
                    end += 1
                nanos, value = _nanos(value[:end]), value[end:]
        elif element == "MST":
            if value.startswith("UTC"):
                utc, value = True, value[3:]
            else:
                length = _zone_name_length(value)
                zone_name, value = value[:length], value[length:]
        elif element[0] == "Z" and value[:1] == "Z":
            utc, value = True, value[1:]
        else:
            zone_offset, value = _offset(value, element)
    if value:
        raise _Bad  # extra text after the layout
    if pm is True and hour < 12:
        hour += 12
    elif pm is False and hour == 12:
        hour = 0
    if yday >= 0:
        month, day = _from_year_day(yday, year, month, day)
    else:
        month, day = max(month, 1), day if day >= 0 else 1
    _check(1 <= day <= days_in_month(month, year))
    clock = hour * 3600 + minute * 60 + second
    if utc:
        return date(year, month, day, clock, nanos, UTC)
    if zone_offset is not None:
        instant = date(year, month, day, clock, nanos, UTC)
        shifted = GoTime(instant.unix_ns - zone_offset * _NS, zone)
        name, offset = zone.lookup(shifted.unix)
        if offset == zone_offset and (not zone_name or name == zone_name):
            return shifted
        return GoTime(shifted.unix_ns, Zone(zone_name, zone_offset))
    if zone_name:
        instant = date(year, month, day, clock, nanos, UTC)
        name, offset = zone.lookup(instant.unix)
        if name == zone_name:
            return GoTime(instant.unix_ns - offset * _NS, zone)
        hours = int(zone_name[3:]) if zone_name.startswith("GMT") and len(zone_name) > 3 else 0
        return GoTime(instant.unix_ns, Zone(zone_name, hours * 3600))
    return date(year, month, day, clock, nanos, zone)


def _check(condition: bool) -> None:
    if not condition:
        raise _Bad


def _skip(value: str, literal: str) -> str:
    # Literal text must match exactly, except that a run of spaces matches a run of spaces.
    while literal:
        if literal[0] == " ":
            if value and value[0] != " ":
                raise _Bad
            literal, value = literal.lstrip(" "), value.lstrip(" ")
            continue
        if not value or value[0] != literal[0]:
            raise _Bad
        literal, value = literal[1:], value[1:]
    return value


def _digits(text: str) -> bool:
    return text != "" and all(ch in "0123456789" for ch in text)


def _number(value: str, width: int, *, fixed: bool) -> tuple[int, str]:
    # Go's getnum/getnum3: up to `width` digits, exactly `width` if fixed.
    count = 0
    while count < width and count < len(value) and _digits(value[count]):
        count += 1
    if count == 0 or (fixed and count < width):
        raise _Bad
    return int(value[:count]), value[count:]


def _name(value: str, names: tuple[str, ...]) -> tuple[int, str]:
    for index, name in enumerate(names):
        if value[: len(name)].lower() == name.lower():
            return index, value[len(name) :]
    raise _Bad


def _nanos(fraction: str) -> int:
    # A separator and digits; digits past the ninth are dropped, as Go does.
    digits = fraction[1:10]
    if not _digits(digits):
        raise _Bad
    return int(digits.ljust(9, "0"))


def _offset(value: str, element: str) -> tuple[int, str]:
    shape = "-" + element[1:]
    if len(value) < len(shape) or value[0] not in "+-":
        raise _Bad
    text = value[: len(shape)]
    for position, ch in enumerate(shape):
        if (ch == ":") != (text[position] == ":"):
            raise _Bad
        if ch != ":" and position and not _digits(text[position]):
            raise _Bad
    digits = text[1:].replace(":", "").ljust(6, "0")
    hours, minutes, seconds = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    _check(hours <= 24 and minutes <= 60 and seconds <= 60)
    offset = hours * 3600 + minutes * 60 + seconds
    return (-offset if text[0] == "-" else offset), value[len(shape) :]


def _zone_name_length(value: str) -> int:
    # Go's parseTimeZone: GMT or a sign with an hour offset of at most 12, ChST and MeST,
    # or three to five capitals (four or five ending in T, or WITA).
    if len(value) < 3:
        raise _Bad
    if value[:4] in ("ChST", "MeST"):
        return 4
    if value.startswith("GMT"):
        return 3 + _signed_hours_length(value[3:])
    if value[0] in "+-":
        length = _signed_hours_length(value)
        _check(length > 0)
        return length
    capitals = 0
    while capitals < min(len(value), 6) and "A" <= value[capitals] <= "Z":
        capitals += 1
    if capitals == 3 or (capitals == 4 and (value[3] == "T" or value[:4] == "WITA")):
        return capitals
    if capitals == 5 and value[4] == "T":
        return 5
    raise _Bad


def _signed_hours_length(value: str) -> int:
    digits = len(value[1:]) - len(value[1:].lstrip("0123456789"))
    if value[:1] not in ("+", "-") or not digits or int(value[1 : 1 + digits]) > 12:
        return 0
    return 1 + digits


def _from_year_day(yday: int, year: int, month: int, day: int) -> tuple[int, int]:
    # A day of the year names the month and the day, which must agree with any given.
    _check(yday <= (366 if days_in_month(2, year) == 29 else 365))
    found_month, found_day = 1, yday
    while found_day > days_in_month(found_month, year):
        found_day -= days_in_month(found_month, year)
        found_month += 1
    _check(month < 0 or month == found_month)
    _check(day < 0 or day == found_day)
    return found_month, found_day
