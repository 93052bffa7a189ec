"""Log records ↔ rows of ``otel_logs``, losslessly.

``Timestamp`` is the record's time, or its observed time when the record has none
(``TimestampIsObserved``), so every row sorts and prunes by a real time. A string body is
stored as it is; any other body in the attribute text form with its type code in
``BodyType`` (``"n"`` when there is no body at all).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from otelite.storage._attributes import (
    AttributeColumns,
    any_value_from_text,
    any_value_to_text,
    key_values_from_maps,
)
from otelite.storage._envelope import EnvelopeColumns, Regrouper
from otelite.storage._schema import LOGS, flattened, timestamps
from otelite.storage._wire import encoded_views
from otelite.types import ExportLogsServiceRequest

__all__ = ["logs_from_table", "logs_to_table"]

_NO_BODY = "n"
_U64 = 2**64 - 1


# Every scalar field a row takes from its record, read in one C call per record: a third
# cheaper than a comprehension per field. ``body.string_value`` is the text of a string
# body (the common case); other bodies are found where it is empty (see ``_bodies``).
_FIELDS = (
    "time_unix_nano",
    "observed_time_unix_nano",
    "trace_id",
    "span_id",
    "flags",
    "severity_text",
    "severity_number",
    "event_name",
    "dropped_attributes_count",
    "body.string_value",
)
_read_fields = operator.attrgetter(*_FIELDS)


def _bodies(records: list[Any], texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """``Body`` and ``BodyType`` of each record, given the ``string_value`` of each body.

    A non-empty ``string_value`` can only be a string body; an empty one may also be no
    body, an empty body, or another kind, so only those records are looked at again.
    """
    bodies = list(texts)
    types = ["" if text else _NO_BODY for text in texts]
    for row, text in enumerate(texts):
        if not text and records[row].HasField("body"):
            body, code = any_value_to_text(records[row].body)
            bodies[row] = body
            types[row] = code or ""
    return bodies, types


def logs_to_table(requests: Sequence[ExportLogsServiceRequest | bytes]) -> pa.Table:
    """Flatten requests into ``otel_logs`` rows."""
    envelopes = EnvelopeColumns()
    records = envelopes.items(
        encoded_views(ExportLogsServiceRequest, requests),
        "resource_logs",
        "scope_logs",
        "log_records",
    )

    attributes = AttributeColumns()
    append_attributes = attributes.append
    for record in records:
        append_attributes(record.attributes)
    log_attributes, log_attribute_types = attributes.arrays()

    fields: list[Sequence[Any]] = (
        list(zip(*map(_read_fields, records), strict=True)) if records else [()] * len(_FIELDS)
    )
    times, observed, trace_ids, span_ids, flags, severity_texts = fields[:6]
    severity_numbers, event_names, dropped, texts = fields[6:]
    is_observed = [t == 0 for t in times]
    bodies, body_types = _bodies(records, texts)
    columns: dict[str, pa.Array] = {
        "Timestamp": timestamps(
            [o if unset else t for t, o, unset in zip(times, observed, is_observed, strict=True)]
        ),
        "TimestampIsObserved": pa.array(is_observed, pa.bool_()),
        "ObservedTimestamp": timestamps(list(observed)),
        "TraceId": pa.array(trace_ids, pa.binary()),
        "SpanId": pa.array(span_ids, pa.binary()),
        "TraceFlags": pa.array(flags, pa.uint32()),
        "SeverityText": pa.array(severity_texts, pa.string()),
        "SeverityNumber": pa.array(severity_numbers, pa.int32()),
        "EventName": pa.array(event_names, pa.string()),
        "Body": pa.array(bodies, pa.string()),
        "BodyType": pa.array(body_types, pa.string()),
        **envelopes.arrays(),
        "LogAttributes": log_attributes,
        "LogAttributeTypes": log_attribute_types,
        "DroppedAttributesCount": pa.array(dropped, pa.uint32()),
    }
    return pa.Table.from_arrays([columns[f.name] for f in LOGS], schema=flattened(LOGS))


def logs_from_table(table: pa.Table) -> ExportLogsServiceRequest:
    """Rebuild one request from ``otel_logs`` rows, regrouped by resource and scope."""
    request = ExportLogsServiceRequest()
    regrouper = Regrouper(request, "resource_logs", "scope_logs")
    for row in _rows(table):
        record = regrouper.scope_for(row).log_records.add()
        if not row["TimestampIsObserved"]:
            record.time_unix_nano = row["Timestamp"] & _U64
        record.observed_time_unix_nano = row["ObservedTimestamp"] & _U64
        record.trace_id = row["TraceId"]
        record.span_id = row["SpanId"]
        record.flags = row["TraceFlags"]
        record.severity_text = row["SeverityText"]
        record.severity_number = row["SeverityNumber"]
        record.event_name = row["EventName"]
        body_type = row["BodyType"]
        if body_type != _NO_BODY:
            # Set presence first: an empty AnyValue body is still a body.
            record.body.SetInParent()
            any_value_from_text(row["Body"], body_type or None, record.body)
        key_values_from_maps(row["LogAttributes"], row["LogAttributeTypes"], record.attributes)
        record.dropped_attributes_count = row["DroppedAttributesCount"]
    return request


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    # Times as integers (Python datetimes would drop the nanoseconds); callers mask them
    # back to the unsigned bits they were stored from.
    columns = [
        table.column(name).cast(pa.int64())
        if name in ("Timestamp", "ObservedTimestamp")
        else table.column(name)
        for name in LOGS.names
    ]
    rows: list[dict[str, Any]] = pa.Table.from_arrays(columns, names=LOGS.names).to_pylist()
    return rows
