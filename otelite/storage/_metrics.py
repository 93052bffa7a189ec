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
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from otelite.storage._attributes import AttributeColumns, key_values_from_maps
from otelite.storage._envelope import EnvelopeColumns, Regrouper
from otelite.storage._schema import METRIC_TABLES, timestamps
from otelite.storage._wire import encoded_views
from otelite.types import ExportMetricsServiceRequest

__all__ = ["metrics_from_tables", "metrics_to_tables"]

_EXEMPLARS_TYPE = METRIC_TABLES["gauge"].field("Exemplars").type
_QUANTILES_TYPE = METRIC_TABLES["summary"].field("ValueAtQuantiles").type
_U64 = 1 << 64


def _lists(offsets: list[int], values: list[Any], value_type: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, value_type))


class _Exemplars:
    """The ``Exemplars`` column: one list of exemplar structs per row."""

    def __init__(self) -> None:
        self.offsets = [0]
        self.attributes = AttributeColumns()
        self.times: list[int] = []
        self.values: list[float | None] = []
        self.ints: list[int | None] = []
        self.span_ids: list[bytes] = []
        self.trace_ids: list[bytes] = []

    def append(self, exemplars: Sequence[Any]) -> None:
        for exemplar in exemplars:
            self.attributes.append(exemplar.filtered_attributes)
            self.times.append(exemplar.time_unix_nano)
            kind = exemplar.WhichOneof("value")
            if kind == "as_double":
                self.values.append(exemplar.as_double)
                self.ints.append(None)
            elif kind == "as_int":
                self.values.append(float(exemplar.as_int))
                self.ints.append(exemplar.as_int)
            else:
                self.values.append(None)
                self.ints.append(None)
            self.span_ids.append(exemplar.span_id)
            self.trace_ids.append(exemplar.trace_id)
        self.offsets.append(len(self.times))

    def empty_rows(self, count: int) -> None:
        self.offsets.extend([len(self.times)] * count)

    def array(self) -> pa.Array:
        attributes, types = self.attributes.arrays()
        children = [
            attributes,
            types,
            timestamps(self.times),
            pa.array(self.values, pa.float64()),
            pa.array(self.ints, pa.int64()),
            pa.array(self.span_ids, pa.binary()),
            pa.array(self.trace_ids, pa.binary()),
        ]
        structs = pa.StructArray.from_arrays(children, fields=list(_EXEMPLARS_TYPE.value_type))
        return pa.ListArray.from_arrays(
            pa.array(self.offsets, pa.int32()), structs, type=_EXEMPLARS_TYPE
        )


class _Table(abc.ABC):
    """The rows of one metric table: shared columns here, the type's own in a subclass."""

    kind: str

    def __init__(self) -> None:
        self.rows: list[int] = []  # each row's index among all rows, for the envelope columns
        self.metric_of_row: list[int] = []
        self.names: list[str] = []
        self.descriptions: list[str] = []
        self.units: list[str] = []
        self.metadata = AttributeColumns()
        self.temporalities: list[int] = []
        self.monotonic: list[bool] = []
        self.attributes = AttributeColumns()
        self.starts: list[int] = []
        self.times: list[int] = []
        self.flags: list[int] = []
        self.exemplars = _Exemplars()

    def add(self, metric: Any, data: Any, first_row: int) -> None:
        points = data.data_points
        count = len(points)
        self.rows.extend(range(first_row, first_row + count))
        self.metric_of_row.extend([len(self.names)] * count)
        self.names.append(metric.name)
        self.descriptions.append(metric.description)
        self.units.append(metric.unit)
        self.metadata.append(metric.metadata)
        self.temporalities.append(getattr(data, "aggregation_temporality", 0))
        self.monotonic.append(getattr(data, "is_monotonic", False))
        attributes, starts, times, flags = (
            self.attributes.append,
            self.starts.append,
            self.times.append,
            self.flags.append,
        )
        for point in points:
            attributes(point.attributes)
            starts(point.start_time_unix_nano)
            times(point.time_unix_nano)
            flags(point.flags)
        self.add_points(points)

    @abc.abstractmethod
    def add_points(self, points: Sequence[Any]) -> None:
        """Append the type's own fields of ``points`` (and their exemplars)."""

    @abc.abstractmethod
    def specific(self) -> dict[str, pa.Array]:
        """The type's own columns, one entry per row."""

    def table(self, envelope: dict[str, pa.Array], total_rows: int) -> pa.Table:
        schema = METRIC_TABLES[self.kind]
        rows = None if len(self.rows) == total_rows else pa.array(self.rows, pa.int32())
        columns = {
            name: array if rows is None else array.take(rows) for name, array in envelope.items()
        }
        metadata, metadata_types = self.metadata.arrays()
        per_metric = {
            "MetricName": pa.array(self.names, pa.string()),
            "MetricDescription": pa.array(self.descriptions, pa.string()),
            "MetricUnit": pa.array(self.units, pa.string()),
            "MetricMetadata": metadata,
            "MetricMetadataAttributeTypes": metadata_types,
            "AggregationTemporality": pa.array(self.temporalities, pa.int32()),
            "IsMonotonic": pa.array(self.monotonic, pa.bool_()),
        }
        metric_of_row = pa.array(self.metric_of_row, pa.int32())
        for name, array in per_metric.items():
            if name in schema.names:
                columns[name] = array.take(metric_of_row)
        attributes, attribute_types = self.attributes.arrays()
        columns.update(
            Attributes=attributes,
            AttributeTypes=attribute_types,
            StartTimeUnix=timestamps(self.starts),
            TimeUnix=timestamps(self.times),
            Flags=pa.array(self.flags, pa.uint32()),
            Exemplars=self.exemplars.array(),
        )
        columns.update(self.specific())
        return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


