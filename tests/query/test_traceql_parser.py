"""TraceQL text → syntax tree → canonical text, checked against trees written by hand."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query import traceql
from otelite.query.traceql import (
    Aggregate,
    AggregateFunction,
    Attribute,
    Binary,
    BinaryOp,
    Bool,
    BottomK,
    Coalesce,
    Compare,
    Duration,
    Float,
    GroupBy,
    Hint,
    Int,
    Intrinsic,
    IntrinsicField,
    Kind,
    MetricsAggregate,
    MetricsFilter,
    MetricsFunction,
    MetricsMath,
    MetricsQuery,
    Nil,
    Node,
    Pipeline,
    Query,
    ScalarBinary,
    ScalarFilter,
    ScalarPipeline,
    Scope,
    SelectStage,
    SpansetFilter,
    SpansetOp,
    SpansetOperation,
    Stage,
    Status,
    String,
    TopK,
    Unary,
    UnaryOp,
    parse,
    parse_field,
    to_text,
)

S = 1_000_000_000
MS = 1_000_000
EVERY = SpansetFilter()


def span(name: str) -> Attribute:
    return Attribute(Scope.SPAN, name)


def resource(name: str) -> Attribute:
    return Attribute(Scope.RESOURCE, name)


def dot(name: str) -> Attribute:
    return Attribute(Scope.UNSCOPED, name)


def intrinsic(which: Intrinsic) -> IntrinsicField:
    return IntrinsicField(which)


def search(*stages: Stage, hints: tuple[Hint, ...] = ()) -> Query:
    return Query(Pipeline(stages), hints)


def where(condition: traceql.FieldExpr) -> SpansetFilter:
    return SpansetFilter(condition)


def eq(left: traceql.FieldExpr, right: traceql.FieldExpr) -> Binary:
    return Binary(BinaryOp.EQ, left, right)


def rate(
    source: SpansetFilter = EVERY, stages: tuple[traceql.SecondStage, ...] = ()
) -> MetricsQuery:
    return MetricsQuery(Pipeline((source,)), MetricsAggregate(MetricsFunction.RATE), stages)


COUNT = Aggregate(AggregateFunction.COUNT)
DURATION = intrinsic(Intrinsic.SPAN_DURATION)
ERROR = where(eq(intrinsic(Intrinsic.SPAN_STATUS), Status.ERROR))

# (input, tree, canonical text)
CASES: list[tuple[str, Node, str]] = [
    ("{ }", search(EVERY), "{ }"),
    ("{}", search(EVERY), "{ }"),
    (
        '{ span.http.method = "GET" && duration > 1s }',
        search(
            where(
                Binary(
                    BinaryOp.AND,
                    eq(span("http.method"), String("GET")),
                    Binary(BinaryOp.GT, DURATION, Duration(S)),
                )
            )
        ),
        '{ span.http.method = "GET" && span:duration > 1s }',
    ),
    (
        '{resource.service.name="frontend"}',
        search(where(eq(resource("service.name"), String("frontend")))),
        '{ resource.service.name = "frontend" }',
    ),
    ("{ .foo != nil }", search(where(Binary(BinaryOp.NE, dot("foo"), Nil()))), "{ .foo != nil }"),
    ('{ span."a b" = 1 }', search(where(eq(span("a b"), Int(1)))), '{ span."a b" = 1 }'),
    (
        '{ span.attribute."with space" = 1 }',
        search(where(eq(span("attribute.with space"), Int(1)))),
        '{ span."attribute.with space" = 1 }',
    ),
    (
        '{ ."x \\" y" =~ "a.*" }',
        search(where(Binary(BinaryOp.REGEX, dot('x " y'), String("a.*")))),
        '{ ."x \\" y" =~ "a.*" }',
    ),
    (
        "{ parent.span.x > 3 }",
        search(where(Binary(BinaryOp.GT, Attribute(Scope.SPAN, "x", parent=True), Int(3)))),
        "{ parent.span.x > 3 }",
    ),
    (
        "{ parent.resource.x = 1 }",
        search(where(eq(Attribute(Scope.RESOURCE, "x", parent=True), Int(1)))),
        "{ parent.resource.x = 1 }",
    ),
    (
        "{ parent.duration = 1h }",
        search(where(eq(Attribute(Scope.UNSCOPED, "duration", parent=True), Duration(3600 * S)))),
        "{ parent.duration = 1h }",
    ),
    (
        '{ event.exception.message = "x" || link.opentracing.ref_type = "child_of" }',
        search(
            where(
                Binary(
                    BinaryOp.OR,
                    eq(Attribute(Scope.EVENT, "exception.message"), String("x")),
                    eq(Attribute(Scope.LINK, "opentracing.ref_type"), String("child_of")),
                )
            )
        ),
        '{ event.exception.message = "x" || link.opentracing.ref_type = "child_of" }',
    ),
    (
        '{ instrumentation.language = "java" && instrumentation:name = "grpc" }',
        search(
            where(
                Binary(
                    BinaryOp.AND,
                    eq(Attribute(Scope.INSTRUMENTATION, "language"), String("java")),
                    eq(intrinsic(Intrinsic.INSTRUMENTATION_NAME), String("grpc")),
                )
            )
        ),
        '{ instrumentation.language = "java" && instrumentation:name = "grpc" }',
    ),
    ("{ span:status = error }", search(ERROR), "{ span:status = error }"),
    (
        "{ kind = server }",
        search(where(eq(intrinsic(Intrinsic.SPAN_KIND), Kind.SERVER))),
        "{ span:kind = server }",
    ),
    (
        "{ traceDuration > 1h30m }",
        search(
            where(Binary(BinaryOp.GT, intrinsic(Intrinsic.TRACE_DURATION), Duration(90 * 60 * S)))
        ),
        "{ trace:duration > 90m }",
    ),
    (
        '{ rootServiceName = "a" && rootName = "b" }',
        search(
            where(
                Binary(
                    BinaryOp.AND,
                    eq(intrinsic(Intrinsic.TRACE_ROOT_SERVICE), String("a")),
                    eq(intrinsic(Intrinsic.TRACE_ROOT_NAME), String("b")),
                )
            )
        ),
        '{ trace:rootService = "a" && trace:rootName = "b" }',
    ),
    (
        '{ statusMessage = "" }',
        search(where(eq(intrinsic(Intrinsic.SPAN_STATUS_MESSAGE), String("")))),
        '{ span:statusMessage = "" }',
    ),
    ("{ span.x = 1.5e3 }", search(where(eq(span("x"), Float(1500.0)))), "{ span.x = 1500.0 }"),
    ("{ span.x = -5 }", search(where(eq(span("x"), Int(-5)))), "{ span.x = -5 }"),
    (
        "{ event:timeSinceStart > -1500ms }",
        search(
            where(
                Binary(
                    BinaryOp.GT, intrinsic(Intrinsic.EVENT_TIME_SINCE_START), Duration(-1500 * MS)
                )
            )
        ),
        "{ event:timeSinceStart > -1500ms }",
    ),
    ("{ span.x = `a\\n` }", search(where(eq(span("x"), String("a\\n")))), '{ span.x = "a\\\\n" }'),
    ('{ span.x = "a\\tb" }', search(where(eq(span("x"), String("a\tb")))), '{ span.x = "a\\tb" }'),
    (
        "{ span.value != minInt }",
        search(where(Binary(BinaryOp.NE, span("value"), Int(-(2**63))))),
        "{ span.value != minInt }",
    ),
    ("{ !true }", search(where(Unary(UnaryOp.NOT, Bool(True)))), "{ !true }"),
    (
        "{ .a = 1 } && { .b = 2 }",
        search(
            SpansetOperation(
                SpansetOp.AND, where(eq(dot("a"), Int(1))), where(eq(dot("b"), Int(2)))
            )
        ),
        "{ .a = 1 } && { .b = 2 }",
    ),
    (
        "{ } >> { status = error }",
        search(SpansetOperation(SpansetOp.DESCENDANT, EVERY, ERROR)),
        "{ } >> { span:status = error }",
    ),
    (
        '{ .a } !~ { .b !~ "x" }',
        search(
            SpansetOperation(
                SpansetOp.NOT_SIBLING,
                where(dot("a")),
                where(Binary(BinaryOp.NOT_REGEX, dot("b"), String("x"))),
            )
        ),
        '{ .a } !~ { .b !~ "x" }',
    ),
    (
        "{ .a } &>> { .b }",
        search(SpansetOperation(SpansetOp.UNION_DESCENDANT, where(dot("a")), where(dot("b")))),
        "{ .a } &>> { .b }",
    ),
    (
        "{ .a } | count() > 2",
        search(where(dot("a")), ScalarFilter(BinaryOp.GT, COUNT, Int(2))),
        "{ .a } | count() > 2",
    ),
    (
        "{ } | avg(duration) > 20ms",
        search(
            EVERY,
            ScalarFilter(
                BinaryOp.GT, Aggregate(AggregateFunction.AVG, DURATION), Duration(20 * MS)
            ),
        ),
        "{ } | avg(span:duration) > 20ms",
    ),
    (
        "{ } | avg(duration) > 2 * min(duration)",
        search(
            EVERY,
            ScalarFilter(
                BinaryOp.GT,
                Aggregate(AggregateFunction.AVG, DURATION),
                ScalarBinary(BinaryOp.MUL, Int(2), Aggregate(AggregateFunction.MIN, DURATION)),
            ),
        ),
        "{ } | avg(span:duration) > 2 * min(span:duration)",
    ),
    (
        "{ } | by(resource.service.name) | count() > 1",
        search(EVERY, GroupBy(resource("service.name")), ScalarFilter(BinaryOp.GT, COUNT, Int(1))),
        "{ } | by(resource.service.name) | count() > 1",
    ),
    (
        "{ } | by(3 * .a - 2) | coalesce()",
        search(
            EVERY,
            GroupBy(Binary(BinaryOp.SUB, Binary(BinaryOp.MUL, Int(3), dot("a")), Int(2))),
            Coalesce(),
        ),
        "{ } | by(3 * .a - 2) | coalesce()",
    ),
    (
        "{ } | select(span.a, name)",
        search(EVERY, SelectStage((span("a"), intrinsic(Intrinsic.SPAN_NAME)))),
        "{ } | select(span.a, span:name)",
    ),
    ("{ } | { status = error }", search(EVERY, ERROR), "{ } | { span:status = error }"),
    ("count() > 10", search(ScalarFilter(BinaryOp.GT, COUNT, Int(10))), "count() > 10"),
    ("select(.a)", search(SelectStage((dot("a"),))), "select(.a)"),
    ("{}|rate()", Query(rate()), "{ } | rate()"),
    (
        "{ } | quantile_over_time(duration, 0.5, .9) by (resource.service.name)",
        Query(
            MetricsQuery(
                Pipeline((EVERY,)),
                MetricsAggregate(
                    MetricsFunction.QUANTILE_OVER_TIME,
                    DURATION,
                    (0.5, 0.9),
                    (resource("service.name"),),
                ),
            )
        ),
        "{ } | quantile_over_time(span:duration, 0.5, 0.9) by (resource.service.name)",
    ),
    (
        "{ } | histogram_over_time(span:duration) by (span.http.route, name)",
        Query(
            MetricsQuery(
                Pipeline((EVERY,)),
                MetricsAggregate(
                    MetricsFunction.HISTOGRAM_OVER_TIME,
                    DURATION,
                    by=(span("http.route"), intrinsic(Intrinsic.SPAN_NAME)),
                ),
            )
        ),
        "{ } | histogram_over_time(span:duration) by (span.http.route, span:name)",
    ),
    (
        "{ } | compare({ status = error }, 10)",
        Query(MetricsQuery(Pipeline((EVERY,)), Compare(ERROR))),
        "{ } | compare({ span:status = error })",
    ),
    (
        "{ } | compare({ status = error }, 5, 1000, 2000)",
        Query(MetricsQuery(Pipeline((EVERY,)), Compare(ERROR, 5, 1000, 2000))),
        "{ } | compare({ span:status = error }, 5, 1000, 2000)",
    ),
    (
        "{ } | rate() by (resource.service.name) | topk(10)",
        Query(
            MetricsQuery(
                Pipeline((EVERY,)),
                MetricsAggregate(MetricsFunction.RATE, by=(resource("service.name"),)),
                (TopK(10),),
            )
        ),
        "{ } | rate() by (resource.service.name) | topk(10)",
    ),
    (
        "{ } | rate() > 10 | bottomk(3) <= 2.5",
        Query(
            rate(
                stages=(
                    MetricsFilter(BinaryOp.GT, Int(10)),
                    BottomK(3),
                    MetricsFilter(BinaryOp.LE, Float(2.5)),
                )
            )
        ),
        "{ } | rate() > 10 | bottomk(3) <= 2.5",
    ),
    (
        "({ status = error } | rate()) / ({ } | rate())",
        Query(MetricsMath(BinaryOp.DIV, rate(ERROR), rate())),
        "({ span:status = error } | rate()) / ({ } | rate())",
    ),
    (
        "({} | rate()) * 100 > 5",
        Query(MetricsMath(BinaryOp.MUL, rate(), Int(100), (MetricsFilter(BinaryOp.GT, Int(5)),))),
        "({ } | rate()) * 100 > 5",
    ),
    (
        "({} | rate() > 6) * -100",
        Query(
            MetricsMath(BinaryOp.MUL, rate(stages=(MetricsFilter(BinaryOp.GT, Int(6)),)), Int(-100))
        ),
        "({ } | rate() > 6) * (-100)",
    ),
    (
        "{ } with(most_recent=true)",
        search(EVERY, hints=(Hint("most_recent", Bool(True)),)),
        "{ } with(most_recent=true)",
    ),
    (
        "{ } | rate() with (sample=0.1, exemplars=true, job_size=10s)",
        Query(
            rate(),
            (
                Hint("sample", Float(0.1)),
                Hint("exemplars", Bool(True)),
                Hint("job_size", Duration(10 * S)),
            ),
        ),
        "{ } | rate() with(sample=0.1, exemplars=true, job_size=10s)",
    ),
    (
        "({ .a } | count()) > ({ .b } | count())",
        search(
            ScalarFilter(
                BinaryOp.GT,
                ScalarPipeline(Pipeline((where(dot("a")),)), COUNT),
                ScalarPipeline(Pipeline((where(dot("b")),)), COUNT),
            )
        ),
        "({ .a } | count()) > ({ .b } | count())",
    ),
    (
        "({ .a } | { .b }) > { .c }",
        search(
            SpansetOperation(
                SpansetOp.CHILD, Pipeline((where(dot("a")), where(dot("b")))), where(dot("c"))
            )
        ),
        "({ .a } | { .b }) > { .c }",
    ),
    (
        "(count() > 1) && ({ .a })",
        search(
            SpansetOperation(
                SpansetOp.AND,
                Pipeline((ScalarFilter(BinaryOp.GT, COUNT, Int(1)),)),
                where(dot("a")),
            )
        ),
        "(count() > 1) && { .a }",
    ),
    (
        "{ .a } | ({ .b } | { .c })",
        search(where(dot("a")), where(dot("b")), where(dot("c"))),
        "{ .a } | { .b } | { .c }",
    ),
    (
        '{ span.foo = "bar" } >> { status = error } with (most_recent=true)',
        search(
            SpansetOperation(SpansetOp.DESCENDANT, where(eq(span("foo"), String("bar"))), ERROR),
            hints=(Hint("most_recent", Bool(True)),),
        ),
        '{ span.foo = "bar" } >> { span:status = error } with(most_recent=true)',
    ),
    (
        "{\n  span.a = 1 &&\n\tspan.b = 2\n}",
        search(where(Binary(BinaryOp.AND, eq(span("a"), Int(1)), eq(span("b"), Int(2))))),
        "{ span.a = 1 && span.b = 2 }",
    ),
]


@pytest.mark.parametrize(("text", "tree", "canonical"), CASES, ids=[case[0] for case in CASES])
def test_round_trip(text: str, tree: Node, canonical: str) -> None:
    assert parse(text) == tree
    assert to_text(tree) == canonical
    assert parse(canonical) == tree


# Each pair parses to one tree: the left side leans on precedence, the right spells it out.
SAME_TREE = [
    # `&&` and `||` share one level in Tempo and group to the left.
    ("{ .a || .b && .c }", "{ (.a || .b) && .c }"),
    ("{ .a && .b || .c }", "{ (.a && .b) || .c }"),
    ("{ .a = 1 && .b = 2 }", "{ (.a = 1) && (.b = 2) }"),
    ("{ .a + .b * .c = 1 }", "{ (.a + (.b * .c)) = 1 }"),
    ("{ .a - .b - .c = 1 }", "{ ((.a - .b) - .c) = 1 }"),
    ("{ .a / .b % .c = 1 }", "{ ((.a / .b) % .c) = 1 }"),
    ("{ .a ^ .b ^ .c = 1 }", "{ (.a ^ (.b ^ .c)) = 1 }"),
    ("{ .a * .b ^ .c = 1 }", "{ (.a * (.b ^ .c)) = 1 }"),
    # A prefix `-` or `!` takes in `*`, `/`, `%` and `^`, but not `+` or comparisons.
    ("{ -.a * .b = 1 }", "{ -(.a * .b) = 1 }"),
    ("{ -.a + .b = 1 }", "{ (-.a) + .b = 1 }"),
    ("{ 2 * -.a * .b = 1 }", "{ 2 * (-(.a * .b)) = 1 }"),
    ("{ !.a = .b }", "{ (!.a) = .b }"),
    ("{ .c - -.a + .b = 1 }", "{ (.c - (-.a)) + .b = 1 }"),
    # Spanset operators: `&&` and `||` below the structural ones, all left-associative,
    # and `|` below everything.
    ("{ .a } && { .b } >> { .c }", "{ .a } && ({ .b } >> { .c })"),
    ("{ .a } >> { .b } && { .c }", "({ .a } >> { .b }) && { .c }"),
    ("{ .a } >> { .b } ~ { .c }", "({ .a } >> { .b }) ~ { .c }"),
    ("{ .a } || { .b } && { .c }", "({ .a } || { .b }) && { .c }"),
    ("{ .a } > { .b } | count() > 1", "({ .a } > { .b }) | count() > 1"),
    ("{ .a } | { .b } && { .c }", "{ .a } | ({ .b } && { .c })"),
    # Scalars and metrics: usual arithmetic, comparisons last.
    ("avg(.a) > count() + sum(.b)", "(avg(.a)) > ((count()) + (sum(.b)))"),
    ("avg(.a) + count() * 2 > sum(.b)", "(avg(.a) + (count() * 2)) > sum(.b)"),
    ("({} | rate()) * 3 * 2", "((({} | rate())) * 3) * 2"),
    ("5 + ({} | rate()) * 10", "5 + (({} | rate()) * 10)"),
    ("({} | rate()) + ({} | rate()) > 10", "(({} | rate()) + ({} | rate())) > 10"),
]


@pytest.mark.parametrize(("implicit", "explicit"), SAME_TREE)
def test_precedence(implicit: str, explicit: str) -> None:
    assert parse(implicit) == parse(explicit)


def test_prefix_minus_before_power_applies_to_the_power() -> None:
    condition = parse("{ -2 ^ 2 = .a }").body
    assert condition == Pipeline(
        (where(eq(Unary(UnaryOp.NEG, Binary(BinaryOp.POW, Int(2), Int(2))), dot("a"))),)
    )


def test_greater_than_is_structural_between_spansets_and_a_comparison_after_an_aggregate() -> None:
    assert parse("{ } > { }").body == Pipeline((SpansetOperation(SpansetOp.CHILD, EVERY, EVERY),))
    assert parse("count() > 1").body == Pipeline((ScalarFilter(BinaryOp.GT, COUNT, Int(1)),))
    assert parse("{ } | rate() > 1").body == rate(stages=(MetricsFilter(BinaryOp.GT, Int(1)),))
    assert parse("{ .a > 1 }").body == Pipeline((where(Binary(BinaryOp.GT, dot("a"), Int(1))),))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Tempo folds arithmetic between numbers outside braces, with Go's int semantics.
        ("count() > 2 * 3", Int(6)),
        ("count() > 1 / 2", Int(0)),
        ("count() > -7 / 2", Int(-3)),
        ("count() > 1.0 / 2", Float(0.5)),
        ("count() > (1 + 2) * 3", Int(9)),
        ("count() > -(1 + 2)", Int(-3)),
        ("count() > 1 - 3", Int(-2)),
    ],
)
def test_constant_arithmetic_outside_braces_is_folded(text: str, value: Int | Float) -> None:
    assert parse(text).body == Pipeline((ScalarFilter(BinaryOp.GT, COUNT, value),))


def test_constants_fold_inside_metrics_arithmetic() -> None:
    assert parse("1 + 2 + ({} | rate())").body == MetricsMath(BinaryOp.ADD, Int(3), rate())
    assert parse("({} | rate()) / (1024 * 1024)").body == MetricsMath(
        BinaryOp.DIV, rate(), Int(1024 * 1024)
    )


def test_second_stages_after_parentheses_join_the_inner_ones() -> None:
    assert parse("({} | rate() | topk(5)) | bottomk(3)") == parse(
        "{} | rate() | topk(5) | bottomk(3)"
    )


def test_literals_keep_their_types() -> None:
    condition = parse("{ .a = 1 || .a = 1.0 || .a = 1ns || .a = true || .a = nil }").body
    assert to_text(condition) == "{ .a = 1 || .a = 1.0 || .a = 1ns || .a = true || .a = nil }"
    assert len({Int(1), Float(1.0), Duration(1), Bool(True), Nil()}) == 5


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("resource.service.name", resource("service.name")),
        (".foo", dot("foo")),
        ("span:name", intrinsic(Intrinsic.SPAN_NAME)),
        ("name", intrinsic(Intrinsic.SPAN_NAME)),
        ("duration", DURATION),
        ("trace:rootService", intrinsic(Intrinsic.TRACE_ROOT_SERVICE)),
        ('span."a b"', span("a b")),
        (" event.x ", Attribute(Scope.EVENT, "x")),
    ],
)
def test_parse_field(text: str, field: traceql.Field) -> None:
    assert parse_field(text) == field


@pytest.mark.parametrize(
    "text", ["", "foo", "span.", "span:foo", ".a = 1", "{ .a }", "span.a span.b"]
)
def test_parse_field_refuses_anything_else(text: str) -> None:
    with pytest.raises(traceql.ParseError):
        parse_field(text)


def test_dunder_all_is_sorted_and_complete() -> None:
    # In ruff's order (RUF022): constants, then classes, then functions, each sorted.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(traceql.__all__, key=kind) == list(traceql.__all__)
    assert [name for name in traceql.__all__ if not hasattr(traceql, name)] == []
    assert issubclass(traceql.ParseError, InvalidRequest)


def test_nodes_are_immutable() -> None:
    node = dot("a")
    with pytest.raises(AttributeError):
        node.name = "b"  # type: ignore[misc]
    assert not hasattr(node, "__dict__")
