"""Operators and functions over native histograms, stored on both backends: ``+``, ``-``,
``*`` and ``/`` with float vectors, ``==``/``!=``, unary minus; ``histogram_stddev`` and
``histogram_stdvar``; ``changes`` and ``resets``; ``sort``, ``timestamp``.

The answers are worked out from the bucket math (``histograms.Model``), never taken from
otelite. Besides ``histograms``' routes (``rpc_duration_seconds``), the data has:

- ``route_weight``, a gauge per route: 4 for ``/a``, 0 for ``/b``;
- ``call_latency_seconds``, cumulative, in two zones: ``x`` at scale 1 with a zero
  threshold of 0, ``y`` at scale 0 with a zero threshold of 0.5, into which three of
  ``x``'s buckets fall. ``y`` stays the same; ``x`` changes now and then (``zone_x``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.storage import WriteBatch
from otelite.types import ExportMetricsServiceRequest
from tests.backends import BACKENDS
from tests.promql.histograms import (
    EVERY_A,
    EVERY_B,
    POINTS,
    Model,
    as_json,
    at,
    by_route,
    export_request,
    metric,
    number,
    parsed,
    point,
    query,
    query_range,
    route_a,
    route_b,
    same,
)
from tests.promql.support import serving

WEIGHTS = {"/a": 4.0, "/b": 0.0}
ZONE_X = Model(
    1,
    zero=1,
    positive={-4: 1, -3: 2, -2: 1, 0: 3, 3: 1},
    negative={-3: 1, 1: 2},
    total=6.0,
)
ZONE_Y = Model(0, zero=2, positive={-1: 1, 0: 2, 2: 1}, negative={0: 1}, total=5.0, threshold=0.5)


def zone_x(k: int) -> Model:
    """Zone x at point ``k``: as ``ZONE_X`` until point 3, where only its sum grows; 6,
    where bucket 0 gains 2; 8, where bucket 0 gains 3 and bucket 3 loses its one (a
    counter reset, though the count grows); 10, where only its sum drops (no reset)."""
    found = replace(ZONE_X, positive=dict(ZONE_X.positive))
    if k >= 3:
        found.total += 1
    if k >= 6:
        found.positive[0] += 2
        found.total += 2
    if k >= 8:
        found.positive[0] += 3
        found.positive[3] = 0
        found.total += 1
    if k >= 10:
        found.total -= 5
    return found


def _attributes(values: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


def operators_request() -> ExportMetricsServiceRequest:
    cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    latencies = [point(zone_x(k), k, {"zone": "x"}) for k in range(POINTS)]
    latencies += [point(ZONE_Y, k, {"zone": "y"}) for k in range(POINTS)]
    weights = Metric(
        name="route.weight",
        gauge=Gauge(
            data_points=[
                NumberDataPoint(
                    time_unix_nano=at(k) * 1_000_000,
                    as_double=weight,
                    attributes=_attributes({"route": route}),
                )
                for k in range(POINTS)
                for route, weight in WEIGHTS.items()
            ]
        ),
    )
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=_attributes({"service.name": "api"})),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[metric("call.latency", "s", cumulative, latencies), weights]
                    )
                ],
            )
        ]
    )


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    batch = WriteBatch(metrics=[export_request(), operators_request()])
    with serving(request.param, batch) as served:
        yield served


def histogram(item: dict[str, object]) -> dict[str, object]:
    found = item["histogram"]
    assert isinstance(found, list)
    return parsed(found[1])


def only(client: httpx.Client, text: str, k: int) -> dict[str, object]:
    (item,) = query(client, text, k)
    return item


# --- arithmetic ---


@pytest.mark.parametrize("k", [5, 12])  # /a at scale 2, then at scale 1 beside /b's 2
def test_sums_and_differences_reduce_to_the_smaller_scale(client: httpx.Client, k: int) -> None:
    a, b = 'rpc_duration_seconds{route="/a"}', 'rpc_duration_seconds{route="/b"}'
    item = only(client, f"{a} + ignoring(route) {b}", k)
    assert item["metric"] == {"job": "api"}
    same(histogram(item), as_json(route_a(k).plus(route_b(k))))
    # A difference has negative counts where the second histogram had more.
    item = only(client, f"{b} - ignoring(route) {a}", k)
    wanted = route_b(k).plus(route_a(k).times(-1))
    assert any(c < 0 for c in wanted.positive.values())
    same(histogram(item), as_json(wanted))
    # Matched one to one, each with itself: empty histograms.
    for item in query(client, "rpc_duration_seconds - rpc_duration_seconds", k):
        assert "__name__" not in item["metric"]
        same(histogram(item), {"count": 0, "sum": 0, "buckets": []})


def test_the_wider_zero_threshold_wins(client: httpx.Client) -> None:
    x, y = 'call_latency_seconds{zone="x"}', 'call_latency_seconds{zone="y"}'
    wanted = ZONE_X.plus(ZONE_Y)
    # x's buckets (2^-2, 2^-1.5], (2^-1.5, 2^-1] and [-2^-1, -2^-1.5) are in y's zero bucket.
    assert wanted.threshold == 0.5 and wanted.zero == 1 + 2 + 1 + 2 + 1
    same(histogram(only(client, f"{x} + ignoring(zone) {y}", 2)), as_json(wanted))
    difference = ZONE_Y.plus(ZONE_X.times(-1))
    same(histogram(only(client, f"{y} - ignoring(zone) {x}", 2)), as_json(difference))
    total = only(client, "histogram_count(sum(call_latency_seconds))", 2)
    assert number(total) == ZONE_X.count + ZONE_Y.count


def test_products_and_quotients_by_float_samples(client: httpx.Client) -> None:
    k = 5
    for text in ("rpc_duration_seconds * route_weight", "route_weight * rpc_duration_seconds"):
        found = by_route(query(client, text, k))
        assert found["/a"]["metric"] == {"job": "api", "route": "/a"}
        same(histogram(found["/a"]), as_json(route_a(k).times(4)))
        same(histogram(found["/b"]), {"count": 0, "sum": 0, "buckets": []})
    found = by_route(query(client, "rpc_duration_seconds / on(route) route_weight", k))
    same(histogram(found["/a"]), as_json(route_a(k).times(0.25)))
    # Divided by 0: no buckets left, the count and the sum infinite.
    same(histogram(found["/b"]), {"count": math.inf, "sum": math.inf, "buckets": []})
    # By a scalar 0: /a's zero bucket (6 observations) is infinite, /b's (none) NaN.
    found = by_route(query(client, "rpc_duration_seconds / 0", k))
    assert route_a(k).zero == 6
    same(
        histogram(found["/a"]),
        {"count": math.inf, "sum": math.inf, "buckets": [(3, 0, 0, math.inf)]},
    )
    same(histogram(found["/b"]), {"count": math.inf, "sum": math.inf, "buckets": []})
    found = by_route(query(client, "rpc_duration_seconds * on(route) group_left route_weight", k))
    same(histogram(found["/a"]), as_json(route_a(k).times(4)))


def test_histograms_equal_or_not(client: httpx.Client) -> None:
    k = 7
    kept = by_route(query(client, "rpc_duration_seconds == rpc_duration_seconds", k))
    assert kept["/a"]["metric"]["__name__"] == "rpc_duration_seconds"
    same(histogram(kept["/a"]), as_json(route_a(k)))
    same(histogram(kept["/b"]), as_json(route_b(k)))
    assert query(client, "rpc_duration_seconds != rpc_duration_seconds", k) == []
    # The same histogram, however its parts came about.
    doubled = "rpc_duration_seconds * 2 == rpc_duration_seconds + rpc_duration_seconds"
    assert len(query(client, doubled, k)) == 2
    a, b = 'rpc_duration_seconds{route="/a"}', 'rpc_duration_seconds{route="/b"}'
    assert query(client, f"{a} == ignoring(route) {b}", k) == []
    item = only(client, f"{a} != ignoring(route) {b}", k)
    assert item["metric"] == {"__name__": "rpc_duration_seconds", "job": "api"}
    same(histogram(item), as_json(route_a(k)))
    item = only(client, f"{a} == bool ignoring(route) {b}", k)
    assert item["metric"] == {"job": "api"} and number(item) == 0
    found = query(client, "rpc_duration_seconds != bool rpc_duration_seconds", k)
    assert [number(item) for item in found] == [0, 0]


def test_differences_over_a_range(client: httpx.Client) -> None:
    """Each step's histogram less the one 15 s before: what the route added (/a's
    points all read at scale 1, the smallest it has in the time read)."""
    result = query_range(client, "rpc_duration_seconds - rpc_duration_seconds offset 15s", 8, 12)
    found = {item["metric"]["route"]: item["histograms"] for item in result}
    for route, added in (("/a", EVERY_A.at_scale(1)), ("/b", EVERY_B)):
        assert [t for t, _ in found[route]] == [at(k) / 1000 for k in range(8, 13)]
        for _, got in found[route]:
            same(parsed(got), as_json(added))


def test_histograms_match_one_to_one(client: httpx.Client) -> None:
    # Two histograms with one signature on the right, or two matching one on the left.
    for text, error in (
        ("rpc_duration_seconds + on(job) call_latency_seconds{zone='x'}", "multiple matches"),
        ("call_latency_seconds{zone='x'} + on(job) rpc_duration_seconds", "duplicate series"),
    ):
        response = client.get("/api/v1/query", params={"query": text, "time": at(5) / 1000})
        assert response.status_code == 422
        assert response.json()["errorType"] == "execution"
        assert error in response.json()["error"]


@pytest.mark.parametrize(
    "text",
    [
        "rpc_duration_seconds > route_weight",
        "route_weight < rpc_duration_seconds",
        "rpc_duration_seconds == bool route_weight",
        "rpc_duration_seconds != bool 1",
        "rpc_duration_seconds + route_weight",
        "route_weight - rpc_duration_seconds",
        "route_weight / rpc_duration_seconds",
        "rpc_duration_seconds ^ route_weight",
        "rpc_duration_seconds % 2",
        "2 / rpc_duration_seconds",
        "rpc_duration_seconds * rpc_duration_seconds",
        "rpc_duration_seconds / rpc_duration_seconds",
        "rpc_duration_seconds > rpc_duration_seconds",
        "rpc_duration_seconds <= bool rpc_duration_seconds",
        "rpc_duration_seconds atan2 rpc_duration_seconds",
    ],
)
def test_what_does_not_apply_to_histograms_answers_nothing(client: httpx.Client, text: str) -> None:
    assert query(client, text, 5) == []


def test_unary_minus_negates_histograms(client: httpx.Client) -> None:
    k = 5
    found = by_route(query(client, "-rpc_duration_seconds", k))
    assert found["/a"]["metric"] == {"job": "api", "route": "/a"}
    # Negative counts everywhere; the zero bucket, counting less than nothing, unlisted.
    same(histogram(found["/a"]), as_json(route_a(k).times(-1)))
    same(histogram(found["/b"]), as_json(route_b(k).times(-1)))
    counts = by_route(query(client, "histogram_count(-rpc_duration_seconds)", k))
    assert number(counts["/a"]) == -route_a(k).count
    back = by_route(query(client, "-(-rpc_duration_seconds)", k))
    same(histogram(back["/b"]), as_json(route_b(k)))


# --- functions ---


@pytest.mark.parametrize("k", [5, 12])
def test_stddev_and_stdvar_from_bucket_middles(client: httpx.Client, k: int) -> None:
    wanted = {
        "/a": route_a(k),
        "/b": route_b(k),
        "x": zone_x(k),
        "y": ZONE_Y,  # its zero bucket is [-0.5, 0.5], its middle 0 all the same
        "": route_a(k).plus(route_b(k)),
    }
    for function, of in (("histogram_stdvar", Model.variance), ("histogram_stddev", _stddev)):
        found = query(client, f"{function}(rpc_duration_seconds)", k)
        found += query(client, f"{function}(call_latency_seconds)", k)
        found += query(client, f"{function}(sum(rpc_duration_seconds))", k)
        assert all("__name__" not in item["metric"] for item in found)
        got = {item["metric"].get("route", item["metric"].get("zone", "")): item for item in found}
        assert got.keys() == wanted.keys()
        for key, model in wanted.items():
            assert number(got[key]) == pytest.approx(of(model), rel=1e-12), (function, key)
    assert query(client, "histogram_stddev(route_weight)", k) == []


def _stddev(model: Model) -> float:
    return math.sqrt(model.variance())


@pytest.mark.parametrize(
    ("k", "window", "changes", "resets"),
    [
        (19, "5m", 4, 1),  # points 0 to 19: changes at 3, 6, 8 and 10, a reset at 8
        (9, "2m", 3, 1),  # points 2 to 9
        (7, "2m", 2, 0),  # points 0 to 7
        (12, "1m", 1, 0),  # points 9 to 12: the sum drops at 10, which is no reset
    ],
)
def test_changes_and_resets_of_histograms(
    client: httpx.Client, k: int, window: str, changes: int, resets: int
) -> None:
    for function, wanted in (("changes", changes), ("resets", resets)):
        found = query(client, f"{function}(call_latency_seconds[{window}])", k)
        got = {item["metric"]["zone"]: number(item) for item in found}
        assert got == {"x": wanted, "y": 0}, function
        assert all("__name__" not in item["metric"] for item in found)


def test_changes_and_resets_across_a_scale_change_and_in_subqueries(
    client: httpx.Client,
) -> None:
    # Points 0 to 19: every one adds observations; /a's scale drops at 10 (no reset)
    # and its counts start over at 15.
    for text, wanted in (
        ("changes(rpc_duration_seconds[5m])", {"/a": 19, "/b": 19}),
        ("resets(rpc_duration_seconds[5m])", {"/a": 1, "/b": 0}),
        # The subquery's steps read points 7 to 18.
        ("changes(rpc_duration_seconds[3m:15s])", {"/a": 11, "/b": 11}),
        ("resets(rpc_duration_seconds[3m:15s])", {"/a": 1, "/b": 0}),
        ("resets((-rpc_duration_seconds)[3m:15s])", {"/a": 10, "/b": 11}),
    ):
        found = by_route(query(client, text, 19))
        assert {route: number(item) for route, item in found.items()} == wanted, text


def test_sort_leaves_histograms_out(client: httpx.Client) -> None:
    for function in ("sort", "sort_desc"):
        assert query(client, f"{function}(rpc_duration_seconds)", 5) == []
        found = query(client, f"{function}(rpc_duration_seconds or on(__name__) route_weight)", 5)
        assert all("histogram" not in item for item in found)
        order = [item["metric"]["route"] for item in found]
        assert order == (["/b", "/a"] if function == "sort" else ["/a", "/b"])
    # /a counts 48 at point 5, /b 12.
    counts = query(client, "sort_desc(histogram_count(rpc_duration_seconds))", 5)
    assert [number(item) for item in counts] == [route_a(5).count, route_b(5).count]


def test_timestamp_and_count_over_time_of_computed_histograms(client: httpx.Client) -> None:
    stamps = query(client, "timestamp(-rpc_duration_seconds)", 5)
    assert sorted(item["metric"]["route"] for item in stamps) == ["/a", "/b"]
    assert [number(item) for item in stamps] == [at(5) / 1000] * 2
    counted = query(client, "count_over_time((rpc_duration_seconds * 2)[1m:15s])", 5)
    assert [number(item) for item in counted] == [4, 4]
