"""The tables every backend stores, as Arrow schemas.

Names follow the OpenTelemetry Collector's ClickHouse exporter (``otel_traces``,
``otel_logs``, ``otel_metrics_*``; ``Timestamp``, ``TraceId``, ``ServiceName``, ...) so
tools that read that schema read otelite's. Where that exporter loses information,
otelite adds columns so that OTLP goes out exactly as it came in:

* every attribute map has a companion ``...AttributeTypes`` map (see ``_attributes``);
* ids are raw bytes (16 for traces, 8 for spans, empty when absent), not hex;
* enums (``SpanKind``, ``StatusCode``, ``SeverityNumber``, ``AggregationTemporality``)
  are the OTLP integers;
* dropped counts, flags, schema URLs and raw end times are kept;
* numeric values remember whether they were ints (``ValueInt``).

``Duration`` is derived: ``max(0, end - start)`` in nanoseconds, so a span whose end is
before its start never wraps to centuries. The raw ``EndTimestamp`` is kept beside it.
Backends map these Arrow types to their own column types in their dialect.
"""

from __future__ import annotations

import pyarrow as pa

from otelite.storage._attributes import ATTRIBUTE_MAP, types_column_name

__all__ = [
    "LOGS",
    "METRICS_EXPONENTIAL_HISTOGRAM",
    "METRICS_GAUGE",
    "METRICS_HISTOGRAM",
    "METRICS_SUM",
    "METRICS_SUMMARY",
    "METRIC_TABLES",
    "NEWER_SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "TRACES",
    "TRACE_ID_TS",
    "flattened",
    "table_name",
    "timestamps",
]

TIMESTAMP = pa.timestamp("ns")


def timestamps(values: list[int]) -> pa.Array:
    """OTLP times (uint64 ns) as a ``TIMESTAMP`` column, bit for bit.

    Reinterpreting the bits keeps every OTLP time, also one past 2262 (which validation
    rejects), so such a value comes back unchanged instead of failing a whole batch.
    """
    return pa.array(values, pa.uint64()).view(TIMESTAMP)


def _attributes(name: str) -> list[pa.Field]:
    return [pa.field(name, ATTRIBUTE_MAP), pa.field(types_column_name(name), ATTRIBUTE_MAP)]


def _resource_and_scope() -> list[pa.Field]:
    return [
        pa.field("ServiceName", pa.string()),
        *_attributes("ResourceAttributes"),
        pa.field("ResourceDroppedAttributesCount", pa.uint32()),
        pa.field("ResourceSchemaUrl", pa.string()),
        pa.field("ScopeName", pa.string()),
        pa.field("ScopeVersion", pa.string()),
        *_attributes("ScopeAttributes"),
        pa.field("ScopeDroppedAttributesCount", pa.uint32()),
        pa.field("ScopeSchemaUrl", pa.string()),
    ]


_EVENT = pa.struct(
    [
        pa.field("Timestamp", TIMESTAMP),
        pa.field("Name", pa.string()),
        *_attributes("Attributes"),
        pa.field("DroppedAttributesCount", pa.uint32()),
    ]
)
_LINK = pa.struct(
    [
        pa.field("TraceId", pa.binary()),
        pa.field("SpanId", pa.binary()),
        pa.field("TraceState", pa.string()),
        *_attributes("Attributes"),
        pa.field("DroppedAttributesCount", pa.uint32()),
        pa.field("Flags", pa.uint32()),
    ]
)

TRACES = pa.schema(
    [
        pa.field("Timestamp", TIMESTAMP),
        pa.field("TraceId", pa.binary()),
        pa.field("SpanId", pa.binary()),
        pa.field("ParentSpanId", pa.binary()),
        pa.field("TraceState", pa.string()),
        pa.field("Flags", pa.uint32()),
        pa.field("SpanName", pa.string()),
        pa.field("SpanKind", pa.int32()),
        *_resource_and_scope(),
        *_attributes("SpanAttributes"),
        pa.field("DroppedAttributesCount", pa.uint32()),
        pa.field("Duration", pa.int64()),
        pa.field("EndTimestamp", TIMESTAMP),
        pa.field("StatusCode", pa.int32()),
        pa.field("StatusMessage", pa.string()),
        pa.field("Events", pa.list_(_EVENT)),
        pa.field("DroppedEventsCount", pa.uint32()),
        pa.field("Links", pa.list_(_LINK)),
        pa.field("DroppedLinksCount", pa.uint32()),
    ],
    metadata={"table": "otel_traces"},
)

# One row per trace and written batch: where in time a trace's spans lie, so that a
# lookup by id reads only the row groups of that time range.
TRACE_ID_TS = pa.schema(
    [
        pa.field("TraceId", pa.binary()),
        pa.field("Start", TIMESTAMP),
        pa.field("End", TIMESTAMP),
    ],
    metadata={"table": "otel_traces_trace_id_ts"},
)

LOGS = pa.schema(
    [
        # The record's time, or its observed time when the record has none (OTLP allows 0);
        # TimestampIsObserved says which, so the original goes back out unchanged.
        pa.field("Timestamp", TIMESTAMP),
        pa.field("TimestampIsObserved", pa.bool_()),
        pa.field("ObservedTimestamp", TIMESTAMP),
        pa.field("TraceId", pa.binary()),
        pa.field("SpanId", pa.binary()),
        pa.field("TraceFlags", pa.uint32()),
        pa.field("SeverityText", pa.string()),
        pa.field("SeverityNumber", pa.int32()),
        pa.field("EventName", pa.string()),
        # String bodies as they are; any other AnyValue in the attribute text form, with
        # BodyType its type code ("" for a string, "n" when the record has no body).
        pa.field("Body", pa.string()),
        pa.field("BodyType", pa.string()),
        *_resource_and_scope(),
        *_attributes("LogAttributes"),
        pa.field("DroppedAttributesCount", pa.uint32()),
    ],
    metadata={"table": "otel_logs"},
)

