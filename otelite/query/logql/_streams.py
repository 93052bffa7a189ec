"""The streams of a store: what Loki's ``labels``, ``label/<name>/values`` and ``series``
answer from, read as the distinct (resource, scope) pairs of the records in a time range
whose stream labels a selector picks."""

from __future__ import annotations

from collections.abc import Sequence

from otelite.query._compile import compile_plan
from otelite.query._plan import Column, Output, Select, Table, TimeRange
from otelite.query.logql._ast import Matcher
from otelite.query.logql._entries import Labels
from otelite.query.logql._records import RecordReader
from otelite.query.logql._select import selector_predicate
from otelite.storage import Storage

__all__ = ["stream_sets"]

_IDENTITY = ("ResourceAttributes", "ScopeName")


def stream_sets(
    storage: Storage, selectors: Sequence[Sequence[Matcher]], time: TimeRange
) -> list[Labels]:
    """The label sets of the streams with records in ``time`` that one of ``selectors``
    picks (every stream when there is none), each once, sorted."""
    reader = RecordReader()
    found: set[Labels] = set()
    for selector in selectors or [()]:
        plan = Select(
            Table.LOGS,
            tuple(Output(name, Column(name)) for name in _IDENTITY),
            where=selector_predicate(selector),
            time=time,
            one_row_per=_IDENTITY,
        )
        statement = compile_plan(plan, storage.dialect)
        table = storage.query(statement.sql, statement.params, types=statement.types)
        resources = table.column("ResourceAttributes").to_pylist()
        scopes = table.column("ScopeName").to_pylist()
        for resource, scope in zip(resources, scopes, strict=True):
            found.add(tuple(sorted(reader.stream(resource, scope or "").items())))
    return sorted(found)
