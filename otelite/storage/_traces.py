"""Spans ↔ rows of ``otel_traces``, losslessly, plus the trace-id → time-range index rows.

Flattening is the ingest hot path: it reads each request as its view with attributes
left encoded (``_wire``), each column is one Python list filled by a comprehension over
all spans of all requests, attribute maps go through ``AttributeColumns`` and each
resource and scope is converted once per request by ``EnvelopeColumns``. No per-span
dict is made. Rebuilding (reads) goes the other way row by row, which is fine for the
sizes a read returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from otelite.storage._attributes import AttributeColumns, key_values_from_maps
from otelite.storage._envelope import EnvelopeColumns, Regrouper
from otelite.storage._schema import TIMESTAMP, TRACE_ID_TS, TRACES, flattened, timestamps
from otelite.storage._wire import encoded_views
from otelite.types import ExportTraceServiceRequest

__all__ = [
    "END_OFFSET",
    "end_offsets",
    "traces_from_table",
    "traces_to_tables",
    "with_end_timestamps",
]

_EVENT = TRACES.field("Events").type.value_type
_LINK = TRACES.field("Links").type.value_type
_EVENTS_AS_INTS = pa.list_(
    pa.struct([f.with_type(pa.int64()) if f.name == "Timestamp" else f for f in _EVENT])
)


_U64 = 2**64 - 1
_INT64_MAX = 2**63 - 1


def _duration(starts: pa.Array, ends: pa.Array) -> pa.Array:
    """``max(0, end - start)`` on the unsigned values, so nothing can wrap."""
    elapsed = pc.if_else(
        pc.greater_equal(ends, starts), pc.subtract(ends, starts), pa.scalar(0, pa.uint64())
    )
    return pc.min_element_wise(elapsed, pa.scalar(_INT64_MAX, pa.uint64())).cast(pa.int64())


_Rows = TypeVar("_Rows", pa.Table, pa.RecordBatch)

END_OFFSET = "EndTimestampOffset"
"""How a store may keep ``EndTimestamp``: its distance from ``Timestamp`` + ``Duration``.

