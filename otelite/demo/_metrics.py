"""The shop's metrics: what each instance's SDK would export every interval.

Values come from a model of the traffic rather than from counting simulated spans, so
that metrics cost the same whatever the span rate; the model follows the same state
(request rate, scenario, circuit breaker, bulkhead load), so the two agree. Everything is
cumulative, as SDKs export by default: request duration histograms (HTTP server, gRPC
server, database client), counters, gauges, an up-down counter, and one exponential
histogram (the payment provider's client durations).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)

from otelite.demo import _wire
from otelite.demo._resilience import CLOSED, HALF_OPEN, OPEN
from otelite.demo._templates import PROVIDER_HOST
from otelite.demo._topology import Instance
from otelite.demo._traffic import Traffic

__all__ = ["MetricsModel"]

# The semantic conventions' advice for HTTP/RPC/DB duration histograms, in seconds.
_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
_EXP_SCALE = 2  # bucket boundaries at powers of 2^(1/4)
_EXP_OFFSET = -40  # 2^(-40/4) ≈ 1 ms
_EXP_BUCKETS = 56  # up to ≈ 16 s
_BREAKER_VALUE = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}
_HTTP = {
    "api-gateway": [
        ("GET", "/api/products", 0.40, 25.0),
        ("GET", "/api/products/{id}", 0.30, 30.0),
        ("POST", "/api/orders", 0.15, 250.0),
        ("GET", "/api/orders/{id}", 0.15, 15.0),
    ],
    "bff": [
        ("GET", "/api/products", 0.40, 8.0),
        ("GET", "/api/products/{id}", 0.30, 12.0),
        ("POST", "/api/orders", 0.15, 240.0),
        ("GET", "/api/orders/{id}", 0.15, 5.0),
    ],
    "order": [("POST", "/orders", 0.15, 230.0), ("GET", "/orders/{id}", 0.15, 3.0)],
}
_RPC = {
    "catalog": [("ListProducts", 0.40, 3.0), ("GetProduct", 0.30, 4.0)],
    "inventory": [("GetStock", 0.30, 2.5), ("Reserve", 0.15, 4.5), ("Release", 0.01, 3.5)],
    "payment": [("Charge", 0.15, 200.0), ("Refund", 0.005, 3.5)],
    "shipping": [("Schedule", 0.15, 21.0)],
}
_DB = {
    "catalog": [("SELECT", "products", 0.1, 3.0)],
    "inventory": [("SELECT", "stock", 0.3, 2.0), ("UPDATE", "stock", 0.16, 4.0)],
    "order": [("INSERT", "orders", 0.15, 4.0), ("UPDATE", "orders", 0.15, 3.0)],
    "payment": [("INSERT", "payments", 0.15, 3.0)],
    "shipping": [("INSERT", "shipments", 0.15, 4.0)],
}


@dataclass(slots=True)
class _Series:
    """One cumulative histogram series: its share of requests and latency."""

    attributes: list[KeyValue]
    share: float
    median: float  # seconds
    error: bool
    kind: str  # "http", "rpc", "db", "provider"
    flaky: bool = False  # fails when the payment provider does
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=list)


class MetricsModel:
    """Cumulative metrics of every instance of the shop, exported as snapshots."""

    def __init__(
        self, traffic: Traffic, rng: random.Random, *, start: int, error_rate: float
    ) -> None:
        self._traffic = traffic
        self._rng = rng
        self._start = start
        self._error_rate = error_rate
        self._series: dict[int, dict[str, list[_Series]]] = {}
        self._counters: dict[tuple[int, str, str], int] = {}

    def snapshot(self, instance: Instance, now: int, requests: float) -> tuple[bytes, int]:
        """``instance``'s metrics at ``now`` after ``requests`` more shop-wide user requests:
        a serialised ResourceMetrics and its number of data points."""
        service = instance.service
        series = self._series.get(instance.key)
        if series is None:
            series = self._series[instance.key] = _series_of(service)
        replicas = len(self._traffic.instances[service, instance.version])
        per_instance = requests / replicas
        metrics: list[Metric] = []
        points = 0
        for name, group in series.items():
            metric = Metric(name=name, unit="s", description=_DESCRIPTIONS[name])
            for s in group:
                self._advance(s, per_instance, service)
                if s.kind == "provider":
                    self._exponential_point(metric, s, now)
                else:
                    self._histogram_point(metric, s, now)
                points += 1
            metrics.append(metric)
        for metric in self._others(instance, now, per_instance):
            metrics.append(metric)
            points += len(getattr(metric, str(metric.WhichOneof("data"))).data_points)
        resource_metrics = ResourceMetrics(
            resource=instance.resource,
            scope_metrics=[ScopeMetrics(scope=instance.scope, metrics=metrics)],
        )
        return _wire.field(0x0A, resource_metrics.SerializeToString()), points

    def _histogram_point(self, metric: Metric, s: _Series, now: int) -> None:
        metric.histogram.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
        point = metric.histogram.data_points.add(
            start_time_unix_nano=self._start, time_unix_nano=now, count=s.count, sum=s.total
        )
        point.attributes.extend(s.attributes)
        point.explicit_bounds.extend(_BOUNDS)
        point.bucket_counts.extend(s.buckets)

    def _exponential_point(self, metric: Metric, s: _Series, now: int) -> None:
        histogram = metric.exponential_histogram
        histogram.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
        point = histogram.data_points.add(
            start_time_unix_nano=self._start,
            time_unix_nano=now,
            count=s.count,
            sum=s.total,
            scale=_EXP_SCALE,
        )
        point.attributes.extend(s.attributes)
        point.positive.offset = _EXP_OFFSET
        point.positive.bucket_counts.extend(s.buckets)

    def _advance(self, s: _Series, requests: float, service: str) -> None:
        traffic = self._traffic
        median = s.median
        error_share = self._error_rate
        scenario_db = traffic.active and traffic.db_slowdown != 1.0
        if s.kind == "db" and scenario_db:
            median *= traffic.db_slowdown
        elif s.kind in ("http", "rpc") and scenario_db:
            median *= 1 + 0.5 * (traffic.db_slowdown - 1)
        deploy = traffic.deploy
        if deploy is not None and traffic.active and service == deploy.service:
            median *= deploy.latency
            error_share += deploy.error_rate
        if s.flaky:
            error_share = max(error_share, traffic.provider_failure(traffic.now))
        expected = requests * s.share * (error_share if s.error else 1 - error_share)
        n = int(expected) + (1 if self._rng.random() < expected % 1 else 0)
        if not s.buckets:
            s.buckets = [0] * (_EXP_BUCKETS if s.kind == "provider" else len(_BOUNDS) + 1)
        if n == 0:
            return
        edges = _EXP_EDGES if s.kind == "provider" else _BOUNDS
        below = 0.0
        for k, edge in enumerate(edges):
            cdf = _lognormal_cdf(edge, median)
            s.buckets[k] += round(n * (cdf - below))
            below = cdf
        s.buckets[-1] += round(n * (1 - below))
        s.count = sum(s.buckets)
        s.total += n * median * math.exp(0.5**2 / 2)

    def _others(self, instance: Instance, now: int, requests: float) -> list[Metric]:
        """Counters, gauges and the up-down counter of ``instance``."""
        traffic, service, key = self._traffic, instance.service, instance.key
        found: list[Metric] = []
        counters: list[tuple[str, str, str, str, float]] = []
        if service == "order":
            failed = min(1.0, 3 * self._error_rate + traffic.provider_failure(traffic.now) ** 3)
            counters += [
                ("shop.orders", "{order}", "shop.order.outcome", "placed", 0.15 * (1 - failed)),
                ("shop.orders", "{order}", "shop.order.outcome", "compensated", 0.15 * failed),
            ]
        if service == "catalog":
            counters += [
                ("shop.cache.requests", "{request}", "shop.cache.hit", "true", 0.57),
                ("shop.cache.requests", "{request}", "shop.cache.hit", "false", 0.13),
            ]
        if service == "api-gateway":
            load = traffic.bulkhead.load(traffic.now)
            # in flight is load * U(0.6, 1.4): the share of arrivals that find it full
            rejected = min(1.0, max(0.0, (1.4 - traffic.bulkhead.capacity / load) / 0.8))
            counters.append(
                ("shop.bulkhead.rejected", "{request}", "shop.bulkhead.name", "gateway", rejected)
            )
            found.append(_gauge("shop.bulkhead.in_flight", "{request}", now, int(load)))
        if service == "payment":
            state = _BREAKER_VALUE[traffic.breaker.state]
            found.append(_gauge("shop.circuit_breaker.state", "1", now, state))
        sums: dict[str, Metric] = {}
        for name, unit, attribute, value, share in counters:
            metric = sums.get(name)
            if metric is None:
                metric = sums[name] = Metric(name=name, unit=unit)
                metric.sum.is_monotonic = True
                metric.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
            total = self._counters.get((key, name, value), 0) + round(requests * share)
            self._counters[key, name, value] = total
            point = metric.sum.data_points.add(
                start_time_unix_nano=self._start, time_unix_nano=now, as_int=total
            )
            point.attributes.append(_wire.key_value(attribute, value))
        found += sums.values()
        memory = Metric(name="process.memory.usage", unit="By")
        memory.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
        usage = int(180e6 * (1 + 0.1 * self._rng.random()) + 2e5 * math.log1p(requests))
        memory.sum.data_points.add(
            start_time_unix_nano=self._start, time_unix_nano=now, as_int=usage
        )
        found.append(memory)
        return found


_DESCRIPTIONS = {
    "http.server.request.duration": "Duration of HTTP server requests.",
    "rpc.server.call.duration": "Duration of gRPC calls served.",
    "db.client.operation.duration": "Duration of database client operations.",
    "http.client.request.duration": "Duration of calls to the payment provider.",
}


def _series_of(service: str) -> dict[str, list[_Series]]:
    found: dict[str, list[_Series]] = {}
    for method, route, share, median in _HTTP.get(service, []):
        for code, error in (((201 if method == "POST" else 200), False), (500, True)):
            attributes = _attributes(
                {"http.request.method": method, "http.route": route},
                {"http.response.status_code": code},
            )
            found.setdefault("http.server.request.duration", []).append(
                _Series(attributes, share, median / 1000, error, "http")
            )
    for method, share, median in _RPC.get(service, []):
        for code, error in ((0, False), (14, True)):
            attributes = _attributes(
                {
                    "rpc.system": "grpc",
                    "rpc.service": f"shop.{service}.v1.{service.capitalize()}Service",
                    "rpc.method": method,
                },
                {"rpc.grpc.status_code": code},
            )
            found.setdefault("rpc.server.call.duration", []).append(
                _Series(attributes, share, median / 1000, error, "rpc", method == "Charge")
            )
    for operation, table, share, median in _DB.get(service, []):
        attributes = _attributes(
            {
                "db.system.name": "postgresql",
                "db.operation.name": operation,
                "db.collection.name": table,
            },
            {},
        )
        found.setdefault("db.client.operation.duration", []).append(
            _Series(attributes, share, median / 1000, False, "db")
        )
    if service == "payment":
        for code, error in ((200, False), (503, True)):
            attributes = _attributes(
                {"server.address": PROVIDER_HOST, "http.request.method": "POST"},
                {"http.response.status_code": code},
            )
            found.setdefault("http.client.request.duration", []).append(
                _Series(attributes, 0.15, 0.18 if not error else 0.3, error, "provider", True)
            )
    return found


def _attributes(strings: dict[str, str], ints: dict[str, int]) -> list[KeyValue]:
    return [_wire.key_value(k, v) for k, v in (strings | ints).items()]


def _gauge(name: str, unit: str, now: int, value: int) -> Metric:
    metric = Metric(name=name, unit=unit)
    metric.gauge.data_points.add(time_unix_nano=now, as_int=value)
    return metric


def _lognormal_cdf(value: float, median: float, sigma: float = 0.5) -> float:
    return 0.5 * (1 + math.erf(math.log(value / median) / (sigma * math.sqrt(2))))


# Upper bounds of the exponential histogram's buckets but the last.
_EXP_EDGES = [2 ** ((_EXP_OFFSET + k + 1) / 2**_EXP_SCALE) for k in range(_EXP_BUCKETS - 1)]
