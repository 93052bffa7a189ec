"""otelite's PromQL against the real Prometheus: the same samples in both, the same answers.

The dataset (tests/promql/dataset.py) goes to otelite as OTLP, on each backend, and to
Debian's Prometheus as the series the OpenTelemetry specification says it makes. Every
query here is asked of both, as an instant query at several times and as a range query
over the dataset's two hours, and the answers must be the same series with the same
values (to 1e-9, relative: otelite sums with prefix sums where Prometheus adds one by
one).

The reference is Prometheus 2.42, whose windows and lookback include their left end where
Prometheus 3 (and otelite) leave it out; the times asked here are chosen so that no
sample lies on a window's edge, where the two would differ. It knows
``double_exponential_smoothing`` by its older name, ``holt_winters`` (``as_prometheus_2``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.storage import WriteBatch
from tests.backends import BACKENDS
from tests.promql.dataset import BASE_MS, END_MS, MINUTE_MS, REQUESTS, SERIES
from tests.promql.reference import LOOKBACK_MS, PrometheusError, Reference
from tests.promql.support import serving
from tests.promql.test_reference import increase as increase_as_prometheus_2

pytestmark = pytest.mark.slow

Result = dict[frozenset[tuple[str, str]], list[tuple[float, float]]]

# Windows the queries below use, besides the lookback: their edges must miss the samples.
RANGES_MS = (MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 30 * MINUTE_MS)
SAMPLE_TIMES = {t for series in SERIES for t, _ in series.samples}


def clear_offset() -> int:
    """An offset into each minute at which no window edge meets a sample."""
    for offset in range(7_777, 60_000, 1_009):
        times = range(BASE_MS + offset, END_MS, MINUTE_MS)
        edges = {t - d for t in times for d in (0, LOOKBACK_MS, *RANGES_MS)}
        if not edges & SAMPLE_TIMES:
            return offset
    raise AssertionError("no offset keeps the window edges off the samples")


OFFSET_MS = clear_offset()
INSTANTS = [BASE_MS + OFFSET_MS + m * MINUTE_MS for m in (3, 12, 31, 36, 52, 71, 96, 119)]
RANGE = {
    "start": (BASE_MS + OFFSET_MS) / 1000,
    "end": (BASE_MS + OFFSET_MS + 119 * MINUTE_MS) / 1000,
    "step": 60.0,
}

# Their counters are far from zero at every window's start (see the test at the end).
LONG_RUNNING = 'instance=~"api-0|api-2"'
QUERIES = [
    # Selectors, matchers, offset and @.
    "temperature",
    'temperature{sensor="cpu"}',
    'temperature{job=~"api|worker", sensor!="cpu"}',
    'http_requests_total{code=~"5.."}',
    '{__name__=~"queue_.*"}',
    "queue_depth offset 5m",
    "temperature offset -2m",
    f"temperature @ {(BASE_MS + OFFSET_MS + 40 * MINUTE_MS) / 1000}",
    # Functions of range vectors.
    "rate(http_requests_total[5m])",
    "increase(http_requests_total[10m])",
    "irate(http_requests_total[2m])",
    "delta(temperature[10m])",
    "idelta(queue_depth[5m])",
    "deriv(temperature[10m])",
    "predict_linear(temperature[10m], 600)",
    "changes(queue_depth[10m])",
    "resets(http_requests_total[30m])",
    "avg_over_time(temperature[5m])",
    "sum_over_time(queue_depth[5m])",
    "count_over_time(temperature[10m])",
    "min_over_time(temperature[10m])",
    "max_over_time(queue_depth[30m])",
    "stddev_over_time(temperature[10m])",
    "stdvar_over_time(queue_depth[10m])",
    "last_over_time(temperature[5m])",
    "present_over_time(temperature[2m])",
    "quantile_over_time(0.75, temperature[10m])",
    "double_exponential_smoothing(temperature[10m], 0.5, 0.5)",
    "double_exponential_smoothing(temperature[5m], 0.1, 0.9)",
    "double_exponential_smoothing(queue_depth[30m], 0.8, 0.2)",
    "double_exponential_smoothing(http_requests_total[10m], 0.3, 0.6)",
    # Windows of one sample (no value) and of two, near series' starts, ends and gaps.
    "double_exponential_smoothing(temperature[1m], 0.6, 0.3)",
    "double_exponential_smoothing(queue_depth[1m:45s], 0.5, 0.5)",
    'absent_over_time(temperature{sensor="gpu"}[5m])',
    # Aggregations.
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum without (instance, otel_scope_name, otel_scope_version) (http_requests_total)",
    "avg by (sensor) (temperature)",
    "min(temperature)",
    "max by (job) (temperature)",
    "count by (code) (http_requests_total)",
    "group by (job) (temperature)",
    "stddev(temperature)",
    "stdvar by (job) (temperature)",
    "topk(3, rate(http_requests_total[5m]))",
    "bottomk(2, avg_over_time(temperature[7m]))",
    "quantile(0.9, temperature)",
    'count_values("depth", queue_depth)',
    # Operators.
    "temperature * 2 - 1",
    "100 / queue_depth",
    "temperature > 50",
    "temperature > bool 50",
    "2 ^ queue_depth % 7",
    'http_requests_total{code="500"} / ignoring(code) http_requests_total{code="200"}',
    "rate(http_requests_total[5m]) / on (job, instance) group_left"
    " sum by (job, instance) (temperature)",
    "rate(http_requests_total[5m]) / on (job, instance) group_left (sensor)"
    ' temperature{sensor="cpu"}',
    'temperature{sensor="cpu"} and on (job) queue_depth',
    'temperature{sensor="gpu"} or temperature{sensor="board"}',
    "temperature unless on (instance) queue_depth",
    "queue_depth == bool on (job, instance, queue) queue_depth",
    # Instant-vector functions.
    'abs(temperature{sensor="outdoor"})',
    "ceil(temperature / 3)",
    "floor(temperature / 3)",
    "round(temperature / 7, 0.5)",
    "clamp(temperature, 40, 60)",
    "clamp_min(queue_depth, 10)",
    "clamp_max(queue_depth, 10)",
    "sqrt(queue_depth)",
    "ln(queue_depth + 1)",
    "exp(queue_depth / 100)",
    "sgn(temperature - 50)",
    # Processes running since before the data begins: see test_a_fresh_counter_extrapolates...
    f"histogram_quantile(0.9, sum by (le, job) (rate(latency_bucket{{{LONG_RUNNING}}}[5m])))",
    f"histogram_quantile(0.5, rate(latency_bucket{{{LONG_RUNNING}}}[10m]))",
    'label_replace(temperature, "host", "$1", "instance", "([a-z]+)-.*")',
    'label_join(queue_depth, "where", "/", "job", "queue")',
    'absent(temperature{sensor="gpu"})',
    "vector(1) + scalar(count(queue_depth))",
    "time() - timestamp(temperature)",
    "hour(timestamp(temperature))",
    "minute()",
    # Subqueries.
    "max_over_time(rate(http_requests_total[5m])[30m:1m])",
    "avg_over_time(temperature[10m:])",
]


@pytest.fixture(scope="module", params=BACKENDS)
def otelite(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(metrics=REQUESTS)) as client:
        yield client


def as_prometheus_2(query: str) -> str:
    """The query as the reference (Prometheus 2.42) knows it."""
    return query.replace("double_exponential_smoothing(", "holt_winters(")


def ask(client: httpx.Client, path: str, params: dict[str, Any]) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    return body["data"]  # type: ignore[no-any-return]


def number(text: str) -> float:
    return float(text)  # "NaN", "+Inf" and "-Inf" included


def as_result(data: dict[str, Any]) -> Result:
    if data["resultType"] == "scalar":
        return {frozenset(): [(data["result"][0], number(data["result"][1]))]}
    found: Result = {}
    for item in data["result"]:
        labels = frozenset(item["metric"].items())
        assert labels not in found, f"two series with one label set: {dict(labels)}"
        samples = item.get("values", [item.get("value")])
        found[labels] = [(t, number(v)) for t, v in samples]
    return found


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_same(mine: Result, theirs: Result, what: str) -> None:
    assert set(mine) == set(theirs), (
        f"{what}: series only in otelite: {[dict(k) for k in set(mine) - set(theirs)]}, "
        f"only in Prometheus: {[dict(k) for k in set(theirs) - set(mine)]}"
    )
    for labels, samples in theirs.items():
        times = [t for t, _ in samples]
        assert [t for t, _ in mine[labels]] == times, f"{what} {dict(labels)}: other steps"
        wrong = [
            (t, m, p)
            for (t, m), (_, p) in zip(mine[labels], samples, strict=True)
            if not same(m, p)
        ]
        assert not wrong, f"{what} {dict(labels)}: (time, otelite, Prometheus) {wrong[:5]}"


@pytest.mark.parametrize("query", QUERIES)
def test_range_queries_answer_as_prometheus_does(
    otelite: httpx.Client, reference: Reference, query: str
) -> None:
    theirs = reference.query_range(
        as_prometheus_2(query), RANGE["start"], RANGE["end"], RANGE["step"]
    )
    mine = ask(otelite, "/api/v1/query_range", {"query": query, **RANGE})
    assert mine["resultType"] == theirs["resultType"] == "matrix"
    assert as_result(theirs), f"{query} answers nothing: it tests little"
    assert_same(as_result(mine), as_result(theirs), query)


@pytest.mark.parametrize("query", QUERIES)
def test_instant_queries_answer_as_prometheus_does(
    otelite: httpx.Client, reference: Reference, query: str
) -> None:
    for at in INSTANTS:
        theirs = reference.query(as_prometheus_2(query), at / 1000)
        mine = ask(otelite, "/api/v1/query", {"query": query, "time": at / 1000})
        assert mine["resultType"] == theirs["resultType"], query
        assert_same(as_result(mine), as_result(theirs), f"{query} at {at}")


@pytest.mark.parametrize(
    "query",
    [
        "temperature[5m]",
        "rate(http_requests_total[5m])[10m:2m]",
    ],
)
def test_range_vectors_in_instant_queries_are_raw_samples(
    otelite: httpx.Client, reference: Reference, query: str
) -> None:
    at = INSTANTS[3]
    theirs = reference.query(query, at / 1000)
    mine = ask(otelite, "/api/v1/query", {"query": query, "time": at / 1000})
    assert mine["resultType"] == theirs["resultType"] == "matrix"
    assert_same(as_result(mine), as_result(theirs), query)


def test_errors_where_prometheus_refuses(otelite: httpx.Client, reference: Reference) -> None:
    at = INSTANTS[2] / 1000
    query = "http_requests_total + on (job) temperature"
    with pytest.raises(PrometheusError) as refused:
        reference.query(query, at)
    assert refused.value.error_type == "execution"
    response = otelite.get("/api/v1/query", params={"query": query, "time": at})
    assert response.status_code == 422
    assert response.json()["errorType"] == "execution"


@pytest.mark.parametrize(
    "factors", ["1, 0.5", "0, 0.5", "-1/0, 0.5", "0.5, 1.5", "0.5, 1/0", "2, 0"]
)
def test_smoothing_factors_outside_0_1_are_refused_as_prometheus_does(
    otelite: httpx.Client, reference: Reference, factors: str
) -> None:
    at = INSTANTS[2] / 1000
    query = f"double_exponential_smoothing(temperature[5m], {factors})"
    with pytest.raises(PrometheusError) as theirs:
        reference.query(as_prometheus_2(query), at)
    response = otelite.get("/api/v1/query", params={"query": query, "time": at})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["errorType"], body["error"]) == ("execution", theirs.value.message)


def test_a_nan_smoothing_factor_smooths_to_nan(otelite: httpx.Client, reference: Reference) -> None:
    """NaN is not outside (0, 1) as Prometheus checks it."""
    at = INSTANTS[2] / 1000
    query = "double_exponential_smoothing(temperature[5m], 0/0, 0.5)"
    theirs = as_result(reference.query(as_prometheus_2(query), at))
    assert theirs
    mine = as_result(ask(otelite, "/api/v1/query", {"query": query, "time": at}))
    assert_same(mine, theirs, query)


def test_smoothing_factors_are_not_checked_where_there_is_nothing_to_smooth(
    otelite: httpx.Client, reference: Reference
) -> None:
    """Prometheus checks the factors only for a window with samples: api-2 is silent
    from its 30th to its 37th minute."""
    at = (BASE_MS + OFFSET_MS + 33 * MINUTE_MS) / 1000
    for query in (
        'double_exponential_smoothing(temperature{instance="api-2"}[1m], 2, 0.5)',
        'double_exponential_smoothing(temperature{sensor="none"}[1m], 0.5, 2)',
    ):
        assert reference.query(as_prometheus_2(query), at)["result"] == []
        assert ask(otelite, "/api/v1/query", {"query": query, "time": at})["result"] == []


def increase_as_prometheus_3(samples: list[tuple[int, float]], end: int, range_ms: int) -> float:
    """``increase`` as Prometheus 3 computes it (``promql/functions.go``,
    ``extrapolatedRate``), written here from its documentation: the rise over the window
    ``(end - range, end]`` with resets added back, stretched to the window's edges where
    the samples come within 1.1 average gaps of them, else by half a gap; then, at the
    start, no further back than where the counter would reach zero."""
    window = [(t, v) for t, v in samples if end - range_ms < t <= end]
    (first_t, first), (last_t, last) = window[0], window[-1]
    rise = last - first + sum(a for (_, a), (_, b) in itertools.pairwise(window) if b < a)
    sampled = (last_t - first_t) / 1000
    average = sampled / (len(window) - 1)
    to_start = (first_t - (end - range_ms)) / 1000
    to_end = (end - last_t) / 1000
    if to_start >= average * 1.1:
        to_start = average / 2
    if rise > 0 and first >= 0:
        to_start = min(to_start, sampled * first / rise)
    if to_end >= average * 1.1:
        to_end = average / 2
    return rise * (sampled + to_start + to_end) / sampled


def test_a_fresh_counter_extrapolates_as_prometheus_3_does(otelite: httpx.Client) -> None:
    """Prometheus 2.42 (the reference) limits the start's extrapolation to the counter's
    zero before it checks the gap, Prometheus 3 after: they differ for a counter that has
    just started, at a window that begins before its first sample. checkout-0 starts at
    5 minutes; otelite answers as Prometheus 3."""
    [series] = [
        one
        for one in SERIES
        if one.name == "latency_count"
        and one.labels.get("instance") == "checkout-0"
        and one.labels.get("method") == "POST"
    ]
    query = 'increase(latency_count{instance="checkout-0", method="POST"}[5m])'
    differing = 0
    for minute in range(6, 12):
        end = BASE_MS + OFFSET_MS + minute * MINUTE_MS
        data = ask(otelite, "/api/v1/query", {"query": query, "time": end / 1000})
        [found] = data["result"]
        expected = increase_as_prometheus_3(list(series.samples), end, 5 * MINUTE_MS)
        assert math.isclose(number(found["value"][1]), expected, rel_tol=1e-12), minute
        older = increase_as_prometheus_2(series.samples, end, 5 * MINUTE_MS)
        differing += not math.isclose(expected, older or 0.0, rel_tol=1e-9)
    assert differing, "no window here tells the two orders apart"
