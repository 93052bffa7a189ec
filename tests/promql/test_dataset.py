"""The shared dataset holds what the PromQL tests need, and its two forms agree."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)

from otelite.storage import WriteBatch
from otelite.types import ExportMetricsServiceRequest, Signal
from tests.backends import BACKENDS, store
from tests.promql.dataset import (
    BASE_MS,
    BOUNDS,
    END_MS,
    INTERVAL_MS,
    JITTER_MS,
    REQUESTS,
    SEED,
    SERIES,
    build_requests,
)
from tests.promql.reference import LOOKBACK_MS
from tests.promql.translate import le, prometheus_series


def test_the_seed_decides_everything() -> None:
    assert build_requests(SEED) == REQUESTS
    assert build_requests(SEED + 1) != REQUESTS


def test_shape() -> None:
    assert 30 <= len(SERIES) <= 100
    assert {one.name for one in SERIES} == {
        "http_requests_total",
        "latency_bucket",
        "latency_sum",
        "latency_count",
        "temperature",
        "queue_depth",
    }
    assert {one.labels["job"] for one in SERIES} == {"api", "worker", "shop/checkout"}
    assert len({one.labels["instance"] for one in SERIES}) == 6
    assert all(BASE_MS <= t < END_MS for one in SERIES for t, _ in one.samples)
    gaps = [b - a for one in SERIES for (a, _), (b, _) in itertools.pairwise(one.samples)]
    assert INTERVAL_MS - JITTER_MS <= statistics.median(gaps) <= INTERVAL_MS + JITTER_MS


def test_values_are_exact() -> None:
    # Counts are integers, the rest multiples of 1/64: any sum of them is exact.
    counts = {"http_requests_total", "latency_bucket", "latency_count", "queue_depth"}
    for one in SERIES:
        scale = 1 if one.name in counts else 64
        assert all((v * scale).is_integer() for _, v in one.samples), one.labels


def test_what_the_queries_need_happens() -> None:
    def drops(name: str) -> int:
        return sum(
            b < a
            for one in SERIES
            if one.name == name
            for (_, a), (_, b) in itertools.pairwise(one.samples)
        )

    assert drops("http_requests_total") >= 3
    assert drops("latency_count") >= 3
    assert drops("temperature") > 100 and drops("queue_depth") > 100
    assert any(v < 0 for one in SERIES if one.name == "temperature" for _, v in one.samples)
    # Series that end, begin and pause for longer than the lookback.
    assert any(one.samples[-1][0] < END_MS - LOOKBACK_MS for one in SERIES)
    assert any(one.samples[0][0] > BASE_MS + LOOKBACK_MS for one in SERIES)
    assert any(
        b - a > LOOKBACK_MS for one in SERIES for (a, _), (b, _) in itertools.pairwise(one.samples)
    )


def test_labels_follow_the_specification() -> None:
    by_name = defaultdict(list)
    for one in SERIES:
        by_name[one.name].append(dict(one.labels))
    assert {
        "__name__": "http_requests_total",
        "job": "shop/checkout",
        "instance": "checkout-0",
        "otel_scope_name": "http.server",
        "otel_scope_version": "1.4.0",
        "method": "POST",
        "code": "500",
    } in by_name["http_requests_total"]
    # The runtime scope has no version, and an empty label is no label.
    assert {
        "__name__": "temperature",
        "job": "worker",
        "instance": "worker-1",
        "otel_scope_name": "runtime",
        "sensor": "cpu",
    } in by_name["temperature"]
    les = {labels["le"] for labels in by_name["latency_bucket"]}
    assert les == {"0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}


def test_histograms_are_cumulative_buckets() -> None:
    order = [le(bound) for bound in BOUNDS] + ["+Inf"]
    buckets: dict[tuple[frozenset[tuple[str, str]], int], dict[str, float]] = defaultdict(dict)
    counts = {}
    for one in SERIES:
        labels = frozenset((k, v) for k, v in one.labels.items() if k not in {"__name__", "le"})
        for t, v in one.samples:
            if one.name == "latency_bucket":
                buckets[labels, t][one.labels["le"]] = v
            elif one.name == "latency_count":
                counts[labels, t] = v
    assert buckets.keys() == counts.keys()
    for point, by_le in buckets.items():
        values = [by_le[bound] for bound in order]
        assert values == sorted(values) and values[-1] == counts[point]


def test_every_point_becomes_samples() -> None:
    points = 0
    for request in REQUESTS:
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    data = getattr(metric, metric.WhichOneof("data"))
                    # A histogram point: a bucket per bound, +Inf, sum and count.
                    per = len(BOUNDS) + 3 if metric.HasField("histogram") else 1
                    points += per * len(data.data_points)
    assert points == sum(len(one.samples) for one in SERIES)


@pytest.mark.parametrize("kind", BACKENDS)
def test_otelite_stores_what_the_reference_holds(kind: str) -> None:
    # Whatever otelite's PromQL answers differently is then its own doing, not the store's.
    with store(kind) as opened:
        opened.write(WriteBatch(metrics=REQUESTS))
        stored = opened.export(Signal.METRICS, start=BASE_MS * 10**6, max_items=10**6)
        assert prometheus_series(stored) == SERIES


@pytest.mark.parametrize(
    ("bound", "label"),
    [(0.05, "0.05"), (1.0, "1"), (2.5, "2.5"), (1e-7, "0.0000001"), (1e21, "1" + "0" * 21)],
)
def test_le_is_written_as_prometheus_writes_it(bound: float, label: str) -> None:
    assert le(bound) == label


def test_delta_points_are_not_guessed() -> None:
    delta = Metric(
        name="hits",
        sum=Sum(
            aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
            is_monotonic=True,
            data_points=[NumberDataPoint(time_unix_nano=1, as_int=1)],
        ),
    )
    request = ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[delta])])]
    )
    with pytest.raises(ValueError, match="cumulative"):
        prometheus_series([request])
