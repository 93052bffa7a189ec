"""TraceQL → otelite's plans: a search to a ``SpansetSearch``, fields to predicates.

Span sets map one to one onto the plan's span set nodes; conditions inside braces become
the plan's predicates over span columns and attribute maps. Field semantics are the
plan's (``otelite.query._plan``): a string literal compares with an attribute's string
form, numbers compare numerically with int and double attributes, and a comparison with
a missing attribute is never true. What the plan cannot express yet is refused with a
message naming the construct, never answered approximately.
"""

from __future__ import annotations

from dataclasses import dataclass

from otelite.errors import InvalidRequest
from otelite.query._plan import (
    Aggregated,
    And,
    Arithmetic,
    ArithmeticOp,
    AttributeScope,
    BothOf,
    Call,
    ChildCount,
    Column,
    Compare,
    CompareValues,
    EitherOf,
    Exists,
    Expr,
    Filtered,
    Literal,
    Matching,
    Nested,
    NestedCompare,
    Not,
    Op,
    Or,
    Predicate,
    Related,
    Relation,
    Spanset,
    SpansetSearch,
    TimeRange,
    TraceCompare,
    TraceField,
    TypedAttribute,
    Value,
    ValueKind,
    all_of,
)
from otelite.query._plan import Attribute as PlanAttribute
from otelite.query.traceql._ast import (
    Aggregate,
    Attribute,
    Binary,
    Bool,
    Coalesce,
    Duration,
    Field,
    FieldExpr,
    Float,
    GroupBy,
    Int,
    IntrinsicField,
    Nil,
    Node,
    Pipeline,
    ScalarFilter,
    SelectStage,
    SpansetExpr,
    SpansetFilter,
    SpansetOperation,
    Static,
    String,
    Unary,
)
from otelite.query.traceql._enums import (
    BinaryOp,
    Intrinsic,
    Kind,
    Scope,
    SpansetOp,
    Status,
    UnaryOp,
)
from otelite.query.traceql._fold import ARITHMETIC, constant_holds, folded
from otelite.query.traceql._generator import to_text
from otelite.query.traceql._parser import parse

__all__ = [
    "INTRINSIC_NAMES",
    "KIND_NUMBERS",
    "STATUS_CODES",
    "TagValues",
    "attribute_scopes",
    "filter_condition",
    "search_plan",
    "span_condition",
    "spanset_of",
    "tag_values_source",
]

INTRINSIC_NAMES = (
    "duration",
    "name",
    "status",
    "statusMessage",
    "kind",
    "rootServiceName",
    "rootName",
    "traceDuration",
    "event:name",
    "event:timeSinceStart",
    "link:spanID",
    "link:traceID",
    "instrumentation:name",
    "instrumentation:version",
    "trace:id",
    "span:id",
    "span:parentID",
    "span:status",
    "span:statusMessage",
    "span:duration",
    "span:name",
    "span:kind",
    "trace:rootName",
    "trace:rootService",
    "trace:duration",
)
"""The intrinsics a query editor offers, in the order Tempo lists them."""

