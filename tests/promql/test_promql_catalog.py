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

from otelite.query.promql import StorageSource, Vector, evaluate, parse
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
