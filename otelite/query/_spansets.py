"""Span set searches → SQL: each spanset node a common table expression of span ids.

Every node of a ``SpansetSearch`` becomes one CTE holding ``(TraceId, SpanId,
ParentSpanId)`` of the spans it leaves, in the stored form of the ids (equality is all
the joins need). ``Matching`` reads the spans table; ``BothOf`` and ``EitherOf`` combine
their sides; ``Related`` joins a side's spans with the other's on the parent link, or,
for descendants and ancestors, on a recursive walk up the parent links (bounded in
depth, so that a trace whose links form a cycle cannot loop).

Before any of that, a trace-level prefilter keeps only the traces that can match (each
side that must have spans has some), so the joins see the spans of those traces only.
Their spans are read once, with a flag column per filter, and every filter reads those.
The result is the first ``limit`` traces, newest first, each with its summary over all
its spans and its earliest matched spans, each span shown once however often it was
sent.

Each CTE is read several times; the dialect writes it so that the engine computes it
once (``Dialect.cte``): ClickHouse otherwise runs a CTE again at every reference.
"""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from otelite.errors import InvalidRequest
from otelite.query._compile import SqlCompiler, Statement, TraceSearchCompiler, where_clause
from otelite.query._plan import (
    SPAN_IDENTITY,
    Aggregated,
    And,
    BothOf,
    EitherOf,
    Filtered,
    HasSpan,
    Matching,
    Or,
    Predicate,
    Related,
    Relation,
    Spanset,
    SpansetSearch,
    TimeRange,
)
from otelite.query.dialects import Dialect

__all__ = ["compile_spanset_search", "spanset_subquery"]

_IDS = ("TraceId", "SpanId", "ParentSpanId")
_AGGREGATES = ("count", "avg", "min", "max", "sum")
# Deeper than any trace people make; a cycle in the parent links stops here.
_MAX_DEPTH = 128


def compile_spanset_search(plan: SpansetSearch, dialect: Dialect) -> Statement:
    """One statement answering ``plan`` (see ``SpansetSearch`` for its rows)."""
    return _SpansetCompiler(dialect).compile(plan)


def spanset_subquery(outer: SqlCompiler, spanset: Spanset, time: TimeRange) -> str:
    """A subquery of the ids (TraceId, SpanId) of the spans ``spanset`` leaves over
    ``time``, for a condition of ``outer``'s statement, whose parameters it shares."""
    inner = _SpansetCompiler(outer.dialect)
    inner.params, inner._indexes = outer.params, outer._indexes
    root = inner.spans(spanset, time)
    q = outer.dialect.quote
    # Plain CTEs: materializing them needs a setting of the whole statement.
    ctes = ", ".join(f"{name} AS ({body})" for name, body in inner._ctes)
    return f"(WITH {ctes} SELECT {q('TraceId')}, {q('SpanId')} FROM {root})"