_ATTRIBUTE_SCOPES: dict[str, tuple[AttributeScope, ...]] = {
    "span": (AttributeScope.RECORD,),
    "resource": (AttributeScope.RESOURCE,),
    "instrumentation": (AttributeScope.SCOPE,),
    "": (AttributeScope.RECORD, AttributeScope.RESOURCE),
}
STATUS_CODES = {Status.UNSET: 0, Status.OK: 1, Status.ERROR: 2}
KIND_NUMBERS = {
    Kind.UNSPECIFIED: 0,
    Kind.INTERNAL: 1,
    Kind.SERVER: 2,
    Kind.CLIENT: 3,
    Kind.PRODUCER: 4,
    Kind.CONSUMER: 5,
}
# Intrinsics read from one column of the span: (column, what its literals must be).
_COLUMNS: dict[Intrinsic, tuple[str, str]] = {
    Intrinsic.SPAN_NAME: ("SpanName", "string"),
    Intrinsic.SPAN_STATUS: ("StatusCode", "status"),
    Intrinsic.SPAN_STATUS_MESSAGE: ("StatusMessage", "string"),
    Intrinsic.SPAN_KIND: ("SpanKind", "kind"),
    Intrinsic.SPAN_DURATION: ("Duration", "duration"),
    Intrinsic.SPAN_ID: ("SpanId", "id"),
    Intrinsic.SPAN_PARENT_ID: ("ParentSpanId", "id"),
    Intrinsic.TRACE_ID: ("TraceId", "id"),
    Intrinsic.INSTRUMENTATION_NAME: ("ScopeName", "string"),
    Intrinsic.INSTRUMENTATION_VERSION: ("ScopeVersion", "string"),
}
_NESTED = {Scope.EVENT: Nested.EVENTS, Scope.LINK: Nested.LINKS}
_ITEM_FIELDS = (
    Intrinsic.EVENT_NAME,
    Intrinsic.EVENT_TIME_SINCE_START,
    Intrinsic.LINK_TRACE_ID,
    Intrinsic.LINK_SPAN_ID,
)
_TRACE_FIELDS = {
    Intrinsic.TRACE_ROOT_SERVICE: TraceField.ROOT_SERVICE,
    Intrinsic.TRACE_ROOT_NAME: TraceField.ROOT_NAME,
    Intrinsic.TRACE_DURATION: TraceField.DURATION,
}
_OPS = {
    BinaryOp.EQ: Op.EQ,
    BinaryOp.NE: Op.NE,
    BinaryOp.LT: Op.LT,
    BinaryOp.LE: Op.LE,
    BinaryOp.GT: Op.GT,
    BinaryOp.GE: Op.GE,
    BinaryOp.REGEX: Op.MATCH,
    BinaryOp.NOT_REGEX: Op.NOT_MATCH,
}
_MIRRORED = {Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE}
_RELATIONS = {
    SpansetOp.CHILD: (Relation.CHILD, False, False),
    SpansetOp.PARENT: (Relation.PARENT, False, False),
    SpansetOp.DESCENDANT: (Relation.DESCENDANT, False, False),
    SpansetOp.ANCESTOR: (Relation.ANCESTOR, False, False),
    SpansetOp.SIBLING: (Relation.SIBLING, False, False),
    SpansetOp.UNION_CHILD: (Relation.CHILD, True, False),
    SpansetOp.UNION_PARENT: (Relation.PARENT, True, False),
    SpansetOp.UNION_DESCENDANT: (Relation.DESCENDANT, True, False),
    SpansetOp.UNION_ANCESTOR: (Relation.ANCESTOR, True, False),
    SpansetOp.UNION_SIBLING: (Relation.SIBLING, True, False),
    SpansetOp.NOT_CHILD: (Relation.CHILD, False, True),
    SpansetOp.NOT_PARENT: (Relation.PARENT, False, True),
    SpansetOp.NOT_DESCENDANT: (Relation.DESCENDANT, False, True),
    SpansetOp.NOT_ANCESTOR: (Relation.ANCESTOR, False, True),
    SpansetOp.NOT_SIBLING: (Relation.SIBLING, False, True),
}
_NOTHING: Predicate = Or(())


def search_plan(text: str, *, time: TimeRange, limit: int, spans_per_set: int) -> SpansetSearch:
    """The plan of a TraceQL search; ``ParseError`` when it does not parse, and
    ``InvalidRequest`` for a metrics query or a construct not supported yet."""
    query = parse(text)
    if not isinstance(query.body, Pipeline):
        raise InvalidRequest(
            "a metrics query cannot search traces: ask /api/metrics/query_range instead"
        )
    # select(...) adds values to the spans shown; it does not change which match.
    stages = [s for s in query.body.stages if not isinstance(s, SelectStage)]
    fields = [f for s in query.body.stages if isinstance(s, SelectStage) for f in s.fields]
    # A by(...) that no coalesce() follows splits each trace's result into span sets.
    group: tuple[str, Expr] | None = None
    for stage in stages:
        if isinstance(stage, GroupBy):
            group = (f"by({to_text(stage.expr)})", _group_value(stage.expr))
        elif isinstance(stage, Coalesce):
            group = None
    return SpansetSearch(
        spanset_of(Pipeline(tuple(stages))),
        time=time,
        limit=limit,
        spans_per_set=spans_per_set,
        fields=tuple(dict.fromkeys(_selected(f) for f in fields)),
        group_by=group,
    )


