"""Literal spellings (durations, numbers, strings, attribute names) read and written."""

from __future__ import annotations

import pytest

from otelite.query.traceql import (
    Attribute,
    Binary,
    BinaryOp,
    Duration,
    FieldExpr,
    Float,
    Int,
    Nil,
    ParseError,
    Pipeline,
    Scope,
    SpansetFilter,
    String,
    Unary,
    UnaryOp,
    parse,
    to_text,
)

NS, US, MS, S = 1, 1_000, 1_000_000, 1_000_000_000
M, H, D = 60 * S, 3600 * S, 86_400 * S


def right_side(text: str) -> FieldExpr:
    """The right operand of the one comparison in ``{ .x = <text> }``."""
    body = parse(f"{{ .x = {text} }}").body
    assert isinstance(body, Pipeline)
    condition = body.stages[0]
    assert isinstance(condition, SpansetFilter)
    assert isinstance(condition.condition, Binary)
    return condition.condition.right


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("1ns", 1),
        ("1us", US),
        ("1\u00b5s", US),
        ("1ms", MS),
        ("1s", S),
        ("1m", M),
        ("1h", H),
        # Prometheus's units, which Tempo tries first.
        ("1d", D),
        ("1w", 7 * D),
        ("1y", 365 * D),
        ("1d12h", D + 12 * H),
        # Go's, which Tempo falls back to: fractions and any order.
        ("1h30m", 90 * M),
        ("1.5s", 1500 * MS),
        ("1.5m", 90 * S),
        ("1h15m30.918273645s", H + 15 * M + 30 * S + 918_273_645),
        ("30m1h", H + 30 * M),
        (".24h", int(0.24 * H)),
        ("0.1us", 100),
        ("-5s", -5 * S),
        ("2562047h", 2_562_047 * H),
    ],
)
def test_durations_read_as_tempo_reads_them(text: str, nanoseconds: int) -> None:
    assert right_side(text) == Duration(nanoseconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1t", "found `t`"),  # not a unit: a number, then a word
        ("1d2x", "found `d2x`"),
        ("2h1d", "found `h1d`"),  # Prometheus wants units in order, Go has no d
        ("3000000h", "found `h`"),  # beyond Go's 292 years
    ],
)
def test_what_is_not_a_duration(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(f"{{ .x = {text} }}")


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1500, "1500ns"),
        (2 * US, "2us"),
        (1500 * MS, "1500ms"),
        (90 * M, "90m"),
        (3 * H, "3h"),
        (D, "24h"),
        (-5 * S, "-5s"),
    ],
)
def test_durations_are_written_in_the_largest_exact_unit(nanoseconds: int, text: str) -> None:
    assert to_text(Duration(nanoseconds)) == text
    assert right_side(text) == Duration(nanoseconds)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", Int(12)),
        ("-12", Int(-12)),
        ("012", Int(12)),
        ("maxInt", Int(2**63 - 1)),
        ("minInt", Int(-(2**63))),
        ("1.5", Float(1.5)),
        (".5", Float(0.5)),
        ("1.", Float(1.0)),
        ("1e3", Float(1000.0)),
        ("2.5E-3", Float(0.0025)),
        ("-0.25", Float(-0.25)),
    ],
)
def test_numbers(text: str, value: FieldExpr) -> None:
    assert right_side(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(Float(1.0), "1.0"), (Float(1e20), "1e+20"), (Float(2.5e-07), "2.5e-07"), (Int(7), "7")],
)
def test_floats_stay_floats_when_written(value: FieldExpr, text: str) -> None:
    assert to_text(value) == text
    assert right_side(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"plain"', "plain"),
        ('"a\\"b"', 'a"b'),
        ('"back\\\\slash"', "back\\slash"),
        ('"\\a\\b\\f\\n\\r\\t\\v"', "\a\b\f\n\r\t\v"),
        ('"\\x41\\101\\u00e9\\U0001F600"', "AA\u00e9\U0001f600"),
        ('"\\xc3\\xa9"', "\u00e9"),  # bytes, joined into UTF-8 as Go does
        ('"caf\u00e9"', "caf\u00e9"),
        ('`raw \\n "quoted"`', 'raw \\n "quoted"'),
        ("`two\nlines`", "two\nlines"),
    ],
)
def test_strings(text: str, value: str) -> None:
    assert right_side(text) == String(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        ("line\nbreak\ttab\rreturn", '"line\\nbreak\\ttab\\rreturn"'),
        ("bell\a", '"bell\\x07"'),
        ("caf\u00e9 \U0001f600", '"caf\u00e9 \U0001f600"'),
    ],
)
def test_strings_are_written_double_quoted(value: str, text: str) -> None:
    assert to_text(String(value)) == text
    assert right_side(text) == String(value)


