"""OTLP metric points → Prometheus series, by the OpenTelemetry specification's rules.

This is the test side's own reading of ``specification/compatibility/
prometheus_and_openmetrics.md``, section "OTLP Metric points to Prometheus", for what the
PromQL dataset holds, so that the reference Prometheus is loaded with what otelite should
make of the same requests:

- a Gauge, and a cumulative non-monotonic Sum, become a gauge named as the metric;
- a cumulative monotonic Sum becomes a counter, ``_total`` added to its name unless there;
- a cumulative explicit-bucket Histogram becomes ``{name}_bucket`` series with cumulative
  counts and ``le`` (bounds written as Go's ``FormatFloat(b, 'f', -1, 64)`` writes them,
  as Prometheus's own OTLP translator does, then ``+Inf``), ``{name}_sum`` and
  ``{name}_count``;
- ``service.namespace``/``service.name`` become ``job``, ``service.instance.id``
  ``instance``; the scope's name and version ``otel_scope_name`` and ``otel_scope_version``;
  point attributes are labels; an empty value is no label.

Anything else the dataset does not use is refused rather than guessed: delta temporality,
other point kinds, non-string attributes, names that would need sanitizing, units, other
resource attributes (they belong in ``target_info``, left out, as are ``_created`` series).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
)

from otelite.types import ExportMetricsServiceRequest
from tests.promql.reference import MetricType, Series

__all__ = ["le", "prometheus_series"]

_NS_PER_MS = 1_000_000
_RESOURCE_LABELS = {"service.name", "service.namespace", "service.instance.id"}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

_Key = tuple[str, MetricType, frozenset[tuple[str, str]]]


def le(bound: float) -> str:
    """The ``le`` label of a bucket bound: shortest decimal, no exponent, no ``.0``."""
    return "+Inf" if bound == float("inf") else np.format_float_positional(bound, trim="-")


def prometheus_series(requests: Iterable[ExportMetricsServiceRequest]) -> list[Series]:
    """Every series the points of ``requests`` make, sorted by name and labels."""
    samples = _Samples()
    for request in requests:
        for resource_metrics in request.resource_metrics:
            resource = _strings(resource_metrics.resource.attributes, "resource")
            if extra := set(resource) - _RESOURCE_LABELS:
                raise ValueError(f"resource attributes {sorted(extra)} would go to target_info")
            namespace, service = resource.get("service.namespace"), resource.get("service.name", "")
            target = {
                "job": f"{namespace}/{service}" if namespace else service,
                "instance": resource.get("service.instance.id", ""),
            }
            for scope_metrics in resource_metrics.scope_metrics:
                scope = {
                    **target,
                    "otel_scope_name": scope_metrics.scope.name,
                    "otel_scope_version": scope_metrics.scope.version,
                }
                for metric in scope_metrics.metrics:
                    _metric(metric, scope, samples)
    return samples.series()


class _Samples:
    """The samples of each series, as the points of the requests arrive in any order."""

    def __init__(self) -> None:
        self._points: dict[_Key, dict[int, float]] = {}

    def add(
        self, family: str, kind: MetricType, labels: Mapping[str, str], ms: int, value: float
    ) -> None:
        key = (family, kind, frozenset((k, v) for k, v in labels.items() if v != ""))
        points = self._points.setdefault(key, {})
        if ms in points:
            raise ValueError(f"{dict(labels)}: two points at {ms} ms")
        points[ms] = value

    def series(self) -> list[Series]:
        return sorted(
            (
                Series(family, kind, dict(sorted(labels)), sorted(points.items()))
                for (family, kind, labels), points in self._points.items()
            ),
            key=lambda one: (one.name, sorted(one.labels.items())),
        )


def _metric(metric: Metric, scope: Mapping[str, str], samples: _Samples) -> None:
    name = metric.name
    if not _METRIC_NAME.fullmatch(name) or metric.unit:
        raise ValueError(f"metric {name!r} (unit {metric.unit!r}) would need renaming")
    data = metric.WhichOneof("data")
    if data == "gauge":
        for point in metric.gauge.data_points:
            labels = _labels(scope, point.attributes, name)
            samples.add(name, "gauge", labels, _ms(point.time_unix_nano), _number(point))
    elif data == "sum":
        _cumulative(metric.sum.aggregation_temporality, name)
        if metric.sum.is_monotonic:
            family = name.removesuffix("_total")
            kind: MetricType = "counter"
            sample_name = f"{family}_total"
        else:
            family, kind, sample_name = name, "gauge", name
        for point in metric.sum.data_points:
            labels = _labels(scope, point.attributes, sample_name)
            samples.add(family, kind, labels, _ms(point.time_unix_nano), _number(point))
    elif data == "histogram":
        _cumulative(metric.histogram.aggregation_temporality, name)
        for point in metric.histogram.data_points:
            _histogram(name, scope, point, samples)
    else:
        raise ValueError(f"metric {name!r}: {data} points are not translated here")


def _histogram(
    name: str, scope: Mapping[str, str], point: HistogramDataPoint, samples: _Samples
) -> None:
    ms = _ms(point.time_unix_nano)
    if len(point.bucket_counts) != len(point.explicit_bounds) + 1:
        raise ValueError(f"{name}: {len(point.bucket_counts)} counts for the bounds")
    cumulative = 0
    bounds = [*point.explicit_bounds, float("inf")]
    for bound, count in zip(bounds, point.bucket_counts, strict=True):
        cumulative += count
        bucket = {**_labels(scope, point.attributes, f"{name}_bucket"), "le": le(bound)}
        samples.add(name, "histogram", bucket, ms, float(cumulative))
    if point.HasField("sum"):
        sum_labels = _labels(scope, point.attributes, f"{name}_sum")
        samples.add(name, "histogram", sum_labels, ms, point.sum)
    count_labels = _labels(scope, point.attributes, f"{name}_count")
    samples.add(name, "histogram", count_labels, ms, float(point.count))


def _cumulative(temporality: int, name: str) -> None:
    if temporality != AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE:
        raise ValueError(f"metric {name!r}: only cumulative temporality is translated here")


def _number(point: NumberDataPoint) -> float:
    return float(point.as_int if point.WhichOneof("value") == "as_int" else point.as_double)


def _ms(unix_nano: int) -> int:
    return unix_nano // _NS_PER_MS


def _labels(scope: Mapping[str, str], attributes: Iterable[KeyValue], name: str) -> dict[str, str]:
    point = _strings(attributes, name)
    for key in point:
        if not _LABEL_NAME.fullmatch(key) or key in scope or key in {"__name__", "le"}:
            raise ValueError(f"{name}: attribute {key!r} would need renaming")
    return {"__name__": name, **scope, **point}


def _strings(attributes: Iterable[KeyValue], where: str) -> dict[str, str]:
    values = {}
    for attribute in attributes:
        if attribute.value.WhichOneof("value") != "string_value":
            raise ValueError(f"{where}: attribute {attribute.key!r} is not a string")
        values[attribute.key] = attribute.value.string_value
    return values
