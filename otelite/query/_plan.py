"""The query plan: an immutable tree every query language compiles to.

A plan names one table, a time range, a predicate over rows and what to return. The HTTP
filters build plans today; TraceQL, LogQL and PromQL parse to the same nodes later, and
one compiler (``_compile``) turns any plan into SQL for any dialect.

Attributes compare by a fixed rule, chosen so that a filter typed by a person (always text)
and a typed literal from a query language both do the expected thing:

* a ``str`` literal compares with the attribute's string form, whatever its type, so
  ``http.status_code = "200"`` matches the int ``200`` as well as the string ``"200"``;
* an ``int`` or ``float`` literal matches only int and double attributes, numerically;
* a ``bool`` literal matches only bool attributes, a ``bytes`` literal only bytes ones.

A comparison with a missing attribute is never true, not even ``!=``; ``Not`` of it is not
true either (SQL's three-valued logic). Use ``Exists`` to ask about presence.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeAlias

import pyarrow as pa

from otelite.storage import LOGS, METRIC_TABLES, TRACES, table_name

__all__ = [
    "SPAN_IDENTITY",
    "Aggregated",
    "And",
    "Arithmetic",
    "ArithmeticOp",
    "Attribute",
    "AttributeScope",
    "BothOf",
    "Call",
    "ChildCount",
    "Column",
    "Compare",
    "CompareValues",
    "Compared",
    "Contains",
    "Count",
    "EitherOf",
    "Exists",
    "Expr",
    "Filtered",
    "HasSpan",
    "InSpanset",
    "Literal",
    "Matches",
    "Matching",
    "Nested",
    "NestedCompare",
    "Not",
    "OneOf",
    "Op",
    "Or",
    "Order",
    "Output",
    "Plan",
    "Predicate",
    "Related",
    "Relation",
    "Select",
    "ServiceEdges",
    "ServiceGraph",
    "SpanComparison",
    "Spanset",
    "SpansetSearch",
    "Table",
    "TimeRange",
    "TraceCompare",
    "TraceField",
    "TraceSearch",
    "TypedAttribute",
    "Value",
    "ValueKind",
    "all_of",
    "within_traces",
]

Value: TypeAlias = str | int | float | bool | bytes
"""A literal: always sent to the database as a bound parameter."""

SPAN_IDENTITY = ("TraceId", "SpanId")
"""The columns that make a span one span. A client that sends a span again (a retry
after a timeout) stores another row with the same ids; what counts spans reads those
rows as one (``Select.one_row_per``)."""


class Table(enum.Enum):
    """The tables a plan can read; each knows its schema and its time column."""

    SPANS = table_name(TRACES)
    LOGS = table_name(LOGS)
    GAUGE = table_name(METRIC_TABLES["gauge"])
    SUM = table_name(METRIC_TABLES["sum"])
    HISTOGRAM = table_name(METRIC_TABLES["histogram"])
    EXPONENTIAL_HISTOGRAM = table_name(METRIC_TABLES["exponential_histogram"])
    SUMMARY = table_name(METRIC_TABLES["summary"])

    @property
    def schema(self) -> pa.Schema:
        return _SCHEMAS[self]

    @property
    def time_column(self) -> str:
        """The column a plan's time range applies to."""
        return "TimeUnix" if self.metric_type is not None else "Timestamp"

    @property
    def metric_type(self) -> str | None:
        """``gauge``, ``sum``, ... for a metric table; None for spans and logs."""
        return _METRIC_TYPES.get(self)

    @classmethod
    def metrics(cls) -> tuple[Table, ...]:
        """The metric tables, in the order of ``METRIC_TABLES``."""
        return tuple(_METRIC_TYPES)

    def record_attributes(self) -> str:
        """The map column of the span's, log record's or data point's own attributes."""
        if self is Table.SPANS:
            return "SpanAttributes"
        if self is Table.LOGS:
            return "LogAttributes"
        return "Attributes"


_SCHEMAS: dict[Table, pa.Schema] = {
    Table.SPANS: TRACES,
    Table.LOGS: LOGS,
    **{Table(table_name(schema)): schema for schema in METRIC_TABLES.values()},
}
_METRIC_TYPES: dict[Table, str] = {
    Table(table_name(schema)): kind for kind, schema in METRIC_TABLES.items()
}


class AttributeScope(enum.Enum):
    """Which attribute map an ``Attribute`` reads."""

    RECORD = "record"
    """The span's, log record's or data point's own attributes."""
    RESOURCE = "resource"
    SCOPE = "scope"


