"""Span comparisons (TraceQL's ``compare()``): what sets a selection of spans apart.

Of the spans that meet a condition, those that also meet a second one (inside an optional
window of time) are the selection, the others the baseline. For every attribute of those
spans and some of their columns, each side's spans are counted per value and time step,
in the database: each map, and the columns together, are unfolded into one row per
attribute a span has (one per map key, one per column), those rows are counted in one
grouping for both sides, and only the most frequent values of each attribute survive,
with each attribute's total beside them. The answer is bounded by the number of values
kept per attribute and the number of attributes.

A map is unfolded by pairing its keys with its values by position (``unnest_pair``), in
the engine's own way, rather than looking each key's value up again (a lookup scans the
keys): counting 400k spans took about a quarter of the time on DuckDB and a tenth on
ClickHouse. Each map reads the spans on its own, only its columns: cheaper than carrying
whole spans from one part to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otelite.query._compile import SqlCompiler, Statement
from otelite.query._plan import Compared, Op, SpanComparison, Table, TimeRange
from otelite.query.dialects import Dialect
from otelite.storage import any_value_from_text, types_column_name

__all__ = ["compared_value", "compile_span_comparison"]


_MAPS = {
    Compared.SPAN_ATTRIBUTES: "SpanAttributes",
    Compared.RESOURCE_ATTRIBUTES: "ResourceAttributes",
    Compared.SCOPE_ATTRIBUTES: "ScopeAttributes",
}
_COLUMNS = {
    Compared.NAME: "SpanName",
    Compared.STATUS_MESSAGE: "StatusMessage",
    Compared.SCOPE_NAME: "ScopeName",
    Compared.SCOPE_VERSION: "ScopeVersion",
}
_NUMBERS = {Compared.STATUS: "StatusCode", Compared.KIND: "SpanKind"}
_ROOTS = {Compared.ROOT_SERVICE: "root_service", Compared.ROOT_NAME: "root_name"}


def compared_value(row: Mapping[str, Any]) -> str | int | float | bool:
    """A row's ``value`` as the attribute held it: a string, an int, a double or a bool
    (other types as their string form); a column's as it is stored, as text."""
    text, code = row["value"], row["code"] or None
    if code is None:
        return str(text)
    value = any_value_from_text(text, code)
    kind = value.WhichOneof("value")
    if kind in ("int_value", "double_value", "bool_value"):
        found: int | float | bool = getattr(value, kind)
        return found
    return str(text)


def compile_span_comparison(plan: SpanComparison, dialect: Dialect) -> Statement:
    """One statement answering ``plan`` (see :class:`SpanComparison` for its rows)."""
    return _ComparisonCompiler(dialect).compile(plan)


