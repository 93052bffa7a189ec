"""OTLP exponential histograms as PromQL native histograms, stored on both backends.

The answers are worked out here from the bucket math alone (a small model of a native
histogram below, bucket bounds ``base^i`` with ``base = 2^(2^-scale)``), never taken
from otelite: Debian's Prometheus cannot be fed native histograms.

The data: ``rpc.duration`` (seconds) for two routes, cumulative. Route ``/a`` adds the
same observations every 15 s, at scale 2 until its SDK reduces it to scale 1 (point 10)
and restarts from nothing at point 15 (a counter reset). Route ``/b`` adds fewer and
stays at scale 2. ``queue.wait`` (milliseconds) is a delta histogram whose scale
alternates between 3 and 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
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

from otelite.query.promql import StorageSource, Vector, evaluate, parse
from otelite.storage import WriteBatch
from otelite.types import ExportMetricsServiceRequest
from tests.backends import BACKENDS, store
from tests.promql.support import serving

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

    @property
    def count(self) -> float:
        return self.zero + sum(self.positive.values()) + sum(self.negative.values())

    def at_scale(self, scale: int) -> Model:
        """Buckets merged 2^k at a time: bucket i at scale s is i // 2^k at s - k."""
        k = self.scale - scale
        assert k >= 0
        out = Model(scale, self.zero, total=self.total)
        for side, into in ((self.positive, out.positive), (self.negative, out.negative)):
            for i, c in side.items():
                into[i // 2**k] = into.get(i // 2**k, 0.0) + c
        return out

    def times(self, n: float) -> Model:
        return Model(
            self.scale,
            self.zero * n,
            {i: c * n for i, c in self.positive.items()},
            {i: c * n for i, c in self.negative.items()},
            self.total * n,
        )

    def plus(self, other: Model) -> Model:
        scale = min(self.scale, other.scale)
        a, b = self.at_scale(scale), other.at_scale(scale)
        out = Model(scale, a.zero + b.zero, dict(a.positive), dict(a.negative), a.total + b.total)
        for side, into in ((b.positive, out.positive), (b.negative, out.negative)):
            for i, c in side.items():
                into[i] = into.get(i, 0.0) + c
        return out

    def buckets(self) -> list[tuple[str, float, float, float]]:
        """(kind, lower, upper, count) of the buckets with observations, ascending."""
        base = 2 ** (2**-self.scale)
        found = [
            ("-", -(base ** (i + 1)), -(base**i), c)
            for i, c in sorted(self.negative.items(), reverse=True)
            if c
        ]
        if self.zero:
            found.append(("0", 0.0, 0.0, self.zero))
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


def _point(model: Model, k: int, attributes: dict[str, str]) -> ExponentialHistogramDataPoint:
    point = ExponentialHistogramDataPoint(
        start_time_unix_nano=BASE_MS * 1_000_000,
        time_unix_nano=at(k) * 1_000_000,
        count=round(model.count),
        sum=model.total,
        scale=model.scale,
        zero_count=round(model.zero),
        attributes=[
            KeyValue(key=key, value=AnyValue(string_value=v)) for key, v in attributes.items()
        ],
    )
    for side, buckets in (("positive", model.positive), ("negative", model.negative)):
        if buckets:
            low, high = min(buckets), max(buckets)
            getattr(point, side).offset = low
            getattr(point, side).bucket_counts.extend(
                round(buckets.get(i, 0)) for i in range(low, high + 1)
            )
    return point


def _metric(
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
    durations = [_point(route_a(k), k, {"route": "/a"}) for k in range(POINTS)]
    durations += [_point(route_b(k), k, {"route": "/b"}) for k in range(POINTS)]
    waits = [_point(wait_delta(k), k, {}) for k in range(POINTS)]
    service = KeyValue(key="service.name", value=AnyValue(string_value="api"))
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=[service]),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            _metric("rpc.duration", "s", cumulative, durations),
                            _metric("queue.wait", "ms", delta, waits),
                        ]
                    )
                ],
            )
        ]
    )


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(metrics=[export_request()])) as served:
        yield served


