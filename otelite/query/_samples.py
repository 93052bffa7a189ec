"""A plan for the attributes of recent records: what the UI offers as filter completions."""

from __future__ import annotations

from otelite.query._plan import Call, Column, Compare, Op, Order, Output, Select, Table, TimeRange

__all__ = ["attribute_sample_plan"]


def attribute_sample_plan(
    table: Table, time: TimeRange, limit: int, service: str | None = None
) -> Select:
    """The newest ``limit`` records' own and resource attribute maps (values only).

    Rows hold ``record`` and ``resource``, lists of (key, string form) pairs. A sample
    rather than an aggregate over every map: completions need the common keys fast, not
    an exact census.
    """
    record = table.record_attributes()
    return Select(
        table,
        (
            Output("at", Call("timestamp_to_ns", (Column(table.time_column),))),
            Output("record", Column(record)),
            Output("resource", Column("ResourceAttributes")),
        ),
        where=None if service is None else Compare(Column("ServiceName"), Op.EQ, service),
        time=time,
        order_by=(Order("at", descending=True),),
        limit=limit,
    )
