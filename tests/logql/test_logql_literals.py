"""LogQL's literal spellings read and written as Loki does: ranges, durations, byte sizes,
numbers, strings and patterns, alone and as the lexer meets them inside a query."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otelite.query.logql import (
    BytesFilter,
    Capture,
    CompareOp,
    DurationFilter,
    LabelFilter,
    LogQuery,
    NumberFilter,
    ParseError,
    format_bytes,
    format_duration,
    format_range,
    parse,
    parse_bytes,
    parse_duration,
    parse_pattern,
    parse_range,
    pattern_problem,
)

NS, US, MS, S = 1, 1_000, 1_000_000, 1_000_000_000
M, H, D = 60 * S, 3600 * S, 86_400 * S
W, Y = 7 * D, 365 * D
KB, KIB = 1000, 1024


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("5m", 5 * M),
        ("1h30m", H + 30 * M),
        ("1d", D),
        ("2w", 2 * W),
        ("1y", Y),
        ("1y2w3d4h5m6s7ms", Y + 2 * W + 3 * D + 4 * H + 5 * M + 6 * S + 7 * MS),
        ("0", 0),
        ("0s", 0),
        ("90s", 90 * S),
        ("250ms", 250 * MS),
    ],
)
def test_ranges_follow_prometheus(text: str, nanoseconds: int) -> None:
    assert parse_range(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty duration string"),
        ("5minutes", 'unknown unit "minutes" in duration "5minutes"'),
        ("1.5h", 'unknown unit "." in duration "1.5h"'),
        ("300us", 'unknown unit "us" in duration "300us"'),
        ("30m1h", 'not a valid duration string: "30m1h"'),
        ("5", 'not a valid duration string: "5"'),
        ("-5m", 'not a valid duration string: "-5m"'),
        ("5m ", 'unknown unit "m " in duration "5m "'),
        ("300y", "duration out of range"),
        ("99999999999999999999s", 'not a valid duration string: "99999999999999999999s"'),
    ],
)
def test_bad_ranges_say_what_prometheus_says(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        parse_range(text)


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("250ms", 250 * MS),
        ("1d", D),  # Prometheus's units first...
        ("1.5s", 1500 * MS),  # ...then Go's
        ("1h2m3.5s", H + 2 * M + 3500 * MS),
        ("300us", 300 * US),
        ("300\u00b5s", 300 * US),
        ("42ns", 42),
        ("-1h", -H),
        ("+1m", M),
        ("-1.5ms", -1500 * US),
        (".5s", 500 * MS),
        ("1s500ms", 1500 * MS),  # in order: Prometheus
        ("500ms1s", 1500 * MS),  # out of order: Go
        ("0", 0),
    ],
)
def test_durations_try_prometheus_then_go(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "5", "1.5d", "-1d", "1x", "s", ".s", "1h-2m", "3000000h"])
def test_what_is_no_duration(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20MB", 20 * KB**2),
        ("1KiB", KIB),
        ("1kB", KB),
        ("1KB", KB),
        ("1k", KB),
        ("1Ki", KIB),
        ("2.5KiB", 2560),
        ("1.5KB", 1500),
        ("5B", 5),
        ("5", 5),
        ("3PiB", 3 * KIB**5),
        ("1TB", KB**4),
        ("1EB", KB**6),
        ("0.1B", 0),  # go-humanize truncates
    ],
)
def test_byte_sizes_follow_go_humanize(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "KB", "1ZB", "1XB", "1.2.3KB", "20000EB"])
def test_what_is_no_byte_size(text: str) -> None:
    assert parse_bytes(text) is None


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (1, "1B"), (1000, "1KB"), (1024, "1KiB"), (1500, "1500B"), (2560, "2560B"),
     (20 * KB**2, "20MB"), (1024000, "1000KiB"), (3 * KIB**5, "3PiB"), (2**60, f"{2**60}B")],
)  # fmt: skip
def test_format_bytes_uses_the_largest_exact_unit(size: int, text: str) -> None:
    assert format_bytes(size) == text


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [(0, "0s"), (5 * M, "5m"), (H + 30 * M, "1h30m"), (D, "1d"), (W + D, "1w1d"), (Y, "1y"),
     (1500 * MS, "1s500ms"), (1500 * US, "1ms500us"), (42, "42ns"), (-H, "-1h"),
     (-D, "-24h"), (-1500 * US, "-1ms500us")],
)  # fmt: skip
def test_format_duration(nanoseconds: int, text: str) -> None:
    assert format_duration(nanoseconds) == text


def test_format_range_writes_prometheus_durations_only() -> None:
    assert format_range(H + 30 * M) == "1h30m"
    assert format_range(0) == "0s"
    with pytest.raises(ValueError):
        format_range(1500 * US)
    with pytest.raises(ValueError):
        format_range(-M)


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_durations_read_back(nanoseconds: int) -> None:
    assert parse_duration(format_duration(nanoseconds)) == nanoseconds


@given(st.integers(min_value=0, max_value=(2**63 - 1) // MS))
def test_ranges_read_back(milliseconds: int) -> None:
    assert parse_range(format_range(milliseconds * MS)) == milliseconds * MS


@given(st.integers(min_value=0, max_value=2**63))
def test_byte_sizes_read_back_once_read(size: int) -> None:
    # Above 2**53 go-humanize's float arithmetic rounds; what it gives back is stable.
    read = parse_bytes(format_bytes(size))
    assert read is not None
    if size < 2**53:
        assert read == size
    assert parse_bytes(format_bytes(read)) == read


def _filter_of(query: str) -> object:
    expr = parse(query)
    assert isinstance(expr, LogQuery)
    stage = expr.stages[0]
    assert isinstance(stage, LabelFilter)
    return stage.condition


@pytest.mark.parametrize(
    ("value", "condition"),
    [
        ("5", NumberFilter("x", CompareOp.GT, 5.0)),
        ("-5", NumberFilter("x", CompareOp.GT, -5.0)),
        ("+5", NumberFilter("x", CompareOp.GT, 5.0)),
        ("- 5", NumberFilter("x", CompareOp.GT, -5.0)),
        ("1.5e3", NumberFilter("x", CompareOp.GT, 1500.0)),
        (".5", NumberFilter("x", CompareOp.GT, 0.5)),
        ("0755", NumberFilter("x", CompareOp.GT, 755.0)),  # Go's ParseFloat reads decimal
        ("5m", DurationFilter("x", CompareOp.GT, 5 * M)),
        ("-5m", DurationFilter("x", CompareOp.GT, -5 * M)),
        ("1.5h", DurationFilter("x", CompareOp.GT, 90 * M)),
        ("1d", DurationFilter("x", CompareOp.GT, D)),
        ("5M", BytesFilter("x", CompareOp.GT, 5 * KB**2)),  # capital M: bytes
        ("5MB", BytesFilter("x", CompareOp.GT, 5 * KB**2)),
        ("5KiB", BytesFilter("x", CompareOp.GT, 5 * KIB)),
        ("5B", BytesFilter("x", CompareOp.GT, 5)),
    ],
)
def test_the_lexer_tells_numbers_durations_and_sizes_apart(value: str, condition: object) -> None:
    assert _filter_of(f'{{a="b"}} | x > {value}') == condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x10", 'unable to parse literal as a float: "0x10" is not a decimal number'),
        ("1_000", 'unable to parse literal as a float: "1_000" is not a decimal number'),
        ("1e999", 'unable to parse literal as a float: "1e999" is out of range for a 64-bit float'),
    ],
)
def test_numbers_are_go_floats(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(f"{text} + 1")
    assert caught.value.message == message
    assert parse("0x1p-2 + 1") == parse("1.25")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"a\\tb"', "a\tb"),
        ('"\\"quoted\\""', '"quoted"'),
        ('"\\x41\\101\\u00e9\\U0001F600"', "AA\u00e9\U0001f600"),
        ('"\\a\\b\\f\\n\\r\\v\\\\"', "\a\b\f\n\r\v\\"),
        ('"caf\\xc3\\xa9"', "caf\u00e9"),  # bytes that make UTF-8
        ('`a\\d+"b`', 'a\\d+"b'),  # raw strings keep backslashes
        ("`two\r\nlines`", "two\nlines"),  # and lose carriage returns, as in Go
        ('"#not a comment"', "#not a comment"),
    ],
)
def test_strings_take_go_escapes(literal: str, value: str) -> None:
    expr = parse(f'{{a="b"}} |= {literal}')
    assert isinstance(expr, LogQuery)
    assert expr.line_filters[0].values == (value,)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("<ip> - <_> <method>", (Capture("ip"), " - ", Capture("_"), " ", Capture("method"))),
        ("a <1> <a b> <>", ("a <1> <a b> <>",)),
        ("<<x>>", ("<", Capture("x"), ">")),
        ("", ()),
    ],
)
def test_parse_pattern(text: str, parts: tuple[str | Capture, ...]) -> None:
    assert parse_pattern(text) == parts


@pytest.mark.parametrize(
    ("text", "line_filter", "problem"),
    [
        ("<a> <b>", False, None),
        ("<_> error <_>", True, None),
        ("", True, None),
        ("<_> <_>", False, "at least one capture is required"),
        ("", False, "at least one capture is required"),
        ("<a><b>", False, "found consecutive capture '<a><b>': invalid expression"),
        ("<_><_>", True, "found consecutive capture '<_><_>': invalid expression"),
        ("<a> <a>", False, "duplicate capture name (a): invalid expression"),
        ("<_> <level>", True, "named captures are not allowed: found '<level>'"),
    ],
)
def test_pattern_problems_in_lokis_words(text: str, line_filter: bool, problem: str | None) -> None:
    assert pattern_problem(text, line_filter=line_filter) == problem
    assert Capture("_").named is False
