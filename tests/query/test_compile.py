from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from otelite.errors import InvalidRequest
from otelite.query import (
    And,
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Contains,
    Exists,
    HasSpan,
    Literal,
    Not,
    Op,
    Or,
    Order,
    Output,
    Plan,
    Predicate,
    Select,
    Table,
    TimeRange,
    TraceSearch,
    compile_plan,
)
from otelite.query.dialects import DuckDBDialect

from .dataset import MS, T0, TRACE_A, TRACE_B, TRACE_C

Run = Callable[[Plan], list[dict[str, Any]]]
INJECTION = "'; DROP TABLE otel_traces; --"


def span_ids(run: Run, where: Predicate | None, time: TimeRange | None = None) -> list[int]:
    plan = Select(
        Table.SPANS,
        (Output("id", Column("SpanId")),),
        where=where,
        time=time or TimeRange(),
        order_by=(Order("id"),),
    )
    return [int.from_bytes(row["id"], "big") for row in run(plan)]


SPAN_CASES: list[tuple[str, Predicate | None, list[int]]] = [
    ("no condition", None, [1, 2, 3, 4, 5, 6]),
    ("column equals", Compare(Column("ServiceName"), Op.EQ, "frontend"), [1, 4]),
    ("column not equal", Compare(Column("ServiceName"), Op.NE, "frontend"), [2, 3, 5, 6]),
    ("duration at least", Compare(Column("Duration"), Op.GE, 250 * MS), [4, 5]),
    ("duration below", Compare(Column("Duration"), Op.LT, 30 * MS), [6]),
    ("status error", Compare(Column("StatusCode"), Op.EQ, 2), [2]),
    ("timestamp column", Compare(Column("Timestamp"), Op.GE, T0 + 1000 * MS), [4, 5, 6]),
    ("trace id", Compare(Column("TraceId"), Op.EQ, TRACE_B), [4, 5]),
    ("root spans", Compare(Column("ParentSpanId"), Op.EQ, b""), [1, 4]),
    ("regex on a column", Compare(Column("SpanName"), Op.MATCH, "cart\\..*"), [2, 6]),
    ("regex is anchored", Compare(Column("SpanName"), Op.MATCH, "cart"), []),
    ("negated regex", Compare(Column("SpanName"), Op.NOT_MATCH, ".*/.*"), [2, 3, 5, 6]),
    # A string literal matches the string form, whatever the attribute's type.
    ("string form of an int", Compare(Attribute("http.status_code"), Op.EQ, "200"), [4, 5]),
    # A typed literal matches only attributes of a compatible type.
    ("int literal", Compare(Attribute("http.status_code"), Op.EQ, 200), [4]),
    ("int ordering", Compare(Attribute("http.status_code"), Op.GE, 400), [1]),
    ("int vs double attribute", Compare(Attribute("ratio"), Op.EQ, 2), [5]),
    ("float literal", Compare(Attribute("ratio"), Op.LT, 0.5), [2]),
    ("int beyond 2**53 is exact", Compare(Attribute("big"), Op.EQ, 2**62 + 1), [6]),
    ("int beyond 2**53, off by one", Compare(Attribute("big"), Op.EQ, 2**62), []),
    ("bool literal", Compare(Attribute("retry"), Op.EQ, True), [2]),
    ("bool false", Compare(Attribute("retry"), Op.EQ, False), []),
    ("string 'true' matches the bool's form", Compare(Attribute("retry"), Op.EQ, "true"), [2]),
    ("missing attribute never differs", Compare(Attribute("retry"), Op.NE, True), []),
    ("attribute regex", Compare(Attribute("http.route"), Op.MATCH, "/c.*"), [1, 4]),
    ("unscoped reads the resource", Compare(Attribute("deployment"), Op.EQ, "canary"), [6]),
    (
        "resource scope",
        Compare(Attribute("service.name", AttributeScope.RESOURCE), Op.EQ, "db"),
        [3],
    ),
    (
        "record scope ignores the resource",
        Compare(Attribute("deployment", AttributeScope.RECORD), Op.EQ, "canary"),
        [],
    ),
    ("exists", Exists(Attribute("ratio")), [2, 5]),
    ("not exists", Not(Exists(Attribute("http.route"))), [2, 3, 5, 6]),
    ("contains, any case", Contains(Column("SpanName"), "CART"), [1, 2, 6]),
    ("contains, case-sensitive", Contains(Column("SpanName"), "CART", case_sensitive=True), []),
    ("contains in an attribute", Contains(Attribute("db.statement"), "from carts"), [3]),
    (
        "and",
        And(
            (Compare(Column("ServiceName"), Op.EQ, "cart"), Compare(Column("StatusCode"), Op.EQ, 0))
        ),
        [6],
    ),
    (
        "or",
        Or((Compare(Column("ServiceName"), Op.EQ, "db"), Compare(Column("SpanKind"), Op.EQ, 2))),
        [1, 3, 4],
    ),
    ("empty and is true", And(()), [1, 2, 3, 4, 5, 6]),
    ("empty or is false", Or(()), []),
]