_EXEMPLAR = pa.struct(
    [
        *_attributes("FilteredAttributes"),
        pa.field("TimeUnix", TIMESTAMP),
        pa.field("Value", pa.float64()),
        pa.field("ValueInt", pa.int64()),  # set when the exemplar was as_int
        pa.field("SpanId", pa.binary()),
        pa.field("TraceId", pa.binary()),
    ]
)


def _metric_fields(*specific: pa.Field) -> list[pa.Field]:
    return [
        *_resource_and_scope(),
        pa.field("MetricName", pa.string()),
        pa.field("MetricDescription", pa.string()),
        pa.field("MetricUnit", pa.string()),
        *_attributes("MetricMetadata"),
        *_attributes("Attributes"),
        pa.field("StartTimeUnix", TIMESTAMP),
        pa.field("TimeUnix", TIMESTAMP),
        pa.field("Flags", pa.uint32()),
        pa.field("Exemplars", pa.list_(_EXEMPLAR)),
        *specific,
    ]


_NUMBER = [
    pa.field("Value", pa.float64()),  # null when the point carries no value
    pa.field("ValueInt", pa.int64()),  # set when the point was as_int
]
_TEMPORALITY = pa.field("AggregationTemporality", pa.int32())

METRICS_GAUGE = pa.schema(_metric_fields(*_NUMBER), metadata={"table": "otel_metrics_gauge"})
METRICS_SUM = pa.schema(
    _metric_fields(*_NUMBER, _TEMPORALITY, pa.field("IsMonotonic", pa.bool_())),
    metadata={"table": "otel_metrics_sum"},
)
METRICS_HISTOGRAM = pa.schema(
    _metric_fields(
        pa.field("Count", pa.uint64()),
        pa.field("Sum", pa.float64()),  # null when absent
        pa.field("BucketCounts", pa.list_(pa.uint64())),
        pa.field("ExplicitBounds", pa.list_(pa.float64())),
        pa.field("Min", pa.float64()),
        pa.field("Max", pa.float64()),
        _TEMPORALITY,
    ),
    metadata={"table": "otel_metrics_histogram"},
)
METRICS_EXPONENTIAL_HISTOGRAM = pa.schema(
    _metric_fields(
        pa.field("Count", pa.uint64()),
        pa.field("Sum", pa.float64()),
        pa.field("Scale", pa.int32()),
        pa.field("ZeroCount", pa.uint64()),
        pa.field("ZeroThreshold", pa.float64()),
        pa.field("PositiveOffset", pa.int32()),  # null when the positive buckets are absent
        pa.field("PositiveBucketCounts", pa.list_(pa.uint64())),
        pa.field("NegativeOffset", pa.int32()),
        pa.field("NegativeBucketCounts", pa.list_(pa.uint64())),
        pa.field("Min", pa.float64()),
        pa.field("Max", pa.float64()),
        _TEMPORALITY,
    ),
    metadata={"table": "otel_metrics_exponential_histogram"},
)
METRICS_SUMMARY = pa.schema(
    _metric_fields(
        pa.field("Count", pa.uint64()),
        pa.field("Sum", pa.float64()),
        pa.field(
            "ValueAtQuantiles",
            pa.list_(
                pa.struct([pa.field("Quantile", pa.float64()), pa.field("Value", pa.float64())])
            ),
        ),
    ),
    metadata={"table": "otel_metrics_summary"},
)

METRIC_TABLES: dict[str, pa.Schema] = {
    "gauge": METRICS_GAUGE,
    "sum": METRICS_SUM,
    "histogram": METRICS_HISTOGRAM,
    "exponential_histogram": METRICS_EXPONENTIAL_HISTOGRAM,
    "summary": METRICS_SUMMARY,
}


_ENVELOPE_COLUMNS = frozenset(field.name for field in _resource_and_scope())


def flattened(schema: pa.Schema) -> pa.Schema:
    """``schema`` as flattening produces its rows: resource and scope columns dictionary-encoded.

    Every row repeats its resource and scope, a few of them per request; as dictionaries
    they are built and handed over once per envelope instead of once per row (a span's
    resource attributes are about 40% of its flattened size), and DuckDB inserts them
    faster. Stored columns and query results have the plain types of ``schema``.
    """
    return pa.schema(
        [
            field.with_type(pa.dictionary(pa.int32(), field.type))
            if field.name in _ENVELOPE_COLUMNS
            else field
            for field in schema
        ],
        metadata=schema.metadata,
    )


def table_name(schema: pa.Schema) -> str:
    """The table a schema describes."""
    name: bytes = schema.metadata[b"table"]
    return name.decode()


TABLES: tuple[pa.Schema, ...] = (TRACES, TRACE_ID_TS, LOGS, *METRIC_TABLES.values())

SCHEMA_VERSION = 3
"""The version of the layout otelite writes, recorded in every store it opens.

A store recorded at an older version is brought up to this one when it opens (DuckDB:
1, attribute maps as ``MAP`` columns; 2, maps as structs of two lists; 3, span ends as
offsets. ClickHouse: otelite's extra columns are added to tables that lack them). A store
recorded at a newer version was written by a newer otelite, which may have changed what
this one would write into: it is refused, with what to do. Stores from before versions
were recorded count as 0.
"""

NEWER_SCHEMA = (
    "storage: {where} was written by a newer otelite (storage schema {found}; this otelite "
    "knows up to {known}): upgrade otelite (every process sharing the store), or point it "
    "at another store"
)
"""The refusal, for every backend (``str.format`` with ``where``, ``found``, ``known``)."""