def _group_value(expr: FieldExpr) -> Expr:
    """The value ``by(expr)`` groups on: an attribute's string form or a span column."""
    if isinstance(expr, Attribute | IntrinsicField):
        return _selected(expr)[1]
    raise _unsupported(GroupBy(expr))


def _selected(field: Field) -> tuple[str, Expr]:
    """A ``select`` field: its label (an attribute's name, an intrinsic's text) and value."""
    if isinstance(field, Attribute):
        if field.scope in _NESTED:
            raise _unsupported(field)
        scopes = attribute_scopes(field)
        return field.name, PlanAttribute(field.name, scopes[0] if len(scopes) == 1 else None)
    found = _COLUMNS.get(field.intrinsic)
    if found is None or found[1] == "id":
        raise _unsupported(field)
    return field.intrinsic.value, Column(found[0])


def span_condition(text: str) -> Predicate | None:
    """The condition of a query that is one ``{ }`` filter (Tempo's trace-by-id ``q``);
    ``InvalidRequest`` for anything else (``ParseError`` when it does not parse)."""
    query = parse(text)
    found = spanset_of(query.body) if isinstance(query.body, Pipeline) else None
    if not isinstance(found, Matching):
        raise InvalidRequest(
            "q: one span set filter such as { status = error } is expected here, "
            "without structure, pipelines or metrics"
        )
    return found.where


def filter_condition(text: str | None) -> Predicate | None:
    """The span condition of a one-filter query (``{ resource.service.name = "a" }``),
    read leniently as Tempo's tag APIs read their ``q``: a query that does not parse, or
    is more than one filter, or holds what is not supported, filters nothing."""
    if not text:
        return None
    try:
        query = parse(text)
        if not isinstance(query.body, Pipeline):
            return None
        found = spanset_of(query.body)
    except InvalidRequest:
        return None
    return found.where if isinstance(found, Matching) else None


def spanset_of(expr: SpansetExpr) -> Spanset:
    """The plan's span set for a TraceQL spanset expression or pipeline."""
    if isinstance(expr, SpansetFilter):
        return Matching(None if expr.condition is None else condition_of(expr.condition))
    if isinstance(expr, SpansetOperation):
        left, right = spanset_of(expr.left), spanset_of(expr.right)
        if expr.op is SpansetOp.AND:
            return BothOf(left, right)
        if expr.op is SpansetOp.OR:
            return EitherOf(left, right)
        relation, both, negated = _RELATIONS[expr.op]
        return Related(relation, left, right, both=both, negated=negated)
    return _pipeline(expr)


def _pipeline(pipeline: Pipeline) -> Spanset:
    first, *stages = pipeline.stages
    found: Spanset
    if isinstance(first, SpansetFilter | SpansetOperation | Pipeline):
        found = spanset_of(first)
    else:
        # A pipeline may start with a stage (`count() > 10`): it reads every span.
        found, stages = Matching(), [first, *stages]
    group: Expr | None = None  # the by(...) in force: aggregates are per its groups
    for stage in stages:
        if isinstance(stage, SpansetFilter):
            # A filter stage keeps the spans that also meet its condition.
            extra = None if stage.condition is None else condition_of(stage.condition)
            if isinstance(found, Matching):
                found = Matching(all_of(found.where, extra))
            elif extra is not None:
                found = Filtered(found, extra)
        elif isinstance(stage, ScalarFilter):
            found = _scalar_filter(found, stage, group)
        elif isinstance(stage, GroupBy):
            if group is not None:
                raise InvalidRequest(
                    f"TraceQL: not supported yet: a second {to_text(stage)} before coalesce()"
                )
            group = _group_value(stage.expr)
        elif isinstance(stage, Coalesce):
            group = None
        elif not isinstance(stage, SelectStage):
            raise _unsupported(stage)
    return found


