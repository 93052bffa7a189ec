"""Plans for tag names and tag values: what query editors offer as completions.

Names come from a sample (the newest spans of the range): an editor needs the common
keys fast, not a census of every map. Values are counted exactly, per value and type,
most frequent first.
"""

from __future__ import annotations

from otelite.query._plan import (
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Exists,
    Literal,
    Op,
    Order,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
    all_of,
)
from otelite.storage import BOOL_CODE, DOUBLE_CODE, INT_CODE, types_column_name

__all__ = ["attribute_values_plan", "column_values_plan", "span_keys_plan", "value_type"]

_MAPS = {
    AttributeScope.RECORD: "SpanAttributes",
    AttributeScope.RESOURCE: "ResourceAttributes",
    AttributeScope.SCOPE: "ScopeAttributes",
}
# Storage's type codes (``storage._attributes``) by the type names query languages use.
_TYPES = {INT_CODE: "int", DOUBLE_CODE: "float", BOOL_CODE: "bool"}


def span_keys_plan(time: TimeRange, sample: int) -> Select:
    """The attribute maps of the newest ``sample`` spans: ``span``, ``resource`` and
    ``scope``, each a list of (key, string form) pairs."""
    return Select(
        Table.SPANS,
        (
            Output("at", Call("timestamp_to_ns", (Column("Timestamp"),))),
            Output("span", Column("SpanAttributes")),
            Output("resource", Column("ResourceAttributes")),
            Output("scope", Column("ScopeAttributes")),
        ),
        time=time,
        order_by=(Order("at", descending=True),),
        limit=sample,
    )


def attribute_values_plan(
    key: str,
    scope: AttributeScope,
    time: TimeRange,
    limit: int,
    *,
    where: Predicate | None = None,
) -> Select:
    """The values of one span attribute in the range, with their type codes and counts,
    most frequent first: rows of ``value``, ``code`` (None for strings) and ``n``; of the
    spans that meet ``where`` only, when given."""
    values = _MAPS[scope]
    code = Call("map_get", (Column(types_column_name(values)), Literal(key)))
    return Select(
        Table.SPANS,
        (
            Output("value", Attribute(key, scope)),
            Output("code", code),
            Output("n", Call("count")),
        ),
        where=all_of(Exists(Attribute(key, scope)), where),
        time=time,
        group_by=("value", "code"),
        order_by=(Order("n", descending=True), Order("value")),
        limit=limit,
    )


def column_values_plan(
    column: str,
    time: TimeRange,
    limit: int,
    *,
    roots_only: bool = False,
    where: Predicate | None = None,
) -> Select:
    """The values of one span column in the range with counts, most frequent first; of
    root spans only with ``roots_only``, of the spans that meet ``where`` when given."""
    root = Compare(Column("ParentSpanId"), Op.EQ, b"") if roots_only else None
    return Select(
        Table.SPANS,
        (Output("value", Column(column)), Output("n", Call("count"))),
        where=all_of(root, where),
        time=time,
        group_by=("value",),
        order_by=(Order("n", descending=True), Order("value")),
        limit=limit,
    )


def value_type(code: str | None) -> str:
    """The type name (``string``, ``int``, ``float``, ``bool``) of a stored type code;
    every other type is offered as its string form."""
    return _TYPES.get(code or "", "string")