def query(client: httpx.Client, text: str, k: int) -> list[dict[str, Any]]:
    response = client.get("/api/v1/query", params={"query": text, "time": at(k) / 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["resultType"] == "vector"
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


# --- the tests ---


def test_one_native_series_under_the_family_name(client: httpx.Client) -> None:
    response = client.get(
        "/api/v1/series", params={"match[]": "rpc_duration_seconds", "start": at(0) / 1000}
    )
    series = response.json()["data"]
    assert {s["route"] for s in series} == {"/a", "/b"}
    assert all(set(s) == {"__name__", "job", "route"} for s in series)
    # No classic series of the histogram: Prometheus has none for a native histogram.
    for suffix in ("_count", "_sum", "_bucket"):
        assert query(client, "rpc_duration_seconds" + suffix, 5) == []
    window = {"start": at(0) / 1000, "end": at(POINTS) / 1000}
    names = client.get("/api/v1/label/__name__/values", params=window).json()["data"]
    assert "rpc_duration_seconds" in names and "queue_wait_milliseconds" in names


def test_an_instant_query_answers_histogram_samples(client: httpx.Client) -> None:
    found = by_route(query(client, "rpc_duration_seconds", 5))
    for route, model in (("/a", route_a(5)), ("/b", route_b(5))):
        item = found[route]
        assert "value" not in item
        assert item["metric"]["__name__"] == "rpc_duration_seconds"
        t, histogram = item["histogram"]
        assert t == at(5) / 1000
        same(parsed(histogram), as_json(model))
    # Exactly: at scale 2 the base is 2^(1/4); /a's bucket 1 holds (2^(1/4), 2^(1/2)].
    buckets = parsed(found["/a"]["histogram"][1])["buckets"]
    assert (0, 2**0.25, 2**0.5, 12.0) in [(r, lo, hi, c) for r, lo, hi, c in buckets]
    assert buckets[0][0] == 1 and buckets[0][1] == pytest.approx(-(2**0.75))


def test_count_sum_and_avg(client: httpx.Client) -> None:
    for k in (5, 12, 17):
        model = route_a(k)
        assert (
            number(by_route(query(client, "histogram_count(rpc_duration_seconds)", k))["/a"])
            == model.count
        )
        assert number(
            by_route(query(client, "histogram_sum(rpc_duration_seconds)", k))["/a"]
        ) == pytest.approx(model.total)
        avg = by_route(query(client, "histogram_avg(rpc_duration_seconds)", k))["/a"]
        assert number(avg) == pytest.approx(model.total / model.count)
        assert "__name__" not in avg["metric"]


@pytest.mark.parametrize("q", [0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 1.0])
def test_quantiles_interpolate_exponentially_in_buckets(client: httpx.Client, q: float) -> None:
    for k in (5, 12):  # before and after /a's scale change
        found = by_route(query(client, f"histogram_quantile({q}, rpc_duration_seconds)", k))
        assert number(found["/a"]) == pytest.approx(route_a(k).quantile(q), rel=1e-9)
        assert number(found["/b"]) == pytest.approx(route_b(k).quantile(q), rel=1e-9)


def test_quantile_edges(client: httpx.Client) -> None:
    # /a at point 5: 6 each of zero, 12 + 6 + 6 + 6 positive, 6 + 6 negative = 48.
    model = route_a(5)
    assert model.count == 48

    def quantile(q: float) -> float:
        text = f"histogram_quantile({q}, rpc_duration_seconds)"
        return number(by_route(query(client, text, 5))["/a"])

    # Rank 0.625 * 48 = 30: 12 negative, 6 zero, 6 in (1, 2^(1/4)], then 6 of the 12 in
    # (2^(1/4), 2^(1/2)]: half way in exponents.
    assert quantile(0.625) == pytest.approx(2 ** (0.25 + 0.25 / 2))
    # Rank 14.4 falls in the zero bucket (a threshold of 0: the point 0).
    assert quantile(0.3) == 0.0
    outside = by_route(query(client, "histogram_quantile(1.5, rpc_duration_seconds)", 5))
    assert math.isinf(number(outside["/a"])) and number(outside["/a"]) > 0
    below = by_route(query(client, "histogram_quantile(-1, rpc_duration_seconds)", 5))
    assert number(below["/a"]) == -math.inf


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(0, 1), (-1, 1), (0, 1.3), (1.1, 2), ("-Inf", 0), (0, "+Inf"), (-1.5, -0.5), (1, 100)],
)
def test_fractions(client: httpx.Client, lower: float | str, upper: float | str) -> None:
    for k in (5, 12):
        text = f"histogram_fraction({lower}, {upper}, rpc_duration_seconds)"
        found = by_route(query(client, text, k))
        wanted = route_a(k).fraction(float(lower), float(upper))
        assert number(found["/a"]) == pytest.approx(wanted, rel=1e-9, abs=1e-12)


