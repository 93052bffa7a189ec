"""The reference Prometheus answers what the dataset, computed here in Python, says it must.

The expected values never come from Prometheus: they follow its documented semantics, as
2.42 implements them (a selector sees the latest sample in [t - 5m, t], both ends
included; ``rate``/``increase`` extrapolate as ``promql.extrapolatedRate`` does).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from tests.promql.dataset import BASE_MS, END, END_MS, MINUTE_MS, SERIES, START
from tests.promql.reference import LOOKBACK_MS, PrometheusError, Reference, Series, openmetrics

pytestmark = pytest.mark.slow

Key = frozenset[tuple[str, str]]


def key(labels: Mapping[str, str], *, name: bool = True) -> Key:
    return frozenset((k, v) for k, v in labels.items() if name or k != "__name__")


def named(name: str) -> list[Series]:
    return [one for one in SERIES if one.name == name]


def latest(series: Series, ms: int) -> float | None:
    """What an instant selector sees of ``series`` at ``ms``."""
    seen = [v for t, v in series.samples if ms - LOOKBACK_MS <= t <= ms]
    return seen[-1] if seen else None


def instant(data: dict[str, Any], ms: int) -> dict[Key, float]:
    assert data["resultType"] == "vector"
    assert all(round(item["value"][0] * 1000) == ms for item in data["result"])
    return {key(item["metric"]): float(item["value"][1]) for item in data["result"]}


def matrix(data: dict[str, Any]) -> dict[Key, list[tuple[int, float]]]:
    assert data["resultType"] == "matrix"
    return {
        key(item["metric"]): [(round(t * 1000), float(v)) for t, v in item["values"]]
        for item in data["result"]
    }


def test_every_sample_is_served(reference: Reference) -> None:
    # A range selector in an instant query answers with the raw samples.
    served = matrix(reference.query('{__name__=~".+"}[3h]', END))
    assert served == {key(one.labels): list(one.samples) for one in SERIES}


# Times around what happens in the dataset: worker-1 stops at 70m, api-2 is silent from
# 30m to 37m, api-0's board sensor stops at 95m, api-2's gpu sensor begins at 20m.
MOMENTS = [BASE_MS + round(minute * MINUTE_MS) for minute in (1, 20.5, 33, 38, 71, 98, 119.9)]


def edges(series: Iterable[Series]) -> list[int]:
    """Where a sample falls out of the lookback with no newer one: just before, at (still
    seen: 2.42 includes both ends of [t - 5m, t]) and just after."""
    times = set()
    for one in series:
        ends = [*(t for t, _ in one.samples), END_MS + LOOKBACK_MS]
        for last, following in itertools.pairwise(ends):
            if following - last > LOOKBACK_MS + 1000:
                times.update(last + LOOKBACK_MS + delta for delta in (-1000, 0, 1))
    return sorted(t for t in times if t < END_MS)


@pytest.mark.parametrize("name", ["temperature", "queue_depth", "latency_count"])
def test_an_instant_selector_sees_the_latest_sample_within_the_lookback(
    reference: Reference, name: str
) -> None:
    moments = sorted({*MOMENTS, *edges(named(name))})
    assert len(moments) > len(MOMENTS), f"no series of {name} stops or pauses"
    for ms in moments:
        expected = {key(one.labels): latest(one, ms) for one in named(name)}
        answer = instant(reference.query(name, ms / 1000), ms)
        assert answer == {k: v for k, v in expected.items() if v is not None}, ms


@pytest.mark.parametrize("name", ["temperature", "http_requests_total", "latency_bucket"])
def test_a_range_query_evaluates_the_selector_at_every_step(
    reference: Reference, name: str
) -> None:
    steps = range(START * 1000, END_MS + 1, 60_000)
    expected = {}
    for one in named(name):
        points = [(ms, latest(one, ms)) for ms in steps]
        if found := [(ms, v) for ms, v in points if v is not None]:
            expected[key(one.labels)] = found
    assert matrix(reference.query_range(name, START, END, 60)) == expected


def test_sum_by_job(reference: Reference) -> None:
    for ms in sorted({*MOMENTS, *edges(named("temperature"))}):
        sums: dict[Key, float] = defaultdict(float)
        for one in named("temperature"):
            if (value := latest(one, ms)) is not None:
                sums[frozenset({("job", one.labels["job"])})] += value
        answer = instant(reference.query("sum by (job) (temperature)", ms / 1000), ms)
        assert answer == sums, ms  # quarters of a degree add up exactly


def resets(samples: Iterable[tuple[int, float]]) -> list[float]:
    """What a counter had counted each time it dropped back."""
    return [before for (_, before), (_, v) in itertools.pairwise(samples) if v < before]


def increase(samples: Iterable[tuple[int, float]], ms: int, range_ms: int) -> float | None:
    """Prometheus 2.42's ``increase``: the rise over the window, counting resets, stretched
    to the window's edges where the samples come near them (not past the counter's zero)."""
    window = [(t, v) for t, v in samples if ms - range_ms <= t <= ms]
    if len(window) < 2:
        return None
    (first_t, first), (last_t, last) = window[0], window[-1]
    rise = last - first + sum(resets(window))
    to_start = (first_t - (ms - range_ms)) / 1000
    to_end = (ms - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    average = sampled / (len(window) - 1)
    if rise > 0 and first >= 0:
        to_start = min(to_start, sampled * (first / rise))
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return rise * (interval / sampled)


# Around api-1's restart (50m), checkout-0's (40m, 95m), api-1's first 503s (80m).
RESET_MOMENTS = [
    BASE_MS + round(minute * MINUTE_MS) for minute in (12.25, 40.5, 44, 50.5, 53.5, 60, 80.5, 96)
]


@pytest.mark.parametrize("window", ["1m", "5m", "10m"])
@pytest.mark.parametrize("function", ["increase", "rate"])
def test_increase_and_rate_across_resets(reference: Reference, function: str, window: str) -> None:
    range_ms = int(window[:-1]) * MINUTE_MS
    per = range_ms / 1000 if function == "rate" else 1
    across = 0
    for ms in RESET_MOMENTS:
        expected = {}
        for one in named("http_requests_total"):
            if (value := increase(one.samples, ms, range_ms)) is not None:
                expected[key(one.labels, name=False)] = value / per
            across += bool(resets((t, v) for t, v in one.samples if ms - range_ms <= t <= ms))
        expr = f"{function}(http_requests_total[{window}])"
        answer = instant(reference.query(expr, ms / 1000), ms)
        assert answer.keys() == expected.keys(), ms
        for labels, value in expected.items():
            assert math.isclose(answer[labels], value, rel_tol=1e-12), (ms, dict(labels))
    assert across, "no window holds a reset"


def test_resets(reference: Reference) -> None:
    expected = {
        key(one.labels, name=False): float(len(resets(one.samples)))
        for one in named("http_requests_total")
    }
    assert sum(expected.values()) >= 3, "the dataset's counters should reset"
    assert instant(reference.query("resets(http_requests_total[3h])", END), END_MS) == expected


def test_an_error_says_what_and_why(reference: Reference) -> None:
    with pytest.raises(PrometheusError) as raised:
        reference.query("sum(temperature", END)
    assert raised.value.error_type == "bad_data"
    assert "unclosed left parenthesis" in raised.value.message


def test_openmetrics_text() -> None:
    series = [
        Series("up", "gauge", {"__name__": "up", "job": 'a"b\\c'}, [(1000, 1.0), (16_500, 0.0)]),
        Series("hits", "counter", {"__name__": "hits_total"}, [(2000, 3.0)]),
        Series("up", "gauge", {"__name__": "up", "job": "x"}, [(1000, -0.25)]),
    ]
    assert openmetrics(series) == (
        "# TYPE up gauge\n"
        'up{job="a\\"b\\\\c"} 1.0 1.000\n'
        'up{job="a\\"b\\\\c"} 0.0 16.500\n'
        'up{job="x"} -0.25 1.000\n'
        "# TYPE hits counter\n"
        "hits_total 3.0 2.000\n"
        "# EOF\n"
    )


@pytest.mark.parametrize(
    ("series", "complaint"),
    [
        (Series("up", "gauge", {"__name__": "up"}, [(2, 1.0), (1, 1.0)]), "time order"),
        (Series("up", "gauge", {"__name__": "up"}, [(1, 1.0), (1, 2.0)]), "time order"),
        (Series("hits", "counter", {"__name__": "hits"}, [(1, 1.0)]), "not a sample name"),
        (Series("up", "gauge", {"__name__": "up", "job": ""}, [(1, 1.0)]), "empty"),
        (Series("h", "histogram", {"__name__": "h_bucket"}, [(1, 1.0)]), "le label"),
    ],
)
def test_openmetrics_refuses_what_promtool_would_drop(series: Series, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        openmetrics([series])
