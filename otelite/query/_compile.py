"""Plans → SQL for a dialect, with every value (attribute keys included) a bound parameter.

Identifiers come only from the table's schema and from output names checked against a
plain-identifier pattern; everything a user typed travels as a parameter. Functions come
from the dialect's ``FUNCTIONS`` table, so a backend that spells one differently overrides
the entry, and this module never asks which backend it compiles for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from otelite.errors import InvalidRequest
from otelite.query._plan import (
    And,
    Arithmetic,
    ArithmeticOp,
    Attribute,
    AttributeScope,
    Call,
    ChildCount,
    Column,
    Compare,
    CompareValues,
    Contains,
    Count,
    Exists,
    Expr,
    HasSpan,
    InSpanset,
    Literal,
    Matches,
    NestedCompare,
    Not,
    OneOf,
    Op,
    Or,
    Plan,
    Predicate,
    Select,
    ServiceEdges,
    ServiceGraph,
    SpanComparison,
    SpansetSearch,
    Table,
    TimeRange,
    TraceCompare,
    TraceField,
    TraceSearch,
    TypedAttribute,
    Value,
    ValueKind,
    spansets,
)
from otelite.query.dialects import Dialect
from otelite.storage import (
    BOOL_CODE,
    DOUBLE_CODE,
    INT_CODE,
    any_value_to_text,
    types_column_name,
)

__all__ = [
    "SqlCompiler",
    "Statement",
    "TraceSearchCompiler",
    "compile_plan",
    "where_clause",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ORDERING = (Op.LT, Op.LE, Op.GT, Op.GE)
_EQUALITY = (Op.EQ, Op.NE)
_SCOPE_COLUMNS = {
    AttributeScope.RESOURCE: "ResourceAttributes",
    AttributeScope.SCOPE: "ScopeAttributes",
}
# An unscoped attribute (TraceQL's ``.key``) is the record's, else the resource's.
_UNSCOPED = (AttributeScope.RECORD, AttributeScope.RESOURCE)


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text and the parameters its placeholders number, in order."""

    sql: str
    params: tuple[object, ...]
    types: Mapping[str, pa.DataType] = field(default_factory=dict)
    """The Arrow type of each output that reads a column as it is, by output name: what
    a backend that stores the column in another form must give back (``Storage.query``)."""


def compile_plan(plan: Plan, dialect: Dialect) -> Statement:
    """Compile a plan to one statement for ``dialect``.

    Raises ``InvalidRequest`` for a plan that cannot run: an unknown column, a literal of
    the wrong type for its column, an operator a type does not support.
    """
    if isinstance(plan, TraceSearch):
        return TraceSearchCompiler(dialect).compile(plan)
    if isinstance(plan, ServiceEdges | ServiceGraph):
        # Imported here: those compilers build on this module's.
        from otelite.query._service_graph import compile_service_edges, compile_service_graph

        if isinstance(plan, ServiceEdges):
            return compile_service_edges(plan, dialect)
        return compile_service_graph(plan, dialect)
    if isinstance(plan, SpansetSearch):
        from otelite.query._spansets import compile_spanset_search

        return compile_spanset_search(plan, dialect)
    if isinstance(plan, Count):
        return _count(plan, dialect)
    if isinstance(plan, SpanComparison):
        from otelite.query._span_comparison import compile_span_comparison

        return compile_span_comparison(plan, dialect)
    compiler = SqlCompiler(dialect, plan.table)
    sql = compiler.select(plan)
    types = {
        output.name: plan.table.schema.field(output.expr.name).type
        for output in plan.outputs
        if isinstance(output.expr, Column)
    }
    return Statement(sql, tuple(compiler.params), types)


