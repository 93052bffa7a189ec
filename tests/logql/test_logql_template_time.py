"""Times in LogQL templates: Go's layouts (the reference time Mon Jan 2 15:04:05 MST
2006) for ``Time.Format`` and ``time.ParseInLocation``.

Expected outputs follow the documentation of Go's time package; Go's Local zone is UTC in
otelite. The template functions built on these are in test_logql_template_functions.py.
"""

from __future__ import annotations

import pytest

from otelite.query.logql._template_time import UTC, GoTime, format_time, layout, load_zone
from otelite.query.logql._template_time_parse import parse_time

S = 1_000_000_000
INSTANT = 1_678_411_960_340_485_723  # 2023-03-10T01:32:40.340485723Z, a Friday
NEW_YORK = load_zone("America/New_York")


def test_layouts_are_cut_into_text_and_elements() -> None:
    assert layout("2006-01-02T15:04:05.000Z07:00") == (
        ("2006", ""), "-", ("01", ""), "-", ("02", ""), "T", ("15", ""), ":", ("04", ""),
        ":", ("05", ""), ("0", ".000"), ("Z07:00", ""),
    )  # fmt: skip
    assert layout("Monday Mon MST") == (("Monday", ""), " ", ("Mon", ""), " ", ("MST", ""))
    # "_2006" is "_" and a year; ".9" followed by another digit is no fraction.
    assert layout("_2006 1.95") == ("_", ("2006", ""), " ", ("1", ""), ".9", ("5", ""))


@pytest.mark.parametrize(
    ("layout_text", "expected"),
    [
        ("2006-01-02 15:04:05", "2023-03-10 01:32:40"),
        ("2006-01-02T15:04:05.999999999Z07:00", "2023-03-10T01:32:40.340485723Z"),
        ("Mon Jan _2 15:04:05 MST 2006", "Fri Mar 10 01:32:40 UTC 2023"),
        ("Monday, January 2, 06", "Friday, March 10, 23"),
        ("3:04PM 3:04pm 03", "1:32AM 1:32am 01"),
        (".000 .999 ,00 .9", ".340 .34 ,34 .3"),  # .999 drops trailing zeros
        ("002 __2 1/2", "069  69 3/10"),
        ("-0700 -07:00 -07 Z0700 Z07:00:00", "+0000 +00:00 +00 Z Z"),
        ("2006-01-02 is not 20060102", "2023-03-10 is not 20230310"),
    ],
)
def test_format(layout_text: str, expected: str) -> None:
    assert format_time(GoTime(INSTANT), layout_text) == expected


def test_format_in_a_zone() -> None:
    assert NEW_YORK is not None
    at = GoTime(INSTANT, NEW_YORK)
    assert format_time(at, "2006-01-02 15:04 MST -07:00 Z0700") == (
        "2023-03-09 20:32 EST -05:00 -0500"
    )
    summer = GoTime(1_688_212_800 * S, NEW_YORK)  # 2023-07-01T12:00:00Z
    assert format_time(summer, "15:04 MST") == "08:00 EDT"
    assert str(GoTime(-62_135_596_800 * S)) == "0001-01-01 00:00:00 +0000 UTC"  # Go's zero


@pytest.mark.parametrize(
    ("layout_text", "value", "expected"),
    [
        ("2006-01-02", "2021-11-02", "2021-11-02 00:00:00 +0000 UTC"),
        ("2006-01-02T15:04:05.999999999Z", "2023-03-10T01:32:40.340485723Z",
         "2023-03-10 01:32:40.340485723 +0000 UTC"),
        ("2006-01-02T15:04:05Z07:00", "2023-03-10T01:32:40+05:30",
         "2023-03-10 01:32:40 +0530 +0530"),
        ("2006-01-02T15:04:05Z07:00", "2023-03-10T01:32:40Z", "2023-03-10 01:32:40 +0000 UTC"),
        # A fraction after the seconds is read even where the layout has none.
        ("2006-01-02 15:04:05", "2021-02-03 04:05:06.123", "2021-02-03 04:05:06.123 +0000 UTC"),
        ("Jan _2 15:04:05", "feb  3 04:05:06", "0000-02-03 04:05:06 +0000 UTC"),
        ("3:04pm", "11:30pm", "0000-01-01 23:30:00 +0000 UTC"),
        ("02/01/06", "31/12/99", "1999-12-31 00:00:00 +0000 UTC"),
        ("002 2006", "060 2024", "2024-02-29 00:00:00 +0000 UTC"),
        # An unknown zone name keeps its name with offset 0, as Go does.
        ("2006-01-02 MST", "2020-02-03 XYZ", "2020-02-03 00:00:00 +0000 XYZ"),
        ("2006-01-02 15:04 MST", "2020-02-03 04:05 UTC", "2020-02-03 04:05:00 +0000 UTC"),
    ],
)  # fmt: skip
def test_parse(layout_text: str, value: str, expected: str) -> None:
    parsed = parse_time(layout_text, value, UTC)
    assert str(parsed) == expected


@pytest.mark.parametrize(
    ("layout_text", "value"),
    [
        ("2006-01-02", "2021-02-30"),  # no such day
        ("2006-01-02", "2021-13-01"),
        ("2006-01-02", "21-11-02"),
        ("2006-01-02", "2021-11-02 extra"),
        ("15:04", "24:00"),
        ("2006-01-02T15:04:05.000", "2021-11-02T01:02:03.12"),  # .000 wants three digits
        ("Jan 2", "Foo 2"),
    ],
)
def test_parse_failures(layout_text: str, value: str) -> None:
    assert parse_time(layout_text, value, UTC) is None


def test_parse_in_a_zone() -> None:
    assert NEW_YORK is not None
    parsed = parse_time("2006-01-02 15:04", "2021-07-01 12:00", NEW_YORK)
    assert parsed is not None
    assert parsed.unix_ns == 1_625_155_200 * S  # 16:00 UTC: EDT is UTC-4
    assert str(parsed) == "2021-07-01 12:00:00 -0400 EDT"
    assert load_zone("Not/AZone") is None
