"""Stored log records as LogQL entries: the columns a log query reads, and each row's
time, line, stream labels and structured metadata (``_labels`` defines them).

What a record's resource and scope give (its stream labels, most of its structured
metadata) is worked out once per distinct resource and scope: ``_arrow`` finds which rows
share them, and only the first row of each is converted. A record's own part of the
metadata (its attributes, trace context, severity, ...) is built only when a stage, a
filter or the response asks for it (``EntryLabels.deferred``), from its batch's columns,
which are converted to Python once, the first time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from otelite.query._plan import Call, Column, Output
from otelite.query.logql._arrow import Distinct, MapRows, distinct_rows, map_keys, rows_with_code
from otelite.query.logql._entries import ERROR, ERROR_DETAILS, EXTRACTED, Entries, EntryLabels
from otelite.query.logql._labels import (
    DETECTED_LEVEL,
    PUSH_SCOPE,
    detected_level,
    flattened,
    shared_metadata,
    stream_labels,
)
from otelite.query.promql import label_name
from otelite.storage import BOOL_CODE, BYTES_CODE, COMPOSITE_CODE, INT_CODE, stored_attributes

__all__ = ["FIELD_NAMES", "RECORD_OUTPUTS", "RecordReader"]

_GROUP_COLUMNS = (
    "ResourceAttributes",
    "ResourceAttributeTypes",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeAttributeTypes",
    "ScopeDroppedAttributesCount",
)
_RECORD_COLUMNS = (
    "LogAttributes",
    "LogAttributeTypes",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityNumber",
    "SeverityText",
    "EventName",
    "DroppedAttributesCount",
    "TimestampIsObserved",
)


RECORD_OUTPUTS: tuple[Output, ...] = (
    Output("time_ns", Call("timestamp_to_ns", (Column("Timestamp"),))),
    Output("observed_ns", Call("timestamp_to_ns", (Column("ObservedTimestamp"),))),
    Output("Body", Column("Body")),
    *(Output(name, Column(name)) for name in (*_RECORD_COLUMNS, *_GROUP_COLUMNS)),
)
"""What a log query reads of each record; ``time_ns`` orders them."""

FIELD_NAMES = frozenset(
    (
        "trace_id",
        "span_id",
        "severity_number",
        "severity_text",
        "flags",
        "dropped_attributes_count",
        "event_name",
        "observed_timestamp",
        "scope_name",
        "scope_version",
        "scope_dropped_attributes_count",
        DETECTED_LEVEL,
    )
)
"""The structured metadata a record's fields (not its attributes) can give it."""

_Pairs = tuple[tuple[str, str], ...]
_AS_STORED = frozenset((INT_CODE, BOOL_CODE, BYTES_CODE))
"""The type codes of values whose stored text is the
text ``_labels.any_value_text`` gives them, as a string's is: ints, bools, bytes."""


@dataclass(frozen=True, slots=True)
class _Group:
    """What the records of one resource and scope share."""

    stream: dict[str, str]
    attributes: dict[str, str]
    """``shared_metadata`` (nothing for a pushed record, whose metadata is its own
    attributes only)."""
    pushed: bool
    scope_fields: tuple[tuple[str, str], ...]
    """``scope_name``, ``scope_version``, ``scope_dropped_attributes_count`` where set."""


class RecordReader:
    """Turns rows of :data:`RECORD_OUTPUTS` into entries; one per query, so that what
    several batches share is computed once."""

    def __init__(self) -> None:
        self._streams: dict[tuple[_Pairs, str], dict[str, str]] = {}
        self._groups: dict[str, _Group] = {}
        self._label_names: dict[str, str] = {}

    def entries(self, table: pa.Table) -> Entries:
        """The records of ``table``, in its order."""
        if not table.num_rows:
            return Entries()
        times: list[int] = table.column("time_ns").to_pylist()
        lines: list[str] = pc.fill_null(table.column("Body"), "").to_pylist()
        distinct = distinct_rows(table, _GROUP_COLUMNS)
        self._add_groups(table, distinct)
        groups = [self._groups[key] for key in distinct.keys]
        rows = [groups[i] for i in distinct.index.tolist()]
        # A copy: stages may rewrite the lines, and the level is read from the stored one.
        batch = _Batch(self, table, rows, list(lines))
        maybe = batch.metadata_names(groups)
        deferred = EntryLabels.deferred
        labels = [deferred(group.stream, batch, row, maybe) for row, group in enumerate(rows)]
        if ERROR in maybe or ERROR_DETAILS in maybe:
            # The error labels are plain fields of an entry: read them now.
            for entry in labels:
                _ = entry.metadata
        return Entries(times, lines, labels)

    def stream(self, resource: Sequence[tuple[str, str]] | None, scope_name: str) -> dict[str, str]:
        """The stream labels of a record with these resource attributes and scope."""
        key = (tuple(resource or ()), scope_name)
        found = self._streams.get(key)
        if found is None:
            found = self._streams[key] = stream_labels(dict(key[0]), scope_name)
        return found

    def label_name(self, key: str) -> str:
        """An attribute key's label name (``""``: none), remembered."""
        found = self._label_names.get(key)
        if found is None:
            found = self._label_names[key] = label_name(key)
        return found

    def _add_groups(self, table: pa.Table, distinct: Distinct) -> None:
        new = [i for i, key in enumerate(distinct.keys) if key not in self._groups]
        if not new:
            return
        rows = table.select(_GROUP_COLUMNS).take(pa.array(distinct.first[new])).to_pylist()
        for i, row in zip(new, rows, strict=True):
            self._groups[distinct.keys[i]] = self._group(row)

    def _group(self, row: dict[str, Any]) -> _Group:
        resource = row["ResourceAttributes"]
        scope_name: str = row["ScopeName"] or ""
        stream = self.stream(resource, scope_name)
        pushed = scope_name == PUSH_SCOPE
        attributes: dict[str, str] = {}
        if not pushed:
            attributes = shared_metadata(
                stored_attributes(resource, row["ResourceAttributeTypes"]),
                stored_attributes(row["ScopeAttributes"], row["ScopeAttributeTypes"]),
            )
        dropped = row["ScopeDroppedAttributesCount"] or 0
        scope_fields = (
            ("scope_name", scope_name),
            ("scope_version", row["ScopeVersion"] or ""),
            ("scope_dropped_attributes_count", str(dropped) if dropped else ""),
        )
        return _Group(stream, attributes, pushed, tuple((k, v) for k, v in scope_fields if v))


