"""Argument types on their own: times, durations, ids."""

from __future__ import annotations

import argparse
import time
from datetime import datetime

import pytest

from otelite._cli import _args

NANOS = 10**9


def close_to(value: int, expected: int) -> bool:
    return abs(value - expected) < 5 * NANOS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000", 1_700_000_000 * NANOS),
        ("1700000000.25", 1_700_000_000_250_000_000),
        ("1700000000123", 1_700_000_000_123_000_000),
        ("1700000000123456", 1_700_000_000_123_456_000),
        ("1700000000123456789", 1_700_000_000_123_456_789),
        ("2023-11-14T22:13:20Z", 1_700_000_000 * NANOS),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000 * NANOS),
        ("2023-11-14T22:13:20.5z", 1_700_000_000_500_000_000),
    ],
)
def test_absolute_times(text: str, expected: int) -> None:
    assert _args.time_point(text) == expected


def test_a_date_without_offset_is_local_time() -> None:
    expected = datetime(2024, 3, 1).astimezone().timestamp()
    assert _args.time_point("2024-03-01") == round(expected * NANOS)


@pytest.mark.parametrize(
    ("text", "seconds_ago"),
    [("now", 0), ("15m", 900), ("-2h", 7200), ("1d ago", 86400), ("90s", 90)],
)
def test_relative_times(text: str, seconds_ago: int) -> None:
    assert close_to(_args.time_point(text), time.time_ns() - seconds_ago * NANOS)


def test_retention() -> None:
    assert _args.retention("7d") == 7 * 86400
    assert _args.retention("off") is None
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
        _args.retention("-1d")


def test_duration_is_passed_on_as_written() -> None:
    assert _args.duration(" 1.5s ") == "1.5s"