class _ComparisonCompiler(SqlCompiler):
    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect, Table.SPANS)

    def compile(self, plan: SpanComparison) -> Statement:
        counts = (
            "SELECT selected, compared, key, value, code, bucket_ns, "
            f"{self.dialect.call('count')} AS n FROM ({self._unfolded(plan)}) AS unfolded"
            " WHERE value IS NOT NULL"
            " GROUP BY selected, compared, key, value, code, bucket_ns"
        )
        # Each side's values of an attribute, most frequent first (ties by value).
        ranked = (
            "SELECT selected, compared, key, value, code, row_number() OVER ("
            "PARTITION BY selected, compared, key ORDER BY sum(n) DESC, value, code) AS place"
            " FROM counts GROUP BY selected, compared, key, value, code"
        )
        kept = (
            "SELECT compared, key FROM counts GROUP BY compared, key"
            f" ORDER BY sum(n) DESC, compared, key LIMIT {self.param(plan.max_attributes)}"
        )
        attribute_kept = "(compared, key) IN (SELECT compared, key FROM kept)"
        found = (
            "SELECT selected, compared, key, value, code, bucket_ns, n, 0 AS total"
            " FROM counts WHERE (selected, compared, key, value, code) IN ("
            "SELECT selected, compared, key, value, code FROM ranked"
            f" WHERE place <= {self.param(plan.top)}) AND {attribute_kept}"
            " UNION ALL SELECT selected, compared, key, '' AS value, '' AS code, bucket_ns,"
            f" sum(n) AS n, 1 AS total FROM counts WHERE {attribute_kept}"
            " GROUP BY selected, compared, key, bucket_ns"
        )
        if plan.limit is not None:
            found = f"SELECT * FROM ({found}) AS found LIMIT {self.param(plan.limit)}"
        sql = (
            f"WITH {self.dialect.cte('counts', counts)}, ranked AS ({ranked}), kept AS ({kept})"
            f" {found}{self.dialect.CTE_SETTINGS}"
        )
        return Statement(sql, tuple(self.params))

    def _unfolded(self, plan: SpanComparison) -> str:
        """One row per span and attribute it has: ``selected``, ``bucket_ns``,
        ``compared``, ``key``, ``value`` (NULL for a root the trace lacks), ``code``:
        one part per map, and one for the columns."""
        call = self.dialect.call
        parts = []
        for c in plan.compared:
            if not c.is_map:
                continue
            values, types = self.column(_MAPS[c]), self.column(types_column_name(_MAPS[c]))
            spans = self._spans(plan, f"{values} AS m, {types} AS t")
            entries = call(
                "unnest_pair",
                "selected, bucket_ns, t",
                f"({spans}) AS spans",
                call("map_keys", "m"),
                "key",
                call("map_values", "m"),
                "value",
            )
            # A value without a type code is a string.
            code = call("coalesce", call("map_get", "t", "key"), "''")
            parts.append(
                f"SELECT selected, bucket_ns, {c.value} AS compared, key, value, {code} AS code"
                f" FROM ({entries}) AS entries"
            )
        columns = [c for c in plan.compared if not c.is_map]
        if columns:
            # A column is one attribute without a key: one row per span and column.
            outputs = ", ".join(f"{self._column_value(c)} AS c{c.value}" for c in columns)
            spans = self._spans(plan, outputs, roots=any(c in _ROOTS for c in columns))
            numbers = ", ".join(str(c.value) for c in columns)
            items = ", ".join(f"c{c.value}" for c in columns)
            entries = call(
                "unnest_pair",
                "selected, bucket_ns",
                f"({spans}) AS spans",
                f"[{numbers}]",
                "compared",
                f"[{items}]",
                "value",
            )
            parts.append(
                "SELECT selected, bucket_ns, compared, '' AS key, value, '' AS code"
                f" FROM ({entries}) AS entries"
            )
        return " UNION ALL ".join(parts)

    def _column_value(self, compared: Compared) -> str:
        """A compared column's value as text (NULL for a root the trace lacks)."""
        if compared in _COLUMNS:
            return self.column(_COLUMNS[compared])
        if compared in _NUMBERS:
            return self.dialect.call("to_text", self.column(_NUMBERS[compared]))
        return f"CASE WHEN roots.has_root = 1 THEN roots.{_ROOTS[compared]} END"

    def _spans(self, plan: SpanComparison, outputs: str, *, roots: bool = False) -> str:
        """One row per span of the comparison: its side, its step and ``outputs``
        (with its trace's root as ``roots`` when asked)."""
        q, call = self.dialect.quote, self.dialect.call
        self.window = plan.time
        timestamp = q("Timestamp")
        chosen = "TRUE" if plan.selection is None else self.predicate(plan.selection)
        if plan.window is not None:
            after, until = plan.window
            chosen = (
                f"{timestamp} > {self.timestamp(after)}"
                f" AND {timestamp} <= {self.timestamp(until)} AND ({chosen})"
            )
        step = call("time_bucket_ns", self.column("Timestamp"), self.param(plan.step_ns))
        selected = f"CASE WHEN {chosen} THEN 1 ELSE 0 END"
        conditions = self.time(plan.time)
        if plan.where is not None:
            conditions.append(self.predicate(plan.where))
        source = q(self.table.value)
        if roots:
            source += (
                f" LEFT JOIN ({self._roots(plan.time)}) AS roots"
                f" ON roots.root_trace = {q('TraceId')}"
            )
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        return f"SELECT {step} AS bucket_ns, {selected} AS selected, {outputs} FROM {source}{where}"

    def _roots(self, time: TimeRange) -> str:
        """Each trace's root service and name among the spans of ``time``; ``has_root``
        is 1 (a backend fills a missing match with defaults rather than NULL)."""
        q, call = self.dialect.quote, self.dialect.call
        conditions = [*self.time(time), self.equals("ParentSpanId", b"", Op.EQ)]
        earliest = q("Timestamp")
        return (
            f"SELECT {q('TraceId')} AS root_trace,"
            f" {call('arg_min', self.column('ServiceName'), earliest)} AS root_service,"
            f" {call('arg_min', self.column('SpanName'), earliest)} AS root_name,"
            f" 1 AS has_root FROM {q(self.table.value)} WHERE {' AND '.join(conditions)}"
            f" GROUP BY {q('TraceId')}"
        )
