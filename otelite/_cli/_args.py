"""Argument types: turn command-line text into checked values or a clear argparse error."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeAlias, TypeVar

from otelite.config import parse_duration, parse_size

__all__ = [
    "Commands",
    "add_time_range",
    "attribute",
    "duration",
    "optional",
    "port",
    "positive_duration",
    "positive_int",
    "retention",
    "size",
    "tenant_id",
    "time_point",
    "trace_id",
]

T = TypeVar("T")

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What each command module adds its parser to."""

_RETENTION_OFF = frozenset({"0", "off", "none", "never"})
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_HEX = re.compile(r"^[0-9a-fA-F]{1,32}$")
# Unix timestamps are told apart by size: seconds since the epoch stay below 1e11 until
# the year 5138, so larger numbers are milliseconds, then microseconds, then nanoseconds.
_UNIX_UNITS = ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def add_time_range(parser: argparse.ArgumentParser, *, start: str, end: str) -> None:
    """Add ``--start`` and ``--end``; ``start`` and ``end`` say what their absence means."""
    when = "now, 15m (ago), an ISO 8601 date-time (local unless it has an offset), Unix time"
    parser.add_argument(
        "--start", type=time_point, metavar="TIME", help=f"from: {when} (default: {start})"
    )
    parser.add_argument(
        "--end", type=time_point, metavar="TIME", help=f"until: {when} (default: {end})"
    )


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0 lets the system pick a free one)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def size(text: str) -> int:
    """A size in bytes: ``512KiB``, ``64MiB``, ``20MB`` or a number of bytes; at least 1."""
    try:
        value = parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, got {text!r}")
    return value


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """``parse``, or None for ``off`` (also ``none``, ``never``, ``0``): a limit turned off."""

    def parse_optional(text: str) -> T | None:
        if text.strip().lower() in _RETENTION_OFF:
            return None
        return parse(text)

    parse_optional.__name__ = parse.__name__  # argparse names the type in its errors
    return parse_optional


def retention(text: str) -> float | None:
    """A retention period in seconds; ``0``, ``off``, ``none`` or ``never`` turn it off."""
    if text.strip().lower() in _RETENTION_OFF:
        return None
    seconds = _parse_duration(text)
    if seconds <= 0:
        return None
    return seconds


def positive_duration(text: str) -> float:
    """A duration in seconds that must be more than zero."""
    seconds = _parse_duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than zero")
    return seconds


def duration(text: str) -> str:
    """A duration such as ``250ms`` or ``1.5s``, checked here and passed on as written."""
    _parse_duration(text)
    return text.strip()


def attribute(text: str) -> str:
    """A ``key=value`` attribute filter, passed on as written."""
    key, sep, _ = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return text


def tenant_id(text: str) -> str:
    """A tenant id (``X-Scope-OrgID``), checked by the rules the server applies."""
    # Imported here: argument types load before the rest of otelite.
    from otelite.errors import InvalidRequest
    from otelite.tenancy import check_tenant_id

    try:
        return check_tenant_id(text, what="tenant id")
    except InvalidRequest as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def trace_id(text: str) -> str:
    """A trace id in hex; shorter ids are left-padded with zeros to 32 characters."""
    cleaned = text.strip()
    if not _HEX.match(cleaned):
        raise argparse.ArgumentTypeError(
            f"not a trace id: {text!r} (expected up to 32 hexadecimal characters)"
        )
    if int(cleaned, 16) == 0:
        raise argparse.ArgumentTypeError("the all-zero trace id is not valid")
    return cleaned.lower().rjust(32, "0")


def time_point(text: str) -> int:
    """A point in time → nanoseconds since the Unix epoch.

    Accepts ``now``; a duration before now (``15m``, ``-2h``, ``1d ago``); an ISO 8601
    date or date-time (without an offset it is local time); or a Unix timestamp in
    seconds (``1700000000``, ``1700000000.5``), milliseconds, microseconds or nanoseconds,
    told apart by size.
    """
    cleaned = text.strip()
    now_ns = time.time_ns()
    if cleaned.lower() == "now":
        return now_ns
    if _NUMBER.match(cleaned):
        number = Decimal(cleaned)
        scale = next((scale for limit, scale in _UNIX_UNITS if number < limit), 1)
        return int(number * scale)
    ago = cleaned.removeprefix("-").removesuffix("ago").strip()
    if not _NUMBER.match(ago):
        try:
            return now_ns - round(parse_duration(ago) * 1e9)
        except ValueError:
            pass  # not a duration: try it as a date below
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (use now, a duration ago such as 15m or 2h, "
            "an ISO 8601 date-time, or Unix seconds)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    # Exact to the microsecond, where a float timestamp would round.
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _parse_duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
