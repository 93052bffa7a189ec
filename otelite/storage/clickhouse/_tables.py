"""The OpenTelemetry Collector ClickHouse exporter's tables, and otelite's columns beside them.

Column names, types, codecs, keys, partitions and indexes are the exporter's, so Grafana's
ClickHouse data source (OpenTelemetry mode), ClickStack/HyperDX and the exporter itself
read and write these tables as they would the exporter's own. Where the exporter loses
something (attribute types, dropped counts, flags, schema URLs, event and link details,
absent metric values), otelite keeps it in extra columns (``Column.extra``) that all have
defaults, so a row the exporter writes stays valid and reads back as the exporter meant it.

``OteliteInsert`` numbers the insert that wrote a row (0 for rows others wrote); it lets a
restarted otelite remove the rows of an insert it did not finish recording, so that the
replay of its write-ahead log stores nothing twice (``_storage``).
"""

from __future__ import annotations

from dataclasses import dataclass

from otelite.storage._traces import END_OFFSET

__all__ = [
    "DATA_TABLES",
    "INSERT_COLUMN",
    "LOGS",
    "METRICS",
    "STATE",
    "STATE_COLUMNS",
    "TRACES",
    "TRACE_ID_TS",
    "Column",
    "TableDef",
]

INSERT_COLUMN = "OteliteInsert"
STATE = "otelite_state"
_MAP = "Map(LowCardinality(String), String)"
_LC = "LowCardinality(String)"
_ZSTD = "ZSTD(1)"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    codec: str | None = _ZSTD
    default: str | None = None
    extra: bool = False
    """Not in the exporter's table: otelite's, with a default for rows the exporter writes."""
    materialized: str | None = None
    """Computed by ClickHouse from other columns on insert (never written)."""

    def ddl(self, quote: str = "`") -> str:
        text = f"{quote}{self.name}{quote} {self.type}"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        if self.materialized is not None:
            text += f" MATERIALIZED {self.materialized}"
        if self.codec is not None:
            text += f" CODEC({self.codec})"
        return text


def _extra(name: str, type_: str, default: str | None = None, codec: str | None = _ZSTD) -> Column:
    return Column(name, type_, codec=codec, default=default, extra=True)


STATE_COLUMNS = (
    Column("Writer", "String", codec=None),
    Column("Insert", "UInt64", codec=None),
    Column("WalPosition", "Int64", codec=None),
    Column("IngestState", "String", codec=None),
    # Added after the table was first made: a default, so older rows read as version 0.
    Column("SchemaVersion", "UInt32", codec=None, default="0"),
)
"""``otelite_state``: one row per insert otelite finished, with the write-ahead-log position
its writer (one per log) has stored up to, and the storage schema it wrote."""


def _per_item(sibling: str, value: str) -> str:
    """A default array with one ``value`` per element of the nested column ``sibling``."""
    return f"arrayMap(x -> {value}, `{sibling}`)"


