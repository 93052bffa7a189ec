"""Where a PromQL expression stops parsing: Prometheus's ``line:column: parse error``
prefix, with the columns counted by hand."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query.promql import ParseError, parse


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("sum(rate(x[5m])", 4, "unclosed left parenthesis"),  # the ( of sum
        ("rate(x[5m]", 5, "unclosed left parenthesis"),
        ('foo{a="b"', 10, "unexpected end of input inside braces"),  # at the end
        ("sum(x))", 7, "unexpected right parenthesis"),
        ('x{a="b"}}', 9, "unexpected right brace"),
        ('"abc', 1, "unterminated quoted string"),
        ('x + "a)', 5, "unterminated quoted string"),  # the ) inside it is text
        ("unknownfn(x)", 1, "unknown function with name 'unknownfn'"),
        ("sum(nope(x))", 5, "unknown function with name 'nope'"),
        ("foo[5x]", 5, "bad number or duration syntax: 5x"),
        ('foo{a=~"("}', 9, "illegal regex for ("),
        ("x offset", 9, "unexpected end of input in offset"),
        # The parser's plain "invalid promql query", placed at the first token nothing
        # can follow, or at the end when the text stops short.
        ("foo bar", 5, "unexpected 'bar'"),
        ("1 +* 2", 4, "unexpected '*'"),
        ("sum by (a b) (x)", 11, "unexpected 'b'"),
        ('x{a="b" c="d"}', 9, "unexpected 'c'"),
        ("x @ foo", 5, "unexpected 'foo'"),
        ("rate(x[5m]) +", 14, "unexpected end of input"),
        ("up == bool", 11, "unexpected end of input"),
    ],
)
def test_the_place_of_a_parse_error(text: str, column: int, words: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(text)
    assert (error.value.line, error.value.column) == (1, column)
    assert str(error.value).startswith(f"1:{column}: parse error: {words}")
    caret = str(error.value).splitlines()[-1]
    assert caret == " " * (column - 1) + "^"


def test_lines_count_from_one() -> None:
    with pytest.raises(ParseError) as error:
        parse("sum(\n  rate(x[5m]))\n)")
    assert (error.value.line, error.value.column) == (3, 1)  # the ) that closes nothing
    assert error.value.excerpt == ")\n^"


def test_a_reason_without_a_place_keeps_its_words() -> None:
    """Texts too long to search for the place keep the parser's words alone."""
    with pytest.raises(ParseError) as error:
        parse(" + ".join(["x"] * 2000) + " y")
    assert error.value.line is None
    assert str(error.value) == "parse error: invalid promql query"
    assert isinstance(error.value, InvalidRequest)  # a 400 bad_data on the API
