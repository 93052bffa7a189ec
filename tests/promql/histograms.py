"""Native histograms for the PromQL tests: a model of one worked out from the bucket math
alone (bucket bounds ``base^i`` with ``base = 2^(2^-scale)``), OTLP exponential histograms
made from it, and the data of ``test_native_histograms``.

The data: ``rpc.duration`` (seconds) for two routes, cumulative. Route ``/a`` adds the
same observations every 15 s, at scale 2 until its SDK reduces it to scale 1 (point 10)
and restarts from nothing at point 15 (a counter reset). Route ``/b`` adds fewer and
stays at scale 2. ``queue.wait`` (milliseconds) is a delta histogram whose scale
alternates between 3 and 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.types import ExportMetricsServiceRequest

BASE_MS = 1_700_000_000_000
STEP_MS = 15_000
POINTS = 20
SCALE_CHANGE = 10  # route /a: scale 1 from this point on
RESTART = 15  # route /a: counts start over at this point


def at(k: int) -> int:
    """The time of point ``k`` (ms)."""
    return BASE_MS + k * STEP_MS


# --- a native histogram, as the bucket math has it ---


@dataclass
class Model:
    scale: int
    zero: float = 0.0
    positive: dict[int, float] = field(default_factory=dict)
    negative: dict[int, float] = field(default_factory=dict)
    total: float = 0.0  # the sum of observations
    threshold: float = 0.0  # the zero bucket's: it holds [-threshold, threshold]

    @property
    def count(self) -> float:
        return self.zero + sum(self.positive.values()) + sum(self.negative.values())

    def at_scale(self, scale: int) -> Model:
        """Buckets merged 2^k at a time: bucket i at scale s is i // 2^k at s - k."""
        k = self.scale - scale
        assert k >= 0
        out = Model(scale, self.zero, total=self.total, threshold=self.threshold)
        for side, into in ((self.positive, out.positive), (self.negative, out.negative)):
            for i, c in side.items():
                into[i // 2**k] = into.get(i // 2**k, 0.0) + c
        return out

    def widened(self, threshold: float) -> Model:
        """The zero bucket widened to ``threshold`` (a bucket bound at every scale, a
        power of 2, here): the buckets now inside it counted in it."""
        out = Model(self.scale, self.zero, total=self.total, threshold=threshold)
        for side, into in ((self.positive, out.positive), (self.negative, out.negative)):
            for i, c in side.items():
                if 2 ** ((i + 1) * 2**-self.scale) <= threshold:
                    out.zero += c
                else:
                    into[i] = c
        return out

    def times(self, n: float) -> Model:
        return Model(
            self.scale,
            self.zero * n,
            {i: c * n for i, c in self.positive.items()},
            {i: c * n for i, c in self.negative.items()},
            self.total * n,
            self.threshold,
        )

    def plus(self, other: Model) -> Model:
        """The sum: at the smaller scale and the wider zero threshold."""
        scale, threshold = min(self.scale, other.scale), max(self.threshold, other.threshold)
        a = self.widened(threshold).at_scale(scale)
        b = other.widened(threshold).at_scale(scale)
        out = Model(
            scale, a.zero + b.zero, dict(a.positive), dict(a.negative), a.total + b.total, threshold
        )
        for side, into in ((b.positive, out.positive), (b.negative, out.negative)):
            for i, c in side.items():
                into[i] = into.get(i, 0.0) + c
        return out

    def buckets(self) -> list[tuple[str, float, float, float]]:
        """(kind, lower, upper, count) of the buckets Prometheus lists, ascending: those
        that are not empty, the zero bucket only when it counts more than nothing."""
        base = 2 ** (2**-self.scale)
        found = [
            ("-", -(base ** (i + 1)), -(base**i), c)
            for i, c in sorted(self.negative.items(), reverse=True)
            if c
        ]
        if self.zero > 0:
            found.append(("0", -self.threshold, self.threshold, self.zero))
        found += [("+", base**i, base ** (i + 1), c) for i, c in sorted(self.positive.items()) if c]
        return found

    def quantile(self, q: float) -> float:
        """Exponential interpolation in a bucket, linear in the zero bucket ([0, 0]
        here: a zero threshold of 0)."""
        rank = q * self.count
        seen = 0.0
        for kind, lower, upper, c in self.buckets():
            if seen + c >= rank:
                f = (rank - seen) / c
                if kind == "+":
                    return float(lower * (upper / lower) ** f)
                if kind == "-":
                    return float(-(abs(upper) * (abs(lower) / abs(upper)) ** (1 - f)))
                return lower + (upper - lower) * f
            seen += c
        raise AssertionError("rank past the buckets")

    def up_to(self, x: float) -> float:
        """Observations at most ``x``, interpolated as quantiles are."""
        n = 0.0
        for kind, lower, upper, c in self.buckets():
            if x >= upper and not (kind == "0" and x == upper == 0.0):
                n += c
            elif lower < x < upper:
                if kind == "+":
                    n += c * math.log(x / lower) / math.log(upper / lower)
                else:
                    n += c * math.log(abs(lower) / abs(x)) / math.log(abs(lower) / abs(upper))
        return n

    def fraction(self, lower: float, upper: float) -> float:
        return (self.up_to(upper) - self.up_to(lower)) / self.count

    def variance(self) -> float:
        """The observations' variance around their mean (the sum over the count), each
        taken to be at its bucket's middle: the geometric mean of the bounds (negative
        below zero), 0 in the zero bucket."""
        mean = self.total / self.count
        spread = 0.0
        for kind, lower, upper, c in self.buckets():
            middle = 0.0 if kind == "0" else math.copysign(math.sqrt(lower * upper), upper)
            spread += c * (middle - mean) ** 2
        return spread / self.count


# Route /a's observations every 15 s, at scale 2: buckets i hold (base^i, base^(i+1)].
EVERY_A = Model(2, zero=1, positive={0: 1, 1: 2, 3: 1, 5: 1}, negative={0: 1, 2: 1}, total=3.5)
EVERY_B = Model(2, zero=0, positive={2: 1, 4: 1}, total=4.0)


def route_a(k: int) -> Model:
    """Route /a's cumulative histogram at point ``k``, as its SDK reports it."""
    steps = k + 1 if k < RESTART else k - RESTART + 1
    found = EVERY_A.times(steps)
    return found.at_scale(1) if k >= SCALE_CHANGE else found


def route_b(k: int) -> Model:
    return EVERY_B.times(k + 1)


def wait_delta(k: int) -> Model:
    """``queue.wait``'s delta at point ``k``: scale 3 at even points, 2 at odd ones."""
    fine = Model(3, zero=0, positive={8: 1.0, 9: float(k % 3), 17: 2.0}, total=5.0)
    return fine if k % 2 == 0 else fine.at_scale(2)


# --- the data, stored ---


def point(model: Model, k: int, attributes: dict[str, str]) -> ExponentialHistogramDataPoint:
    made = ExponentialHistogramDataPoint(
        start_time_unix_nano=BASE_MS * 1_000_000,
        time_unix_nano=at(k) * 1_000_000,
        count=round(model.count),
        sum=model.total,
        scale=model.scale,
        zero_count=round(model.zero),
        zero_threshold=model.threshold,
        attributes=[
            KeyValue(key=key, value=AnyValue(string_value=v)) for key, v in attributes.items()
        ],
    )
    for side, buckets in (("positive", model.positive), ("negative", model.negative)):
        if buckets:
            low, high = min(buckets), max(buckets)
            getattr(made, side).offset = low
            getattr(made, side).bucket_counts.extend(
                round(buckets.get(i, 0)) for i in range(low, high + 1)
            )
    return made


def metric(
    name: str,
    unit: str,
    temporality: AggregationTemporality.ValueType,
    points: list[ExponentialHistogramDataPoint],
) -> Metric:
    return Metric(
        name=name,
        unit=unit,
        exponential_histogram=ExponentialHistogram(
            aggregation_temporality=temporality, data_points=points
        ),
    )


def export_request() -> ExportMetricsServiceRequest:
    cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    delta = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    durations = [point(route_a(k), k, {"route": "/a"}) for k in range(POINTS)]
    durations += [point(route_b(k), k, {"route": "/b"}) for k in range(POINTS)]
    waits = [point(wait_delta(k), k, {}) for k in range(POINTS)]
    service = KeyValue(key="service.name", value=AnyValue(string_value="api"))
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=[service]),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            metric("rpc.duration", "s", cumulative, durations),
                            metric("queue.wait", "ms", delta, waits),
                        ]
                    )
                ],
            )
        ]
    )