class Op(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    MATCH = "=~"
    """The whole value matches a regular expression (as PromQL and TraceQL use it)."""
    NOT_MATCH = "!~"

    def holds(self, left: float, right: float) -> bool:
        """Whether ``left op right`` for two numbers (the equality and ordering ops)."""
        if self in (Op.MATCH, Op.NOT_MATCH):
            raise ValueError(f"{self.value} compares text, not numbers")
        return {
            Op.EQ: left == right,
            Op.NE: left != right,
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
        }[self]


# --- Expressions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the plan's table, by its schema name."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute's string form; ``scope=None`` reads the record's, else the resource's."""

    key: str
    scope: AttributeScope | None = None


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value


@dataclass(frozen=True, slots=True)
class Call:
    """A function from the dialect's ``FUNCTIONS`` table, aggregates included."""

    function: str
    args: tuple[Expr, ...] = ()


class ValueKind(enum.Enum):
    NUMBER = "number"
    """An int or a double attribute, read as a double."""
    STRING = "string"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class TypedAttribute:
    """An attribute's value where it is of ``kind``, NULL where it is missing or of another
    kind: a query language's typed value, where ``Attribute`` is the string form."""

    attribute: Attribute
    kind: ValueKind


class ArithmeticOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    POW = "^"


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left op right`` over numbers, computed as doubles."""

    op: ArithmeticOp
    left: Expr
    right: Expr


# --- Predicates ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op value``; see the module docstring for how attributes compare. ``typed``
    makes a ``str`` value match string attributes only (TraceQL's typed comparison),
    where a person's filter text also matches other types by their string form."""

    left: Column | Attribute | Call
    op: Op
    value: Value
    typed: bool = False


@dataclass(frozen=True, slots=True)
class CompareValues:
    """``left op right`` between two computed values (``TypedAttribute``,
    ``Arithmetic``, columns); never true where either is missing."""

    left: Expr
    op: Op
    right: Expr


@dataclass(frozen=True, slots=True)
class OneOf:
    """The column (by its schema name) holds one of ``values``: SQL's ``IN``, which
    engines test as one lookup where an ``Or`` of ``Compare`` tests each value in turn.
    Never true when ``values`` is empty."""

    column: str
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class ChildCount:
    """The number of the span's direct children ``op value``; the children counted are
    those in the plan's time range."""

    op: Op
    value: int | float


@dataclass(frozen=True, slots=True)
class Contains:
    """The text of ``operand`` contains ``text``."""

    operand: Column | Attribute
    text: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Matches:
    """The text of ``operand`` contains a match of ``pattern``, an RE2 regular expression
    (not anchored: ``^`` and ``$`` anchor it)."""

    operand: Column | Attribute
    pattern: str


@dataclass(frozen=True, slots=True)
class Exists:
    attribute: Attribute


class Nested(enum.Enum):
    """The lists a span holds: its events and its links."""

    EVENTS = "event"
    LINKS = "link"


@dataclass(frozen=True, slots=True)
class NestedCompare:
    """Some event (or link) of the span has ``op value``: its own ``field`` (``name`` or
    ``time_since_start``, in ns, of an event; ``trace_id`` or ``span_id``, as bytes, of a
    link), or else the string form
    of its attribute ``key`` (numbers compare numerically, as attributes do). ``value``
    None asks only whether some item has the attribute."""

    nested: Nested
    field: str | None
    key: str | None = None
    op: Op = Op.EQ
    value: Value | None = None

    def __post_init__(self) -> None:
        if (self.field is None) == (self.key is None):
            raise ValueError("compare either an item's own field or one of its attributes")


class TraceField(enum.Enum):
    """A fact of a span's whole trace."""

    ROOT_SERVICE = "root_service"
    """The service of the trace's root span (the span without a parent)."""
    ROOT_NAME = "root_name"
    DURATION = "duration"
    """From the trace's first span start to its last span end, in ns."""


@dataclass(frozen=True, slots=True)
class TraceCompare:
    """``field op value`` about the span's trace (TraceQL's ``trace:rootService`` ...).

    Only spans in the plan's time range count: a trace whose root started before the
    range has no root service there, and its duration is what the range holds of it.
    """

    field: TraceField
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Predicate


@dataclass(frozen=True, slots=True)
class HasSpan:
    """A trace-level condition: some span of the trace satisfies ``where`` (TraceQL ``{}``).

    Only valid in ``TraceSearch.where``, combined with ``And``, ``Or`` and ``Not``.
    """

    where: Predicate | None = None


@dataclass(frozen=True, slots=True)
class InSpanset:
    """The span is one ``spanset`` leaves (over the plan's time range): a structural
    span set as the condition of a plan over single spans, such as TraceQL metrics."""

    spanset: Spanset


Predicate: TypeAlias = (
    Compare
    | OneOf
    | CompareValues
    | ChildCount
    | Contains
    | Matches
    | Exists
    | And
    | Or
    | Not
    | HasSpan
    | TraceCompare
    | NestedCompare
    | InSpanset
)
Expr: TypeAlias = Column | Attribute | TypedAttribute | Literal | Call | Arithmetic | Predicate


def all_of(*predicates: Predicate | None) -> Predicate | None:
    """The conjunction of the given predicates, ignoring ``None``; None when there are none."""
    items = tuple(p for p in predicates if p is not None)
    if not items:
        return None
    return items[0] if len(items) == 1 else And(items)


# --- Plans ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``[start, end)`` in Unix nanoseconds; a missing bound is open."""

    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"time range ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class Output:
    """One result column: ``expr AS name``; ``name`` is a plain identifier."""

    name: str
    expr: Expr


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by a named output."""

    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Select:
    """Rows (or groups) of one table."""

    table: Table
    outputs: tuple[Output, ...]
    where: Predicate | None = None
    time: TimeRange = TimeRange()
    group_by: tuple[str, ...] = ()
    """Names of outputs to group by; the other outputs must then be aggregates."""
    order_by: tuple[Order, ...] = ()
    limit: int | None = None
    one_row_per: tuple[str, ...] = ()
    """Columns whose values make a row: of the rows in ``time`` that meet ``where``, only
    one per value of these is read (``SPAN_IDENTITY``: each span once, however often it
    was sent). Which one of several is not defined, but its columns come from one row."""


@dataclass(frozen=True, slots=True)
class TraceSearch:
    """Traces whose spans satisfy a trace-level condition, newest first, with a summary.

    ``where`` combines ``HasSpan`` leaves; the time range applies to the spans that decide
    a match, while the summary of a matched trace covers all its spans. Each result row
    holds ``trace_id``, ``start_ns``, ``end_ns``, ``span_count``, ``error_count``,
    ``root_service``, ``root_name`` and ``services``. The root is the span without a
    parent, or the earliest span while the root has not arrived.
    """

    where: Predicate
    time: TimeRange = TimeRange()
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Count:
    """How many rows ``tables`` hold together in a time range: one row, one column ``count``.

    Each table's own time column decides which of its rows are in the range.
    """

    tables: tuple[Table, ...]
    time: TimeRange = TimeRange()


# --- Span sets (TraceQL's spanset expressions) ----------------------------------------


class Relation(enum.Enum):
    """How a right-hand span relates to a left-hand one (TraceQL's structural operators)."""

    CHILD = ">"
    """The right span's parent is a left span."""
    DESCENDANT = ">>"
    PARENT = "<"
    """The right span is the parent of a left span."""
    ANCESTOR = "<<"
    SIBLING = "~"
    """The right span has the parent of a left span (and is another span)."""


@dataclass(frozen=True, slots=True)
class Matching:
    """The spans of each trace that satisfy ``where``; every span when None (``{ }``)."""

    where: Predicate | None = None


@dataclass(frozen=True, slots=True)
class BothOf:
    """Both sides' spans, in traces where each side has some (TraceQL ``&&``)."""

    left: Spanset
    right: Spanset


@dataclass(frozen=True, slots=True)
class EitherOf:
    """Either side's spans (TraceQL ``||``)."""

    left: Spanset
    right: Spanset


@dataclass(frozen=True, slots=True)
class Related:
    """The right side's spans that stand in ``relation`` to a left side's span.

    ``both`` also keeps the left spans so related (``&>``, ``&>>``, ...); ``negated`` keeps
    the right spans that have no such left span instead (``!>``, ``!>>``, ...).
    """

    relation: Relation
    left: Spanset
    right: Spanset
    both: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Aggregated:
    """The spans of ``source`` in the traces where ``function`` over those spans compares
    ``op value`` (TraceQL's ``| count() > 2``, ``| avg(duration) > 20ms``).

    ``function`` is ``count`` (no ``field``), or ``avg``, ``min``, ``max``, ``sum`` of
    ``field``; spans where the field is missing take no part in it. With ``group``, each
    trace's spans are split by its value (TraceQL's ``by(...)`` before the aggregate) and
    each group's spans are kept where its own aggregate compares so.
    """

    source: Spanset
    function: str
    op: Op
    value: int | float
    field: Expr | None = None
    group: Expr | None = None


@dataclass(frozen=True, slots=True)
class Filtered:
    """The spans of ``source`` that also satisfy ``where`` (a filter stage after one that
    is not a filter: ``{ } | count() > 2 | { status = error }``)."""

    source: Spanset
    where: Predicate


Spanset: TypeAlias = Matching | BothOf | EitherOf | Related | Aggregated | Filtered


def within_traces(spanset: Spanset, condition: Predicate) -> Spanset:
    """``spanset`` with every span it reads also meeting ``condition``: with a condition
    on whole traces (``TraceCompare``), the span set of the traces that meet it."""
    if isinstance(spanset, Matching):
        return Matching(all_of(spanset.where, condition))
    if isinstance(spanset, Aggregated | Filtered):
        return replace(spanset, source=within_traces(spanset.source, condition))
    return replace(
        spanset,
        left=within_traces(spanset.left, condition),
        right=within_traces(spanset.right, condition),
    )


@dataclass(frozen=True, slots=True)
class SpansetSearch:
    """Traces whose span set is not empty, newest first, with up to ``spans_per_set`` of
    the matched spans (earliest first) and how many there were, both each span once
    however often it was sent (``SPAN_IDENTITY``).

    Spans outside ``time`` take no part: neither matched, nor as a link in a structure,
    nor in a trace's summary (as Tempo's search reads only the blocks of its range), so
    a search never reads the spans of a whole day to answer about an hour. Each row is
    one shown span of one of the first ``limit`` traces (at least one per trace):
    ``trace_id``, ``start_ns``, ``end_ns``, ``root_service``, ``root_name``, ``roots``
    (root spans received), ``span_count``, ``error_count``, ``matched``, ``span_id``,
    ``span_start_ns``, ``span_duration_ns``, ``span_name``, ``span_service``.
    """

    spanset: Spanset
    time: TimeRange = TimeRange()
    limit: int = 20
    spans_per_set: int = 3
    fields: tuple[tuple[str, Expr], ...] = ()
    """More values of each shown span (TraceQL's ``select``): (label, expression), in
    the rows as ``field0``, ``field1``, ..."""
    group_by: tuple[str, Expr] | None = None
    """Split each trace's matched spans by a value (TraceQL's ``by``), given with its
    label: the rows then carry ``grp`` and ``grp_matched``, and ``spans_per_set`` holds
    per group."""


@dataclass(frozen=True, slots=True)
class ServiceGraph:
    """Requests between services, as Tempo's service graph finds them, each span read
    once however often it was sent (``SPAN_IDENTITY``). A request is one of:

    - a client (or producer) span and its server (or consumer) child, from the client's
      service to the server's, at the server span's start (``connection``
      ``messaging_system`` when the client is a producer, else ``""``);
    - a client span of a database call (one with ``db.namespace``, ``db.name``,
      ``db.system`` or ``db.system.name``), to the database, at the client span's start
      (``database``): named by the first of ``peer.service``, ``server.address``,
      ``network.peer.address`` (with ``:`` and ``network.peer.port`` when given) and
      those four that it has; such a span pairs with no server span;
    - a consumer span and a producer span it links to (a message taken from a queue in
      a trace of its own), from the producer's service to the consumer's, at the
      consumer span's start (``messaging_system``);
    - any other client span without a server child (nor a consumer linking to it), when
      its own attributes name its peer (the first of ``peer.service``, ``db.name``,
      ``db.system``, ``db.system.name`` and ``server.address``): to a virtual node of
      that name, at the client span's start (``virtual_node``);
    - a server span without a parent (a trace's root) and not linked to a producer, from
      a virtual node named by its peer the same way, else ``user``, at its start
      (``virtual_node``).

    Tempo pairs neither links nor ``server.address``; both are how today's
    instrumentations show a queue between services and an uninstrumented peer.

    The span a request is timed by starts in ``time``; the other one (the client of a
    pair, the server child a client span lacks) may start up to ``pairing_ns`` either
    side, so that a request counts the same whichever range reads it. Rows per step
    (``bucket_ns``, a multiple of ``step_ns``), ``client``, ``server``, ``connection``,
    ``failed`` (either span is an error), ``server_bucket`` and ``client_bucket`` (the
    power of two at or above each span's duration in units of ``unit_ns``; 0 for the
    missing span of a virtual node): ``calls``, ``server_ns`` and ``client_ns`` (their
    total durations)."""

    time: TimeRange
    step_ns: int
    unit_ns: int
    pairing_ns: int = 60_000_000_000


@dataclass(frozen=True, slots=True)
class ServiceEdges:
    """The requests of ``ServiceGraph`` (same kinds, same pairing) over the whole of
    ``time``, totalled twice: per edge (``per_server`` 0: ``client``, ``server``,
    ``connection`` and ``virtual``, the end that is a virtual node: ``client``,
    ``server`` or ``""``) and per server (``per_server`` 1: ``client``, ``connection``
    and ``virtual`` are ``""``), so that a node called by several others has quantiles
    of its own. Each row:
    ``request_count``, ``error_count`` (requests where either span is an error) and ``p50_ns``,
    ``p95_ns``, ``p99_ns`` of the request's latency: its server span's duration, or its
    client span's when there is no server span (a database, a virtual node)."""

    time: TimeRange
    pairing_ns: int = 60_000_000_000


class Compared(enum.Enum):
    """What a comparison counts the values of: an attribute map, whose every key is an
    attribute of its own, or one column of the span (or of its trace's root)."""

    SPAN_ATTRIBUTES = 0
    RESOURCE_ATTRIBUTES = 1
    SCOPE_ATTRIBUTES = 2
    NAME = 3
    STATUS = 4
    """The OTLP status code (a number)."""
    STATUS_MESSAGE = 5
    KIND = 6
    """The OTLP span kind (a number)."""
    SCOPE_NAME = 7
    SCOPE_VERSION = 8
    ROOT_SERVICE = 9
    """The service of the trace's root span (a span without a parent, the earliest if
    several) among the spans of the range; none while no root is there."""
    ROOT_NAME = 10

    @property
    def is_map(self) -> bool:
        """Whether this is an attribute map, whose every key is compared on its own."""
        return self in (
            Compared.SPAN_ATTRIBUTES,
            Compared.RESOURCE_ATTRIBUTES,
            Compared.SCOPE_ATTRIBUTES,
        )


@dataclass(frozen=True, slots=True)
class SpanComparison:
    """The spans meeting ``where`` in ``time``, split into the selection (``selection``
    holds, and the span starts inside ``window`` when given) and the baseline (the rest).

    Rows: ``selected`` (1 for the selection, 0 for the baseline), ``compared`` (the
    number of a :class:`Compared`), ``key`` (the attribute's key in a map, ``""`` for a
    column), ``value`` and ``code`` (the string form and the storage type code, ``""`` for
    a string; see :func:`compared_value`), ``bucket_ns`` (the step, on a grid of multiples
    of ``step_ns``), ``n`` (how many spans of the side have that value there) and
    ``total`` (0). For each side, attribute and step there is also a row with ``total``
    1, ``value`` and ``code`` ``""``, whose ``n`` counts the side's spans having the
    attribute at all. Only the ``top`` most frequent values of each side's attribute over
    the whole range are given, and only the ``max_attributes`` attributes most spans
    have (ties by their order in ``Compared``, then by key).
    """

    where: Predicate | None
    selection: Predicate | None
    time: TimeRange
    step_ns: int
    top: int
    max_attributes: int
    window: tuple[int, int] | None = None
    """``(start, end]`` in Unix ns: a span selected must start after ``start`` and at
    or before ``end``."""
    compared: tuple[Compared, ...] = tuple(Compared)
    limit: int | None = None
    """At most this many rows, when given (which rows is not defined)."""

    def __post_init__(self) -> None:
        if self.step_ns <= 0:
            raise ValueError(f"step_ns must be positive, got {self.step_ns}")
        if self.top <= 0 or self.max_attributes <= 0:
            raise ValueError("a comparison keeps at least one value of one attribute")
        if not self.compared:
            raise ValueError("a comparison compares at least one map or column")


Plan: TypeAlias = (
    Select | TraceSearch | Count | SpansetSearch | ServiceEdges | ServiceGraph | SpanComparison
)


def spansets(predicate: Predicate) -> Iterable[HasSpan]:
    """Every ``HasSpan`` leaf of a trace-level condition."""
    if isinstance(predicate, HasSpan):
        yield predicate
    elif isinstance(predicate, And | Or):
        for item in predicate.items:
            yield from spansets(item)
    elif isinstance(predicate, Not):
        yield from spansets(predicate.item)