def test_sum_reduces_to_the_smaller_scale(client: httpx.Client) -> None:
    for k, scale in ((5, 2), (12, 1)):
        (item,) = query(client, "sum(rpc_duration_seconds)", k)
        wanted = route_a(k).plus(route_b(k))
        assert wanted.scale == scale
        assert item["metric"] == {}
        same(parsed(item["histogram"][1]), as_json(wanted))
        q = query(client, "histogram_quantile(0.9, sum(rpc_duration_seconds))", k)
        assert number(q[0]) == pytest.approx(wanted.quantile(0.9), rel=1e-9)
    (avg,) = query(client, "avg by (job) (rpc_duration_seconds)", 5)
    assert avg["metric"] == {"job": "api"}
    same(parsed(avg["histogram"][1]), as_json(route_a(5).plus(route_b(5)).times(0.5)))
    (count,) = query(client, "count(rpc_duration_seconds)", 5)
    assert number(count) == 2


def test_scalar_products(client: httpx.Client) -> None:
    found = by_route(query(client, "rpc_duration_seconds * 3", 5))
    same(parsed(found["/b"]["histogram"][1]), as_json(route_b(5).times(3)))
    assert "__name__" not in found["/b"]["metric"]
    found = by_route(query(client, "rpc_duration_seconds / 2", 5))
    same(parsed(found["/b"]["histogram"][1]), as_json(route_b(5).times(0.5)))


def _increase(k: int, window: int) -> Model:
    """``increase(h[window * 15s])`` of route /a at point ``k``. The window (open on the
    left) holds points ``k - window + 1`` to ``k``: their change, plus the total before
    a reset, reduced to the smallest scale among them, extrapolated to the window's
    start, one interval before the first point (under 1.1 intervals, so all of it):
    by ``window / (window - 1)``."""
    first = k - window + 1
    scale = min(route_a(i).scale for i in range(first, k + 1))
    change = route_a(k).plus(route_a(first).times(-1))
    for i in range(first + 1, k + 1):
        if i == RESTART:
            change = change.plus(route_a(i - 1))
    return change.at_scale(scale).times(window / (window - 1))


@pytest.mark.parametrize(("k", "window"), [(9, 6), (13, 6), (18, 6), (19, 8)])
def test_rate_and_increase_across_scale_change_and_reset(
    client: httpx.Client, k: int, window: int
) -> None:
    seconds = window * STEP_MS // 1000
    wanted = _increase(k, window)
    found = by_route(query(client, f"increase(rpc_duration_seconds[{seconds}s])", k))
    assert "__name__" not in found["/a"]["metric"]
    _, histogram = found["/a"]["histogram"]
    got = parsed(histogram)
    assert got["count"] == pytest.approx(wanted.count)
    assert got["sum"] == pytest.approx(wanted.total)
    # Every bucket as the model has it (a bucket may come out 0 and be left out).
    same(got, as_json(wanted))
    rate = by_route(query(client, f"histogram_count(rate(rpc_duration_seconds[{seconds}s]))", k))
    assert number(rate["/a"]) == pytest.approx(wanted.count / seconds)
    q = by_route(
        query(client, f"histogram_quantile(0.8, rate(rpc_duration_seconds[{seconds}s]))", k)
    )
    assert number(q["/a"]) == pytest.approx(wanted.quantile(0.8), rel=1e-9)


