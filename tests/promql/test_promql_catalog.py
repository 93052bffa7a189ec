"""What PromQL keeps of a store between queries (its catalog of metrics, its series'
labels) never hides what was written since."""

from __future__ import annotations

import numpy as np
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query.promql import Matrix, StorageSource, Vector, evaluate, parse
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportMetricsServiceRequest
from tests.backends import BACKENDS, store

T0_MS = 1_767_225_600_000


def gauge(name: str, service: str, value: float, *, room: str) -> ExportMetricsServiceRequest:
    point = NumberDataPoint(
        time_unix_nano=T0_MS * 1_000_000,
        as_double=value,
        attributes=[KeyValue(key="room", value=AnyValue(string_value=room))],
    )
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]
    )
    metric = Metric(name=name, gauge=Gauge(data_points=[point]))
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(resource=resource, scope_metrics=[ScopeMetrics(metrics=[metric])])
        ]
    )


def instant(storage: Storage, query: str) -> dict[tuple[tuple[str, str], ...], float]:
    steps = np.array([T0_MS + 1_000], dtype=np.int64)
    value = evaluate(
        parse(query), StorageSource(storage), steps, start_ms=T0_MS, end_ms=T0_MS + 1_000
    )
    assert isinstance(value, Vector)
    return {
        labels: float(value.values[row, 0])
        for row, labels in enumerate(value.labels)
        if value.present[row, 0]
    }


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_metric_written_after_a_query_is_found_by_the_next(kind: str) -> None:
    with store(kind) as storage:
        storage.write(WriteBatch(metrics=[gauge("temperature", "a", 20.5, room="hall")]))
        assert instant(storage, "humidity") == {}
        storage.write(WriteBatch(metrics=[gauge("humidity", "a", 0.25, room="hall")]))
        found = instant(storage, "humidity")
        assert found == {
            (("__name__", "humidity"), ("job", "a"), ("room", "hall")): 0.25,
        }
        assert "humidity" in StorageSource(storage).listed_names()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_new_series_of_a_known_metric_gets_its_own_labels(kind: str) -> None:
    with store(kind) as storage:
        storage.write(WriteBatch(metrics=[gauge("temperature", "a", 20.5, room="hall")]))
        assert len(instant(storage, "temperature")) == 1
        storage.write(WriteBatch(metrics=[gauge("temperature", "b", 18.0, room="attic")]))
        assert instant(storage, "temperature") == {
            (("__name__", "temperature"), ("job", "a"), ("room", "hall")): 20.5,
            (("__name__", "temperature"), ("job", "b"), ("room", "attic")): 18.0,
        }


@pytest.mark.parametrize("kind", BACKENDS)
def test_points_written_out_of_time_order_are_read_in_time_order(kind: str) -> None:
    """A late batch with earlier points: the series is still read oldest first (the
    reader's fallback from its sort by series alone)."""
    with store(kind) as storage:
        for at, value in ((20_000, 3.0), (0, 1.0), (10_000, 2.0)):
            request = gauge("late", "a", value, room="hall")
            point = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
            point.time_unix_nano = (T0_MS + at) * 1_000_000
            storage.write(WriteBatch(metrics=[request]))
        steps = np.array([T0_MS + 30_000], dtype=np.int64)
        value = evaluate(
            parse("late[1m]"), StorageSource(storage), steps, start_ms=T0_MS, end_ms=T0_MS
        )
        assert isinstance(value, Matrix) and len(value) == 1
        series = value.series(0)
        assert series.times.tolist() == [T0_MS, T0_MS + 10_000, T0_MS + 20_000]
        assert series.values.tolist() == [1.0, 2.0, 3.0]
