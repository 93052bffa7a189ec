"""The attribute keys of stored log records, known by a hash: what decides, for a label
counted in SQL, whether an attribute could carry it too (``_label_sql``).

A record's key set is the keys of its three attribute maps (record, scope, resource)
and, where asked, the keys of those that hold something other than a string. SQL
groups records by a hash of those lists (:func:`keyset_hash`); the lists behind each
hash are read once (:func:`keysets`) and kept while the store is open, as PromQL keeps
its series identities: a hash names its lists for good.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from otelite.query._compile import compile_plan
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
    found = Call("map_keys", (Column(_MAPS[0]),))
    for column in _lists(typed)[1:]:
        found = Call("hash2", (found, Call("map_keys", (Column(column),))))
    return found


@dataclass(slots=True)
class _Kept:
    keysets: dict[tuple[bool, int], Keysets] = field(default_factory=dict)


_KEPT: weakref.WeakKeyDictionary[Storage, _Kept] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _kept(storage: Storage) -> _Kept:
    with _LOCK:
        found = _KEPT.get(storage)
        if found is None:
            found = _KEPT[storage] = _Kept()
        return found


def keysets(
    storage: Storage,
    hashes: Iterable[int],
    *,
    typed: bool,
    where: Predicate | None,
    time: TimeRange,
) -> dict[int, Keysets]:
    """The key sets of ``hashes`` (of records in ``time`` meeting ``where``)."""
    kept = _kept(storage).keysets
    found = {h: kept[(typed, h)] for h in hashes if (typed, h) in kept}
    missing = [h for h in hashes if h not in found]
    hashed = keyset_hash(typed=typed)
    for first in range(0, len(missing), _ASKED_AT_ONCE):
        asked = missing[first : first + _ASKED_AT_ONCE]
        chosen = Or(tuple(Compare(hashed, Op.EQ, h) for h in asked))
        columns = _lists(typed)
        outputs = [Output("h", hashed)] + [
            Output(f"k{i}", Call("arg_min", (Call("map_keys", (Column(c),)), Column("Timestamp"))))
            for i, c in enumerate(columns)
        ]
        plan = Select(
            Table.LOGS, tuple(outputs), where=all_of(where, chosen), time=time, group_by=("h",)
        )
        statement = compile_plan(plan, storage.dialect)
        for row in storage.query(
            statement.sql, statement.params, types=statement.types
        ).to_pylist():
            lists = [frozenset(row[f"k{i}"] or ()) for i in range(len(columns))]
            typed_keys = frozenset().union(*lists[3:]) if typed else frozenset()
            found[row["h"]] = Keysets(lists[0], lists[1], lists[2], typed_keys)
    with _LOCK:
        if len(kept) + len(missing) > MAX_KEPT_KEYSETS:
            kept.clear()
        kept.update(((typed, h), found[h]) for h in missing if h in found)
    return found
