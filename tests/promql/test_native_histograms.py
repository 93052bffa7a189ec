"""OTLP exponential histograms as PromQL native histograms, stored on both backends.

The answers are worked out from the bucket math alone (``histograms.Model``), never taken
from otelite: Debian's Prometheus cannot be fed native histograms. The data is described
in ``histograms``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from otelite.query.promql import StorageSource, Vector, evaluate, parse
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store
from tests.promql.histograms import (
    EVERY_A,
    POINTS,
    RESTART,
    STEP_MS,
    Model,
    as_json,
    at,
    by_route,
    export_request,
    number,
    parsed,
    query,
    query_range,
    route_a,
    route_b,
    same,
    wait_delta,
)
from tests.promql.support import serving


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(metrics=[export_request()])) as served:
        yield served


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
    (series,) = query_range(client, 'rpc_duration_seconds{route="/b"}', 3, 6)
    assert "values" not in series
    assert [t for t, _ in series["histograms"]] == [at(k) / 1000 for k in range(3, 7)]
    for (_, histogram), k in zip(series["histograms"], range(3, 7), strict=True):
        same(parsed(histogram), as_json(route_b(k)))
    (counts,) = query_range(client, 'histogram_count(rpc_duration_seconds{route="/b"})', 3, 6)
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
