"""OTLP metrics → rows of the five metric tables (see ``_metrics`` for the mapping).

Flattening is the ingest hot path, so it works like the spans' (``_traces``): requests are
read as views with attributes left encoded (``_wire``), and the one walk over the requests
only gathers, per metric type, the metrics and their data points. Every column is then one
comprehension over all points of a type (or all metrics, for the metric's own fields,
spread onto its points with a ``take``); list columns (buckets, bounds) go from the
protobuf containers to Arrow in one call, and exemplar columns are walked only for points
that have exemplars. No per-point method call, no per-point list append.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from otelite.storage._attributes import AttributeColumns
from otelite.storage._envelope import EnvelopeColumns
from otelite.storage._schema import METRIC_TABLES, flattened, timestamps
from otelite.storage._wire import encoded_views
from otelite.types import ExportMetricsServiceRequest

__all__ = ["metrics_to_tables"]

_EXEMPLARS_TYPE = METRIC_TABLES["gauge"].field("Exemplars").type
_QUANTILES_TYPE = METRIC_TABLES["summary"].field("ValueAtQuantiles").type
_COUNTS = pa.list_(pa.uint64())
_BOUNDS = pa.list_(pa.float64())
_KINDS_WITH_TEMPORALITY = ("sum", "histogram", "exponential_histogram")


def _offsets(lengths: list[int]) -> pa.Array:
    return pa.array(list(itertools.accumulate(lengths, initial=0)), pa.int32())


def _numbers(items: Sequence[Any]) -> tuple[pa.Array, pa.Array]:
    """``Value`` and ``ValueInt`` of number points or exemplars (both null without a value)."""
    kinds = [item.WhichOneof("value") for item in items]
    values = [
        item.as_double if kind == "as_double" else float(item.as_int) if kind else None
        for item, kind in zip(items, kinds, strict=True)
    ]
    ints = [
        item.as_int if kind == "as_int" else None for item, kind in zip(items, kinds, strict=True)
    ]
    return pa.array(values, pa.float64()), pa.array(ints, pa.int64())


def _optional(items: Sequence[Any], name: str) -> pa.Array:
    """A float field with presence: null where ``name`` is not set."""
    return pa.array(
        [getattr(item, name) if item.HasField(name) else None for item in items], pa.float64()
    )


def _exemplars(points: Sequence[Any]) -> pa.Array:
    """The ``Exemplars`` column: one list of exemplar structs per point."""
    lists = [point.exemplars for point in points]
    lengths = list(map(len, lists))
    exemplars: list[Any] = list(itertools.chain.from_iterable(lists)) if any(lengths) else []
    attributes = AttributeColumns()
    for exemplar in exemplars:
        attributes.append(exemplar.filtered_attributes)
    values, types = attributes.arrays()
    number, number_int = _numbers(exemplars)
    structs = pa.StructArray.from_arrays(
        [
            values,
            types,
            timestamps([e.time_unix_nano for e in exemplars]),
            number,
            number_int,
            pa.array([e.span_id for e in exemplars], pa.binary()),
            pa.array([e.trace_id for e in exemplars], pa.binary()),
        ],
        fields=list(_EXEMPLARS_TYPE.value_type),
    )
    return pa.ListArray.from_arrays(_offsets(lengths), structs, type=_EXEMPLARS_TYPE)


def _number_columns(points: Sequence[Any]) -> dict[str, pa.Array]:
    value, value_int = _numbers(points)
    return {"Value": value, "ValueInt": value_int, "Exemplars": _exemplars(points)}


def _distribution_columns(points: Sequence[Any]) -> dict[str, pa.Array]:
    return {
        "Count": pa.array([p.count for p in points], pa.uint64()),
        "Sum": _optional(points, "sum"),
        "Min": _optional(points, "min"),
        "Max": _optional(points, "max"),
        "Exemplars": _exemplars(points),
    }


def _histogram_columns(points: Sequence[Any]) -> dict[str, pa.Array]:
    return {
        **_distribution_columns(points),
        "BucketCounts": pa.array([p.bucket_counts for p in points], _COUNTS),
        "ExplicitBounds": pa.array([p.explicit_bounds for p in points], _BOUNDS),
    }


def _buckets(points: Sequence[Any], side: str) -> tuple[pa.Array, pa.Array]:
    """Offsets (null when that buckets message is absent) and bucket counts of one side."""
    present = [p.HasField(side) for p in points]
    sides = [getattr(p, side) for p in points]
    offsets = [s.offset if has else None for s, has in zip(sides, present, strict=True)]
    return pa.array(offsets, pa.int32()), pa.array([s.bucket_counts for s in sides], _COUNTS)


def _exponential_histogram_columns(points: Sequence[Any]) -> dict[str, pa.Array]:
    positive_offsets, positive_counts = _buckets(points, "positive")
    negative_offsets, negative_counts = _buckets(points, "negative")
    return {
        **_distribution_columns(points),
        "Scale": pa.array([p.scale for p in points], pa.int32()),
        "ZeroCount": pa.array([p.zero_count for p in points], pa.uint64()),
        "ZeroThreshold": pa.array([p.zero_threshold for p in points], pa.float64()),
        "PositiveOffset": positive_offsets,
        "PositiveBucketCounts": positive_counts,
        "NegativeOffset": negative_offsets,
        "NegativeBucketCounts": negative_counts,
    }


def _summary_columns(points: Sequence[Any]) -> dict[str, pa.Array]:
    lists = [p.quantile_values for p in points]
    pairs = list(itertools.chain.from_iterable(lists))
    structs = pa.StructArray.from_arrays(
        [
            pa.array([q.quantile for q in pairs], pa.float64()),
            pa.array([q.value for q in pairs], pa.float64()),
        ],
        fields=list(_QUANTILES_TYPE.value_type),
    )
    return {
        "Count": pa.array([p.count for p in points], pa.uint64()),
        "Sum": pa.array([p.sum for p in points], pa.float64()),
        "ValueAtQuantiles": pa.ListArray.from_arrays(
            _offsets(list(map(len, lists))), structs, type=_QUANTILES_TYPE
        ),
        # Summary points have no exemplars; the shared column holds empty lists.
        "Exemplars": pa.array([[]] * len(points), _EXEMPLARS_TYPE),
    }


_COLUMNS = {
    "gauge": _number_columns,
    "sum": _number_columns,
    "histogram": _histogram_columns,
    "exponential_histogram": _exponential_histogram_columns,
    "summary": _summary_columns,
}


class _Gathered:
    """The metrics of one type met so far, their points, and where those rows stand."""

    __slots__ = ("datas", "metrics", "points", "points_per_metric", "rows")

    def __init__(self) -> None:
        self.metrics: list[Any] = []
        self.datas: list[Any] = []
        self.points_per_metric: list[int] = []
        self.points: list[Any] = []
        self.rows: list[int] = []
        """Each point's index among the rows of all types, for the envelope columns."""

    def table(self, kind: str, envelope: dict[str, pa.Array], total_rows: int) -> pa.Table:
        schema = METRIC_TABLES[kind]
        points, metrics, datas = self.points, self.metrics, self.datas
        if len(points) == total_rows:
            columns = dict(envelope)
        else:
            rows = pa.array(self.rows, pa.int32())
            columns = {name: array.take(rows) for name, array in envelope.items()}

        metadata = AttributeColumns()
        for metric in metrics:
            metadata.append(metric.metadata)
        metadata_values, metadata_types = metadata.arrays()
        per_metric = {
            "MetricName": pa.array([m.name for m in metrics], pa.string()),
            "MetricDescription": pa.array([m.description for m in metrics], pa.string()),
            "MetricUnit": pa.array([m.unit for m in metrics], pa.string()),
            "MetricMetadata": metadata_values,
            "MetricMetadataAttributeTypes": metadata_types,
        }
        if kind in _KINDS_WITH_TEMPORALITY:
            per_metric["AggregationTemporality"] = pa.array(
                [d.aggregation_temporality for d in datas], pa.int32()
            )
        if kind == "sum":
            per_metric["IsMonotonic"] = pa.array([d.is_monotonic for d in datas], pa.bool_())
        metric_of_row = pa.array(
            list(
                itertools.chain.from_iterable(
                    map(itertools.repeat, range(len(metrics)), self.points_per_metric)
                )
            ),
            pa.int32(),
        )
        columns.update({name: array.take(metric_of_row) for name, array in per_metric.items()})

        attributes = AttributeColumns()
        append = attributes.append
        for point in points:
            append(point.attributes)
        values, types = attributes.arrays()
        columns.update(
            Attributes=values,
            AttributeTypes=types,
            StartTimeUnix=timestamps([p.start_time_unix_nano for p in points]),
            TimeUnix=timestamps([p.time_unix_nano for p in points]),
            Flags=pa.array([p.flags for p in points], pa.uint32()),
        )
        columns.update(_COLUMNS[kind](points))
        return pa.Table.from_arrays(
            [columns[name] for name in schema.names], schema=flattened(schema)
        )


def metrics_to_tables(
    requests: Sequence[ExportMetricsServiceRequest | bytes],
) -> dict[str, pa.Table]:
    """One row per data point, in the ``METRIC_TABLES`` table of its type.

    Keys are ``METRIC_TABLES`` keys; only tables that received rows are returned.
    """
    envelope = EnvelopeColumns()
    gathered = {kind: _Gathered() for kind in METRIC_TABLES}
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
                    points = data.data_points
                    count = len(points)
                    if count:
                        into = gathered[kind]
                        into.metrics.append(metric)
                        into.datas.append(data)
                        into.points_per_metric.append(count)
                        into.points.extend(points)
                        into.rows.extend(range(total, total + count))
                        total += count
                envelope.rows(total - scope_first)
    if not total:
        return {}
    envelope_columns = envelope.arrays()
    return {
        kind: into.table(kind, envelope_columns, total)
        for kind, into in gathered.items()
        if into.points
    }
