"""Span set searches (TraceQL's spanset operators) on both backends, against a direct
evaluator written here from TraceQL's documented semantics.

The dataset is random trees of spans (seeded), with a trace whose parent links form a
cycle and spans outside the time range. For each query the evaluator walks the spans in
Python; the engine must give the same traces, matched counts and first matched spans.
"""

from __future__ import annotations

import operator
import random
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest

from otelite.query import (
    Aggregated,
    And,
    Arithmetic,
    ArithmeticOp,
    Attribute,
    AttributeScope,
    BothOf,
    ChildCount,
    Column,
    Compare,
    CompareValues,
    EitherOf,
    Filtered,
    Literal,
    Matching,
    Nested,
    NestedCompare,
    Not,
    Op,
    Or,
    Plan,
    Predicate,
    Related,
    Relation,
    Spanset,
    SpansetSearch,
    TimeRange,
    TraceCompare,
    TraceField,
    TypedAttribute,
    ValueKind,
    compile_plan,
)
from otelite.query.dialects import DuckDBDialect
from otelite.query.traceql import search_plan
from otelite.storage import Storage, WriteBatch
from otelite.storage._schema import TRACES, table_name
from otelite.storage.duckdb._layout import from_stored, stored_schema, to_stored
from tests.backends import BACKENDS, store

from .dataset import MS, T0, attrs, rows_table, span

SERVICES = ("frontend", "cart", "checkout", "payments")
KINDS = (1, 2, 3, 4, 5)  # internal, server, client, producer, consumer
WINDOW = TimeRange(T0, T0 + 10_000 * MS)