@pytest.mark.parametrize(
    ("text", "attribute"),
    [
        ("span.http.response.status_code", Attribute(Scope.SPAN, "http.response.status_code")),
        ("resource.k8s.pod.name", Attribute(Scope.RESOURCE, "k8s.pod.name")),
        # Tempo's attribute names run to whitespace or one of {}()=~!<>&|^, : so
        # arithmetic signs and colons are part of the name.
        ("span.a+b", Attribute(Scope.SPAN, "a+b")),
        ("span.foo-bar", Attribute(Scope.SPAN, "foo-bar")),
        ("span.a:b", Attribute(Scope.SPAN, "a:b")),
        (".count", Attribute(Scope.UNSCOPED, "count")),
        ("span.resource.x", Attribute(Scope.SPAN, "resource.x")),
        ('.foo."bar \\" baz".qux', Attribute(Scope.UNSCOPED, 'foo.bar " baz.qux')),
        ('."a\\\\b"', Attribute(Scope.UNSCOPED, "a\\b")),
        ('."tab\there"', Attribute(Scope.UNSCOPED, "tab\there")),
        ("parent.span.resource.id", Attribute(Scope.SPAN, "resource.id", parent=True)),
        ("parent.event.x", Attribute(Scope.UNSCOPED, "event.x", parent=True)),
    ],
)
def test_attribute_names(text: str, attribute: Attribute) -> None:
    body = parse(f"{{ {text} = 1 }}").body
    assert body == Pipeline((SpansetFilter(Binary(BinaryOp.EQ, attribute, Int(1))),))


@pytest.mark.parametrize(
    ("attribute", "text"),
    [
        (Attribute(Scope.SPAN, "http.method"), "span.http.method"),
        (Attribute(Scope.UNSCOPED, "foo"), ".foo"),
        (Attribute(Scope.SPAN, "a b"), 'span."a b"'),
        (Attribute(Scope.SPAN, 'a"b'), 'span."a\\"b"'),
        (Attribute(Scope.SPAN, "a\\b"), "span.a\\b"),
        (Attribute(Scope.SPAN, "a\\ b"), 'span."a\\\\ b"'),
        (Attribute(Scope.SPAN, "x=y"), 'span."x=y"'),
        (Attribute(Scope.UNSCOPED, "1abc"), '."1abc"'),  # `.1abc` would read as a number
        (Attribute(Scope.SPAN, "1abc"), "span.1abc"),
        (Attribute(Scope.UNSCOPED, "span.x", parent=True), 'parent."span.x"'),
        (Attribute(Scope.SPAN, "x", parent=True), "parent.span.x"),
        (Attribute(Scope.UNSCOPED, "x", parent=True), "parent.x"),
    ],
)
def test_attribute_names_are_quoted_only_when_needed(attribute: Attribute, text: str) -> None:
    assert to_text(attribute) == text
    assert parse(f"{{ {text} }}").body == Pipeline((SpansetFilter(attribute),))


def test_attributes_that_cannot_be_written_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Attribute(Scope.SPAN, "")
    with pytest.raises(ValueError, match="event"):
        Attribute(Scope.EVENT, "x", parent=True)


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        # A negative or prefixed operand of `*` `/` `%` `^` needs parentheses: Tempo's
        # prefix minus would take the operator in.
        (Binary(BinaryOp.MUL, Int(-2), Attribute(Scope.UNSCOPED, "a")), "(-2) * .a"),
        (
            Binary(BinaryOp.POW, Unary(UnaryOp.NEG, Attribute(Scope.UNSCOPED, "a")), Int(2)),
            "(-.a) ^ 2",
        ),
        (Binary(BinaryOp.ADD, Int(-2), Attribute(Scope.UNSCOPED, "a")), "-2 + .a"),
        (Binary(BinaryOp.SUB, Attribute(Scope.UNSCOPED, "a"), Int(-2)), ".a - -2"),
        (
            Unary(UnaryOp.NEG, Binary(BinaryOp.MUL, Int(2), Attribute(Scope.UNSCOPED, "a"))),
            "-2 * .a",
        ),
        (
            Unary(UnaryOp.NEG, Binary(BinaryOp.ADD, Int(2), Attribute(Scope.UNSCOPED, "a"))),
            "-(2 + .a)",
        ),
        # `&&` and `||` share a level; mixing them gets parentheses anyway.
        (
            Binary(
                BinaryOp.AND,
                Binary(BinaryOp.OR, Attribute(Scope.UNSCOPED, "a"), Attribute(Scope.UNSCOPED, "b")),
                Attribute(Scope.UNSCOPED, "c"),
            ),
            "(.a || .b) && .c",
        ),
        (
            Binary(
                BinaryOp.AND,
                Binary(
                    BinaryOp.AND, Attribute(Scope.UNSCOPED, "a"), Attribute(Scope.UNSCOPED, "b")
                ),
                Attribute(Scope.UNSCOPED, "c"),
            ),
            ".a && .b && .c",
        ),
        (
            Binary(
                BinaryOp.SUB,
                Attribute(Scope.UNSCOPED, "a"),
                Binary(
                    BinaryOp.SUB, Attribute(Scope.UNSCOPED, "b"), Attribute(Scope.UNSCOPED, "c")
                ),
            ),
            ".a - (.b - .c)",
        ),
        (
            Binary(
                BinaryOp.POW,
                Binary(
                    BinaryOp.POW, Attribute(Scope.UNSCOPED, "a"), Attribute(Scope.UNSCOPED, "b")
                ),
                Attribute(Scope.UNSCOPED, "c"),
            ),
            "(.a ^ .b) ^ .c",
        ),
    ],
)
def test_parentheses(tree: FieldExpr, text: str) -> None:
    assert to_text(tree) == text
    assert parse(f"{{ ({text}) != nil }}").body == Pipeline(
        (SpansetFilter(Binary(BinaryOp.NE, tree, Nil())),)
    )