def _scalar_filter(source: Spanset, stage: ScalarFilter, group: Expr | None) -> Spanset:
    """``| count() > 2``: an aggregate of each span set compared with a number."""
    op, left, right = _OPS.get(stage.op), stage.left, stage.right
    if isinstance(left, Int | Float | Duration) and isinstance(right, Aggregate):
        left, right = right, left
        op = None if op is None else _MIRRORED.get(op, op)
    if (
        op not in (Op.EQ, Op.NE, *_MIRRORED)
        or not isinstance(left, Aggregate)
        or not isinstance(right, Int | Float | Duration)
    ):
        raise _unsupported(stage)
    value = right.nanoseconds if isinstance(right, Duration) else right.value
    field = None if left.field is None else _number(left.field)
    return Aggregated(source, left.function.value, op, value, field, group)


def _number(expr: FieldExpr) -> Expr:
    """A field as a number: a span's duration in ns, an attribute as a double."""
    if isinstance(expr, IntrinsicField) and expr.intrinsic is Intrinsic.SPAN_DURATION:
        return Column("Duration")
    if isinstance(expr, Attribute):
        scopes = attribute_scopes(expr)
        attribute = PlanAttribute(expr.name, scopes[0] if len(scopes) == 1 else None)
        return Call("to_double", (attribute,))
    raise _unsupported(expr)


def condition_of(expr: FieldExpr) -> Predicate | None:
    """The predicate a span must meet; None when every span does."""
    if isinstance(expr, Bool):
        return None if expr.value else _NOTHING
    if isinstance(expr, Unary) and expr.op is UnaryOp.NOT:
        inner = condition_of(expr.operand)
        return _NOTHING if inner is None else Not(inner)
    if isinstance(expr, Binary):
        if expr.op is BinaryOp.AND:
            return all_of(condition_of(expr.left), condition_of(expr.right))
        if expr.op is BinaryOp.OR:
            left, right = condition_of(expr.left), condition_of(expr.right)
            return None if left is None or right is None else Or((left, right))
        if expr.op in _OPS:
            return _comparison(_OPS[expr.op], expr.left, expr.right)
    if isinstance(expr, Attribute | IntrinsicField):
        return _comparison(Op.EQ, expr, Bool(True))  # a field alone: is it true?
    raise _unsupported(expr)


def _comparison(op: Op, left: FieldExpr, right: FieldExpr) -> Predicate | None:
    left, right = folded(left), folded(right)
    if _is_static(left) and not _is_static(right):
        left, right = right, left
        op = _MIRRORED.get(op, op)
    if _is_static(left):
        # Two literals: the answer is the same for every span.
        holds = constant_holds(op, left, right)  # type: ignore[arg-type]
        return None if holds else _NOTHING
    if not _is_static(right):
        return _fields_compared(op, left, right)
    if isinstance(left, Attribute):
        return _attribute_comparison(left, op, right)  # type: ignore[arg-type]
    if isinstance(left, IntrinsicField):
        return _intrinsic_comparison(left, op, right)  # type: ignore[arg-type]
    return _fields_compared(op, left, right)


def _fields_compared(op: Op, left: FieldExpr, right: FieldExpr) -> Predicate:
    """A comparison reading the span on both sides, or arithmetic over its fields: both
    sides computed in SQL, as numbers where either is one (``duration``, arithmetic), as
    strings where either is a string intrinsic (``name``), and, between two attributes,
    true where they have one kind and compare so."""
    shown = to_text(Binary(_op_back(op), left, right))
    kinds = {k for k in (_kind_of(left, shown), _kind_of(right, shown)) if k is not None}
    if len(kinds) > 1:
        raise InvalidRequest(f"TraceQL: a number cannot be compared with a string: {shown}")
    # (=~ and !~ never get here: their right side is a string literal.)
    if kinds:
        tried = list(kinds)
    elif op in (Op.EQ, Op.NE):
        tried = [ValueKind.NUMBER, ValueKind.STRING, ValueKind.BOOL]
    else:
        tried = [ValueKind.NUMBER, ValueKind.STRING]
    compared: list[Predicate] = [
        CompareValues(_value(left, kind, shown), op, _value(right, kind, shown)) for kind in tried
    ]
    return compared[0] if len(compared) == 1 else Or(tuple(compared))