def random_spans(seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    sizes = random.Random(seed + 1)  # numbers for arithmetic, apart from the trees' draws
    spans = []
    next_id = 1
    for number in range(40):
        trace = number.to_bytes(16, "big")
        start = rng.randrange(0, 9_000)
        ids: list[int] = []
        for _ in range(rng.randrange(1, 12)):
            parent = rng.choice(ids) if ids and rng.random() < 0.9 else None
            if ids and parent is None and rng.random() < 0.5:
                parent = 10_000 + number  # a parent that never arrives
            attributes: dict[str, Any] = {}
            if rng.random() < 0.3:
                attributes["db.system"] = rng.choice(("postgresql", "redis"))
            # Ints, doubles and a string that reads as a number, to compare across fields.
            if sizes.random() < 0.7:
                attributes["size"] = sizes.randrange(0, 100, 5)
            attributes["limit"] = sizes.choice((10, 50, 50.5, 80.0, "50", None))
            attributes["label"] = sizes.choice(("work", "query", "other", 7, None))
            attributes = {k: v for k, v in attributes.items() if v is not None}
            events = [
                event(rng.choice(("exception", "retry")), rng.choice(("IOError", "Timeout")), n)
                for n in range(rng.choice((0, 0, 1, 2)))
            ]
            links = [
                link(number - 1, rng.choice(("follows", "batch")))
                for _ in range(rng.choice((0, 0, 0, 1)))
                if number > 0
            ]
            spans.append(
                span(
                    trace,
                    next_id,
                    parent=parent,
                    start_ms=start + rng.randrange(0, 500),
                    duration_ms=rng.randrange(1, 300),
                    name=rng.choice(("GET /", "query", "publish", "work")),
                    service=rng.choice(SERVICES),
                    status=rng.choice((0, 0, 0, 2)),
                    kind=rng.choice(KINDS),
                    span_attrs=attributes,
                )
                | {"Events": events, "Links": links}
            )
            for n, item in enumerate(events):  # 7 ms apart, from 7 ms after the start
                item["Timestamp"] = spans[-1]["Timestamp"] + (n + 1) * 7 * MS
            ids.append(next_id)
            next_id += 1
    # A trace whose links form a cycle: no span is a root.
    cycle = (99).to_bytes(16, "big")
    for me, parent in ((900_001, 900_003), (900_002, 900_001), (900_003, 900_002)):
        spans.append(
            span(
                cycle,
                me,
                parent=parent,
                start_ms=100 + me % 10,
                duration_ms=5,
                name="loop",
                service="cart",
                kind=2,
            )
        )
    # Spans outside the time range take no part.
    spans.append(
        span(
            bytes(15) + b"\x01",
            950_000,
            start_ms=20_000,
            duration_ms=1,
            name="late",
            service="cart",
            kind=2,
        )
    )
    return spans


def link(trace: int, why: str) -> dict[str, Any]:
    values, types = attrs({"link.why": why})
    return {
        "TraceId": trace.to_bytes(16, "big"),
        "SpanId": (7).to_bytes(8, "big"),
        "TraceState": "",
        "Attributes": values,
        "AttributeTypes": types,
        "DroppedAttributesCount": 0,
        "Flags": 0,
    }


def event(name: str, kind: str, attempt: int) -> dict[str, Any]:
    values, types = attrs({"exception.type": kind, "attempt": attempt})
    return {
        "Timestamp": T0,
        "Name": name,
        "Attributes": values,
        "AttributeTypes": types,
        "DroppedAttributesCount": 0,
    }


SPANS = random_spans()


# --- the direct evaluator ----------------------------------------------------------


def holds(predicate: Predicate | None, row: dict[str, Any], trace: list[dict[str, Any]]) -> bool:
    """Whether span ``row`` of ``trace`` (its spans in range) meets ``predicate``."""
    if predicate is None:
        return True
    if isinstance(predicate, And):
        return all(holds(p, row, trace) for p in predicate.items)
    if isinstance(predicate, Not):
        return not holds(predicate.item, row, trace)
    if isinstance(predicate, NestedCompare):
        items = row.get("Events" if predicate.nested is Nested.EVENTS else "Links") or []
        if predicate.field is not None:
            if predicate.field == "time_since_start":
                since = [i["Timestamp"] - row["Timestamp"] for i in items]
                return any(v > predicate.value for v in since)
            own = {"name": "Name", "trace_id": "TraceId", "span_id": "SpanId"}[predicate.field]
            return any(i[own] == predicate.value for i in items)
        found = [dict(i["Attributes"]).get(predicate.key) for i in items]
        if predicate.value is None:
            return any(v is not None for v in found)
        if isinstance(predicate.value, str):
            return predicate.value in found
        return any(v is not None and float(v) > predicate.value for v in found)
    if isinstance(predicate, TraceCompare):
        compare = {Op.EQ: operator.eq, Op.GT: operator.gt, Op.NE: operator.ne}[predicate.op]
        if predicate.field is TraceField.DURATION:
            start = min(r["Timestamp"] for r in trace)
            end = max(r["Timestamp"] + r["Duration"] for r in trace)
            return bool(compare(end - start, predicate.value))
        column = "ServiceName" if predicate.field is TraceField.ROOT_SERVICE else "SpanName"
        roots = [r for r in trace if r["ParentSpanId"] == b""]
        return any(compare(r[column], predicate.value) for r in roots)
    if isinstance(predicate, Or):
        return any(holds(p, row, trace) for p in predicate.items)
    if isinstance(predicate, ChildCount):
        children = sum(r["ParentSpanId"] == row["SpanId"] for r in trace)
        return predicate.op.holds(children, predicate.value)
    if isinstance(predicate, CompareValues):
        left, right = value(predicate.left, row), value(predicate.right, row)
        if left is None or right is None:
            return False
        return {
            Op.EQ: operator.eq,
            Op.NE: operator.ne,
            Op.LT: operator.lt,
            Op.LE: operator.le,
            Op.GT: operator.gt,
            Op.GE: operator.ge,
        }[predicate.op](left, right)
    assert isinstance(predicate, Compare) and predicate.op is Op.EQ
    if isinstance(predicate.left, Column):
        return bool(row[predicate.left.name] == predicate.value)
    assert isinstance(predicate.left, Attribute)
    return dict(row["SpanAttributes"]).get(predicate.left.key) == predicate.value


def group_of(expr: Any, row: dict[str, Any]) -> Any:
    """The value ``by(...)`` puts span ``row`` in a group by (None without a by)."""
    if expr is None:
        return None
    if isinstance(expr, Column):
        return row[expr.name]
    assert isinstance(expr, Attribute) and expr.scope is not None
    maps = {AttributeScope.RECORD: "SpanAttributes", AttributeScope.RESOURCE: "ResourceAttributes"}
    return dict(row[maps[expr.scope]]).get(expr.key)


def value(expr: Any, row: dict[str, Any]) -> Any:
    """A computed value of span ``row``; None where it has none (of the kind asked)."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Column):
        return row[expr.name]
    if isinstance(expr, TypedAttribute):
        assert expr.attribute.scope is AttributeScope.RECORD
        found = typed_attributes(row).get(expr.attribute.key)
        kinds = {ValueKind.NUMBER: (int, float), ValueKind.STRING: str, ValueKind.BOOL: bool}
        if isinstance(found, bool) and expr.kind is not ValueKind.BOOL:
            return None
        return found if isinstance(found, kinds[expr.kind]) else None
    assert isinstance(expr, Arithmetic)
    left, right = value(expr.left, row), value(expr.right, row)
    if left is None or right is None:
        return None
    if expr.op in (ArithmeticOp.DIV, ArithmeticOp.MOD) and right == 0:
        return None
    return {
        ArithmeticOp.ADD: operator.add,
        ArithmeticOp.SUB: operator.sub,
        ArithmeticOp.MUL: operator.mul,
        ArithmeticOp.DIV: operator.truediv,
        ArithmeticOp.POW: operator.pow,
    }[expr.op](float(left), float(right))


def typed_attributes(row: dict[str, Any]) -> dict[str, Any]:
    """The span's own attributes as the Python values they were written from."""
    types = dict(row["SpanAttributeTypes"])
    read = {"i": int, "d": float, "b": lambda text: text == "true"}
    return {k: read.get(types.get(k), str)(v) for k, v in row["SpanAttributes"]}


def in_window(row: dict[str, Any]) -> bool:
    assert WINDOW.start is not None and WINDOW.end is not None
    return WINDOW.start <= row["Timestamp"] < WINDOW.end


def ancestors(span_id: bytes, by_id: dict[bytes, dict[str, Any]]) -> list[bytes]:
    found: list[bytes] = []
    parent = by_id[span_id]["ParentSpanId"]
    while parent in by_id and parent not in found and len(found) < 128:
        found.append(parent)
        parent = by_id[parent]["ParentSpanId"]
    return found


def evaluate(node: Spanset, trace: list[dict[str, Any]]) -> set[bytes]:
    """The span ids of ``trace`` (spans in range only) that ``node`` leaves."""
    by_id = {row["SpanId"]: row for row in trace}
    if isinstance(node, Matching):
        return {row["SpanId"] for row in trace if holds(node.where, row, trace)}
    if isinstance(node, Filtered):
        spans = evaluate(node.source, trace)
        return {s for s in spans if holds(node.where, by_id[s], trace)}
    if isinstance(node, Aggregated):
        groups: dict[Any, set[bytes]] = {}
        for s in evaluate(node.source, trace):
            groups.setdefault(group_of(node.group, by_id[s]), set()).add(s)
        kept: set[bytes] = set()
        for spans in groups.values():
            if node.function == "count":
                total: float | None = len(spans)
            else:
                assert node.field == Column("Duration")
                durations = [by_id[s]["Duration"] for s in spans]
                total = {"avg": statistics.fmean, "max": max, "min": min, "sum": sum}[
                    node.function
                ](durations)
            if node.op.holds(total, node.value):
                kept |= spans
        return kept
    left, right = evaluate(node.left, trace), evaluate(node.right, trace)
    if isinstance(node, EitherOf):
        return left | right
    if isinstance(node, BothOf):
        return left | right if left and right else set()
    assert isinstance(node, Related)

    def related(lower: bytes, upper: bytes) -> bool:
        """Whether right span ``lower`` relates to left span ``upper``."""
        r, l_ = by_id[lower], by_id[upper]
        match node.relation:
            case Relation.CHILD:
                return bool(r["ParentSpanId"] == upper)
            case Relation.PARENT:
                return bool(l_["ParentSpanId"] == lower)
            case Relation.SIBLING:
                return bool(
                    r["ParentSpanId"] == l_["ParentSpanId"]
                    and r["ParentSpanId"] != b""
                    and lower != upper
                )
            case Relation.DESCENDANT:
                return upper in ancestors(lower, by_id)
            case Relation.ANCESTOR:
                return lower in ancestors(upper, by_id)

    kept = {r for r in right if any(related(r, l_) for l_ in left)}
    if node.negated:
        return right - kept
    if node.both:
        return kept | {l_ for l_ in left if any(related(r, l_) for r in right)}
    return kept


def expected(plan: SpansetSearch) -> list[tuple[bytes, int, list[bytes]]]:
    traces: dict[bytes, list[dict[str, Any]]] = {}
    for row in SPANS:
        traces.setdefault(row["TraceId"], []).append(row)
    found = []
    for trace_id, rows in traces.items():
        matched = evaluate(plan.spanset, [r for r in rows if in_window(r)])
        if matched:
            start = min(r["Timestamp"] for r in rows)
            shown = sorted((r["Timestamp"], r["SpanId"]) for r in rows if r["SpanId"] in matched)
            found.append((start, trace_id, len(matched), [s for _, s in shown]))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [
        (trace_id, count, shown[: plan.spans_per_set])
        for _, trace_id, count, shown in found[: plan.limit]
    ]


# --- the engine ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def run(request: pytest.FixtureRequest) -> Iterator[Callable[[Plan], list[dict[str, Any]]]]:
    table = rows_table(TRACES, SPANS)
    if request.param == "duckdb":
        db = duckdb.connect()
        db.execute(DuckDBDialect().create_table(table_name(TRACES), stored_schema(TRACES)))
        data = to_stored(table)  # noqa: F841 - read by DuckDB's scan
        db.execute(f'INSERT INTO "{table_name(TRACES)}" SELECT * FROM data')

        def run_duckdb(plan: Plan) -> list[dict[str, Any]]:
            statement = compile_plan(plan, DuckDBDialect())
            result = db.sql(statement.sql, params=list(statement.params)).to_arrow_table()
            return from_stored(result).to_pylist()  # type: ignore[no-any-return]

        yield run_duckdb
        db.close()
        return
    with store("chdb") as opened:
        opened.write(WriteBatch(tables={table_name(TRACES): table}))

        def run_chdb(plan: Plan, storage: Storage = opened) -> list[dict[str, Any]]:
            statement = compile_plan(plan, storage.dialect)
            return storage.query(statement.sql, statement.params, types=statement.types).to_pylist()

        yield run_chdb


def answered(rows: list[dict[str, Any]]) -> list[tuple[bytes, int, list[bytes]]]:
    found: dict[bytes, tuple[int, list[bytes]]] = {}
    for row in rows:
        _, shown = found.setdefault(row["trace_id"], (row["matched"], []))
        shown.append(row["span_id"])
    return [(trace_id, matched, shown) for trace_id, (matched, shown) in found.items()]


SERVER = Compare(Column("SpanKind"), Op.EQ, 2)
CLIENT = Compare(Column("SpanKind"), Op.EQ, 3)
POSTGRES = Compare(Attribute("db.system"), Op.EQ, "postgresql")
ERROR = Compare(Column("StatusCode"), Op.EQ, 2)
CART = Compare(Column("ServiceName"), Op.EQ, "cart")


def traceql(text: str) -> Spanset:
    """The span set of a TraceQL search, as otelite's translation plans it."""
    return search_plan(text, time=WINDOW, limit=1, spans_per_set=1).spanset


SPANSETS: dict[str, Spanset] = {
    "{ }": Matching(),
    "{ server }": Matching(SERVER),
    "{ server && error }": Matching(And((SERVER, ERROR))),
    "{ server } && { postgres }": BothOf(Matching(SERVER), Matching(POSTGRES)),
    "{ error } || { postgres }": EitherOf(Matching(ERROR), Matching(POSTGRES)),
    **{
        f"{{ server }} {prefix}{relation.value} {{ postgres }}": Related(
            relation,
            Matching(SERVER),
            Matching(POSTGRES),
            both=prefix == "&",
            negated=prefix == "!",
        )
        for relation in Relation
        for prefix in ("", "&", "!")
    },
    "{ cart } >> { } ~ { error }": Related(
        Relation.SIBLING, Related(Relation.DESCENDANT, Matching(CART), Matching()), Matching(ERROR)
    ),
    "{ server } | count() > 1": Aggregated(Matching(SERVER), "count", Op.GT, 1),
    "{ } | avg(duration) > 150ms": Aggregated(
        Matching(), "avg", Op.GT, 150 * MS, Column("Duration")
    ),
    "({ server } > { client }) | max(duration) <= 250ms": Aggregated(
        Related(Relation.CHILD, Matching(SERVER), Matching(CLIENT)),
        "max",
        Op.LE,
        250 * MS,
        Column("Duration"),
    ),
    "{ error } | count() = 1 && { server }": BothOf(
        Aggregated(Matching(ERROR), "count", Op.EQ, 1), Matching(SERVER)
    ),
    "{ event:name = exception }": Matching(
        NestedCompare(Nested.EVENTS, "name", None, Op.EQ, "exception")
    ),
    "{ event.exception.type = Timeout && event:name = retry }": Matching(
        And(
            (
                NestedCompare(Nested.EVENTS, None, "exception.type", Op.EQ, "Timeout"),
                NestedCompare(Nested.EVENTS, "name", None, Op.EQ, "retry"),
            )
        )
    ),
    "{ event.attempt > 0 } > { not event.attempt != nil }": Related(
        Relation.CHILD,
        Matching(NestedCompare(Nested.EVENTS, None, "attempt", Op.GT, 0)),
        Matching(Not(NestedCompare(Nested.EVENTS, None, "attempt"))),
    ),
    "{ link:traceID = 3 && link.link.why = follows }": Matching(
        And(
            (
                NestedCompare(Nested.LINKS, "trace_id", None, Op.EQ, (3).to_bytes(16, "big")),
                NestedCompare(Nested.LINKS, None, "link.why", Op.EQ, "follows"),
            )
        )
    ),
    "{ event:timeSinceStart > 10ms }": Matching(
        NestedCompare(Nested.EVENTS, "time_since_start", None, Op.GT, 10 * MS)
    ),
    "{ link:spanID = 7 } > { }": Related(
        Relation.CHILD,
        Matching(NestedCompare(Nested.LINKS, "span_id", None, Op.EQ, (7).to_bytes(8, "big"))),
        Matching(),
    ),
    "{ trace:rootService = cart && server }": Matching(
        And((TraceCompare(TraceField.ROOT_SERVICE, Op.EQ, "cart"), SERVER))
    ),
    "{ trace:rootName != work } >> { error }": Related(
        Relation.DESCENDANT,
        Matching(TraceCompare(TraceField.ROOT_NAME, Op.NE, "work")),
        Matching(ERROR),
    ),
    "{ trace:duration > 400ms && postgres }": Matching(
        And((TraceCompare(TraceField.DURATION, Op.GT, 400 * MS), POSTGRES))
    ),
    "({ server } > { client }) && { not error }": BothOf(
        Related(Relation.CHILD, Matching(SERVER), Matching(CLIENT)), Matching(Not(ERROR))
    ),
    **{
        text: traceql(text)
        for text in (
            "{ span:childCount = 0 && kind = server }",
            "{ span:childCount >= 2 }",
            "{ span:childCount != 1 } > { }",
            "{ duration * 2 > 300ms }",
            "{ duration - 100ms >= 20ms * 3 && span:childCount < 2 }",
            "{ span.size > span.limit }",
            "{ span.size + 1 >= span.limit * 2 / 3 }",
            "{ span.size ^ 2 < duration / 1ms }",
            "{ span.label = name }",
            "{ span.label != name }",
            "{ span.limit = span.size }",
            "{ span.limit >= span.label }",
            "{ -span.size > -10 }",
            "count() > 8",
            "{ } | by(resource.service.name) | count() > 2",
            "{ kind = server } | by(span.db.system) | count() > 1",
            "{ } | by(name) | avg(duration) > 150ms | { status = error }",
            "{ } | by(name) | max(duration) < 200ms | coalesce() | count() > 3",
            "{ } | count() > 4 | { status = error }",
            "({ } | by(kind) | count() = 1) >> { }",
        )
    },
}


@pytest.mark.parametrize("name", list(SPANSETS))
def test_span_sets_match_the_direct_evaluation(
    run: Callable[[Plan], list[dict[str, Any]]], name: str
) -> None:
    plan = SpansetSearch(SPANSETS[name], time=WINDOW, limit=15, spans_per_set=3)
    want = expected(plan)
    assert want or name.startswith("{ server } !"), "a query that matches nothing tests little"
    assert answered(run(plan)) == want


def test_the_summary_covers_each_traces_spans_in_range(
    run: Callable[[Plan], list[dict[str, Any]]],
) -> None:
    [row, *_] = run(SpansetSearch(Matching(POSTGRES), time=WINDOW, limit=1))
    spans = [s for s in SPANS if s["TraceId"] == row["trace_id"] and in_window(s)]
    assert row["start_ns"] == min(s["Timestamp"] for s in spans)
    assert row["end_ns"] == max(s["Timestamp"] + s["Duration"] for s in spans)
    assert row["span_count"] == len(spans)
    assert row["error_count"] == sum(s["StatusCode"] == 2 for s in spans)
    roots = [s for s in spans if s["ParentSpanId"] == b""]
    first = min(roots or spans, key=lambda s: s["Timestamp"])
    assert (row["root_service"], row["root_name"]) == (first["ServiceName"], first["SpanName"])
