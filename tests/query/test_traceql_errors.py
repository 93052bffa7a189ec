"""Where and why a TraceQL query is refused: line, column, message and excerpt."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query.traceql import ParseError, parse

# (query, line, column, message)
ERRORS = [
    # Unfinished input points just past the end.
    (
        "{ .a < 3",
        1,
        9,
        "expected an operator or `}` to close the `{` at line 1, col 1, found end of query",
    ),
    ("count(", 1, 7, "expected `)` after `count(`: count() takes no argument, found end of query"),
    ("({ .a }", 1, 8, "expected `)` to close the `(` at line 1, col 1, found end of query"),
    ("{ } | rate(", 1, 12, "expected `)` to close `rate(`, found end of query"),
    (
        "{ .a = 1 } |",
        1,
        13,
        (
            "expected a spanset filter such as { }, `(` or a pipeline stage after `|`, found end "
            "of query"
        ),
    ),
    ("{ } &&", 1, 7, "expected a spanset filter such as { } or `(` after `&&`, found end of query"),
    ("{ -2 - }", 1, 8, "expected a value, an attribute or `(`, found `}`"),
    ("{ (.a }", 1, 7, "expected `)` to close the `(` at line 1, col 3, found `}`"),
    (
        "{ .a .b }",
        1,
        6,
        "expected an operator or `}` to close the `{` at line 1, col 1, found `.b`",
    ),
    ("{ .a } | count() > 1 1", 1, 22, "expected the end of the query, found `1`"),
    # What the lexer cannot read.
    ('{ span.foo = "bar }', 1, 14, 'unterminated string: missing closing "'),
    ("{ .a = `x }", 1, 8, "unterminated raw string: missing closing `"),
    ("{ .a = 'x' }", 1, 8, "strings take double quotes or backticks, not '"),
    ('{ .a = "\\q" }', 1, 9, "invalid escape sequence in string"),
    ('{ .a = "\\xff" }', 1, 8, "string is not valid UTF-8"),
    ('{ ."a\\q" = 1 }', 1, 6, 'invalid escape in a quoted attribute name: only \\" and \\\\ exist'),
    ('{ ."a = 1 }', 1, 4, 'unterminated attribute name: missing closing "'),
    ("{ .a = 1 } [ 2 ]", 1, 12, "unexpected character '['"),
    ("{ .a &= 1 }", 1, 6, "unexpected character '&'"),
    ("{ span. }", 1, 8, "expected an attribute name after `span.`"),
    ("{ . }", 1, 4, "expected an attribute name after `.`"),
    (
        "{ .a = 99999999999999999999 }",
        1,
        8,
        "integer 99999999999999999999 is out of range for a 64-bit int",
    ),
    (
        "{ span:foo = 1 }",
        1,
        8,
        (
            "unknown intrinsic span:foo; expected one of span:name, span:status, "
            "span:statusMessage, span:kind, span:duration, span:id, span:parentID, "
            "span:childCount"
        ),
    ),
    (
        '{ trace:rootServiceName = "a" }',
        1,
        9,
        (
            "unknown intrinsic trace:rootServiceName; expected one of trace:id, trace:duration, "
            "trace:rootName, trace:rootService"
        ),
    ),
    # Names that are not fields.
    (
        "{ attribute = 4 }",
        1,
        3,
        (
            "unknown identifier `attribute`: attributes are written span.attribute, "
            "resource.attribute or .attribute"
        ),
    ),
    ("{ childCount > 1 }", 1, 3, "`childCount` needs its scope: span:childCount"),
    ("true", 1, 1, "`true` can only be used inside a spanset filter { ... }"),
    ('{ .a }\n| count() >\n  "x"', 3, 3, '`"x"` can only be used inside a spanset filter { ... }'),
    # Types Tempo checks before running.
    (
        "{ 1 }",
        1,
        3,
        (
            "a spanset filter needs a condition that is true or false, such as { span.foo = 1 }; "
            "this one is an int"
        ),
    ),
    (
        "{ nil }",
        1,
        3,
        (
            "a spanset filter needs a condition that is true or false, such as { span.foo = 1 }; "
            "this one is nil"
        ),
    ),
    ("{ .a =~ 1 }", 1, 6, '`=~` needs a string literal on its right, such as "ab.*"'),
    ("{ status = 1 }", 1, 10, "`=` needs operands of one type, not a status and an int"),
    ("{ span:status > ok }", 1, 15, "`>` cannot be applied to a status"),
    ("{ .a + nil = 1 }", 1, 6, "`+` cannot be applied to nil"),
    ('{ !"a" }', 1, 3, "`!` needs a boolean, not a string"),
    ("{ -true }", 1, 3, "`-` needs a number or a duration, not a boolean"),
    (
        "{ span:status = nil }",
        1,
        15,
        "`span:status = nil` is never true: intrinsics always have a value",
    ),
    (
        "{ nil = resource.service.name }",
        1,
        7,
        "`resource.service.name = nil` is never true: every span has a service name",
    ),
    ("{ } | avg(span:name) > 1", 1, 11, "avg() needs a number, not a string"),
    ("sum(3) > 1", 1, 5, "sum() needs a field of the span, such as sum(span:duration)"),
    ("{ } | by(1)", 1, 10, "by() needs a field of the span, such as by(span.foo)"),
    # Pipelines.
    (
        "{ true } | count()",
        1,
        19,
        "expected a comparison such as `> 2` after the aggregate, found end of query",
    ),
    ("coalesce() | { }", 1, 1, "a pipeline cannot start with coalesce()"),
    ("select()", 1, 8, "select() needs at least one field, such as span.foo"),
    ("{ .a = 1 } | select(.a + 1)", 1, 24, "expected `)` or `,` in `select(`, found `+`"),
    ("{ } | by(.a, .b)", 1, 12, "by() takes exactly one field expression"),
    ("{ } | max() > 1", 1, 11, "max() needs a field, such as max(span:duration)"),
    (
        "{ } | count(.a) > 1",
        1,
        13,
        "expected `)` after `count(`: count() takes no argument, found `.a`",
    ),
    ("2 * 3", 1, 1, "a query starts with a spanset filter such as { }"),
    ("count() > 3 && { true }", 1, 13, "`&&` joins two spansets, not a comparison of aggregates"),
    ("{ } > 10", 1, 5, "`>` joins two spansets, not a number"),
    (
        "{ .a } + { .b }",
        1,
        8,
        (
            "`+` cannot follow a spanset: spansets combine with &&, ||, >, >>, <, <<, ~ and "
            "their ! and & forms"
        ),
    ),
    (
        "(({ } | count()) > 1)",
        1,
        1,
        "a comparison of parenthesised pipelines must be the whole query",
    ),
    ("{ .a } with(sample=true) | rate()", 1, 26, "expected the end of the query, found `|`"),
    # Metrics.
    (
        "{ .a = 1 } | rate() + 5",
        1,
        21,
        "metrics arithmetic needs each query in parentheses, such as ({ } | rate()) * 2",
    ),
    ("{ } | topk(3)", 1, 7, "topk() follows a metrics function, such as { } | rate() | topk(10)"),
    ("{ } | rate() | topk(0)", 1, 21, "topk() needs a limit above 0, such as topk(10)"),
    ("{ } | rate() | topk(-1)", 1, 21, "topk() takes integers, found `-`"),
    ("{ } | rate() | { }", 1, 16, "only topk() or bottomk() can follow a metrics query, found `{`"),
    ("{} | rate() == 42", 1, 14, "expected a number, an aggregate or `(` after `=`, found `=`"),
    ("({} | rate()) % 10", 1, 15, "metrics arithmetic has + - * / but not `%`"),
    ("({} | rate()) * 10s", 1, 15, "a duration cannot be used in metrics arithmetic"),
    (
        "({} | rate()) > (10s * 2)",
        1,
        22,
        "a duration cannot be used in arithmetic outside a spanset filter",
    ),
    ("({ } | rate()) >> ({ } | rate())", 1, 16, "`>>` joins two spansets, not a metrics query"),
    (
        "({} | rate()) * 100000000000000000000",
        1,
        17,
        "integer 100000000000000000000 is out of range for a 64-bit int",
    ),
    ("count() > 1 / 0", 1, 13, "division by zero"),
    (
        "{ } | quantile_over_time(duration)",
        1,
        34,
        "expected `,` and a quantile, such as quantile_over_time(span:duration, 0.9), found `)`",
    ),
    (
        "{ } | compare({ }, 1, 2)",
        1,
        24,
        "compare() takes a spanset filter, then top_n or top_n, start, end",
    ),
    (
        "{ } | compare({ }) > 1",
        1,
        20,
        "compare() cannot be followed by topk(), bottomk() or a comparison",
    ),
    ("({} | compare({ })) * 2", 1, 21, "compare() cannot be used in arithmetic"),
    # Hints.
    ("{ } | rate() with(name=1)", 1, 19, "expected a hint name such as sample, found `name`"),
    (
        "{ } with(x=nil)",
        1,
        12,
        'a hint value is a literal such as true, 0.1, 10s or "text", found `nil`',
    ),
    ("{ } with()", 1, 10, "expected a hint name such as sample, found `)`"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_position_and_message(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column, caught.value.message) == (line, column, message)


def test_str_reads_like_tempo_and_shows_the_excerpt() -> None:
    with pytest.raises(ParseError) as caught:
        parse("{ .a = 1 } | count(")
    assert str(caught.value) == (
        "parse error at line 1, col 20: expected `)` after `count(`: count() takes no argument, "
        "found end of query\n"
        "{ .a = 1 } | count(\n"
        "                   ^"
    )


def test_excerpt_shows_only_the_offending_line() -> None:
    with pytest.raises(ParseError) as caught:
        parse('{\n  span.a = 1 &&\n  span.b = "x\n}')
    error = caught.value
    assert (error.line, error.column) == (3, 12)
    assert error.excerpt == '  span.b = "x\n           ^'


def test_excerpt_keeps_tabs_so_the_caret_lines_up() -> None:
    with pytest.raises(ParseError) as caught:
        parse("{\n\t\tspan.a = = 1\n}")
    assert caught.value.excerpt == "\t\tspan.a = = 1\n\t\t         ^"
    assert caught.value.column == 12


def test_error_at_the_end_of_a_line_points_past_it() -> None:
    with pytest.raises(ParseError) as caught:
        parse("{ span.a =\n}")
    assert (caught.value.line, caught.value.column) == (2, 1)
    assert caught.value.excerpt == "}\n^"


def test_parse_error_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        parse("{")
