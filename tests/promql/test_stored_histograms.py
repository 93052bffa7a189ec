"""Stored explicit-bucket histograms as ``_bucket`` series: bounds that change between
points, delta points, and matchers on ``le``, on both backends. Expected series are
worked out by hand from the points."""

from __future__ import annotations

import numpy as np
import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)

from otelite.query.promql import Matrix, StorageSource, evaluate, parse
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportMetricsServiceRequest
from tests.backends import BACKENDS, store

T0_MS = 1_767_225_600_000
SECOND_MS = 1_000


def histogram(
    name: str, points: list[tuple[int, list[float], list[int]]], *, delta: bool = False
) -> ExportMetricsServiceRequest:
    temporality = (
        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
        if delta
        else AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    )
    data = [
        HistogramDataPoint(
            time_unix_nano=(T0_MS + at) * 1_000_000,
            count=sum(counts),
            bucket_counts=counts,
            explicit_bounds=bounds,
        )
        for at, bounds, counts in points
    ]
    metric = Metric(
        name=name, histogram=Histogram(data_points=data, aggregation_temporality=temporality)
    )
    return ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[metric])])]
    )


def samples(storage: Storage, query: str) -> dict[str, list[tuple[int, float]]]:
    """Each selected series' samples in the minute after T0, by its ``le``."""
    steps = np.array([T0_MS + 60 * SECOND_MS], dtype=np.int64)
    value = evaluate(parse(query), StorageSource(storage), steps, start_ms=T0_MS, end_ms=T0_MS)
    assert isinstance(value, Matrix)
    found = {}
    for row in range(len(value)):
        series = value.series(row)
        found[dict(series.labels)["le"]] = [
            (int(t) - T0_MS, float(v)) for t, v in zip(series.times, series.values, strict=True)
        ]
    return found


@pytest.mark.parametrize("kind", BACKENDS)
def test_bounds_that_change_make_a_series_per_bound_each_point_has(kind: str) -> None:
    with store(kind) as storage:
        points = [(0, [1.0, 2.0], [1, 2, 3]), (10_000, [1.0, 5.0], [2, 2, 2])]
        storage.write(WriteBatch(metrics=[histogram("h", points)]))
        assert samples(storage, "h_bucket[1m]") == {
            "1": [(0, 1.0), (10_000, 2.0)],
            "2": [(0, 3.0)],
            "5": [(10_000, 4.0)],
            "+Inf": [(0, 6.0), (10_000, 6.0)],
        }


@pytest.mark.parametrize("kind", BACKENDS)
def test_delta_buckets_add_up_and_le_matchers_pick_bounds(kind: str) -> None:
    with store(kind) as storage:
        points = [(0, [1.0, 2.0], [1, 1, 1]), (10_000, [1.0, 2.0], [0, 2, 1])]
        storage.write(WriteBatch(metrics=[histogram("d", points, delta=True)]))
        assert samples(storage, "d_bucket[1m]") == {
            "1": [(0, 1.0), (10_000, 1.0)],
            "2": [(0, 2.0), (10_000, 4.0)],
            "+Inf": [(0, 3.0), (10_000, 6.0)],
        }
        assert samples(storage, 'd_bucket{le=~"1|\\\\+Inf"}[1m]') == {
            "1": [(0, 1.0), (10_000, 1.0)],
            "+Inf": [(0, 3.0), (10_000, 6.0)],
        }