def _kind_of(expr: FieldExpr, shown: str) -> ValueKind | None:
    """What a side of a field comparison is; None for an attribute, which may be any."""
    if isinstance(expr, Attribute):
        return None
    if isinstance(expr, Binary | Unary | Int | Float | Duration):
        return ValueKind.NUMBER
    if isinstance(expr, String):
        return ValueKind.STRING
    if isinstance(expr, IntrinsicField):
        return (
            ValueKind.NUMBER if _computed_column(expr, shown)[1] == "duration" else ValueKind.STRING
        )
    raise InvalidRequest(f"TraceQL: cannot compare {to_text(expr)} with another field: {shown}")


def _computed_column(field: IntrinsicField, shown: str) -> tuple[str, str]:
    """The column of an intrinsic that a field comparison or arithmetic can read."""
    found = _COLUMNS.get(field.intrinsic)
    if found is None or found[1] not in ("duration", "string"):
        raise InvalidRequest(
            f"TraceQL: {field.intrinsic.value} compares only with a literal, not in"
            f" arithmetic or with another field: {shown}"
        )
    return found


def _value(expr: FieldExpr, kind: ValueKind, shown: str) -> Expr:
    """One side of a field comparison as a value of ``kind`` (NULL where it is not)."""
    if isinstance(expr, Attribute):
        if expr.scope in _NESTED:
            raise InvalidRequest(
                f"TraceQL: event and link attributes compare only with a literal: {shown}"
            )
        scopes = attribute_scopes(expr)
        attribute = PlanAttribute(expr.name, scopes[0] if len(scopes) == 1 else None)
        return TypedAttribute(attribute, kind)
    if isinstance(expr, IntrinsicField):
        return Column(_computed_column(expr, shown)[0])
    if isinstance(expr, Binary) and expr.op in ARITHMETIC:
        return Arithmetic(
            ArithmeticOp(expr.op.value),
            _value(expr.left, ValueKind.NUMBER, shown),
            _value(expr.right, ValueKind.NUMBER, shown),
        )
    if isinstance(expr, Unary) and expr.op is UnaryOp.NEG:
        return Arithmetic(ArithmeticOp.SUB, Literal(0), _value(expr.operand, kind, shown))
    if isinstance(expr, Int | Float | String):
        return Literal(expr.value)
    if isinstance(expr, Duration):
        return Literal(expr.nanoseconds)
    raise InvalidRequest(f"TraceQL: cannot compute {to_text(expr)} in a comparison: {shown}")


def attribute_scopes(attribute: Attribute) -> tuple[AttributeScope, ...]:
    """The attribute maps a TraceQL attribute reads, in order; ``InvalidRequest`` for
    the scopes not supported yet (events, links, the parent's)."""
    scopes = _ATTRIBUTE_SCOPES.get(attribute.scope.value)
    if attribute.parent or scopes is None:
        raise _unsupported(attribute)
    return scopes


def _attribute_comparison(attribute: Attribute, op: Op, value: Static) -> Predicate:
    if attribute.scope in _NESTED and not attribute.parent:
        return _item_attribute(_NESTED[attribute.scope], attribute.name, op, value)
    scopes = attribute_scopes(attribute)
    target = PlanAttribute(attribute.name, scopes[0] if len(scopes) == 1 else None)
    if isinstance(value, Nil):
        if op is Op.EQ:
            return Not(Exists(target))
        if op is Op.NE:
            return Exists(target)
        raise InvalidRequest(f"TraceQL: nil compares only with = and !=, not {op.value}")
    return Compare(target, op, _plain(value), typed=True)


def _item_attribute(nested: Nested, key: str, op: Op, value: Static) -> Predicate:
    """Some event or link of the span has attribute ``key`` ``op value``."""
    if isinstance(value, Nil):
        if op not in (Op.EQ, Op.NE):
            raise InvalidRequest("TraceQL: nil compares only with = and !=")
        has = NestedCompare(nested, None, key)
        return Not(has) if op is Op.EQ else has
    return NestedCompare(nested, None, key, op, _plain(value))