class SqlCompiler:
    """A plan's SQL in one dialect, its values gathered as bound parameters."""

    def __init__(self, dialect: Dialect, table: Table) -> None:
        self.dialect = dialect
        self.table = table
        self.params: list[object] = []
        self._indexes: dict[tuple[type, object], int] = {}
        self.window = TimeRange()
        """The plan's time range, which conditions on whole traces read within."""

    # --- statements ---

    def select(self, plan: Select) -> str:
        self.window = plan.time
        names = [output.name for output in plan.outputs]
        if not names:
            raise InvalidRequest("a query must return at least one column")
        outputs = []
        for output in plan.outputs:
            self._check_name(output.name, output.expr)
            outputs.append(f"{self.expr(output.expr)} AS {self.dialect.quote(output.name)}")
        table = self.dialect.quote(self.table.value)
        conditions = [*self.time(plan.time), *([self.predicate(plan.where)] if plan.where else [])]
        source = table + where_clause(conditions)
        if plan.one_row_per:
            per = ", ".join(self.dialect.quote(self.stored(c)) for c in plan.one_row_per)
            # The rows kept read as the table's, under its name.
            source = f"({self.dialect.call('one_row_per', '*', per, source)}) AS {table}"
        sql = f"SELECT {', '.join(outputs)} FROM {source}"
        for name in (*plan.group_by, *(o.name for o in plan.order_by)):
            if name not in names:
                raise InvalidRequest(f"{name!r} is not an output of the query")
        if plan.group_by:
            sql += " GROUP BY " + ", ".join(self.dialect.quote(n) for n in plan.group_by)
        if plan.order_by:
            keys = (
                self.dialect.quote(o.name) + (" DESC" if o.descending else " ASC")
                for o in plan.order_by
            )
            sql += " ORDER BY " + ", ".join(keys)
        if plan.limit is not None:
            sql += " LIMIT " + self.param(plan.limit)
        return sql

    def time(self, time: TimeRange) -> list[str]:
        column = self.dialect.quote(self.table.time_column)
        conditions = []
        if time.start is not None:
            conditions.append(f"{column} >= {self.timestamp(time.start)}")
        if time.end is not None:
            conditions.append(f"{column} < {self.timestamp(time.end)}")
        return conditions

    # --- expressions ---

    def param(self, value: object) -> str:
        """A placeholder for ``value``; equal values share one parameter."""
        key = (type(value), value)
        index = self._indexes.get(key)
        if index is None:
            self.params.append(self.dialect.bind(value))
            index = self._indexes[key] = len(self.params)
        return self.dialect.placeholder(index, value)

    def timestamp(self, ns: int) -> str:
        return self.dialect.call("ns_to_timestamp", self.param(ns))

    def column(self, name: str) -> str:
        """A column's logical value (as the table's schema types it)."""
        return self.dialect.read(self.stored(name))

    def stored(self, name: str) -> str:
        """A column as the backend stores it: for grouping, ordering and equality tests."""
        if name not in self.table.schema.names:
            raise InvalidRequest(f"{self.table.value} has no column {name!r}")
        return name

    def equals(self, name: str, value: Value, op: Op = Op.EQ) -> str:
        """``column op value`` (``=``, ``!=``), on the stored form where the backend has one."""
        encoded = self.dialect.encode(self.stored(name), self.param(value))
        if encoded is None:
            return f"{self.column(name)} {op.value} {self.param(value)}"
        return f"{self.dialect.quote(name)} {op.value} {encoded}"

    def expr(self, expr: Expr) -> str:
        if isinstance(expr, Column):
            return self.column(expr.name)
        if isinstance(expr, Literal):
            return self.param(expr.value)
        if isinstance(expr, Attribute):
            key = self.param(expr.key)
            values = [self.dialect.call("map_get", self.column(m), key) for m in self.maps(expr)]
            return values[0] if len(values) == 1 else self.dialect.call("coalesce", *values)
        if isinstance(expr, Call):
            if expr.function not in self.dialect.FUNCTIONS:
                raise InvalidRequest(f"unknown function {expr.function!r}")
            return self.dialect.call(expr.function, *(self.expr(a) for a in expr.args))
        if isinstance(expr, TypedAttribute):
            return self.typed_value(expr)
        if isinstance(expr, Arithmetic):
            call = self.dialect.call
            left, right = (call("as_double", self.expr(e)) for e in (expr.left, expr.right))
            if expr.op is ArithmeticOp.POW:
                return call("power", left, right)
            return f"({left} {expr.op.value} {right})"
        return self.predicate(expr)

    def typed_value(self, value: TypedAttribute) -> str:
        """The attribute where it has the kind asked for, from the first map that has it
        so; NULL elsewhere."""
        key = self.param(value.attribute.key)
        call = self.dialect.call
        found = []
        for values_map in self.maps(value.attribute):
            text = call("map_get", self.column(values_map), key)
            code = call("map_get", self.column(types_column_name(values_map)), key)
            if value.kind is ValueKind.NUMBER:
                is_kind = f"({code} = {self.param(INT_CODE)} OR {code} = {self.param(DOUBLE_CODE)})"
                text = call("to_double", text)
            elif value.kind is ValueKind.BOOL:
                is_kind = f"{code} = {self.param(BOOL_CODE)}"
            else:
                is_kind = f"{code} IS NULL"  # strings carry no type code
            found.append(f"CASE WHEN {is_kind} THEN {text} END")
        return found[0] if len(found) == 1 else call("coalesce", *found)

    def maps(self, attribute: Attribute) -> list[str]:
        """The value map columns an attribute is looked up in, in order of precedence."""
        scopes = _UNSCOPED if attribute.scope is None else (attribute.scope,)
        return [
            self.table.record_attributes() if s is AttributeScope.RECORD else _SCOPE_COLUMNS[s]
            for s in scopes
        ]

    # --- predicates ---

    def predicate(self, predicate: Predicate) -> str:
        if isinstance(predicate, And):
            return _join(" AND ", [self.predicate(p) for p in predicate.items], "TRUE")
        if isinstance(predicate, Or):
            return _join(" OR ", [self.predicate(p) for p in predicate.items], "FALSE")
        if isinstance(predicate, Not):
            return f"(NOT {self.predicate(predicate.item)})"
        if isinstance(predicate, Compare):
            if isinstance(predicate.left, Attribute):
                return self.compare_attribute(
                    predicate.left, predicate.op, predicate.value, typed=predicate.typed
                )
            return self.compare(predicate.left, predicate.op, predicate.value)
        if isinstance(predicate, OneOf):
            return self.one_of(predicate)
        if isinstance(predicate, CompareValues):
            left, right = self.expr(predicate.left), self.expr(predicate.right)
            return self.binary(left, predicate.op, right)
        if isinstance(predicate, ChildCount):
            return self.child_count(predicate)
        if isinstance(predicate, Contains):
            function = "contains" if predicate.case_sensitive else "contains_ci"
            return self.dialect.call(
                function, self.expr(predicate.operand), self.param(predicate.text)
            )
        if isinstance(predicate, Matches):
            return self.dialect.call(
                "regex_search", self.expr(predicate.operand), self.param(predicate.pattern)
            )
        if isinstance(predicate, TraceCompare):
            return self.trace_compare(predicate)
        if isinstance(predicate, NestedCompare):
            return self.nested_compare(predicate)
        if isinstance(predicate, InSpanset):
            # Imported here: that compiler builds on this module's.
            from otelite.query._spansets import spanset_subquery

            q = self.dialect.quote
            ids = spanset_subquery(self, predicate.spanset, self.window)
            return f"({q('TraceId')}, {q('SpanId')}) IN {ids}"
        if isinstance(predicate, Exists):
            key = self.param(predicate.attribute.key)
            maps = self.maps(predicate.attribute)
            tests = [self.dialect.call("map_contains", self.column(m), key) for m in maps]
            return _join(" OR ", tests, "FALSE")
        raise InvalidRequest("a span set ({...}) is only valid as a condition on traces")

    def nested_compare(self, predicate: NestedCompare) -> str:
        """Some event or link of the span meets ``predicate``: the dialect's loop over the
        list (``any_event_name``, ``any_link_attribute``...) around a condition on one item
        (``event_name``, ``link_attribute``...)."""
        call, value, prefix = self.dialect.call, predicate.value, predicate.nested.value
        if predicate.field is not None:
            item = call(f"{prefix}_{predicate.field}")
            if value is None or isinstance(value, bool):
                raise InvalidRequest(
                    f"{prefix} {predicate.field} cannot be compared with {value!r}"
                )
            condition = self.binary(item, predicate.op, self.param(value))
            return call(f"any_{prefix}_{predicate.field}", condition)
        assert predicate.key is not None
        key = self.param(predicate.key)
        if value is None:
            return call(f"any_{prefix}_attribute", call(f"{prefix}_has_attribute", key))
        text = call(f"{prefix}_attribute", key)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, str):
            condition = self.binary(text, predicate.op, self.param(value))
        elif isinstance(value, int | float):
            condition = self.binary(call("to_double", text), predicate.op, self.param(value))
        else:
            raise InvalidRequest(f"a {prefix} attribute cannot be compared with {value!r:.40}")
        return call(f"any_{prefix}_attribute", condition)

    def child_count(self, predicate: ChildCount) -> str:
        """Whether the span has ``op value`` children: a semi-join on the spans that are
        parents (by their children in range), or an anti-join when a span without
        children would qualify."""
        q, call = self.dialect.quote, self.dialect.call
        trace_id, parent_id = q("TraceId"), q("ParentSpanId")
        childless = predicate.op.holds(0, predicate.value)
        having = self.binary(call("count"), predicate.op, self.param(predicate.value))
        parents = (
            f"SELECT {trace_id}, {parent_id} FROM {q(self.table.value)}"
            + where_clause(self.time(self.window))
            + f" GROUP BY {trace_id}, {parent_id} HAVING "
            + (f"NOT ({having})" if childless else having)
        )
        ids = f"({trace_id}, {q('SpanId')})"
        return f"{ids} NOT IN ({parents})" if childless else f"{ids} IN ({parents})"

    def trace_compare(self, predicate: TraceCompare) -> str:
        """The span's trace meets ``predicate``: a semi-join on the trace id, reading the
        spans of the plan's time range."""
        q, call = self.dialect.quote, self.dialect.call
        trace_id, value = q("TraceId"), predicate.value
        conditions = self.time(self.window)
        if predicate.field is TraceField.DURATION:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidRequest(f"a trace's duration compares with ns, not {value!r:.40}")
            start = call("timestamp_to_ns", q("Timestamp"))
            length = f"max({start} + {q('Duration')}) - min({start})"
            having = self.binary(length, predicate.op, self.param(value))
            traces = (
                f"SELECT {trace_id} FROM {q(self.table.value)}{where_clause(conditions)}"
                f" GROUP BY {trace_id} HAVING {having}"
            )
        else:
            if not isinstance(value, str):
                raise InvalidRequest(
                    f"a trace's root {predicate.field.value} is text, not {value!r:.40}"
                )
            column = "ServiceName" if predicate.field is TraceField.ROOT_SERVICE else "SpanName"
            conditions.append(self.equals("ParentSpanId", b""))
            conditions.append(self.binary(q(column), predicate.op, self.param(value)))
            traces = f"SELECT {trace_id} FROM {q(self.table.value)} WHERE " + " AND ".join(
                conditions
            )
        return f"{trace_id} IN ({traces})"

    def compare(self, left: Column | Call, op: Op, value: Value) -> str:
        sql = self.expr(left)
        if isinstance(left, Column):
            data_type = self.table.schema.field(left.name).type
            _check_literal(left.name, data_type, op, value)
            if pa.types.is_timestamp(data_type):
                assert isinstance(value, int)
                return f"{sql} {op.value} {self.timestamp(value)}"
            if op in _EQUALITY:
                return self.equals(left.name, value, op)
        return self.binary(sql, op, self.param(value))

    def one_of(self, predicate: OneOf) -> str:
        """``column IN (...)``, on the stored form where the backend has one (as ``equals``)."""
        name = self.stored(predicate.column)
        data_type = self.table.schema.field(name).type
        if pa.types.is_timestamp(data_type):
            raise InvalidRequest(f"{name}: a time column cannot be compared with a list")
        if not predicate.values:
            return "FALSE"
        items = []
        for value in predicate.values:
            _check_literal(name, data_type, Op.EQ, value)
            items.append(self.param(value))
        encoded = [e for e in (self.dialect.encode(name, item) for item in items) if e is not None]
        if len(encoded) == len(items):
            return f"{self.dialect.quote(name)} IN ({', '.join(encoded)})"
        return f"{self.column(name)} IN ({', '.join(items)})"

    def binary(self, left: str, op: Op, right: str) -> str:
        if op is Op.MATCH:
            return self.dialect.call("regex_full", left, right)
        if op is Op.NOT_MATCH:
            return f"(NOT {self.dialect.call('regex_full', left, right)})"
        return f"{left} {op.value} {right}"

    def compare_attribute(
        self, attribute: Attribute, op: Op, value: Value, *, typed: bool = False
    ) -> str:
        key = self.param(attribute.key)
        tests = []
        for values_map in self.maps(attribute):
            text = self.dialect.call("map_get", self.column(values_map), key)
            types_map = self.column(types_column_name(values_map))
            code = self.dialect.call("map_get", types_map, key)
            tests.append(self.typed_attribute(attribute.key, text, code, op, value, typed))
        return _join(" OR ", tests, "FALSE")

    def typed_attribute(
        self, key: str, text: str, code: str, op: Op, value: Value, typed: bool = False
    ) -> str:
        if isinstance(value, str):
            compared = self.binary(text, op, self.param(value))
            # Strings carry no type code: only they compare with a typed string.
            return f"({code} IS NULL AND {compared})" if typed else compared
        if isinstance(value, bool | bytes):
            if op not in _EQUALITY:
                raise InvalidRequest(f"attribute {key!r}: {op.value} does not apply to {value!r}")
            stored = (
                AnyValue(bool_value=value)
                if isinstance(value, bool)
                else AnyValue(bytes_value=value)
            )
            form, code_value = any_value_to_text(stored)
            return f"({code} = {self.param(code_value)} AND {text} {op.value} {self.param(form)})"
        if op not in (*_EQUALITY, *_ORDERING):
            raise InvalidRequest(f"attribute {key!r}: {op.value} needs a string pattern")
        number = self.param(value)
        as_double = f"{self.dialect.call('to_double', text)} {op.value} {number}"
        if isinstance(value, float):
            codes = f"({code} = {self.param(INT_CODE)} OR {code} = {self.param(DOUBLE_CODE)})"
            return f"({codes} AND {as_double})"
        # Ints compare exactly with ints (no rounding through a double past 2**53).
        as_int = f"{self.dialect.call('to_int', text)} {op.value} {number}"
        return (
            f"(({code} = {self.param(INT_CODE)} AND {as_int})"
            f" OR ({code} = {self.param(DOUBLE_CODE)} AND {as_double}))"
        )

    def _check_name(self, name: str, expr: Expr) -> None:
        if not _IDENTIFIER.fullmatch(name):
            raise InvalidRequest(f"output name {name!r} is not a plain identifier")
        # A name equal to another column would make GROUP BY and ORDER BY ambiguous.
        if name in self.table.schema.names and expr != Column(name):
            raise InvalidRequest(f"output name {name!r} is also a column of {self.table.value}")


