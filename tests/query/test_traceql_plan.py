"""TraceQL → plans: each query's plan written by hand, and what is refused and how."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query import (
    Aggregated,
    And,
    Arithmetic,
    ArithmeticOp,
    Attribute,
    AttributeScope,
    BothOf,
    Call,
    ChildCount,
    Column,
    Compare,
    CompareValues,
    EitherOf,
    Exists,
    Literal,
    Matching,
    Nested,
    NestedCompare,
    Not,
    Op,
    Or,
    Related,
    Relation,
    SpansetSearch,
    TimeRange,
    TraceCompare,
    TraceField,
    TypedAttribute,
    ValueKind,
)
from otelite.query.traceql import ParseError, search_plan

SERVER = Compare(Column("SpanKind"), Op.EQ, 2)
ROOT = Compare(Column("ParentSpanId"), Op.EQ, b"")
POSTGRES = Compare(Attribute("db.system", AttributeScope.RECORD), Op.EQ, "postgresql", typed=True)
CASES = {
    "{ }": Matching(),
    "{ true }": Matching(),
    "{ false }": Matching(Or(())),
    "{ kind = server }": Matching(SERVER),
    "{ span:status = error }": Matching(Compare(Column("StatusCode"), Op.EQ, 2)),
    "{ status != ok }": Matching(Compare(Column("StatusCode"), Op.NE, 1)),
    "{ duration > 1.5s }": Matching(Compare(Column("Duration"), Op.GT, 1_500_000_000)),
    "{ 100ms <= duration }": Matching(Compare(Column("Duration"), Op.GE, 100_000_000)),
    '{ name =~ "GET .*" }': Matching(Compare(Column("SpanName"), Op.MATCH, "GET .*")),
    '{ span:id = "abc" }': Matching(
        Compare(Column("SpanId"), Op.EQ, bytes.fromhex("0" * 13 + "abc"))
    ),
    '{ trace:id = "0af7651916cd43dd8448eb211c80319c" }': Matching(
        Compare(Column("TraceId"), Op.EQ, bytes.fromhex("0af7651916cd43dd8448eb211c80319c"))
    ),
    '{ instrumentation:name = "io.opentelemetry.jdbc" }': Matching(
        Compare(Column("ScopeName"), Op.EQ, "io.opentelemetry.jdbc")
    ),
    '{ resource.service.name = "cart" }': Matching(
        Compare(Attribute("service.name", AttributeScope.RESOURCE), Op.EQ, "cart", typed=True)
    ),
    "{ .http.status_code >= 500 }": Matching(
        Compare(Attribute("http.status_code"), Op.GE, 500, typed=True)
    ),
    "{ instrumentation.x = 1.5 }": Matching(
        Compare(Attribute("x", AttributeScope.SCOPE), Op.EQ, 1.5, typed=True)
    ),
    "{ span.flag }": Matching(
        Compare(Attribute("flag", AttributeScope.RECORD), Op.EQ, True, typed=True)
    ),
    "{ span.a = nil }": Matching(Not(Exists(Attribute("a", AttributeScope.RECORD)))),
    "{ span.a != nil }": Matching(Exists(Attribute("a", AttributeScope.RECORD))),
    '{ span.db.system = "postgresql" && kind = server }': Matching(And((POSTGRES, SERVER))),
    '{ !(span.db.system = "postgresql") || true }': Matching(),
    '{ kind = server || span.db.system = "postgresql" }': Matching(Or((SERVER, POSTGRES))),
    '{ kind = server } && { span.db.system = "postgresql" }': BothOf(
        Matching(SERVER), Matching(POSTGRES)
    ),
    '{ kind = server } || { span.db.system = "postgresql" }': EitherOf(
        Matching(SERVER), Matching(POSTGRES)
    ),
    '{ kind = server } >> { span.db.system = "postgresql" }': Related(
        Relation.DESCENDANT, Matching(SERVER), Matching(POSTGRES)
    ),
    '{ kind = server } &< { span.db.system = "postgresql" }': Related(
        Relation.PARENT, Matching(SERVER), Matching(POSTGRES), both=True
    ),
    '{ kind = server } !~ { span.db.system = "postgresql" }': Related(
        Relation.SIBLING, Matching(SERVER), Matching(POSTGRES), negated=True
    ),
    '{ kind = server } | { span.db.system = "postgresql" }': Matching(And((SERVER, POSTGRES))),
    '{ trace:rootService = "cart" }': Matching(
        TraceCompare(TraceField.ROOT_SERVICE, Op.EQ, "cart")
    ),
    '{ rootName !~ "GET.*" }': Matching(TraceCompare(TraceField.ROOT_NAME, Op.NOT_MATCH, "GET.*")),
    "{ traceDuration >= 2s }": Matching(TraceCompare(TraceField.DURATION, Op.GE, 2_000_000_000)),
    '{ event:name = "exception" }': Matching(
        NestedCompare(Nested.EVENTS, "name", None, Op.EQ, "exception")
    ),
    '{ event.exception.type =~ "IO.*" }': Matching(
        NestedCompare(Nested.EVENTS, None, "exception.type", Op.MATCH, "IO.*")
    ),
    "{ event.retry = nil }": Matching(Not(NestedCompare(Nested.EVENTS, None, "retry"))),
    '{ link:traceID = "ab" }': Matching(
        NestedCompare(Nested.LINKS, "trace_id", None, Op.EQ, bytes.fromhex("ab".rjust(32, "0")))
    ),
    '{ link:spanID != "ab" }': Matching(
        NestedCompare(Nested.LINKS, "span_id", None, Op.NE, bytes.fromhex("ab".rjust(16, "0")))
    ),
    "{ link.kind != nil }": Matching(NestedCompare(Nested.LINKS, None, "kind")),
    "{ event:timeSinceStart >= 1ms }": Matching(
        NestedCompare(Nested.EVENTS, "time_since_start", None, Op.GE, 1_000_000)
    ),
    # Grafana's Traces Drilldown asks for root spans so.
    "{ nestedSetParent < 0 && true }": Matching(ROOT),
    "{ nestedSetParent = -1 }": Matching(ROOT),
    "{ nestedSetParent >= 0 }": Matching(Not(ROOT)),
    "{ nestedSetParent != -1 }": Matching(Not(ROOT)),
    "{ nestedSetParent > -3 }": Matching(And(())),
    "{ nestedSetParent < -3 }": Matching(Or(())),
    # Arithmetic between literals is computed before planning, as Tempo does.
    "{ span.size > 10 * 1024 * 1024 }": Matching(
        Compare(Attribute("size", AttributeScope.RECORD), Op.GT, 10_485_760, typed=True)
    ),
    "{ duration >= 1s / 4 + 2 * 5ms }": Matching(Compare(Column("Duration"), Op.GE, 260_000_000)),
    "{ span.x < 7 / 2 }": Matching(
        Compare(Attribute("x", AttributeScope.RECORD), Op.LT, 3.5, typed=True)
    ),
    "{ span.x = -7 % 3 }": Matching(
        Compare(Attribute("x", AttributeScope.RECORD), Op.EQ, -1, typed=True)
    ),
    "{ 2 ^ 10 = 1024 && kind = server }": Matching(SERVER),
    '{ "a" > "b" || kind = server }': Matching(Or((Or(()), SERVER))),
    "{ span:childCount = 0 }": Matching(ChildCount(Op.EQ, 0)),
    "{ 3 < span:childCount }": Matching(ChildCount(Op.GT, 3)),
    "{ duration > 2 * span.budget }": Matching(
        CompareValues(
            Column("Duration"),
            Op.GT,
            Arithmetic(
                ArithmeticOp.MUL,
                Literal(2),
                TypedAttribute(Attribute("budget", AttributeScope.RECORD), ValueKind.NUMBER),
            ),
        )
    ),
    "{ name != resource.expected }": Matching(
        CompareValues(
            Column("SpanName"),
            Op.NE,
            TypedAttribute(Attribute("expected", AttributeScope.RESOURCE), ValueKind.STRING),
        )
    ),
    "{ span.a < .b }": Matching(
        Or(
            tuple(
                CompareValues(
                    TypedAttribute(Attribute("a", AttributeScope.RECORD), kind),
                    Op.LT,
                    TypedAttribute(Attribute("b"), kind),
                )
                for kind in (ValueKind.NUMBER, ValueKind.STRING)
            )
        )
    ),
    "{ kind = server } | count() > 2": Aggregated(Matching(SERVER), "count", Op.GT, 2),
    "{ } | 20ms < avg(duration)": Aggregated(
        Matching(), "avg", Op.GT, 20_000_000, Column("Duration")
    ),
    "{ } | sum(span.bytes) >= 1.5": Aggregated(
        Matching(),
        "sum",
        Op.GE,
        1.5,
        Call("to_double", (Attribute("bytes", AttributeScope.RECORD),)),
    ),
}


@pytest.mark.parametrize("text", list(CASES))
def test_searches_compile_to_these_plans(text: str) -> None:
    plan = search_plan(text, time=TimeRange(1, 2), limit=7, spans_per_set=2)
    assert plan == SpansetSearch(CASES[text], time=TimeRange(1, 2), limit=7, spans_per_set=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{ } | rate()", "a metrics query cannot search traces"),
        ("{ } | by(span.x) | count() > 1 | by(span.y)", "a second by(span.y) before coalesce"),
        ("{ nestedSetParent = 3 }", "nestedSetParent answers only whether a span is a root"),
        ("{ duration > trace:duration / 2 }", "trace:duration compares only with a literal"),
        ("{ status = span.x }", "span:status compares only with a literal"),
        ("{ event.a = span.b }", "event and link attributes compare only with a literal"),
        ("{ span.a > 1 / (2 - 2) }", "division by zero"),
        ("{ span.a > 2 ^ 64 }", "overflows a 64-bit integer"),
        ('{ span:id = "xyz" }', "is not a hex id"),
        ("{ duration > 3 }", None),  # ints are nanoseconds, as Tempo reads them
    ],
)
def test_what_is_refused_says_what(text: str, message: str | None) -> None:
    if message is None:
        search_plan(text, time=TimeRange(), limit=1, spans_per_set=1)
        return
    with pytest.raises(InvalidRequest) as error:
        search_plan(text, time=TimeRange(), limit=1, spans_per_set=1)
    assert not isinstance(error.value, ParseError)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "column"),
    [('{ kind = "server" }', 8), ("{ status > ok }", 10), ("{ span.a > nil }", 10)],
)
def test_type_errors_are_parse_errors_with_their_position(text: str, column: int) -> None:
    with pytest.raises(ParseError) as error:
        search_plan(text, time=TimeRange(), limit=1, spans_per_set=1)
    assert (error.value.line, error.value.column) == (1, column)


def test_select_adds_fields_without_changing_what_matches() -> None:
    plan = search_plan(
        "{ kind = server } | select(span.http.route, resource.host, status) | select(.a)",
        time=TimeRange(),
        limit=1,
        spans_per_set=1,
    )
    assert plan.spanset == Matching(SERVER)
    assert plan.fields == (
        ("http.route", Attribute("http.route", AttributeScope.RECORD)),
        ("host", Attribute("host", AttributeScope.RESOURCE)),
        ("span:status", Column("StatusCode")),
        ("a", Attribute("a")),
    )


def test_by_as_the_last_stage_splits_span_sets() -> None:
    plan = search_plan(
        "{ kind = server } | by(resource.service.name)",
        time=TimeRange(),
        limit=1,
        spans_per_set=1,
    )
    assert plan.spanset == Matching(SERVER)
    assert plan.group_by == (
        "by(resource.service.name)",
        Attribute("service.name", AttributeScope.RESOURCE),
    )