def _item_field(field: IntrinsicField, op: Op, value: Static) -> Predicate:
    """``event:name``, ``event:timeSinceStart``, ``link:traceID``, ``link:spanID``: some
    item's own field."""
    if field.intrinsic is Intrinsic.EVENT_TIME_SINCE_START:
        if not isinstance(value, Duration | Int):
            raise _needs(field, "a duration such as 10ms")
        since = value.nanoseconds if isinstance(value, Duration) else value.value
        return NestedCompare(Nested.EVENTS, "time_since_start", None, op, since)
    if not isinstance(value, String):
        raise _needs(field, "a string")
    if field.intrinsic is Intrinsic.EVENT_NAME:
        return NestedCompare(Nested.EVENTS, "name", None, op, value.value)
    if op not in (Op.EQ, Op.NE):
        raise _needs(field, '= or != and a hex string ("4bf92f35...")')
    trace = field.intrinsic is Intrinsic.LINK_TRACE_ID
    id_ = _hex_id(value.value, 32 if trace else 16)
    return NestedCompare(Nested.LINKS, "trace_id" if trace else "span_id", None, op, id_)


def _intrinsic_comparison(field: IntrinsicField, op: Op, value: Static) -> Predicate:
    if field.intrinsic in _ITEM_FIELDS:
        return _item_field(field, op, value)
    if field.intrinsic is Intrinsic.NESTED_SET_PARENT:
        return _is_root(op, value)
    if field.intrinsic is Intrinsic.SPAN_CHILD_COUNT:
        if not isinstance(value, Int | Float):
            raise _needs(field, "a number, such as span:childCount > 0")
        return ChildCount(op, value.value)
    if field.intrinsic in _TRACE_FIELDS:
        return _trace_comparison(field, op, value)
    found = _COLUMNS.get(field.intrinsic)
    if found is None:
        raise _unsupported(field)
    column, kind = found
    if isinstance(value, Nil):
        raise InvalidRequest(f"TraceQL: {field.intrinsic.value} is never nil")
    literal: Value
    if kind == "status":
        if not isinstance(value, Status) or op not in (Op.EQ, Op.NE):
            raise InvalidRequest(
                f"TraceQL: {field.intrinsic.value} compares with = or != to ok, error or unset"
            )
        literal = STATUS_CODES[value]
    elif kind == "kind":
        if not isinstance(value, Kind) or op not in (Op.EQ, Op.NE):
            raise InvalidRequest(
                f"TraceQL: {field.intrinsic.value} compares with = or != to a span kind"
            )
        literal = KIND_NUMBERS[value]
    elif kind == "id":
        if not isinstance(value, String) or op not in (Op.EQ, Op.NE):
            raise InvalidRequest(
                f"TraceQL: {field.intrinsic.value} compares with = or != to a hex string"
            )
        literal = _hex_id(value.value, 32 if field.intrinsic is Intrinsic.TRACE_ID else 16)
    elif kind == "duration":
        if not isinstance(value, Duration | Int):
            raise InvalidRequest(
                f"TraceQL: {field.intrinsic.value} compares with a duration such as 100ms"
            )
        literal = value.nanoseconds if isinstance(value, Duration) else value.value
    else:
        literal = _plain(value)
    return Compare(Column(column), op, literal)


def _trace_comparison(field: IntrinsicField, op: Op, value: Static) -> Predicate:
    trace_field = _TRACE_FIELDS[field.intrinsic]
    if trace_field is TraceField.DURATION:
        if not isinstance(value, Duration | Int):
            raise _needs(field, "a duration such as 100ms")
        number = value.nanoseconds if isinstance(value, Duration) else value.value
        return TraceCompare(trace_field, op, number)
    if not isinstance(value, String):
        raise _needs(field, "a string")
    return TraceCompare(trace_field, op, value.value)