@pytest.mark.parametrize(
    ("where", "expected"), [c[1:] for c in SPAN_CASES], ids=[c[0] for c in SPAN_CASES]
)
def test_span_predicates(run: Run, where: Predicate | None, expected: list[int]) -> None:
    assert span_ids(run, where) == expected


def test_time_range_is_half_open(run: Run) -> None:
    time = TimeRange(T0 + 10 * MS, T0 + 1000 * MS)
    assert span_ids(run, None, time) == [2, 3]


TRACE_CASES: list[tuple[str, Predicate, list[bytes]]] = [
    ("any span", HasSpan(), [TRACE_C, TRACE_B, TRACE_A]),
    (
        "one span meets all",
        HasSpan(
            And(
                (
                    Compare(Column("ServiceName"), Op.EQ, "cart"),
                    Compare(Column("StatusCode"), Op.EQ, 2),
                )
            )
        ),
        [TRACE_A],
    ),
    # Conditions met by different spans do not make a single-span match...
    (
        "split over spans",
        HasSpan(
            And(
                (
                    Compare(Column("ServiceName"), Op.EQ, "db"),
                    Compare(Column("SpanKind"), Op.EQ, 2),
                )
            )
        ),
        [],
    ),
    # ...but two span sets do.
    (
        "two span sets",
        And(
            (
                HasSpan(Compare(Column("ServiceName"), Op.EQ, "db")),
                HasSpan(Compare(Column("SpanKind"), Op.EQ, 2)),
            )
        ),
        [TRACE_A],
    ),
    (
        "either span set",
        Or(
            (
                HasSpan(Compare(Column("ServiceName"), Op.EQ, "db")),
                HasSpan(Compare(Column("ServiceName"), Op.EQ, "checkout")),
            )
        ),
        [TRACE_B, TRACE_A],
    ),
    ("no span matches", Not(HasSpan(Compare(Column("ServiceName"), Op.EQ, "frontend"))), [TRACE_C]),
]


@pytest.mark.parametrize(
    ("where", "expected"), [c[1:] for c in TRACE_CASES], ids=[c[0] for c in TRACE_CASES]
)
def test_trace_conditions(run: Run, where: Predicate, expected: list[bytes]) -> None:
    assert [row["trace_id"] for row in run(TraceSearch(where))] == expected


def test_trace_summary(run: Run) -> None:
    rows = run(TraceSearch(HasSpan(Compare(Column("ServiceName"), Op.EQ, "db"))))
    assert rows == [
        {
            "trace_id": TRACE_A,
            "start_ns": T0,
            "end_ns": T0 + 100 * MS,
            "span_count": 3,
            "error_count": 1,
            "root_service": "frontend",
            "root_name": "GET /cart",
            "services": ["cart", "db", "frontend"],
        }
    ]


def test_trace_without_root_falls_back_to_its_earliest_span(run: Run) -> None:
    rows = run(TraceSearch(HasSpan(Compare(Column("TraceId"), Op.EQ, TRACE_C))))
    assert (rows[0]["root_service"], rows[0]["root_name"]) == ("cart", "cart.get")


def test_trace_search_limit_keeps_the_newest(run: Run) -> None:
    rows = run(TraceSearch(HasSpan(), limit=2))
    assert [row["trace_id"] for row in rows] == [TRACE_C, TRACE_B]


def test_trace_time_range_selects_matching_spans_but_summarises_whole_traces(run: Run) -> None:
    rows = run(TraceSearch(HasSpan(), TimeRange(T0 + 15 * MS, T0 + 25 * MS)))
    assert [(row["trace_id"], row["span_count"]) for row in rows] == [(TRACE_A, 3)]


