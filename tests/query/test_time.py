from __future__ import annotations

import pytest

from otelite.query import parse_duration_ns, parse_severity, parse_time

NOW = 1_700_000_000_123_456_789
S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-1h", NOW - 3600 * S),
        ("now - 90s", NOW - 90 * S),
        ("now+250ms", NOW + 250_000_000),
        ("1700000000", 1_700_000_000 * S),
        ("1700000000.5", 1_700_000_000 * S + S // 2),
        ("1700000000123", 1_700_000_000_123_000_000),
        ("1700000000123456", 1_700_000_000_123_456_000),
        ("1700000000123456789", 1_700_000_000_123_456_789),
        ("2023-11-14T22:13:20Z", 1_700_000_000 * S),
        ("2023-11-14T22:13:20.123456789Z", 1_700_000_000_123_456_789),
        ("2023-11-14T22:13:20.5z", 1_700_000_000 * S + S // 2),
        ("2023-11-15T00:13:20+02:00", 1_700_000_000 * S),
        ("2023-11-14 17:13:20-05:00", 1_700_000_000 * S),
        ("2023-11-14", 1_699_920_000 * S),
        ("1969-12-31T23:59:59Z", -S),
    ],
)
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "now-", "now-1y", "2023-13-01", "-5", "1e9"])
def test_parse_time_refuses_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|not a duration|not a time"):
        parse_time(text, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250ms", 250_000_000),
        ("1.5s", 1_500_000_000),
        ("90", 90 * S),
        ("1h30m", 5400 * S),
        ("2m3s100ms", 123_100_000_000),
        ("10us", 10_000),
        ("7ns", 7),
    ],
)
def test_parse_duration_ns(text: str, expected: int) -> None:
    assert parse_duration_ns(text) == expected


@pytest.mark.parametrize("text", ["", "fast", "-1s", "1h 30x"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_ns(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TRACE", 1),
        ("debug", 5),
        ("Info", 9),
        ("WARN", 13),
        ("warning", 13),
        ("WARN3", 15),
        ("ERROR", 17),
        ("fatal4", 24),
        ("13", 13),
        ("1", 1),
        ("24", 24),
    ],
)
def test_parse_severity(text: str, expected: int) -> None:
    assert parse_severity(text) == expected


@pytest.mark.parametrize("text", ["", "0", "25", "LOUD", "WARN5", "-1"])
def test_parse_severity_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="TRACE, DEBUG"):
        parse_severity(text)