class _Numbers(_Table):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.values: list[float | None] = []
        self.ints: list[int | None] = []

    def add_points(self, points: Sequence[Any]) -> None:
        values, ints, exemplars = self.values.append, self.ints.append, self.exemplars.append
        for point in points:
            kind = point.WhichOneof("value")
            if kind == "as_double":
                values(point.as_double)
                ints(None)
            elif kind == "as_int":
                values(float(point.as_int))
                ints(point.as_int)
            else:
                values(None)
                ints(None)
            exemplars(point.exemplars)

    def specific(self) -> dict[str, pa.Array]:
        return {
            "Value": pa.array(self.values, pa.float64()),
            "ValueInt": pa.array(self.ints, pa.int64()),
        }


class _Distributions(_Table):
    """Shared by the histogram types: count, optional sum, min and max."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[int] = []
        self.sums: list[float | None] = []
        self.mins: list[float | None] = []
        self.maxes: list[float | None] = []

    def add_distribution(self, point: Any) -> None:
        self.counts.append(point.count)
        self.sums.append(point.sum if point.HasField("sum") else None)
        self.mins.append(point.min if point.HasField("min") else None)
        self.maxes.append(point.max if point.HasField("max") else None)
        self.exemplars.append(point.exemplars)

    def specific(self) -> dict[str, pa.Array]:
        return {
            "Count": pa.array(self.counts, pa.uint64()),
            "Sum": pa.array(self.sums, pa.float64()),
            "Min": pa.array(self.mins, pa.float64()),
            "Max": pa.array(self.maxes, pa.float64()),
        }


class _Histograms(_Distributions):
    kind = "histogram"

    def __init__(self) -> None:
        super().__init__()
        self.bucket_offsets = [0]
        self.buckets: list[int] = []
        self.bound_offsets = [0]
        self.bounds: list[float] = []

    def add_points(self, points: Sequence[Any]) -> None:
        for point in points:
            self.add_distribution(point)
            self.buckets.extend(point.bucket_counts)
            self.bucket_offsets.append(len(self.buckets))
            self.bounds.extend(point.explicit_bounds)
            self.bound_offsets.append(len(self.bounds))

    def specific(self) -> dict[str, pa.Array]:
        return {
            **super().specific(),
            "BucketCounts": _lists(self.bucket_offsets, self.buckets, pa.uint64()),
            "ExplicitBounds": _lists(self.bound_offsets, self.bounds, pa.float64()),
        }


class _Buckets:
    """One side (positive or negative) of exponential histogram buckets."""

    def __init__(self) -> None:
        self.offsets: list[int | None] = []  # null when the buckets message is absent
        self.count_offsets = [0]
        self.counts: list[int] = []

    def append(self, point: Any, side: str) -> None:
        if point.HasField(side):
            buckets = getattr(point, side)
            self.offsets.append(buckets.offset)
            self.counts.extend(buckets.bucket_counts)
        else:
            self.offsets.append(None)
        self.count_offsets.append(len(self.counts))

    def arrays(self) -> tuple[pa.Array, pa.Array]:
        return (
            pa.array(self.offsets, pa.int32()),
            _lists(self.count_offsets, self.counts, pa.uint64()),
        )


class _ExponentialHistograms(_Distributions):
    kind = "exponential_histogram"

    def __init__(self) -> None:
        super().__init__()
        self.scales: list[int] = []
        self.zero_counts: list[int] = []
        self.zero_thresholds: list[float] = []
        self.positive = _Buckets()
        self.negative = _Buckets()

    def add_points(self, points: Sequence[Any]) -> None:
        for point in points:
            self.add_distribution(point)
            self.scales.append(point.scale)
            self.zero_counts.append(point.zero_count)
            self.zero_thresholds.append(point.zero_threshold)
            self.positive.append(point, "positive")
            self.negative.append(point, "negative")

    def specific(self) -> dict[str, pa.Array]:
        positive_offsets, positive_counts = self.positive.arrays()
        negative_offsets, negative_counts = self.negative.arrays()
        return {
            **super().specific(),
            "Scale": pa.array(self.scales, pa.int32()),
            "ZeroCount": pa.array(self.zero_counts, pa.uint64()),
            "ZeroThreshold": pa.array(self.zero_thresholds, pa.float64()),
            "PositiveOffset": positive_offsets,
            "PositiveBucketCounts": positive_counts,
            "NegativeOffset": negative_offsets,
            "NegativeBucketCounts": negative_counts,
        }


class _Summaries(_Table):
    kind = "summary"

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[int] = []
        self.sums: list[float] = []
        self.quantile_offsets = [0]
        self.quantiles: list[float] = []
        self.values: list[float] = []

    def add_points(self, points: Sequence[Any]) -> None:
        for point in points:
            self.counts.append(point.count)
            self.sums.append(point.sum)
            for quantile in point.quantile_values:
                self.quantiles.append(quantile.quantile)
                self.values.append(quantile.value)
            self.quantile_offsets.append(len(self.quantiles))
        # Summary points have no exemplars; the shared column holds empty lists.
        self.exemplars.empty_rows(len(points))

    def specific(self) -> dict[str, pa.Array]:
        pairs = pa.StructArray.from_arrays(
            [pa.array(self.quantiles, pa.float64()), pa.array(self.values, pa.float64())],
            fields=list(_QUANTILES_TYPE.value_type),
        )
        quantiles = pa.ListArray.from_arrays(
            pa.array(self.quantile_offsets, pa.int32()), pairs, type=_QUANTILES_TYPE
        )
        return {
            "Count": pa.array(self.counts, pa.uint64()),
            "Sum": pa.array(self.sums, pa.float64()),
            "ValueAtQuantiles": quantiles,
        }


def metrics_to_tables(
    requests: Sequence[ExportMetricsServiceRequest | bytes],
) -> dict[str, pa.Table]:
    """One row per data point, in the ``METRIC_TABLES`` table of its type.

    Keys are ``METRIC_TABLES`` keys; only tables that received rows are returned.
    """
    envelope = EnvelopeColumns()
    tables: dict[str, _Table] = {
        "gauge": _Numbers("gauge"),
        "sum": _Numbers("sum"),
        "histogram": _Histograms(),
        "exponential_histogram": _ExponentialHistograms(),
        "summary": _Summaries(),
    }
    total = 0
    for request in encoded_views(ExportMetricsServiceRequest, requests):
        for resource_metrics in request.resource_metrics:
            envelope.resource(resource_metrics.resource, resource_metrics.schema_url)
            for scope_metrics in resource_metrics.scope_metrics:
                envelope.scope(scope_metrics.scope, scope_metrics.schema_url)
                scope_first = total
                for metric in scope_metrics.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is None:
                        continue
                    data = getattr(metric, kind)
                    if data.data_points:
                        tables[kind].add(metric, data, total)
                        total += len(data.data_points)
                envelope.rows(total - scope_first)
    if not total:
        return {}
    envelope_columns = envelope.arrays()
    return {
        kind: table.table(envelope_columns, total) for kind, table in tables.items() if table.rows
    }


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