def test_grouping_and_aggregates(run: Run) -> None:
    plan = Select(
        Table.SPANS,
        (
            Output("route", Attribute("http.route")),
            Output("spans", Call("count")),
            Output("slowest", Call("max", (Column("Duration"),))),
        ),
        where=Exists(Attribute("http.route")),
        group_by=("route",),
        order_by=(Order("slowest", descending=True),),
    )
    assert run(plan) == [
        {"route": "/checkout", "spans": 1, "slowest": 400 * MS},
        {"route": "/cart", "spans": 1, "slowest": 100 * MS},
    ]


def test_literal_outputs_and_limit(run: Run) -> None:
    plan = Select(Table.LOGS, (Output("one", Literal(1)),), limit=2)
    assert run(plan) == [{"one": 1}, {"one": 1}]


@pytest.mark.parametrize(
    "where",
    [
        Compare(Column("ServiceName"), Op.EQ, INJECTION),
        Compare(Attribute(INJECTION), Op.EQ, INJECTION),
        Compare(Attribute(INJECTION), Op.GT, 1),
        Compare(Column("SpanName"), Op.MATCH, INJECTION),
        Contains(Attribute(INJECTION), INJECTION),
        Exists(Attribute(INJECTION)),
    ],
)
def test_values_and_keys_are_bound_parameters(
    run: Run, db: duckdb.DuckDBPyConnection, where: Predicate
) -> None:
    statement = compile_plan(
        Select(Table.SPANS, (Output("n", Call("count")),), where=where), DuckDBDialect()
    )
    assert INJECTION not in statement.sql
    assert INJECTION in statement.params
    assert run(Select(Table.SPANS, (Output("n", Call("count")),), where=where)) == [{"n": 0}]
    assert db.sql("SELECT count(*) FROM otel_traces").fetchall() == [(6,)]


def test_equal_values_share_one_parameter() -> None:
    where = And((Compare(Attribute("k"), Op.EQ, "v"), Compare(Column("SpanName"), Op.NE, "v")))
    statement = compile_plan(
        Select(Table.SPANS, (Output("n", Call("count")),), where=where), DuckDBDialect()
    )
    # "k" (looked up in two maps) and "v" (compared three times) are bound once each.
    assert statement.params == ("k", "v")


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (Select(Table.SPANS, (Output("x", Column("Nope")),)), "no column 'Nope'"),
        (Select(Table.SPANS, (Output("x y", Column("SpanName")),)), "not a plain identifier"),
        (Select(Table.SPANS, (Output("SpanName", Column("ServiceName")),)), "also a column"),
        (Select(Table.SPANS, ()), "at least one column"),
        (
            Select(Table.SPANS, (Output("x", Column("SpanName")),), order_by=(Order("y"),)),
            "'y' is not an output",
        ),
        (
            Select(Table.SPANS, (Output("x", Call("drop_table")),)),
            "unknown function 'drop_table'",
        ),
        (
            Select(
                Table.SPANS,
                (Output("x", Call("count")),),
                where=Compare(Column("Duration"), Op.EQ, "1s"),
            ),
            "cannot be compared",
        ),
        (
            Select(
                Table.SPANS,
                (Output("x", Call("count")),),
                where=Compare(Column("Duration"), Op.MATCH, "1"),
            ),
            "cannot be compared",
        ),
        (
            Select(
                Table.SPANS,
                (Output("x", Call("count")),),
                where=Compare(Attribute("a"), Op.LT, True),
            ),
            "does not apply",
        ),
        (
            Select(
                Table.SPANS,
                (Output("x", Call("count")),),
                where=Compare(Attribute("a"), Op.MATCH, 1),
            ),
            "needs a string pattern",
        ),
        (Select(Table.SPANS, (Output("x", Call("count")),), where=HasSpan()), "only valid"),
        (TraceSearch(Compare(Column("SpanName"), Op.EQ, "x")), "at least one span set"),
        (
            TraceSearch(And((HasSpan(), Compare(Column("SpanName"), Op.EQ, "x")))),
            "combines span sets",
        ),
    ],
)
def test_invalid_plans_are_refused(plan: Plan, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        compile_plan(plan, DuckDBDialect())


def test_time_range_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        TimeRange(10, 5)
