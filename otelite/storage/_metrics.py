"""OTLP metrics as rows of the five metric tables, and back.

Each data point is one row of the table of its metric's type (``METRIC_TABLES``), carrying
its resource, scope and metric (name, description, unit, metadata, temporality,
monotonicity) beside its own fields. Rebuilding groups rows by resource and scope, then into
one ``Metric`` per identity (those metric fields and the type), points in row order.

Every field comes back with its presence as sent:

* number values: ``Value`` is ``as_double`` or ``float(as_int)``; ``ValueInt`` is set only
  for ``as_int``; both are null when the point (or exemplar) carries no value;
* histogram and exponential histogram ``Sum``, ``Min``, ``Max`` are null when absent;
* exponential histogram ``PositiveOffset`` / ``NegativeOffset`` are null when that buckets
  message is absent (its counts are then an empty list);
* times are OTLP's unsigned 64-bit nanoseconds stored bit for bit in the signed timestamp
  columns, so the (meaningless) times past 2262 come back unchanged too.

What is not kept: a ``Metric`` without data points, or without a type, has no row and is
not stored; nor are empty resource and scope envelopes. Metrics of one identity sent as
separate messages under one scope come back as one message with all their points.

Flattening (the ingest side) is ``_metrics_flatten``; rebuilding (reads) is here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from otelite.storage._attributes import key_values_from_maps
from otelite.storage._envelope import Regrouper
from otelite.storage._metrics_flatten import metrics_to_tables
from otelite.storage._schema import METRIC_TABLES
from otelite.types import ExportMetricsServiceRequest

__all__ = ["metrics_from_tables", "metrics_to_tables"]

_U64 = 1 << 64


def _readable(data_type: pa.DataType) -> pa.DataType:
    """``data_type`` with timestamps as int64, so that reading keeps nanoseconds."""
    if pa.types.is_timestamp(data_type):
        return pa.int64()
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return pa.list_(pa.field(data_type.value_field.name, _readable(data_type.value_type)))
    if pa.types.is_struct(data_type):
        return pa.struct([pa.field(f.name, _readable(f.type)) for f in data_type])
    return data_type


def _column(table: pa.Table, name: str) -> list[Any]:
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        # Back to the unsigned nanoseconds that were stored bit for bit.
        column = pc.cast(column.cast(pa.int64()), pa.uint64(), safe=False)
    else:
        readable = _readable(column.type)
        if readable != column.type:
            column = column.cast(readable)
    values: list[Any] = column.to_pylist()
    return values


def _add_exemplars(out: Any, exemplars: list[dict[str, Any]]) -> None:
    for row in exemplars:
        exemplar = out.add()
        key_values_from_maps(
            row["FilteredAttributes"], row["FilteredAttributeTypes"], exemplar.filtered_attributes
        )
        exemplar.time_unix_nano = row["TimeUnix"] % _U64
        if row["ValueInt"] is not None:
            exemplar.as_int = row["ValueInt"]
        elif row["Value"] is not None:
            exemplar.as_double = row["Value"]
        exemplar.span_id = row["SpanId"] or b""
        exemplar.trace_id = row["TraceId"] or b""


def _fill_number(point: Any, row: dict[str, Any]) -> None:
    if row["ValueInt"] is not None:
        point.as_int = row["ValueInt"]
    elif row["Value"] is not None:
        point.as_double = row["Value"]
    _add_exemplars(point.exemplars, row["Exemplars"])


def _fill_distribution(point: Any, row: dict[str, Any]) -> None:
    point.count = row["Count"]
    for name in ("Sum", "Min", "Max"):
        if row[name] is not None:
            setattr(point, name.lower(), row[name])
    _add_exemplars(point.exemplars, row["Exemplars"])


def _fill_histogram(point: Any, row: dict[str, Any]) -> None:
    _fill_distribution(point, row)
    point.bucket_counts.extend(row["BucketCounts"])
    point.explicit_bounds.extend(row["ExplicitBounds"])


def _fill_exponential_histogram(point: Any, row: dict[str, Any]) -> None:
    _fill_distribution(point, row)
    point.scale = row["Scale"]
    point.zero_count = row["ZeroCount"]
    point.zero_threshold = row["ZeroThreshold"]
    for side, column in (("positive", "Positive"), ("negative", "Negative")):
        offset = row[f"{column}Offset"]
        if offset is not None:
            buckets = getattr(point, side)
            buckets.offset = offset  # marks the buckets present, even when 0
            buckets.bucket_counts.extend(row[f"{column}BucketCounts"])


def _fill_summary(point: Any, row: dict[str, Any]) -> None:
    point.count = row["Count"]
    point.sum = row["Sum"]
    for pair in row["ValueAtQuantiles"]:
        quantile = point.quantile_values.add()
        quantile.quantile = pair["Quantile"]
        quantile.value = pair["Value"]


_FILL: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "gauge": _fill_number,
    "sum": _fill_number,
    "histogram": _fill_histogram,
    "exponential_histogram": _fill_exponential_histogram,
    "summary": _fill_summary,
}


def _hashable(pairs: list[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(pairs) if pairs else ()


def _rebuild(kind: str, table: pa.Table, regrouper: Regrouper) -> None:
    schema = METRIC_TABLES[kind]
    names = schema.names
    has_temporality = "AggregationTemporality" in names
    has_monotonic = "IsMonotonic" in names
    fill = _FILL[kind]
    by_identity: dict[tuple[Any, ...], Any] = {}
    for values in zip(*(_column(table, name) for name in names), strict=True):
        row = dict(zip(names, values, strict=True))
        scope = regrouper.scope_for(row)
        identity = (
            id(scope),
            row["MetricName"],
            row["MetricDescription"],
            row["MetricUnit"],
            _hashable(row["MetricMetadata"]),
            _hashable(row["MetricMetadataAttributeTypes"]),
            row["AggregationTemporality"] if has_temporality else None,
            row["IsMonotonic"] if has_monotonic else None,
        )
        points = by_identity.get(identity)
        if points is None:
            metric = scope.metrics.add()
            metric.name = row["MetricName"] or ""
            metric.description = row["MetricDescription"] or ""
            metric.unit = row["MetricUnit"] or ""
            key_values_from_maps(
                row["MetricMetadata"], row["MetricMetadataAttributeTypes"], metric.metadata
            )
            data = getattr(metric, kind)
            if has_temporality:
                data.aggregation_temporality = row["AggregationTemporality"]
            if has_monotonic:
                data.is_monotonic = row["IsMonotonic"]
            points = by_identity[identity] = data.data_points
        point = points.add()
        key_values_from_maps(row["Attributes"], row["AttributeTypes"], point.attributes)
        point.start_time_unix_nano = row["StartTimeUnix"]
        point.time_unix_nano = row["TimeUnix"]
        point.flags = row["Flags"]
        fill(point, row)


def metrics_from_tables(tables: Mapping[str, pa.Table]) -> ExportMetricsServiceRequest:
    """Rebuild one request from rows of the metric tables (keys as in ``METRIC_TABLES``).

    Rows regroup under their resource and scope, then into one ``Metric`` per identity,
    points in row order.
    """
    request = ExportMetricsServiceRequest()
    regrouper = Regrouper(request, "resource_metrics", "scope_metrics")
    for kind in METRIC_TABLES:
        table = tables.get(kind)
        if table is not None and table.num_rows:
            _rebuild(kind, table, regrouper)
    return request