class _SpansetCompiler(TraceSearchCompiler):
    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._ctes: list[tuple[str, str]] = []
        self._in_range: list[str] = []
        self._candidates = True
        self._flags: dict[int, str] = {}  # a filter's flag column in candidate_spans
        # CTEs written plainly: a filter over candidate_spans is cheap to run again, and
        # ClickHouse cannot materialize a CTE that reads a materialized CTE in FROM.
        self._plain: set[str] = set()

    def spans(self, spanset: Spanset, time: TimeRange) -> str:
        """Add the CTEs of ``spanset`` over ``time``; the name of the one holding its
        spans' ids."""
        q = self.dialect.quote
        trace_id = q("TraceId")
        self.window = time
        self._in_range = self.time(time)
        # The traces that can match: every side that must have spans has some in range.
        self._candidates = not isinstance(spanset, Matching)
        if self._candidates:
            leaves = [leaf.where for leaf in _leaves(spanset)]
            conditions = list(self._in_range)
            if all(where is not None for where in leaves):
                conditions.append(
                    "(" + " OR ".join(self.predicate(w) for w in leaves if w is not None) + ")"
                )
            self._add(
                "candidates",
                f"SELECT {trace_id} FROM {q(self.table.value)}{where_clause(conditions)}"
                f" GROUP BY {trace_id} HAVING {self.trace_condition(_prefilter(spanset))}",
            )
            # The candidates' spans, read once, with a flag per filter: every filter and
            # the walk up the parent links read these rather than the table.
            flags = [
                f"{'TRUE' if leaf.where is None else self.predicate(leaf.where)} AS m{n}"
                for n, leaf in enumerate(_leaves(spanset))
            ]
            self._flags = {id(leaf): f"m{n}" for n, leaf in enumerate(_leaves(spanset))}
            self._add(
                "candidate_spans",
                f"SELECT {', '.join(q(c) for c in _IDS)}, {', '.join(flags)}"
                f" FROM {q(self.table.value)}"
                + where_clause(
                    [*self._in_range, f"{trace_id} IN (SELECT {trace_id} FROM candidates)"]
                ),
            )
        # One filter needs no prefilter: its spans are its own candidates.
        return self._spanset(spanset)

    def compile(self, plan: SpansetSearch) -> Statement:  # type: ignore[override]
        if plan.limit < 1 or plan.spans_per_set < 1:
            raise InvalidRequest("a span set search needs limit >= 1 and spans_per_set >= 1")
        q, call = self.dialect.quote, self.dialect.call
        table = q(self.table.value)
        trace_id, ts = q("TraceId"), q("Timestamp")
        root = self.spans(plan.spanset, plan.time)
        self._add("matched", f"SELECT DISTINCT {trace_id}, {q('SpanId')} FROM {root}")
        self._add(
            "hits",
            f"SELECT {trace_id}, {call('count')} AS matched FROM matched GROUP BY {trace_id}",
        )
        is_root = self.equals("ParentSpanId", b"")
        start_ns = call("timestamp_to_ns", ts)

        def root_of(column: str) -> str:
            return call(
                "coalesce",
                call("arg_min_if", q(column), ts, is_root),
                call("arg_min", q(column), ts),
            )

        self._add(
            "chosen",
            f"SELECT {trace_id}, {self.column('TraceId')} AS trace_id,"
            f" min({start_ns}) AS start_ns, max({start_ns} + {q('Duration')}) AS end_ns,"
            f" {root_of('ServiceName')} AS root_service, {root_of('SpanName')} AS root_name,"
            f" {call('count_if', self.equals('StatusCode', Status.STATUS_CODE_ERROR))}"
            f" AS error_count, {call('count')} AS span_count,"
            f" {call('count_if', is_root)} AS roots"
            f" FROM {table}"
            + where_clause([*self._in_range, f"{trace_id} IN (SELECT {trace_id} FROM hits)"])
            + f" GROUP BY {trace_id} ORDER BY start_ns DESC, trace_id ASC"
            f" LIMIT {self.param(plan.limit)}",
        )
        span_id = q("SpanId")
        shown_conditions = [
            *self._in_range,
            f"{trace_id} IN (SELECT {trace_id} FROM chosen)",
            f"({trace_id}, {span_id}) IN (SELECT {trace_id}, {span_id} FROM matched)",
        ]
        grouped = plan.group_by is not None
        partition = f"{trace_id}, grp" if grouped else trace_id
        # Each span once, however often it was sent: copies would take the places of
        # other spans (and count again in a group's matched). Only the values shown are
        # read, so the scan skips the other columns.
        values = (
            f"{trace_id}, {span_id}, {ts}, {self.column('SpanId')} AS span_id,"
            f" {start_ns} AS span_start_ns, {q('Duration')} AS span_duration_ns,"
            f" {q('SpanName')} AS span_name, {q('ServiceName')} AS span_service"
            + "".join(f", {self.expr(e)} AS field{n}" for n, (_, e) in enumerate(plan.fields))
            + (f", {self.expr(plan.group_by[1])} AS grp" if plan.group_by is not None else "")
        )
        identity = ", ".join(q(self.stored(c)) for c in SPAN_IDENTITY)
        spans = call("one_row_per", values, identity, f"{table}{where_clause(shown_conditions)}")
        group_columns = ""
        if grouped:
            group_columns = (
                f" grp, {call('count')} OVER (PARTITION BY {trace_id}, grp) AS grp_matched,"
            )
        self._add(
            "shown",
            f"SELECT {trace_id}, span_id, span_start_ns, span_duration_ns, span_name,"
            " span_service,"
            + "".join(f" field{n}," for n in range(len(plan.fields)))
            + group_columns
            + f" row_number() OVER (PARTITION BY {partition} ORDER BY {ts}, {span_id}) AS place"
            f" FROM ({spans}) AS d",
        )
        outputs = [
            *(f"chosen.{n} AS {n}" for n in ("trace_id", "start_ns", "end_ns")),
            *(f"chosen.{n} AS {n}" for n in ("root_service", "root_name", "error_count")),
            "chosen.span_count AS span_count",
            "chosen.roots AS roots",
            "hits.matched AS matched",
            *(
                f"shown.{n} AS {n}"
                for n in ("span_id", "span_start_ns", "span_duration_ns", "span_name")
            ),
            "shown.span_service AS span_service",
            *(f"shown.field{n} AS field{n}" for n in range(len(plan.fields))),
            *(("shown.grp AS grp", "shown.grp_matched AS grp_matched") if grouped else ()),
        ]
        # Every trace chosen has a matched span in range: the first is always shown.
        sql = (
            f"SELECT {', '.join(outputs)} FROM chosen"
            f" JOIN hits ON hits.{trace_id} = chosen.{trace_id}"
            f" JOIN shown ON shown.{trace_id} = chosen.{trace_id}"
            f" WHERE shown.place <= {self.param(plan.spans_per_set)}"
            " ORDER BY start_ns DESC, trace_id ASC, span_start_ns ASC, span_id ASC"
        )
        ctes = ", ".join(
            f"{name} AS ({body})" if name in self._plain else self.dialect.cte(name, body)
            for name, body in self._ctes
        )
        types = {"trace_id": pa.binary(), "span_id": pa.binary()}
        statement = f"WITH {ctes} {sql}{self.dialect.CTE_SETTINGS}"
        return Statement(statement, tuple(self.params), types)

    # --- span set nodes, each a CTE of (TraceId, SpanId, ParentSpanId) ---

    def _add(self, name: str, body: str) -> str:
        self._ctes.append((name, body))
        return name

    def _name(self) -> str:
        return f"s{len(self._ctes)}"

    def _spanset(self, node: Spanset) -> str:
        q = self.dialect.quote
        ids = ", ".join(q(c) for c in _IDS)
        if isinstance(node, Matching):
            if self._candidates:
                name = self._add(
                    self._name(),
                    f"SELECT {ids} FROM candidate_spans WHERE {self._flags[id(node)]}",
                )
                self._plain.add(name)
                return name
            conditions = list(self._in_range)
            if node.where is not None:
                conditions.append(self.predicate(node.where))
            return self._add(
                self._name(), f"SELECT {ids} FROM {q(self.table.value)}{where_clause(conditions)}"
            )
        if isinstance(node, EitherOf):
            left, right = self._spanset(node.left), self._spanset(node.right)
            return self._add(
                self._name(), f"SELECT {ids} FROM {left} UNION DISTINCT SELECT {ids} FROM {right}"
            )
        if isinstance(node, Aggregated):
            return self._aggregated(node)
        if isinstance(node, Filtered):
            return self._filtered(node)
        if isinstance(node, BothOf):
            left, right = self._spanset(node.left), self._spanset(node.right)
            trace_id = q("TraceId")

            def having(side: str, other: str) -> str:
                return (
                    f"SELECT {ids} FROM {side} WHERE {trace_id} IN (SELECT {trace_id} FROM {other})"
                )

            return self._add(
                self._name(), f"{having(left, right)} UNION DISTINCT {having(right, left)}"
            )
        return self._related(node)

    def _aggregated(self, node: Aggregated) -> str:
        """The source's spans whose trace (or group in it) has the aggregate asked for: a
        window over each trace's (or group's) spans, so no join back is needed."""
        q, call = self.dialect.quote, self.dialect.call
        source = self._spanset(node.source)
        ids = ", ".join(q(c) for c in _IDS)
        if node.function not in _AGGREGATES:
            raise InvalidRequest(f"unknown span set aggregate {node.function!r}")
        if node.function == "count":
            aggregate, extra = call("count"), []
        elif node.field is None:
            raise InvalidRequest(f"{node.function}() needs a field")
        else:
            aggregate, extra = call(node.function, "v"), [f"{self.expr(node.field)} AS v"]
        partition = q("TraceId")
        if node.group is not None:
            extra.append(f"{self.expr(node.group)} AS g")
            partition += ", g"
        spans = source
        if extra:
            # The source's spans with the values they need: their rows of the table.
            spans = self._rows_of(source, ", ".join([ids, *extra]))
        windowed = (
            f"SELECT {ids}, {aggregate} OVER (PARTITION BY {partition}) AS a FROM {spans} AS s"
        )
        kept = f"a {node.op.value} {self.param(node.value)}"
        return self._add(self._name(), f"SELECT {ids} FROM ({windowed}) AS w WHERE {kept}")

    def _filtered(self, node: Filtered) -> str:
        source = self._spanset(node.source)
        ids = ", ".join(self.dialect.quote(c) for c in _IDS)
        kept = self._rows_of(source, ids, self.predicate(node.where))
        return self._add(self._name(), f"SELECT {ids} FROM {kept} AS f")

    def _rows_of(self, source: str, columns: str, where: str | None = None) -> str:
        """A subquery of ``columns`` of the table's rows of the spans of ``source``."""
        q = self.dialect.quote
        trace_id, span_id = q("TraceId"), q("SpanId")
        conditions = [
            *self._in_range,
            f"({trace_id}, {span_id}) IN (SELECT {trace_id}, {span_id} FROM {source})",
        ]
        if where is not None:
            conditions.append(where)
        return f"(SELECT {columns} FROM {q(self.table.value)}{where_clause(conditions)})"

    def _related(self, node: Related) -> str:
        q = self.dialect.quote
        left, right = self._spanset(node.left), self._spanset(node.right)
        trace_id, span_id, parent_id = (q(c) for c in _IDS)

        def columns(alias: str) -> str:
            return ", ".join(f"{alias}.{q(c)} AS {q(c)}" for c in _IDS)

        same_trace = f"l.{trace_id} = r.{trace_id}"
        pair = f"{right} AS r JOIN {left} AS l ON {same_trace}"
        if node.relation is Relation.CHILD:
            joined = f"{pair} AND l.{span_id} = r.{parent_id}"
        elif node.relation is Relation.PARENT:
            joined = f"{pair} AND r.{span_id} = l.{parent_id}"
        elif node.relation is Relation.SIBLING:
            joined = (
                f"{pair} AND l.{parent_id} = r.{parent_id} AND l.{span_id} != r.{span_id}"
                f" AND r.{parent_id} != {self._stored_empty_id()}"
            )
        else:
            # Walk up from the spans whose ancestors matter: the right side's for
            # descendants, the left side's for ancestors.
            if node.relation is Relation.DESCENDANT:
                lower, upper, start = ("r", right), ("l", left), right
            else:
                lower, upper, start = ("l", left), ("r", right), left
            walk = self._walk_up(start)
            joined = (
                f"{lower[1]} AS {lower[0]} JOIN {walk} AS u"
                f" ON u.{trace_id} = {lower[0]}.{trace_id} AND u.{span_id} = {lower[0]}.{span_id}"
                f" JOIN {upper[1]} AS {upper[0]} ON {same_trace} AND u.up = {upper[0]}.{span_id}"
            )
        ids = ", ".join(q(c) for c in _IDS)
        if not node.both:
            kept = self._add(self._name(), f"SELECT DISTINCT {columns('r')} FROM {joined}")
            if not node.negated:
                return kept
            return self._add(
                self._name(), f"SELECT {ids} FROM {right} EXCEPT DISTINCT SELECT {ids} FROM {kept}"
            )
        # Both sides of each related pair, from one join: the pairs are read twice below.
        pairs = self._add(
            self._name(),
            "SELECT "
            + ", ".join(f"{side}.{q(c)} AS {side}_{c}" for side in ("r", "l") for c in _IDS)
            + f" FROM {joined}",
        )

        def side(alias: str) -> str:
            return ", ".join(f"{alias}_{c} AS {q(c)}" for c in _IDS)

        return self._add(
            self._name(),
            f"SELECT {side('r')} FROM {pairs} UNION DISTINCT SELECT {side('l')} FROM {pairs}",
        )

    def _stored_empty_id(self) -> str:
        """The stored form of an empty id (a root span's parent)."""
        empty = self.param(b"")
        return self.dialect.encode("ParentSpanId", empty) or empty

    def _walk_up(self, start: str) -> str:
        """A recursive CTE of (TraceId, SpanId, up, depth): every ancestor ``up`` of each
        span of ``start``, among the candidate traces' spans in range."""
        q = self.dialect.quote
        trace_id, span_id, parent_id = (q(c) for c in _IDS)
        spans = "candidate_spans"
        name = "walk"
        body = (
            f"SELECT {trace_id}, {span_id}, {parent_id} AS up, 1 AS depth FROM {start}"
            f" UNION ALL SELECT w.{trace_id} AS {trace_id}, w.{span_id} AS {span_id},"
            f" p.{parent_id} AS up, w.depth + 1 AS depth"
            f" FROM {name} AS w JOIN {spans} AS p"
            f" ON p.{trace_id} = w.{trace_id} AND p.{span_id} = w.up"
            f" WHERE w.depth < {_MAX_DEPTH}"
        )
        # A subquery of its own: the statement's other CTEs may be materialized, which a
        # recursive WITH does not allow on ClickHouse.
        return f"(WITH RECURSIVE {name} AS ({body}) SELECT * FROM {name})"


def _leaves(node: Spanset) -> list[Matching]:
    if isinstance(node, Matching):
        return [node]
    if isinstance(node, Aggregated | Filtered):
        return _leaves(node.source)
    return [*_leaves(node.left), *_leaves(node.right)]


def _prefilter(node: Spanset) -> Predicate:
    """What a trace needs to have any chance: spans for every side that must have some."""
    if isinstance(node, Matching):
        return HasSpan(node.where)
    if isinstance(node, Aggregated | Filtered):
        return _prefilter(node.source)
    if isinstance(node, EitherOf):
        return Or((_prefilter(node.left), _prefilter(node.right)))
    if isinstance(node, Related) and node.negated:
        return _prefilter(node.right)
    return And((_prefilter(node.left), _prefilter(node.right)))