def _is_root(op: Op, value: Static) -> Predicate:
    """``nestedSetParent < 0``: Grafana's Traces Drilldown asks for root spans so.

    Tempo numbers a root's parent -1 and every other span's parent 0 or more. Without that
    numbering, a comparison can be answered when it is true or false for every number of
    0 or more; anything finer is refused.
    """
    if isinstance(value, Int):
        n = value.value
        # Over the numbers 0 or more, each comparison is all false or all true below a
        # bound; these are the cases that hold whatever the number.
        others = {
            Op.LT: False if n <= 0 else None,
            Op.LE: False if n < 0 else None,
            Op.EQ: False if n < 0 else None,
            Op.GT: True if n < 0 else None,
            Op.GE: True if n <= 0 else None,
            Op.NE: True if n < 0 else None,
        }.get(op)
        if others is not None:
            root = Compare(Column("ParentSpanId"), Op.EQ, b"")
            match op.holds(-1, n), others:
                case True, True:
                    return And(())
                case True, False:
                    return root
                case False, True:
                    return Not(root)
                case _:
                    return _NOTHING
    raise InvalidRequest(
        "TraceQL: nestedSetParent answers only whether a span is a root: "
        "nestedSetParent < 0 (a root) or nestedSetParent >= 0 (not a root)"
    )


def _needs(field: IntrinsicField, what: str) -> InvalidRequest:
    return InvalidRequest(f"TraceQL: {field.intrinsic.value} compares with {what}")


def _plain(value: Static) -> Value:
    if isinstance(value, String | Int | Float | Bool):
        return value.value
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, Status):
        return value.value
    if isinstance(value, Kind):
        return value.value
    raise InvalidRequest("TraceQL: nil compares only with = and !=")


def _hex_id(text: str, digits: int) -> bytes:
    if not 0 < len(text) <= digits:
        raise InvalidRequest(f"TraceQL: {text!r:.40} is not an id of at most {digits} hex digits")
    try:
        return bytes.fromhex(text.rjust(digits, "0"))
    except ValueError:
        raise InvalidRequest(f"TraceQL: {text!r:.40} is not a hex id") from None


def _is_static(expr: FieldExpr) -> bool:
    return isinstance(expr, String | Int | Float | Bool | Duration | Nil | Status | Kind)


def _op_back(op: Op) -> BinaryOp:
    return next(b for b, o in _OPS.items() if o is op)


def _unsupported(node: Node) -> InvalidRequest:
    return InvalidRequest(f"TraceQL: not supported yet: {to_text(node)}")


@dataclass(frozen=True, slots=True)
class TagValues:
    """Where the values of a tag come from: fixed keywords, a span column (of root spans
    only, for the trace's root fields), or an attribute in some scopes."""

    keywords: tuple[str, ...] = ()
    column: str | None = None
    roots_only: bool = False
    key: str | None = None
    scopes: tuple[AttributeScope, ...] = ()


_INTRINSIC_VALUES = {
    Intrinsic.SPAN_STATUS: TagValues(
        keywords=tuple(s.value for s in (Status.ERROR, Status.OK, Status.UNSET))
    ),
    Intrinsic.SPAN_KIND: TagValues(keywords=tuple(sorted(k.value for k in Kind))),
    Intrinsic.SPAN_NAME: TagValues(column="SpanName"),
    Intrinsic.SPAN_STATUS_MESSAGE: TagValues(column="StatusMessage"),
    Intrinsic.TRACE_ROOT_SERVICE: TagValues(column="ServiceName", roots_only=True),
    Intrinsic.TRACE_ROOT_NAME: TagValues(column="SpanName", roots_only=True),
    Intrinsic.INSTRUMENTATION_NAME: TagValues(column="ScopeName"),
    Intrinsic.INSTRUMENTATION_VERSION: TagValues(column="ScopeVersion"),
}


def tag_values_source(field: Attribute | IntrinsicField) -> TagValues:
    """Where the values of ``field`` come from (nothing for fields without a list)."""
    if isinstance(field, IntrinsicField):
        return _INTRINSIC_VALUES.get(field.intrinsic, TagValues())
    scopes = _ATTRIBUTE_SCOPES.get(field.scope.value, ())
    if field.parent or not scopes:
        return TagValues()
    return TagValues(key=field.name, scopes=scopes)
