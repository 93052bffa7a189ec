"""The attribute keys of stored log records, known by a hash: what decides, for a label
counted in SQL, whether an attribute could carry it too (``_label_sql``).

A record's key set is the keys of its three attribute maps (record, scope, resource)
and, where asked, the keys of those that hold something other than a string. SQL
groups records by a hash of those lists (:func:`keyset_hash`); the lists behind each
hash are read once (:func:`keysets`) and kept while the store is open, as PromQL keeps
its series identities: a hash names its lists for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otelite.query._compile import compile_plan
from otelite.query._kept import PerStore, keep_at_most
from otelite.query._plan import (
    Call,
    Column,
    Compare,
    Op,
    Or,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
    all_of,
)
from otelite.storage import Storage

__all__ = ["MAX_KEPT_KEYSETS", "Keysets", "keyset_hash", "keysets"]

MAX_KEPT_KEYSETS = 100_000
"""Key sets kept per store; past it they are forgotten and read again."""
_MAPS = ("LogAttributes", "ScopeAttributes", "ResourceAttributes")
_TYPES = ("LogAttributeTypes", "ScopeAttributeTypes", "ResourceAttributeTypes")
_ASKED_AT_ONCE = 500
_TIME_RANGES_AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class Keysets:
    """The attribute keys of records."""

    record: frozenset[str]
    scope: frozenset[str]
    resource: frozenset[str]
    typed: frozenset[str] = frozenset()
    """The keys, in any map, of values that are not strings (when asked for)."""


def _lists(typed: bool) -> tuple[str, ...]:
    return (*_MAPS, *_TYPES) if typed else _MAPS


def keyset_hash(*, typed: bool) -> Call:
    """A hash of each record's key lists (with the non-string keys when ``typed``)."""
    found = Call("column_map_keys", (Column(_MAPS[0]),))
    for column in _lists(typed)[1:]:
        found = Call("hash2", (found, Call("column_map_keys", (Column(column),))))
    return found


_kept: PerStore[dict[tuple[bool, int], Keysets]] = PerStore(dict)


def keysets(
    storage: Storage,
    wanted: Mapping[int, TimeRange],
    *,
    typed: bool,
    where: Predicate | None,
) -> dict[int, Keysets]:
    """The key sets of the hashes ``wanted``, each of records in its time range (a short
    one where a record with it is, so that reading it back reads little) that meet
    ``where``."""
    kept = _kept(storage)
    found = {h: kept[(typed, h)] for h in wanted if (typed, h) in kept}
    by_time: dict[TimeRange, list[int]] = {}
    for h, time in wanted.items():
        if h not in found:
            by_time.setdefault(time, []).append(h)
    if len(by_time) > _TIME_RANGES_AT_ONCE:
        starts = [t.start for t in by_time if t.start is not None]
        ends = [t.end for t in by_time if t.end is not None]
        whole = TimeRange(min(starts, default=None), max(ends, default=None))
        by_time = {whole: [h for hashes in by_time.values() for h in hashes]}
    for time, missing in by_time.items():
        for first in range(0, len(missing), _ASKED_AT_ONCE):
            found.update(
                _read(storage, missing[first : first + _ASKED_AT_ONCE], typed, where, time)
            )
    with _kept.lock:
        new = {(typed, h): keys for h, keys in found.items() if (typed, h) not in kept}
        keep_at_most(kept, new, MAX_KEPT_KEYSETS)
    return found


def _read(
    storage: Storage, hashes: list[int], typed: bool, where: Predicate | None, time: TimeRange
) -> dict[int, Keysets]:
    hashed = keyset_hash(typed=typed)
    chosen = Or(tuple(Compare(hashed, Op.EQ, h) for h in hashes))
    columns = _lists(typed)
    first = [
        Call("arg_min", (Call("column_map_keys", (Column(column),)), Column("Timestamp")))
        for column in columns
    ]
    outputs = [Output("h", hashed), *(Output(f"k{i}", e) for i, e in enumerate(first))]
    plan = Select(
        Table.LOGS, tuple(outputs), where=all_of(where, chosen), time=time, group_by=("h",)
    )
    statement = compile_plan(plan, storage.dialect)
    found = {}
    for row in storage.query(statement.sql, statement.params, types=statement.types).to_pylist():
        lists = [frozenset(row[f"k{i}"] or ()) for i in range(len(columns))]
        typed_keys = frozenset().union(*lists[3:]) if typed else frozenset()
        found[int(row["h"])] = Keysets(lists[0], lists[1], lists[2], typed_keys)
    return found