def test_a_reset_is_not_a_negative_rate(client: httpx.Client) -> None:
    # /a restarts at point 15; every 15 s it adds EVERY_A's 8 observations.
    assert EVERY_A.count == 8
    found = by_route(query(client, "histogram_count(rate(rpc_duration_seconds[1m]))", 16))
    assert number(found["/a"]) == pytest.approx(8 / 15)
    sums = by_route(query(client, "sum by (route) (rate(rpc_duration_seconds[1m]))", 16))
    assert parsed(sums["/a"]["histogram"][1])["count"] == pytest.approx(8 / 15)


def test_delta_histograms_add_up(client: httpx.Client) -> None:
    # The running total reduced to the smallest scale of the points read (3 for point 0
    # alone, 2 once an odd point is read).
    for k in (0, 1, 6, 19):
        wanted = wait_delta(0)
        for i in range(1, k + 1):
            wanted = wanted.plus(wait_delta(i))
        text = f"queue_wait_milliseconds[{(k + 1) * 15}s]"
        response = client.get("/api/v1/query", params={"query": text, "time": at(k) / 1000})
        data = response.json()["data"]
        assert data["resultType"] == "matrix"
        (item,) = data["result"]
        histograms = item["histograms"]
        assert len(histograms) == k + 1
        t, last = histograms[-1]
        assert t == at(k) / 1000
        same(parsed(last), as_json(wanted))


def test_float_only_operations_leave_histograms_out(client: httpx.Client) -> None:
    for text in (
        "max(rpc_duration_seconds)",
        "topk(1, rpc_duration_seconds)",
        "abs(rpc_duration_seconds)",
        "rpc_duration_seconds + 1",
        "rpc_duration_seconds > 0",
        "max_over_time(rpc_duration_seconds[1m])",
        "histogram_quantile(0.5, rpc_duration_seconds_bucket)",
    ):
        assert query(client, text, 5) == [], text
    counted = query(client, "count_over_time(rpc_duration_seconds[1m])", 5)
    assert sorted(number(item) for item in counted) == [4, 4]
    stamps = query(client, "timestamp(rpc_duration_seconds)", 5)
    assert [number(item) for item in stamps] == [at(5) / 1000] * 2
    both = query(client, "rpc_duration_seconds and on (route) rpc_duration_seconds", 5)
    assert len(both) == 2 and all("histogram" in item for item in both)


def test_a_range_query_answers_histograms(client: httpx.Client) -> None:
    params: dict[str, str | float] = {
        "query": 'rpc_duration_seconds{route="/b"}',
        "start": at(3) / 1000,
        "end": at(6) / 1000,
        "step": "15s",
    }
    body = client.get("/api/v1/query_range", params=params).json()
    assert body["data"]["resultType"] == "matrix"
    (series,) = body["data"]["result"]
    assert "values" not in series
    assert [t for t, _ in series["histograms"]] == [at(k) / 1000 for k in range(3, 7)]
    for (_, histogram), k in zip(series["histograms"], range(3, 7), strict=True):
        same(parsed(histogram), as_json(route_b(k)))
    params["query"] = 'histogram_count(rpc_duration_seconds{route="/b"})'
    (counts,) = client.get("/api/v1/query_range", params=params).json()["data"]["result"]
    assert [float(v) for _, v in counts["values"]] == [route_b(k).count for k in range(3, 7)]


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_engine_reads_the_store_directly(kind: str) -> None:
    with store(kind) as opened:
        opened.write(WriteBatch(metrics=[export_request()]))
        steps = np.array([at(5), at(12)], dtype=np.int64)
        found = evaluate(
            parse("histogram_count(sum(rpc_duration_seconds))"),
            StorageSource(opened),
            steps,
            start_ms=at(5),
            end_ms=at(12),
        )
        assert isinstance(found, Vector)
        wanted = [route_a(k).count + route_b(k).count for k in (5, 12)]
        assert found.values.tolist() == [wanted]
