"""Log records ↔ rows of ``otel_logs``, losslessly.

``Timestamp`` is the record's time, or its observed time when the record has none
(``TimestampIsObserved``), so every row sorts and prunes by a real time. A string body is
stored as it is; any other body in the attribute text form with its type code in
``BodyType`` (``"n"`` when there is no body at all).
"""

from __future__ import annotations

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
from otelite.storage._schema import LOGS, timestamps
from otelite.storage._wire import encoded_views
from otelite.types import ExportLogsServiceRequest

__all__ = ["logs_from_table", "logs_to_table"]

_NO_BODY = "n"
_U64 = 2**64 - 1


def _bodies(records: list[Any]) -> tuple[list[str], list[str]]:
    bodies: list[str] = []
    types: list[str] = []
    for record in records:
        if not record.HasField("body"):
            bodies.append("")
            types.append(_NO_BODY)
            continue
        text, code = any_value_to_text(record.body)
        bodies.append(text)
        types.append(code or "")
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

    observed = [r.observed_time_unix_nano for r in records]
    times = [r.time_unix_nano for r in records]
    is_observed = [t == 0 for t in times]
    bodies, body_types = _bodies(records)
    columns: dict[str, pa.Array] = {
        "Timestamp": timestamps(
            [o if unset else t for t, o, unset in zip(times, observed, is_observed, strict=True)]
        ),
        "TimestampIsObserved": pa.array(is_observed, pa.bool_()),
        "ObservedTimestamp": timestamps(observed),
        "TraceId": pa.array([r.trace_id for r in records], pa.binary()),
        "SpanId": pa.array([r.span_id for r in records], pa.binary()),
        "TraceFlags": pa.array([r.flags for r in records], pa.uint32()),
        "SeverityText": pa.array([r.severity_text for r in records], pa.string()),
        "SeverityNumber": pa.array([r.severity_number for r in records], pa.int32()),
        "EventName": pa.array([r.event_name for r in records], pa.string()),
        "Body": pa.array(bodies, pa.string()),
        "BodyType": pa.array(body_types, pa.string()),
        **envelopes.arrays(),
        "LogAttributes": log_attributes,
        "LogAttributeTypes": log_attribute_types,
        "DroppedAttributesCount": pa.array(
            [r.dropped_attributes_count for r in records], pa.uint32()
        ),
    }
    return pa.Table.from_arrays([columns[f.name] for f in LOGS], schema=LOGS)


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