class _Batch:
    """The rows of one statement, as the source of their entries' structured metadata."""

    def __init__(
        self, reader: RecordReader, table: pa.Table, groups: list[_Group], lines: list[str]
    ) -> None:
        self._reader = reader
        self._table = table
        self._groups = groups
        self._lines = lines
        self._columns: list[Any] | None = None

    def metadata_names(self, groups: Iterable[_Group]) -> frozenset[str]:
        """Every name the structured metadata of these rows can have, as their entries
        hold it: an ``_extracted`` one too, in case it clashes with a stream label."""
        names = set(FIELD_NAMES)
        for group in groups:
            names.update(group.attributes)
        keys = pc.unique(map_keys(self._table.column("LogAttributes")))
        names.update(self._reader.label_name(key) for key in keys.to_pylist())
        # A map among the values gives names of its own (``parent_child``): flatten the
        # rows with one (their type code starts with ``j``, as arrays' do).
        table = self._table
        for row in rows_with_code(table.column("LogAttributeTypes"), COMPOSITE_CODE):
            values = table.column("LogAttributes")[row].as_py()
            types = table.column("LogAttributeTypes")[row].as_py()
            names.update(flattened(stored_attributes(values, types)))
        names.discard("")
        return frozenset([*names, *(name + EXTRACTED for name in names)])

    def _column_lists(self) -> list[Any]:
        """:data:`_RECORD_COLUMNS` and ``observed_ns`` as Python lists, the attribute maps
        as :class:`MapRows`."""
        found = self._columns
        if found is None:
            table = self._table
            found = [MapRows(table.column(name)) for name in _RECORD_COLUMNS[:2]]
            found += [table.column(name).to_pylist() for name in _RECORD_COLUMNS[2:]]
            found.append(table.column("observed_ns").to_pylist())
            self._columns = found
        return found

    def _attributes(self, values: Any, types: Any) -> dict[str, str]:
        """A record's own attributes, flattened."""
        if not values:
            return {}
        if types and not all(code in _AS_STORED for _, code in types):
            return flattened(stored_attributes(values, types))
        # Strings, ints, bools and bytes only: each value's stored text is its label.
        name_of = self._reader.label_name
        found: dict[str, str] = {}
        for key, value in values:
            name = name_of(key)
            if name:
                found[name] = value
        return found

    def metadata(self, row: int) -> dict[str, str]:
        """The structured metadata of the record in ``row`` (``_labels``'s
        ``record_metadata`` and its ``detected_level``)."""
        attributes, types, *scalars = self._column_lists()
        trace_id, span_id, flags, number, text, event_name, dropped, is_observed, observed = (
            column[row] for column in scalars
        )
        group = self._groups[row]
        own = self._attributes(attributes.pairs(row), types.pairs(row))
        if group.pushed:
            found = own
        else:
            # record_metadata's fields, in its order, each where set.
            found = dict(group.attributes)
            found.update(own)
            if trace_id:
                found["trace_id"] = trace_id.hex()
            if span_id:
                found["span_id"] = span_id.hex()
            if number:
                found["severity_number"] = str(number)
            if text:
                found["severity_text"] = text
            if flags:
                found["flags"] = str(flags)
            if dropped:
                found["dropped_attributes_count"] = str(dropped)
            if event_name:
                found["event_name"] = event_name
            if observed and not is_observed:
                found["observed_timestamp"] = str(observed)
            found.update(group.scope_fields)
        if DETECTED_LEVEL not in found:
            # The labels are read only without a severity text: merge them only then.
            labels = found if text else {**found, **group.stream}
            found[DETECTED_LEVEL] = detected_level(
                text or "", number or 0, labels, self._lines[row]
            )
        return found
