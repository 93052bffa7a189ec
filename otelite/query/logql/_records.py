"""Stored log records as LogQL entries: the columns a log query reads, and each row's
time, line, stream labels and structured metadata (``_labels`` defines them).

Stream labels are shared by the records of a stream and computed once per stream;
resource and scope attributes are converted once per distinct set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otelite.query._plan import Call, Column, Output
from otelite.query.logql._entries import Entries, EntryLabels
from otelite.query.logql._labels import (
    DETECTED_LEVEL,
    PUSH_SCOPE,
    RecordFields,
    detected_level,
    flattened,
    record_metadata,
    shared_metadata,
    stream_labels,
)
from otelite.storage import stored_attributes

__all__ = ["RECORD_OUTPUTS", "RecordReader"]

_COLUMNS = (
    "Body",
    "ResourceAttributes",
    "ResourceAttributeTypes",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeAttributeTypes",
    "ScopeDroppedAttributesCount",
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
    *(Output(name, Column(name)) for name in _COLUMNS),
)
"""What a log query reads of each record; ``time_ns`` orders them."""

_Pairs = tuple[tuple[str, str], ...]


class RecordReader:
    """Turns rows of :data:`RECORD_OUTPUTS` into entries; one per query, so that what
    several batches share is computed once."""

    def __init__(self) -> None:
        self._streams: dict[tuple[_Pairs, str], dict[str, str]] = {}
        self._attributes: dict[tuple[_Pairs, _Pairs], list[tuple[str, AnyValue]]] = {}
        self._shared: dict[tuple[_Pairs, ...], dict[str, str]] = {}

    def entries(self, table: pa.Table) -> Entries:
        """The records of ``table``, in its order."""
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        times: list[int] = columns["time_ns"]
        lines: list[str] = [body or "" for body in columns["Body"]]
        labels = [self._labels(row, columns, lines[row], times[row]) for row in range(len(times))]
        return Entries(times, lines, labels)

    def stream(self, resource: Sequence[tuple[str, str]] | None, scope_name: str) -> dict[str, str]:
        """The stream labels of a record with these resource attributes and scope."""
        key = (tuple(resource or ()), scope_name)
        found = self._streams.get(key)
        if found is None:
            found = self._streams[key] = stream_labels(dict(key[0]), scope_name)
        return found

    def _converted(self, values: Any, types: Any) -> list[tuple[str, AnyValue]]:
        if not values:
            return []
        key = (tuple(values), tuple(types or ()))
        found = self._attributes.get(key)
        if found is None:
            found = self._attributes[key] = stored_attributes(values, types)
        return found

    def _shared_metadata(
        self, resource: Any, resource_types: Any, scope: Any, scope_types: Any
    ) -> dict[str, str]:
        """What ``shared_metadata`` gives the records of a resource and scope, once."""
        key = tuple(tuple(pairs or ()) for pairs in (resource, resource_types, scope, scope_types))
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = shared_metadata(
                self._converted(resource, resource_types), self._converted(scope, scope_types)
            )
        return found

    def _labels(
        self, row: int, columns: dict[str, list[Any]], line: str, time_ns: int
    ) -> EntryLabels:
        def column(name: str) -> Any:
            return columns[name][row]

        resource = column("ResourceAttributes")
        scope_name: str = column("ScopeName") or ""
        stream = self.stream(resource, scope_name)
        observed = column("observed_ns")
        fields = RecordFields(
            trace_id=column("TraceId") or b"",
            span_id=column("SpanId") or b"",
            severity_number=column("SeverityNumber") or 0,
            severity_text=column("SeverityText") or "",
            flags=column("TraceFlags") or 0,
            dropped_attributes_count=column("DroppedAttributesCount") or 0,
            event_name=column("EventName") or "",
            observed_ns=observed if observed and not column("TimestampIsObserved") else None,
            scope_name=scope_name,
            scope_version=column("ScopeVersion") or "",
            scope_dropped_attributes_count=column("ScopeDroppedAttributesCount") or 0,
        )
        attributes = stored_attributes(column("LogAttributes"), column("LogAttributeTypes"))
        if scope_name == PUSH_SCOPE:
            metadata = flattened(attributes)
        else:
            shared = self._shared_metadata(
                resource,
                column("ResourceAttributeTypes"),
                column("ScopeAttributes"),
                column("ScopeAttributeTypes"),
            )
            metadata = record_metadata(shared, attributes, fields)
        if DETECTED_LEVEL not in metadata:
            metadata[DETECTED_LEVEL] = detected_level(
                fields.severity_text, fields.severity_number, {**metadata, **stream}, line
            )
        return EntryLabels(stream, metadata)