class TraceSearchCompiler(SqlCompiler):
    """A trace search's SQL: the traces whose spans satisfy its span sets."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect, Table.SPANS)

    def compile(self, plan: TraceSearch) -> Statement:
        call, q = self.dialect.call, self.dialect.quote
        sets = list(spansets(plan.where))
        if not sets:
            raise InvalidRequest("a trace search needs at least one span set")
        conditions = self.time(plan.time)
        # Prefilter on spans that can decide a match; with a negation any span can.
        if not _has_not(plan.where) and all(s.where is not None for s in sets):
            conditions.append(_join(" OR ", [self.predicate(s.where) for s in sets if s.where], ""))
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        having = ""
        if not (isinstance(plan.where, HasSpan)):
            having = " HAVING " + self.trace_condition(plan.where)
        ts, trace_id = q("Timestamp"), q("TraceId")
        hits = (
            f"SELECT {trace_id}, min({ts}) AS first_hit FROM {q(self.table.value)}{where}"
            f" GROUP BY {trace_id}{having} ORDER BY first_hit DESC LIMIT {self.param(plan.limit)}"
        )
        is_root = self.equals("ParentSpanId", b"")
        is_error = self.equals("StatusCode", Status.STATUS_CODE_ERROR)
        start_ns = call("timestamp_to_ns", ts)

        def root(column: str) -> str:
            return call(
                "coalesce",
                call("arg_min_if", q(column), ts, is_root),
                call("arg_min", q(column), ts),
            )

        sql = (
            f"WITH hits AS ({hits}) SELECT {self.column('TraceId')} AS trace_id,"
            f" min({start_ns}) AS start_ns,"
            f" max({start_ns} + {q('Duration')}) AS end_ns,"
            f" {call('count')} AS span_count,"
            f" {call('count_if', is_error)} AS error_count,"
            f" {root('ServiceName')} AS root_service,"
            f" {root('SpanName')} AS root_name,"
            f" {call('distinct_list', q('ServiceName'))} AS services"
            f" FROM {q(self.table.value)} WHERE {trace_id} IN (SELECT {trace_id} FROM hits)"
            f" GROUP BY {trace_id} ORDER BY start_ns DESC, trace_id ASC"
        )
        return Statement(sql, tuple(self.params), {"trace_id": pa.binary()})

    def trace_condition(self, predicate: Predicate) -> str:
        if isinstance(predicate, HasSpan):
            if predicate.where is None:
                return "TRUE"
            return self.dialect.call("bool_or", self.predicate(predicate.where))
        if isinstance(predicate, And):
            return _join(" AND ", [self.trace_condition(p) for p in predicate.items], "TRUE")
        if isinstance(predicate, Or):
            return _join(" OR ", [self.trace_condition(p) for p in predicate.items], "FALSE")
        if isinstance(predicate, Not):
            return f"(NOT {self.trace_condition(predicate.item)})"
        raise InvalidRequest("a trace condition combines span sets ({...}) with and, or, not")


def _count(plan: Count, dialect: Dialect) -> Statement:
    """The sum of one scalar count per table: one statement, so one consistent snapshot."""
    if not plan.tables:
        raise InvalidRequest("a count needs at least one table")
    compiler = SqlCompiler(dialect, plan.tables[0])
    counts = []
    for table in plan.tables:
        # One compiler for every table, so the bounds are bound once and shared.
        compiler.table = table
        sql = f"SELECT {dialect.call('count')} FROM {dialect.quote(table.value)}"
        conditions = compiler.time(plan.time)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        counts.append(f"({sql})")
    total = " + ".join(counts)
    return Statement(f"SELECT {total} AS {dialect.quote('count')}", tuple(compiler.params))


def _has_not(predicate: Predicate) -> bool:
    if isinstance(predicate, Not):
        return True
    if isinstance(predicate, And | Or):
        return any(_has_not(p) for p in predicate.items)
    return False


def where_clause(conditions: list[str]) -> str:
    """`` WHERE`` and the conditions joined by ``AND``; nothing without conditions."""
    return (" WHERE " + " AND ".join(conditions)) if conditions else ""


def _join(separator: str, parts: list[str], empty: str) -> str:
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else "(" + separator.join(parts) + ")"


def _check_literal(column: str, data_type: pa.DataType, op: Op, value: Value) -> None:
    """Refuse a literal the column cannot be compared with, naming both."""
    if pa.types.is_string(data_type):
        ok = isinstance(value, str)
    elif pa.types.is_binary(data_type):
        ok = isinstance(value, bytes) and op in _EQUALITY
    elif pa.types.is_boolean(data_type):
        ok = isinstance(value, bool) and op in _EQUALITY
    elif pa.types.is_timestamp(data_type) or pa.types.is_integer(data_type):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif pa.types.is_floating(data_type):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = False
    if ok and op in (Op.MATCH, Op.NOT_MATCH):
        ok = pa.types.is_string(data_type)
    if not ok:
        raise InvalidRequest(f"{column} ({data_type}) cannot be compared {op.value} {value!r:.80}")
