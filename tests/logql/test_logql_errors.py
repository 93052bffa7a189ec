"""Where and why a LogQL query is refused: line, column, message and excerpt.

Messages start as Loki's do (``syntax error: unexpected X, expecting Y``, ``grouping not
allowed for rate aggregation``); where Loki's words alone leave a reader guessing, a
hint follows a colon.
"""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query.logql import MAX_QUERY_BYTES, ParseError, parse

RATE = 'rate({app="foo"}[5m])'
EMPTY_SELECTOR = (
    "queries require at least one regexp or equality matcher that does not have an "
    'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
    'but app=~".+" will'
)
STAGE = "a parser such as json or logfmt, a formatter such as line_format, or a label filter"
UNWRAP_HINT = (
    "unwrap is only allowed inside a range aggregation, such as "
    'sum_over_time({app="x"} | unwrap latency [5m])'
)

# (query, line, column, message)
ERRORS = [
    # Stream selectors: unclosed braces, bad matchers.
    ('{app="foo"', 1, 11, "syntax error: unexpected $end, expecting } or ,"),
    ('{app="foo",}', 1, 12, "syntax error: unexpected }, expecting IDENTIFIER"),
    ("{app}", 1, 5, "syntax error: unexpected }, expecting = or != or =~ or !~"),
    ('{app=="foo"}', 1, 5, "syntax error: unexpected ==, expecting = or != or =~ or !~"),
    ("{app=foo}", 1, 6, "syntax error: unexpected IDENTIFIER, expecting STRING"),
    ('{="foo"}', 1, 2, "syntax error: unexpected =, expecting IDENTIFIER or }"),
    (
        '{service.name="foo"}',
        1,
        9,
        "syntax error: unexpected ., expecting = or != or =~ or !~: label names have no dots: "
        "OpenTelemetry's service.name is service_name",
    ),
    (
        '{app="foo"} | k8s.pod="x"',
        1,
        18,
        "syntax error: unexpected ., expecting a comparison such as = or >: label names have no "
        "dots: OpenTelemetry's service.name is service_name",
    ),
    ('{json="x"}', 1, 2, "syntax error: unexpected json, expecting IDENTIFIER or }"),
    ('app="foo"', 1, 1, "syntax error: unexpected IDENTIFIER"),
    ("{}", 1, 1, EMPTY_SELECTOR),
    ('{app=""}', 1, 1, EMPTY_SELECTOR),
    ('{app=~".*", env!="dev"}', 1, 1, EMPTY_SELECTOR),
    ('rate({app!~"a.*"}[5m])', 1, 6, EMPTY_SELECTOR),
    # What the lexer cannot read.
    ('{app="foo}', 1, 6, "literal not terminated"),
    ("{app=`foo}", 1, 6, "literal not terminated"),
    ('{app="a\nb"}', 1, 6, "literal not terminated"),
    ('{app="\\q"}', 1, 7, "invalid char escape"),
    ('{app="\\u12"}', 1, 7, "invalid char escape"),
    ('{app="\\ud800"}', 1, 7, "escape sequence is not a valid Unicode code point"),
    ('{app="\\777"}', 1, 7, "octal escape value is larger than 255"),
    ('{app="\\xff"}', 1, 6, "invalid UTF-8 encoding"),
    ("{app='foo'}", 1, 6, "strings take double quotes or backticks, not '"),
    ('{app="foo"} @', 1, 13, "unexpected character '@'"),
    ('{app="foo"} /* to the end', 1, 13, "comment not terminated"),
    ("", 1, 1, "syntax error: unexpected $end"),
    ("  # only a comment", 1, 19, "syntax error: unexpected $end"),
    # Line filters.
    ('{app="foo"} |~', 1, 15, "syntax error: unexpected $end, expecting STRING or ip"),
    ('{app="foo"} |= "a" or', 1, 22, "syntax error: unexpected $end, expecting STRING or ip"),
    ('{app="foo"} |= foo', 1, 16, "syntax error: unexpected IDENTIFIER, expecting STRING or ip"),
    ('{app="foo"} |~ ip("1.2.3.4")', 1, 16, "ip: invalid operation |~: ip() takes |= or !="),
    (
        '{app="foo"} |> "<level> x"',
        1,
        16,
        "invalid pattern filter: named captures are not allowed: found '<level>'",
    ),
    ('{app="foo"} "foo"', 1, 13, "syntax error: unexpected STRING"),
    ('{app="foo"} foo', 1, 13, "syntax error: unexpected IDENTIFIER"),
    # Stages.
    ('{app="foo"} |', 1, 14, f"syntax error: unexpected $end, expecting {STAGE}"),
    ('{app="foo"} | 5', 1, 15, f"syntax error: unexpected NUMBER, expecting {STAGE}"),
    ('{app="foo"} | json a=', 1, 22, "syntax error: unexpected $end, expecting STRING"),
    ('{app="foo"} | json a="x",', 1, 26, "syntax error: unexpected $end, expecting IDENTIFIER"),
    (
        '{app="foo"} | logfmt --fast',
        1,
        22,
        "syntax error: unexpected -: logfmt's flags are --strict and --keep-empty",
    ),
    (
        '{app="foo"} | logfmt a --strict',
        1,
        24,
        "syntax error: unexpected FUNCTION_FLAG",
    ),
    ('{app="foo"} | regexp', 1, 21, "syntax error: unexpected $end, expecting STRING"),
    (
        '{app="foo"} | pattern "<_> x"',
        1,
        23,
        "invalid pattern parser: at least one capture is required",
    ),
    (
        '{app="foo"} | pattern "<a><b>"',
        1,
        23,
        "invalid pattern parser: found consecutive capture '<a><b>': invalid expression",
    ),
    ('{app="foo"} | unpack "x"', 1, 22, "syntax error: unexpected STRING"),
    ('{app="foo"} | line_format', 1, 26, "syntax error: unexpected $end, expecting STRING"),
    (
        '{app="foo"} | label_format a=b, a="{{.c}}"',
        1,
        33,
        "multiple label name 'a' not allowed in a single format operation",
    ),
    ('{app="foo"} | label_format __error__=x', 1, 28, "__error__ cannot be formatted"),
    (
        '{app="foo"} | label_format a=5',
        1,
        30,
        "syntax error: unexpected NUMBER, expecting IDENTIFIER or STRING",
    ),
    ('{app="foo"} | drop', 1, 19, "syntax error: unexpected $end, expecting IDENTIFIER"),
    ('{app="foo"} | keep a,', 1, 22, "syntax error: unexpected $end, expecting IDENTIFIER"),
    ('{app="foo"} | decolorize x', 1, 26, "syntax error: unexpected IDENTIFIER"),
    # Label filters.
    (
        '{app="foo"} | level',
        1,
        20,
        "syntax error: unexpected $end, expecting a comparison such as = or >",
    ),
    (
        '{app="foo"} | x > "5"',
        1,
        19,
        "syntax error: unexpected STRING, expecting a number, a duration or a size",
    ),
    (
        '{app="foo"} | x == "5"',
        1,
        20,
        "syntax error: unexpected STRING, expecting a number, a duration or a size",
    ),
    ('{app="foo"} | x =~ 5', 1, 20, "syntax error: unexpected NUMBER, expecting STRING"),
    (
        '{app="foo"} | addr >= ip("1.2.3.4")',
        1,
        23,
        "syntax error: unexpected ip, expecting a number, a duration or a size",
    ),
    (
        '{app="foo"} | x > 5x',
        1,
        21,
        "syntax error: unexpected $end, expecting a comparison such as = or >",
    ),
    ('{app="foo"} | (x="1"', 1, 21, "syntax error: unexpected $end, expecting )"),
    ('{app="foo"} | x="1" or', 1, 23, "syntax error: unexpected $end, expecting IDENTIFIER or ("),
    ('{app="foo"} | json |', 1, 21, f"syntax error: unexpected $end, expecting {STAGE}"),
    # Unwrap without a range aggregation, and what may follow it.
    ('{app="foo"} | unwrap x', 1, 15, f"syntax error: unexpected unwrap: {UNWRAP_HINT}"),
    ('sum({app="foo"} | unwrap x [5m])', 1, 19, f"syntax error: unexpected unwrap: {UNWRAP_HINT}"),
    (
        'sum_over_time({app="foo"} | unwrap x | json [5m])',
        1,
        40,
        "syntax error: unexpected json, expecting IDENTIFIER or (: only label filters may "
        "follow unwrap",
    ),
    (
        'sum_over_time({app="foo"} | unwrap [5m])',
        1,
        36,
        "syntax error: unexpected RANGE, expecting IDENTIFIER or bytes( or duration( or "
        "duration_seconds(",
    ),
    (
        'sum_over_time({app="foo"} | unwrap rate(x) [5m])',
        1,
        36,
        "syntax error: unexpected RATE, expecting IDENTIFIER or bytes( or duration( or "
        "duration_seconds(",
    ),
    (
        'sum_over_time({app="foo"} | json [5m] | unwrap x)',
        1,
        39,
        "syntax error: unexpected |, expecting )",
    ),
    # Missing or bad ranges and offsets.
    ('rate({app="foo"})', 1, 17, "syntax error: unexpected ), expecting a range such as [5m]"),
    (
        'rate({app="foo"} |= "x" | json)',
        1,
        31,
        "syntax error: unexpected ), expecting a range such as [5m]",
    ),
    ('rate(({app="foo"}))', 1, 19, "syntax error: unexpected ), expecting a range such as [5m]"),
    ('rate({app="foo"}[5minutes])', 1, 17, 'unknown unit "minutes" in duration "5minutes"'),
    ('rate({app="foo"}[1.5m])', 1, 17, 'unknown unit "." in duration "1.5m"'),
    ('rate({app="foo"}[30s1m])', 1, 17, 'not a valid duration string: "30s1m"'),
    ('rate({app="foo"}[])', 1, 17, "empty duration string"),
    ('rate({app="foo"}[5m)', 1, 17, "missing closing ']' in duration"),
    ('rate({app="foo"}[5m] offset)', 1, 28, "syntax error: unexpected ), expecting DURATION"),
    (
        'rate({app="foo"}[5m] offset 5)',
        1,
        29,
        "syntax error: unexpected NUMBER, expecting DURATION",
    ),
    (f"{RATE} offset 5m", 1, 23, "syntax error: unexpected offset"),
    (
        '{app="foo"} |= "x" [5m]',
        1,
        20,
        "syntax error: unexpected RANGE: a range belongs inside a range aggregation, such as "
        'count_over_time({app="x"}[5m])',
    ),
    (
        'sum({app="foo"}[5m])',
        1,
        16,
        "syntax error: unexpected RANGE: a range belongs inside a range aggregation, such as "
        'count_over_time({app="x"}[5m])',
    ),
    # Unknown functions.
    (
        'rates({app="foo"}[5m])',
        1,
        1,
        "syntax error: unexpected IDENTIFIER: rates() is not a LogQL function (did you mean rate?)",
    ),
    (
        f"histogram_quantile(0.9, {RATE})",
        1,
        1,
        "syntax error: unexpected IDENTIFIER: histogram_quantile() is not a LogQL function",
    ),
    ("rate(foo)", 1, 6, "syntax error: unexpected IDENTIFIER, expecting NUMBER or { or ("),
    # Range aggregations: unwrap, parameters and grouping as Loki allows them.
    ('sum_over_time({app="foo"}[5m])', 1, 1, "invalid aggregation sum_over_time without unwrap"),
    ('rate_counter({app="foo"}[5m])', 1, 1, "invalid aggregation rate_counter without unwrap"),
    (
        'count_over_time({app="foo"} | unwrap x [5m])',
        1,
        31,
        "invalid aggregation count_over_time with unwrap",
    ),
    (
        'bytes_rate({app="foo"}[5m] | unwrap x)',
        1,
        30,
        "invalid aggregation bytes_rate with unwrap",
    ),
    (
        'count_over_time({app="foo"}[5m]) by (x)',
        1,
        34,
        "grouping not allowed for count_over_time aggregation",
    ),
    (
        'sum_over_time({app="foo"} | unwrap x [5m]) by (x)',
        1,
        44,
        "grouping not allowed for sum_over_time aggregation",
    ),
    (f"{RATE} without ()", 1, 23, "grouping not allowed for rate aggregation"),
    (
        'quantile_over_time({app="foo"} | unwrap x [5m])',
        1,
        1,
        "parameter required for operation quantile_over_time",
    ),
    (
        'sum_over_time(50, {app="foo"} | unwrap x [5m])',
        1,
        15,
        "parameter 50 not supported for operation sum_over_time",
    ),
    (
        'quantile_over_time(foo, {app="foo"} | unwrap x [5m])',
        1,
        20,
        "syntax error: unexpected IDENTIFIER, expecting NUMBER or { or (",
    ),
    # Vector aggregations.
    (
        'sum({app="foo"})',
        1,
        16,
        'syntax error: unexpected ): sum() takes a metric query, such as count_over_time({app="x"}'
        "[5m]), not a log query",
    ),
    (f"topk({RATE})", 1, 1, "parameter required for operation topk"),
    (f"topk(1.5, {RATE})", 1, 6, "invalid parameter for operation topk: 1.5 is not an integer"),
    (
        f"bottomk(0, {RATE})",
        1,
        9,
        "invalid parameter for operation bottomk: 0 (must be greater than 0)",
    ),
    (f"sum(5, {RATE})", 1, 5, "unsupported parameter for operation sum"),
    (f"approx_topk(5, {RATE}) by (x)", 1, 39, "grouping not allowed for approx_topk aggregation"),
    (f"sort_desc by (x) ({RATE})", 1, 11, "sort and sort_desc don't allow grouping by labels"),
    (f"sum by (x) ({RATE}) by (y)", 1, 36, "syntax error: unexpected by"),
    (f"count without ({RATE})", 1, 16, "syntax error: unexpected RATE, expecting IDENTIFIER or )"),
    (f"sum by (x,) ({RATE})", 1, 11, "syntax error: unexpected ), expecting IDENTIFIER"),
    (f"sum by (x ({RATE})", 1, 11, "syntax error: unexpected (, expecting , or )"),
    (f"sum({RATE}", 1, 26, "syntax error: unexpected $end, expecting )"),
    # Binary operations.
    (f"{RATE} +", 1, 24, "syntax error: unexpected $end"),
    ("bool 1 > 1", 1, 1, "syntax error: unexpected bool"),
    (
        f'{RATE} + {{app="foo"}}',
        1,
        23,
        "unexpected log query for right leg of binary operation (+): only metric queries and "
        'numbers combine, such as count_over_time({app="x"}[5m])',
    ),
    (
        '{app="foo"} > 1',
        1,
        13,
        "unexpected log query for left leg of binary operation (>): only metric queries and "
        'numbers combine, such as count_over_time({app="x"}[5m])',
    ),
    (
        f"{RATE} or 1",
        1,
        23,
        "unexpected literal for right leg of logical/set binary operation (or): 1.000000",
    ),
    (
        f"2.5 unless {RATE}",
        1,
        5,
        "unexpected literal for left leg of logical/set binary operation (unless): 2.500000",
    ),
    (f"{RATE} + bool 1", 1, 25, "bool modifier can only be used on comparison operators"),
    (
        f"{RATE} and on (x) group_left {RATE}",
        1,
        34,
        'no grouping allowed for "and" operation',
    ),
    (f"1 + on (x) {RATE}", 1, 3, "vector matching only allowed between instant vectors"),
    (f"{RATE} * on x {RATE}", 1, 28, "syntax error: unexpected IDENTIFIER, expecting ("),
    (
        f"{RATE} * on (x) group_left ({RATE})",
        1,
        44,
        "syntax error: unexpected RATE, expecting IDENTIFIER or )",
    ),
    # Numbers and functions.
    ("0x10", 1, 1, 'unable to parse literal as a float: "0x10" is not a decimal number'),
    (
        "1e999 + 1",
        1,
        1,
        'unable to parse literal as a float: "1e999" is out of range for a 64-bit float',
    ),
    ("vector(abc)", 1, 8, "syntax error: unexpected IDENTIFIER, expecting NUMBER"),
    ("vector(-1)", 1, 8, "syntax error: unexpected -, expecting NUMBER"),
    ("vector(1", 1, 9, "syntax error: unexpected $end, expecting )"),
    (f'label_replace({RATE}, "a")', 1, 41, "syntax error: unexpected ), expecting ,"),
    ("(1", 1, 3, "syntax error: unexpected $end, expecting )"),
    ("1)", 1, 2, "syntax error: unexpected )"),
    (f"{RATE} 1", 1, 23, "syntax error: unexpected NUMBER"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_position_and_message(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column, caught.value.message) == (line, column, message)


def test_str_reads_like_loki_and_shows_the_excerpt() -> None:
    with pytest.raises(ParseError) as caught:
        parse('{app="foo"} |~')
    assert str(caught.value) == (
        "parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING or ip\n"
        '{app="foo"} |~\n'
        "              ^"
    )


def test_excerpt_shows_only_the_offending_line() -> None:
    with pytest.raises(ParseError) as caught:
        parse('sum by (host) (\n  rate({app="foo"}\n    | json [5x])\n)')
    error = caught.value
    assert (error.line, error.column) == (3, 12)
    assert error.message == 'unknown unit "x" in duration "5x"'
    assert error.excerpt == "    | json [5x])\n           ^"


def test_excerpt_keeps_tabs_so_the_caret_lines_up() -> None:
    with pytest.raises(ParseError) as caught:
        parse('{app="foo"}\n\t\t| x = = 1')
    assert caught.value.excerpt == "\t\t| x = = 1\n\t\t      ^"
    assert caught.value.column == 9


def test_an_over_long_query_is_refused_before_parsing() -> None:
    text = '{app="foo"} |= "' + "x" * MAX_QUERY_BYTES + '"'
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.message == f"input size too long ({len(text)} > {MAX_QUERY_BYTES})"
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_deep_nesting_is_refused_not_crashed_on() -> None:
    assert parse("(" * 50 + "1" + ")" * 50) == parse("1")
    with pytest.raises(ParseError) as caught:
        parse("(" * 5000 + "1" + ")" * 5000)
    assert caught.value.message == "syntax error: the query is nested too deeply"
    with pytest.raises(ParseError):
        parse('{app="foo"} | ' + ", ".join(f'x{i}="1"' for i in range(5000)))


def test_parse_error_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        parse("{")