def query(client: httpx.Client, text: str, k: int) -> list[dict[str, Any]]:
    response = client.get("/api/v1/query", params={"query": text, "time": at(k) / 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["resultType"] == "vector"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def query_range(client: httpx.Client, text: str, first: int, last: int) -> list[dict[str, Any]]:
    """``text`` at every point from ``first`` to ``last``."""
    params: dict[str, str | float] = {
        "query": text,
        "start": at(first) / 1000,
        "end": at(last) / 1000,
        "step": f"{STEP_MS // 1000}s",
    }
    response = client.get("/api/v1/query_range", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["resultType"] == "matrix"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def by_route(result: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["metric"].get("route", ""): item for item in result}


def number(item: dict[str, Any]) -> float:
    assert "histogram" not in item
    return float(item["value"][1])


def as_json(model: Model) -> dict[str, Any]:
    """The histogram as Prometheus's API writes one (rule 0: (l, u], 1: [l, u),
    3: [l, u])."""
    rules = {"+": 0, "-": 1, "0": 3}
    return {
        "count": model.count,
        "sum": model.total,
        "buckets": [(rules[kind], lo, hi, c) for kind, lo, hi, c in model.buckets()],
    }


def parsed(histogram: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": float(histogram["count"]),
        "sum": float(histogram["sum"]),
        "buckets": [
            (rule, float(lo), float(hi), float(c)) for rule, lo, hi, c in histogram["buckets"]
        ],
    }


def same(found: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert found["count"] == pytest.approx(wanted["count"])
    assert found["sum"] == pytest.approx(wanted["sum"])
    assert len(found["buckets"]) == len(wanted["buckets"])
    for got, want in zip(found["buckets"], wanted["buckets"], strict=True):
        assert got[0] == want[0]
        assert got[1:] == pytest.approx(want[1:], rel=1e-12)
