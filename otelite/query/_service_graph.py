"""Calls between services → SQL: Jaeger's dependencies (``ServiceCalls``) and Tempo's
service graph (``ServiceGraph``).

The service graph reads the client and server spans of its range once, one row per
span (``SPAN_IDENTITY``), and pairs those rows, so that a span sent twice makes one
request, not two (nor four, when both sides were sent twice).
"""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.errors import InvalidRequest
from otelite.query._compile import Statement, _TraceSearchCompiler, _where
from otelite.query._plan import SPAN_IDENTITY, ServiceCalls, ServiceGraph
from otelite.query.dialects import Dialect

__all__ = ["compile_service_calls", "compile_service_graph"]

_COLUMNS = (
    *SPAN_IDENTITY,
    "ParentSpanId",
    "ServiceName",
    "SpanKind",
    "StatusCode",
    "Duration",
    "Timestamp",
)
_CLIENTS = (Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_PRODUCER)
_SERVERS = (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER)


def compile_service_calls(plan: ServiceCalls, dialect: Dialect) -> Statement:
    """One statement answering ``plan``: a join of each span with its parent."""
    compiler = _TraceSearchCompiler(dialect)
    q, call = dialect.quote, dialect.call
    table = q(compiler.table.value)
    conditions = [
        f"{alias}.{condition}" for alias in ("c", "p") for condition in compiler.time(plan.time)
    ]
    conditions.append(f"p.{q('ServiceName')} != c.{q('ServiceName')}")
    sql = (
        f"SELECT p.{q('ServiceName')} AS parent, c.{q('ServiceName')} AS child,"
        f" {call('count')} AS calls FROM {table} AS c JOIN {table} AS p"
        f" ON p.{q('TraceId')} = c.{q('TraceId')} AND p.{q('SpanId')} = c.{q('ParentSpanId')}"
        f"{_where(conditions)} GROUP BY parent, child ORDER BY parent, child"
    )
    return Statement(sql, tuple(compiler.params))


def compile_service_graph(plan: ServiceGraph, dialect: Dialect) -> Statement:
    """One statement answering ``plan``: a join of each server (or consumer) span with
    its client (or producer) parent, grouped per step."""
    if plan.step_ns <= 0 or plan.unit_ns <= 0:
        raise InvalidRequest("a service graph needs a positive step and unit")
    return _GraphCompiler(dialect).compile(plan)


class _GraphCompiler(_TraceSearchCompiler):
    def compile(self, plan: ServiceGraph) -> Statement:  # type: ignore[override]
        q, call = self.dialect.quote, self.dialect.call
        spans = call(
            "one_row_per",
            ", ".join(q(c) for c in _COLUMNS),
            ", ".join(q(c) for c in SPAN_IDENTITY),
            q(self.table.value)
            + _where([*self.time(plan.time), self._kind("", *_CLIENTS, *_SERVERS)]),
        )
        error = Status.STATUS_CODE_ERROR
        failed = f"(c.{self.equals('StatusCode', error)} OR s.{self.equals('StatusCode', error)})"
        messaging = (
            f"CASE WHEN {self._kind('c', Span.SPAN_KIND_PRODUCER)}"
            f" THEN {self.param('messaging_system')} ELSE {self.param('')} END"
        )
        unit = self.param(plan.unit_ns)

        def bucket(alias: str) -> str:
            return call("pow2_ceiling", f"({alias}.{q('Duration')} / {unit})")

        start = f"s.{q('Timestamp')}"
        sql = (
            f"WITH {self.dialect.cte('spans', spans)}"
            f" SELECT {call('time_bucket_ns', start, self.param(plan.step_ns))} AS bucket_ns,"
            f" c.{q('ServiceName')} AS client, s.{q('ServiceName')} AS server,"
            f" {messaging} AS connection, {failed} AS failed,"
            f" {bucket('s')} AS server_bucket, {bucket('c')} AS client_bucket,"
            f" {call('count')} AS calls, sum(s.{q('Duration')}) AS server_ns,"
            f" sum(c.{q('Duration')}) AS client_ns"
            " FROM spans AS s JOIN spans AS c"
            f" ON c.{q('TraceId')} = s.{q('TraceId')} AND c.{q('SpanId')} = s.{q('ParentSpanId')}"
            + _where([self._kind("s", *_SERVERS), self._kind("c", *_CLIENTS)])
            + " GROUP BY bucket_ns, client, server, connection, failed, server_bucket,"
            f" client_bucket{self.dialect.CTE_SETTINGS}"
        )
        return Statement(sql, tuple(self.params))

    def _kind(self, alias: str, *kinds: int) -> str:
        """The span (of ``alias``, or the table's) is of one of ``kinds``."""
        prefix = f"{alias}." if alias else ""
        return "(" + " OR ".join(f"{prefix}{self.equals('SpanKind', k)}" for k in kinds) + ")"