@dataclass(frozen=True, slots=True)
class TableDef:
    name: str
    columns: tuple[Column, ...]
    engine_tail: str
    """``PARTITION BY``, keys and ``TTL`` placeholder ``{ttl}``, then ``SETTINGS``."""
    indexes: tuple[tuple[str, str, str], ...]
    """(name, expression, kind): kind ``id`` (a trace id), ``keys``/``values`` (of a map),
    ``minmax`` or ``tokens`` (words of text)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _attribute_types(name: str) -> Column:
    return _extra(name, _MAP)


def _map_indexes(*columns: tuple[str, str]) -> tuple[tuple[str, str, str], ...]:
    indexes = []
    for short, column in columns:
        indexes.append((f"idx_{short}_attr_key", f"mapKeys({column})", "keys"))
        indexes.append((f"idx_{short}_attr_value", f"mapValues({column})", "values"))
    return tuple(indexes)


_EVENTS = "Nested(Timestamp DateTime64(9), Name LowCardinality(String), Attributes " + _MAP + ")"
_LINKS = "Nested(TraceId String, SpanId String, TraceState String, Attributes " + _MAP + ")"
_EMPTY_MAP = f"CAST(map(), '{_MAP}')"

TRACES = TableDef(
    "otel_traces",
    (
        Column("Timestamp", "DateTime64(9)", codec="Delta, ZSTD(1)"),
        Column("TraceId", "String"),
        Column("SpanId", "String"),
        Column("ParentSpanId", "String"),
        Column("TraceState", "String"),
        Column("SpanName", _LC),
        Column("SpanKind", _LC),
        Column("ServiceName", _LC),
        Column("ResourceAttributes", _MAP),
        Column("ScopeName", "String"),
        Column("ScopeVersion", "String"),
        Column("SpanAttributes", _MAP),
        Column("Duration", "UInt64"),
        Column("StatusCode", _LC),
        Column("StatusMessage", "String"),
        Column("Events", _EVENTS),
        Column("Links", _LINKS),
        _extra("Flags", "UInt32"),
        _attribute_types("ResourceAttributeTypes"),
        _extra("ResourceDroppedAttributesCount", "UInt32"),
        _extra("ResourceSchemaUrl", _LC),
        _extra("ScopeAttributes", _MAP),
        _attribute_types("ScopeAttributeTypes"),
        _extra("ScopeDroppedAttributesCount", "UInt32"),
        _extra("ScopeSchemaUrl", _LC),
        _attribute_types("SpanAttributeTypes"),
        _extra("DroppedAttributesCount", "UInt32"),
        _extra(END_OFFSET, "Int64"),
        _extra("DroppedEventsCount", "UInt32"),
        _extra("DroppedLinksCount", "UInt32"),
        _extra("EventsAttributeTypes", f"Array({_MAP})", _per_item("Events.Name", _EMPTY_MAP)),
        _extra(
            "EventsDroppedAttributesCount",
            "Array(UInt32)",
            _per_item("Events.Name", "toUInt32(0)"),
        ),
        _extra("LinksAttributeTypes", f"Array({_MAP})", _per_item("Links.SpanId", _EMPTY_MAP)),
        _extra(
            "LinksDroppedAttributesCount",
            "Array(UInt32)",
            _per_item("Links.SpanId", "toUInt32(0)"),
        ),
        _extra("LinksFlags", "Array(UInt32)", _per_item("Links.SpanId", "toUInt32(0)")),
        _extra(INSERT_COLUMN, "UInt64", codec=None),
    ),
    "PARTITION BY toDate(Timestamp)\n"
    "PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))\n"
    "ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)\n"
    "{ttl}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1",
    (
        ("idx_trace_id", "TraceId", "id"),
        *_map_indexes(("res", "ResourceAttributes"), ("span", "SpanAttributes")),
        ("idx_duration", "Duration", "minmax"),
        ("idx_lower_span_name", "lower(SpanName)", "tokens"),
    ),
)

# Filled by the materialised view below from every row of otel_traces, whoever wrote it.
TRACE_ID_TS = TableDef(
    "otel_traces_trace_id_ts",
    (
        Column("TraceId", "String"),
        Column("Start", "SimpleAggregateFunction(min, DateTime)", codec="Delta, ZSTD(1)"),
        Column("End", "SimpleAggregateFunction(max, DateTime)", codec="Delta, ZSTD(1)"),
    ),
    "PARTITION BY toStartOfWeek(Start)\nORDER BY TraceId\n"
    "{ttl}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1",
    (),
)

# Resource attributes the exporter copies into columns of their own, for fast filters.
_MATERIALIZED_RESOURCE = (
    "k8s.cluster.name",
    "k8s.container.name",
    "k8s.deployment.name",
    "k8s.namespace.name",
    "k8s.node.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "deployment.environment.name",
)

LOGS = TableDef(
    "otel_logs",
    (
        Column("Timestamp", "DateTime64(9)", codec="Delta(8), ZSTD(1)"),
        Column("TraceId", "String"),
        Column("SpanId", "String"),
        Column("TraceFlags", "UInt8", codec=None),
        Column("SeverityText", _LC),
        Column("SeverityNumber", "UInt8", codec=None),
        Column("ServiceName", _LC),
        Column("Body", "String"),
        Column("ResourceSchemaUrl", _LC),
        Column("ResourceAttributes", _MAP),
        Column("ScopeSchemaUrl", _LC),
        Column("ScopeName", "String"),
        Column("ScopeVersion", _LC),
        Column("ScopeAttributes", _MAP),
        Column("LogAttributes", _MAP),
        Column("EventName", "String"),
        *(
            Column(f"__otel_materialized_{key}", _LC, materialized=f"ResourceAttributes['{key}']")
            for key in _MATERIALIZED_RESOURCE
        ),
        _extra("TimestampIsObserved", "Bool"),
        _extra("ObservedTimestamp", "DateTime64(9)", "Timestamp", codec="Delta(8), ZSTD(1)"),
        _extra("Flags", "UInt32", "TraceFlags"),
        # OTLP's enum is open: a number past UInt8 is kept here (the exporter's column: 0).
        _extra("SeverityNumberValue", "Int32", "SeverityNumber"),
        _extra("BodyType", _LC),
        _attribute_types("ResourceAttributeTypes"),
        _extra("ResourceDroppedAttributesCount", "UInt32"),
        _attribute_types("ScopeAttributeTypes"),
        _extra("ScopeDroppedAttributesCount", "UInt32"),
        _attribute_types("LogAttributeTypes"),
        _extra("DroppedAttributesCount", "UInt32"),
        _extra(INSERT_COLUMN, "UInt64", codec=None),
    ),
    "PARTITION BY toDate(Timestamp)\n"
    "ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)\n"
    "{ttl}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1",
    (
        ("idx_trace_id", "TraceId", "id"),
        *_map_indexes(
            ("res", "ResourceAttributes"), ("scope", "ScopeAttributes"), ("log", "LogAttributes")
        ),
        ("idx_lower_body", "lower(Body)", "tokens"),
    ),
)

_EXEMPLARS = (
    "Nested(FilteredAttributes " + _MAP + ", TimeUnix DateTime64(9), Value Float64, "
    "SpanId String, TraceId String)"
)


def _metric(name: str, *specific: Column, exemplars: bool = True) -> TableDef:
    columns = [
        Column("ResourceAttributes", _MAP),
        Column("ResourceSchemaUrl", "String"),
        Column("ScopeName", "String"),
        Column("ScopeVersion", "String"),
        Column("ScopeAttributes", _MAP),
        Column("ScopeDroppedAttrCount", "UInt32"),
        Column("ScopeSchemaUrl", "String"),
        Column("ServiceName", _LC),
        Column("MetricName", "String"),
        Column("MetricDescription", "String"),
        Column("MetricUnit", "String"),
        Column("Attributes", _MAP),
        Column("StartTimeUnix", "DateTime64(9)", codec="Delta, ZSTD(1)"),
        Column("TimeUnix", "DateTime64(9)", codec="Delta, ZSTD(1)"),
        *specific,
        Column("Flags", "UInt32"),
    ]
    if exemplars:
        columns.append(Column("Exemplars", _EXEMPLARS))
    columns += [
        _attribute_types("ResourceAttributeTypes"),
        _extra("ResourceDroppedAttributesCount", "UInt32"),
        _attribute_types("ScopeAttributeTypes"),
        _extra("MetricMetadata", _MAP),
        _attribute_types("MetricMetadataAttributeTypes"),
        _attribute_types("AttributeTypes"),
        # Logical columns that were NULL (an absent value, sum, min, ...; ``Exemplars.N``
        # for exemplar N without a value): the exporter's columns hold 0 for them.
        _extra("NullColumns", "Array(LowCardinality(String))"),
    ]
    if exemplars:
        columns += [
            _extra(
                "ExemplarsFilteredAttributeTypes",
                f"Array({_MAP})",
                _per_item("Exemplars.TimeUnix", _EMPTY_MAP),
            ),
            _extra(
                "ExemplarsValueInt",
                "Array(Nullable(Int64))",
                _per_item("Exemplars.TimeUnix", "CAST(NULL, 'Nullable(Int64)')"),
            ),
        ]
    columns.append(_extra(INSERT_COLUMN, "UInt64", codec=None))
    return TableDef(
        name,
        tuple(columns),
        "PARTITION BY toDate(TimeUnix)\n"
        "ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))\n"
        "{ttl}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1",
        _map_indexes(
            ("res", "ResourceAttributes"), ("scope", "ScopeAttributes"), ("attr", "Attributes")
        ),
    )


_TEMPORALITY = Column("AggregationTemporality", "Int32")
_VALUE_INT = _extra("ValueInt", "Nullable(Int64)")
_HISTOGRAM_TAIL = (Column("Min", "Float64"), Column("Max", "Float64"), _TEMPORALITY)

METRICS: dict[str, TableDef] = {
    "gauge": _metric("otel_metrics_gauge", Column("Value", "Float64"), _VALUE_INT),
    "sum": _metric(
        "otel_metrics_sum",
        Column("Value", "Float64"),
        _TEMPORALITY,
        Column("IsMonotonic", "Boolean", codec="Delta, ZSTD(1)"),
        _VALUE_INT,
    ),
    "histogram": _metric(
        "otel_metrics_histogram",
        Column("Count", "UInt64", codec="Delta, ZSTD(1)"),
        Column("Sum", "Float64"),
        Column("BucketCounts", "Array(UInt64)"),
        Column("ExplicitBounds", "Array(Float64)"),
        *_HISTOGRAM_TAIL,
    ),
    "exponential_histogram": _metric(
        "otel_metrics_exponential_histogram",
        Column("Count", "UInt64", codec="Delta, ZSTD(1)"),
        Column("Sum", "Float64"),
        Column("Scale", "Int32"),
        Column("ZeroCount", "UInt64"),
        Column("PositiveOffset", "Int32"),
        Column("PositiveBucketCounts", "Array(UInt64)"),
        Column("NegativeOffset", "Int32"),
        Column("NegativeBucketCounts", "Array(UInt64)"),
        *_HISTOGRAM_TAIL,
        _extra("ZeroThreshold", "Float64"),
    ),
    "summary": _metric(
        "otel_metrics_summary",
        Column("Count", "UInt64", codec="Delta, ZSTD(1)"),
        Column("Sum", "Float64"),
        Column("ValueAtQuantiles", "Nested(Quantile Float64, Value Float64)"),
        exemplars=False,
    ),
}


DATA_TABLES: tuple[TableDef, ...] = (TRACES, LOGS, *METRICS.values())
"""The tables otelite writes rows to (the trace-id table is filled by a view)."""
