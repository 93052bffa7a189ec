"""Calls between services → SQL: Tempo's service graph (``ServiceGraph``) and the
service map's edges (``ServiceEdges``), which Jaeger's dependencies answer too.

The service graph reads the client and server spans of its range (widened by the pairing
margin) once, one row per span (``SPAN_IDENTITY``), so that a span sent twice makes one
request, not two (nor four, when both sides were sent twice). Each row carries the name
its attributes give the span's peer and, for a database call, the database's. Every
kind of request (a pair, a database call, a message through a queue, a call to or from a
virtual node) is a query over those rows; the requests are then counted per step, edge
and latency bucket (the graph's series), or per edge and per server over the whole range
(the map's edges).
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.errors import InvalidRequest
from otelite.query._compile import Statement, TraceSearchCompiler, where_clause
from otelite.query._plan import (
    SPAN_IDENTITY,
    Attribute,
    AttributeScope,
    ServiceEdges,
    ServiceGraph,
    TimeRange,
)
from otelite.query._red import QUANTILES
from otelite.query.dialects import Dialect

__all__ = ["compile_service_edges", "compile_service_graph"]

# Tempo's defaults, and then ``server.address``: the span's own attributes that name the
# peer of a client span without a server, or of a root server span, first found first.
# The address is how most instrumentations name an uninstrumented peer (an HTTP API of
# another company), and the last resort, after every name a person chose.
_PEER_ATTRIBUTES = ("peer.service", "db.name", "db.system", "db.system.name", "server.address")
# Those that make a client span a database call, and its database's name when no
# attribute of _DATABASE_NAMES (nor the peer's address) names it:
_DATABASE_ATTRIBUTES = ("db.namespace", "db.name", "db.system", "db.system.name")
_DATABASE_NAMES = ("peer.service", "server.address")
_ADDRESS, _PORT = "network.peer.address", "network.peer.port"
_USER = "user"  # the client of a root server span that names no peer

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


def compile_service_graph(plan: ServiceGraph, dialect: Dialect) -> Statement:
    """One statement answering ``plan`` (see ``ServiceGraph`` for its requests)."""
    if plan.step_ns <= 0 or plan.unit_ns <= 0 or plan.pairing_ns < 0:
        raise InvalidRequest("a service graph needs a positive step and unit, pairing_ns >= 0")
    return _GraphCompiler(dialect).compile(plan)


def compile_service_edges(plan: ServiceEdges, dialect: Dialect) -> Statement:
    """One statement answering ``plan``: the graph's requests, totalled per edge and per
    server over the whole range."""
    if plan.pairing_ns < 0:
        raise InvalidRequest("the service map's pairing_ns must be >= 0")
    return _GraphCompiler(dialect).edges(plan)


@dataclass(frozen=True, slots=True)
class _Request:
    """One kind of request, as SQL over the ``spans`` CTE: the span ``timed`` (its
    alias) gives the request's time, and must start in the plan's range."""

    timed: str
    source: str
    conditions: tuple[str, ...]
    client: str
    server: str
    connection: str
    failed: str
    server_duration: str
    client_duration: str
    latency: str
    """The server span's duration; the client's when there is no server span."""
    virtual: str
    """Which end is a virtual node (``client``, ``server``), or ``""``: an instrumented
    service and a virtual node may have one name, so only the request can tell."""


class _GraphCompiler(TraceSearchCompiler):
    def compile(self, plan: ServiceGraph) -> Statement:  # type: ignore[override]
        call = self.dialect.call
        requests = self._all_requests(plan.time, plan.pairing_ns)
        unit = self.param(plan.unit_ns)

        def bucket(duration: str) -> str:
            return call("pow2_ceiling", f"({duration} / {unit})")

        sql = (
            f"WITH {requests}"
            f" SELECT {call('time_bucket_ns', 'started', self.param(plan.step_ns))}"
            " AS bucket_ns, client, server, connection, failed,"
            f" {bucket('server_duration')} AS server_bucket,"
            f" {bucket('client_duration')} AS client_bucket, {call('count')} AS calls,"
            " sum(server_duration) AS server_ns, sum(client_duration) AS client_ns"
            " FROM requests"
            " GROUP BY bucket_ns, client, server, connection, failed, server_bucket,"
            f" client_bucket{self.dialect.CTE_SETTINGS}"
        )
        return Statement(sql, tuple(self.params))

    def edges(self, plan: ServiceEdges) -> Statement:
        call = self.dialect.call
        requests = self._all_requests(plan.time, plan.pairing_ns)
        # Each request twice, once for its edge and once for its server: one pass over
        # the requests gives both totals, each with its own quantiles. The inner names
        # differ from the outer ones so that no engine reads an alias for a column.
        sides = "(SELECT 0 AS per_server UNION ALL SELECT 1 AS per_server) AS sides"
        blank = self.param("")
        doubled = (
            "SELECT per_server,"
            f" CASE WHEN per_server = 0 THEN client ELSE {blank} END AS caller,"
            " server AS callee,"
            f" CASE WHEN per_server = 0 THEN connection ELSE {blank} END AS via,"
            f" CASE WHEN per_server = 0 THEN virtual ELSE {blank} END AS virtual_end,"
            f" failed, latency FROM requests CROSS JOIN {sides}"
        )
        quantiles = ", ".join(
            f"{call('quantile', 'latency', self.param(q / 100))} AS p{q}_ns" for q in QUANTILES
        )
        sql = (
            f"WITH {requests}"
            " SELECT per_server, caller AS client, callee AS server, via AS connection,"
            " virtual_end AS virtual,"
            f" {call('count')} AS request_count, {call('count_if', 'failed')} AS error_count,"
            f" {quantiles}"
            f" FROM ({doubled}) AS doubled"
            " GROUP BY per_server, caller, callee, via,"
            f" virtual_end{self.dialect.CTE_SETTINGS}"
        )
        return Statement(sql, tuple(self.params))

    def _all_requests(self, time: TimeRange, pairing_ns: int) -> str:
        """The CTEs ``spans``, ``linked`` and ``requests`` (one row per request of every
        kind)."""
        requests = " UNION ALL ".join(self._select(r, time) for r in self._requests())
        widened = TimeRange(
            None if time.start is None else time.start - pairing_ns,
            None if time.end is None else time.end + pairing_ns,
        )
        return (
            f"{self.dialect.cte('spans', self._spans(widened))},"
            f" {self.dialect.cte('linked', self._linked(widened))}, requests AS ({requests})"
        )

    def _linked(self, widened: TimeRange) -> str:
        """Each consumer span of the widened range and each producer span of ``spans`` it
        links to (a message it took from a queue in a trace of its own): their ids.

        The consumers' links are read here, from their own one row per span, rather than
        carried through ``spans``: few spans are consumers, and a list in every row of
        ``spans`` made its deduplication several times slower."""
        q = self.dialect.quote
        trace_id, span_id = q("TraceId"), q("SpanId")
        identity = [trace_id, span_id]
        consumers = self.dialect.call(
            "one_row_per",
            ", ".join([*identity, self.dialect.call("link_columns")]),
            ", ".join(identity),
            q(self.table.value)
            + where_clause([*self.time(widened), self._kind("", Span.SPAN_KIND_CONSUMER)]),
        )
        links = self.dialect.call(
            "linked",
            f"s.{trace_id} AS consumer_trace, s.{span_id} AS consumer_span",
            f"({consumers})",
            "TRUE",
        )
        return (
            "SELECT l.consumer_trace, l.consumer_span,"
            f" p.{trace_id} AS producer_trace, p.{span_id} AS producer_span"
            f" FROM ({links}) AS l JOIN spans AS p"
            f" ON p.{trace_id} = l.link_trace AND p.{span_id} = l.link_span"
            f" WHERE {self._kind('p', Span.SPAN_KIND_PRODUCER)}"
        )

    def _spans(self, widened: TimeRange) -> str:
        """The client and server spans of the widened range, one row per span, with
        ``peer`` and ``db`` (NULL when the span is not a database call).

        ``peer`` is only read of client spans and root server spans, ``db`` only of
        client spans: both are NULL for the rest, so as not to look attributes up in
        every span."""
        q = self.dialect.quote
        clients = self._kind("", *_CLIENTS)
        root = f"({self._kind('', *_SERVERS)} AND {self.equals('ParentSpanId', b'')})"
        columns = [
            *(q(c) for c in _COLUMNS),
            f"CASE WHEN {clients} OR {root} THEN {self._peer()} END AS peer",
            f"CASE WHEN {clients} THEN {self._db()} END AS db",
        ]
        return self.dialect.call(
            "one_row_per",
            ", ".join(columns),
            ", ".join(q(c) for c in SPAN_IDENTITY),
            q(self.table.value)
            + where_clause([*self.time(widened), self._kind("", *_CLIENTS, *_SERVERS)]),
        )

    def _requests(self) -> list[_Request]:
        """The kinds of request (see ``ServiceGraph``): a client and its server, a
        database call, a call to a virtual server, a message taken by a consumer linked
        to its producer, a call from a virtual client."""
        q, call = self.dialect.quote, self.dialect.call
        trace_id, span_id, parent_id = q("TraceId"), q("SpanId"), q("ParentSpanId")
        service = q("ServiceName")
        # Durations as doubles: one type in every kind of request, on every backend.
        server_ns, client_ns = (call("as_double", f"{a}.{q('Duration')}") for a in "sc")
        none = call("as_double", self.param(0))
        server, client = self._kind("s", *_SERVERS), self._kind("c", *_CLIENTS)
        messaging = (
            f"CASE WHEN {self._kind('c', Span.SPAN_KIND_PRODUCER)}"
            f" THEN {self.param('messaging_system')} ELSE {self.param('')} END"
        )
        virtual = self.param("virtual_node")
        unanswered = (
            f"(c.{trace_id}, c.{span_id}) NOT IN"
            f" (SELECT s.{trace_id}, s.{parent_id} FROM spans AS s WHERE {server})"
            f" AND (c.{trace_id}, c.{span_id}) NOT IN"
            " (SELECT producer_trace, producer_span FROM linked)"
        )
        message = (
            f"linked AS l JOIN spans AS s"
            f" ON s.{trace_id} = l.consumer_trace AND s.{span_id} = l.consumer_span"
            f" JOIN spans AS c"
            f" ON c.{trace_id} = l.producer_trace AND c.{span_id} = l.producer_span"
        )
        unlinked = (
            f"(s.{trace_id}, s.{span_id}) NOT IN (SELECT consumer_trace, consumer_span FROM linked)"
        )
        pair = (
            f"spans AS c JOIN spans AS s"
            f" ON c.{trace_id} = s.{trace_id} AND c.{span_id} = s.{parent_id}"
        )
        return [
            _Request(
                "s",
                pair,
                (server, client, "c.db IS NULL"),
                f"c.{service}",
                f"s.{service}",
                messaging,
                f"({self._failed('c')} OR {self._failed('s')})",
                server_ns,
                client_ns,
                server_ns,
                self.param(""),
            ),
            _Request(
                "c",
                "spans AS c",
                (client, "c.db IS NOT NULL"),
                f"c.{service}",
                "c.db",
                self.param("database"),
                self._failed("c"),
                client_ns,
                client_ns,
                client_ns,
                self.param("server"),
            ),
            _Request(
                "c",
                "spans AS c",
                (client, "c.db IS NULL", "c.peer IS NOT NULL", unanswered),
                f"c.{service}",
                "c.peer",
                virtual,
                self._failed("c"),
                none,
                client_ns,
                client_ns,
                self.param("server"),
            ),
            _Request(
                "s",
                message,
                (),
                f"c.{service}",
                f"s.{service}",
                self.param("messaging_system"),
                f"({self._failed('c')} OR {self._failed('s')})",
                server_ns,
                client_ns,
                server_ns,
                self.param(""),
            ),
            _Request(
                "s",
                "spans AS s",
                (server, f"s.{self.equals('ParentSpanId', b'')}", unlinked),
                call("coalesce", "s.peer", self.param(_USER)),
                f"s.{service}",
                virtual,
                self._failed("s"),
                server_ns,
                none,
                server_ns,
                self.param("client"),
            ),
        ]

    def _select(self, request: _Request, time: TimeRange) -> str:
        timed = [f"{request.timed}.{condition}" for condition in self.time(time)]
        return (
            f"SELECT {request.timed}.{self.dialect.quote('Timestamp')} AS started,"
            f" {request.client} AS client, {request.server} AS server,"
            f" {request.connection} AS connection, {request.failed} AS failed,"
            f" {request.server_duration} AS server_duration,"
            f" {request.client_duration} AS client_duration, {request.latency} AS latency,"
            f" {request.virtual} AS virtual"
            f" FROM {request.source}{where_clause([*timed, *request.conditions])}"
        )

    def _kind(self, alias: str, *kinds: int) -> str:
        """The span (of ``alias``, or the table's) is of one of ``kinds``."""
        prefix = f"{alias}." if alias else ""
        return "(" + " OR ".join(f"{prefix}{self.equals('SpanKind', k)}" for k in kinds) + ")"

    def _failed(self, alias: str) -> str:
        return f"{alias}.{self.equals('StatusCode', Status.STATUS_CODE_ERROR)}"

    def _first(self, values: list[str]) -> str:
        """The first of ``values`` that is not NULL."""
        first = values[-1]
        for value in reversed(values[:-1]):
            first = self.dialect.call("coalesce", value, first)
        return first

    def _peer(self) -> str:
        """The name the span's own attributes give its peer, or NULL."""
        return self._first(
            [self.expr(Attribute(key, AttributeScope.RECORD)) for key in _PEER_ATTRIBUTES]
        )

    def _db(self) -> str:
        """The name of the database the span calls, or NULL when it calls none."""
        marks = [self.expr(Attribute(key)) for key in _DATABASE_ATTRIBUTES]
        address = self.expr(Attribute(_ADDRESS))
        # NULL when the port is: || gives NULL for a NULL operand on both backends.
        with_port = f"({address} || {self.param(':')} || {self.expr(Attribute(_PORT))})"
        names = [*(self.expr(Attribute(key)) for key in _DATABASE_NAMES), with_port, address]
        return f"CASE WHEN {self._first(marks)} IS NOT NULL THEN {self._first(names + marks)} END"