That distance is 0 except for a span that ends before it starts (``Duration`` is 0 then),
so the column costs almost nothing on disk, where the end itself costs as much as the
start (~6 B a span). The arithmetic wraps on 64 bits both ways, so every end comes back
exactly, however far it lies from the start.
"""


def end_offsets(table: pa.Table) -> pa.Array:
    """``END_OFFSET`` of each row of an ``otel_traces`` table: end - start - duration."""
    start = table.column("Timestamp").cast(pa.int64())
    span = pc.subtract(table.column("EndTimestamp").cast(pa.int64()), start)
    return pc.subtract(span, table.column("Duration")).combine_chunks()


def with_end_timestamps(table: _Rows) -> _Rows:
    """``table`` (or a batch of it) with its ``END_OFFSET`` column back as ``EndTimestamp``."""
    index = table.schema.get_field_index(END_OFFSET)
    if index < 0:
        return table
    start = table.column("Timestamp").cast(pa.int64())
    end = pc.add(pc.add(start, table.column("Duration")), table.column(index))
    return table.set_column(index, pa.field("EndTimestamp", TIMESTAMP), end.cast(TIMESTAMP))


def _events(spans: list[Any]) -> pa.Array:
    offsets = [0]
    times: list[int] = []
    names: list[str] = []
    dropped: list[int] = []
    attributes = AttributeColumns()
    total = 0
    for span in spans:
        events = span.events
        if events:
            for event in events:
                times.append(event.time_unix_nano)
                names.append(event.name)
                attributes.append(event.attributes)
                dropped.append(event.dropped_attributes_count)
            total += len(events)
        offsets.append(total)
    values, types = attributes.arrays()
    struct = pa.StructArray.from_arrays(
        [
            timestamps(times),
            pa.array(names, pa.string()),
            values,
            types,
            pa.array(dropped, pa.uint32()),
        ],
        fields=list(_EVENT),
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct)


def _links(spans: list[Any]) -> pa.Array:
    offsets = [0]
    trace_ids: list[bytes] = []
    span_ids: list[bytes] = []
    states: list[str] = []
    dropped: list[int] = []
    flags: list[int] = []
    attributes = AttributeColumns()
    total = 0
    for span in spans:
        links = span.links
        if links:
            for link in links:
                trace_ids.append(link.trace_id)
                span_ids.append(link.span_id)
                states.append(link.trace_state)
                attributes.append(link.attributes)
                dropped.append(link.dropped_attributes_count)
                flags.append(link.flags)
            total += len(links)
        offsets.append(total)
    values, types = attributes.arrays()
    struct = pa.StructArray.from_arrays(
        [
            pa.array(trace_ids, pa.binary()),
            pa.array(span_ids, pa.binary()),
            pa.array(states, pa.string()),
            values,
            types,
            pa.array(dropped, pa.uint32()),
            pa.array(flags, pa.uint32()),
        ],
        fields=list(_LINK),
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct)


def traces_to_tables(
    requests: Sequence[ExportTraceServiceRequest | bytes],
) -> tuple[pa.Table, pa.Table]:
    """Flatten requests into ``otel_traces`` rows and ``otel_traces_trace_id_ts`` rows.

    The second table has one row per distinct trace id: the earliest span start and the
    latest span start or end, so a lookup restricted to that range finds every span.
    """
    envelopes = EnvelopeColumns()
    spans = envelopes.items(
        encoded_views(ExportTraceServiceRequest, requests), "resource_spans", "scope_spans", "spans"
    )

    attributes = AttributeColumns()
    append_attributes = attributes.append
    for span in spans:
        append_attributes(span.attributes)
    span_attributes, span_attribute_types = attributes.arrays()

    starts = pa.array([s.start_time_unix_nano for s in spans], pa.uint64())
    ends = pa.array([s.end_time_unix_nano for s in spans], pa.uint64())
    statuses = [s.status for s in spans]
    trace_ids = pa.array([s.trace_id for s in spans], pa.binary())

    columns: dict[str, pa.Array] = {
        "Timestamp": starts.view(TIMESTAMP),
        "TraceId": trace_ids,
        "SpanId": pa.array([s.span_id for s in spans], pa.binary()),
        "ParentSpanId": pa.array([s.parent_span_id for s in spans], pa.binary()),
        "TraceState": pa.array([s.trace_state for s in spans], pa.string()),
        "Flags": pa.array([s.flags for s in spans], pa.uint32()),
        "SpanName": pa.array([s.name for s in spans], pa.string()),
        "SpanKind": pa.array([s.kind for s in spans], pa.int32()),
        **envelopes.arrays(),
        "SpanAttributes": span_attributes,
        "SpanAttributeTypes": span_attribute_types,
        "DroppedAttributesCount": pa.array(
            [s.dropped_attributes_count for s in spans], pa.uint32()
        ),
        "Duration": _duration(starts, ends),
        "EndTimestamp": ends.view(TIMESTAMP),
        "StatusCode": pa.array([s.code for s in statuses], pa.int32()),
        "StatusMessage": pa.array([s.message for s in statuses], pa.string()),
        "Events": _events(spans),
        "DroppedEventsCount": pa.array([s.dropped_events_count for s in spans], pa.uint32()),
        "Links": _links(spans),
        "DroppedLinksCount": pa.array([s.dropped_links_count for s in spans], pa.uint32()),
    }
    table = pa.Table.from_arrays([columns[f.name] for f in TRACES], schema=flattened(TRACES))

    # A span ending before it starts still lies at its start: the range covers both.
    start_ns = starts.view(pa.int64())
    upper = pc.max_element_wise(start_ns, ends.view(pa.int64()))
    ranges = (
        pa.table({"TraceId": trace_ids, "Start": start_ns, "End": upper})
        .group_by("TraceId")
        .aggregate([("Start", "min"), ("End", "max")])
    )
    index = pa.Table.from_arrays(
        [
            ranges["TraceId"],
            ranges["Start_min"].cast(TIMESTAMP),
            ranges["End_max"].cast(TIMESTAMP),
        ],
        schema=TRACE_ID_TS,
    )
    return table, index


def traces_from_table(table: pa.Table) -> ExportTraceServiceRequest:
    """Rebuild one request from ``otel_traces`` rows, regrouped by resource and scope."""
    request = ExportTraceServiceRequest()
    regrouper = Regrouper(request, "resource_spans", "scope_spans")
    for row in _rows(table):
        span = regrouper.scope_for(row).spans.add()
        span.trace_id = row["TraceId"]
        span.span_id = row["SpanId"]
        span.parent_span_id = row["ParentSpanId"]
        span.trace_state = row["TraceState"]
        span.flags = row["Flags"]
        span.name = row["SpanName"]
        span.kind = row["SpanKind"]
        span.start_time_unix_nano = row["Timestamp"] & _U64
        span.end_time_unix_nano = row["EndTimestamp"] & _U64
        key_values_from_maps(row["SpanAttributes"], row["SpanAttributeTypes"], span.attributes)
        span.dropped_attributes_count = row["DroppedAttributesCount"]
        if row["StatusCode"] or row["StatusMessage"]:
            span.status.code = row["StatusCode"]
            span.status.message = row["StatusMessage"]
        for event_row in row["Events"]:
            event = span.events.add()
            event.time_unix_nano = event_row["Timestamp"] & _U64
            event.name = event_row["Name"]
            key_values_from_maps(
                event_row["Attributes"], event_row["AttributeTypes"], event.attributes
            )
            event.dropped_attributes_count = event_row["DroppedAttributesCount"]
        span.dropped_events_count = row["DroppedEventsCount"]
        for link_row in row["Links"]:
            link = span.links.add()
            link.trace_id = link_row["TraceId"]
            link.span_id = link_row["SpanId"]
            link.trace_state = link_row["TraceState"]
            key_values_from_maps(
                link_row["Attributes"], link_row["AttributeTypes"], link.attributes
            )
            link.dropped_attributes_count = link_row["DroppedAttributesCount"]
            link.flags = link_row["Flags"]
        span.dropped_links_count = row["DroppedLinksCount"]
    return request


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    # Times as integers (Python datetimes would drop the nanoseconds); callers mask them
    # back to the unsigned bits they were stored from.
    columns = []
    for name in TRACES.names:
        column = table.column(name)
        if name in ("Timestamp", "EndTimestamp"):
            column = column.cast(pa.int64())
        elif name == "Events":
            column = column.cast(_EVENTS_AS_INTS)
        columns.append(column)
    rows: list[dict[str, Any]] = pa.Table.from_arrays(columns, names=TRACES.names).to_pylist()
    return rows
