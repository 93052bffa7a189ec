"""TraceQL metrics over Tempo's metrics API, on both backends.

The expected series are computed here from the samples (tests/api/samples.py): each
span's bucket is the multiple of the step at or below its start, as the API documents.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
import pytest

from .samples import MS, T0, TRACE_A, TRACE_B


def one_bucket_step() -> int:
    """A step in seconds whose buckets do not split the samples' two seconds this run."""
    return next(step for step in (60, 61, 67) if (T0 // 10**9) // step == (T0 // 10**9 + 2) // step)


STEP_S = one_bucket_step()
START, END = T0 // 10**9 - 600, T0 // 10**9 + 600
RANGE = {"start": str(START), "end": str(END), "step": f"{STEP_S}s"}
# (service, start ms after T0, duration ms, is an error), as tests/api/samples.py sends them.
SPANS = [
    ("frontend", 0, 100, False),
    ("cart", 10, 80, True),
    ("frontend", 1000, 400, False),
    ("cart", 1100, 20, False),
    ("cart", 2000, 5, False),
]


def bucket_ms(start_ms: int) -> int:
    step_ns = STEP_S * 10**9
    return ((T0 + start_ms * MS) // step_ns * step_ns) // MS


def query_range(client: httpx.Client, q: str, **extra: str) -> list[dict[str, Any]]:
    response = client.get("/api/metrics/query_range", params={"q": q, **RANGE, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"series", "metrics"}
    return body["series"]  # type: ignore[no-any-return]


def plain(series: list[dict[str, Any]]) -> dict[tuple[tuple[str, Any], ...], dict[int, float]]:
    found = {}
    for s in series:
        labels = tuple((label["key"], next(iter(label["value"].values()))) for label in s["labels"])
        found[labels] = {int(p["timestampMs"]): p["value"] for p in s["samples"]}
    return found


def expected_counts(keep: Any = lambda span: True) -> dict[str, dict[int, int]]:
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for span in SPANS:
        if keep(span):
            counts[span[0]][bucket_ms(span[1])] += 1
    return counts


def test_count_and_rate_by_service(client: httpx.Client) -> None:
    counts = expected_counts()
    found = plain(query_range(client, "{ } | count_over_time() by (resource.service.name)"))
    assert found == {
        (("resource.service.name", service),): {t: float(n) for t, n in by_time.items()}
        for service, by_time in counts.items()
    }
    rates = plain(query_range(client, "{ } | rate() by (resource.service.name)"))
    assert rates == {
        (("resource.service.name", service),): {t: n / STEP_S for t, n in by_time.items()}
        for service, by_time in counts.items()
    }


def test_an_ungrouped_series_is_named_after_its_function(client: httpx.Client) -> None:
    [series] = query_range(client, "{ status = error } | rate()")
    assert series["labels"] == [{"key": "__name__", "value": {"stringValue": "rate"}}]
    assert [(int(p["timestampMs"]), p["value"]) for p in series["samples"]] == [
        (bucket_ms(10), 1 / STEP_S)
    ]


def test_quantiles_and_aggregates_of_durations_are_in_seconds(client: httpx.Client) -> None:
    at = bucket_ms(0)  # every sample's bucket (see one_bucket_step)
    found = plain(
        query_range(
            client,
            '{ resource.service.name = "cart" } | quantile_over_time(duration, 0.5, 1)',
        )
    )
    name = ("__name__", "quantile_over_time")
    assert found == {(name, ("p", 0.5)): {at: 0.02}, (name, ("p", 1.0)): {at: 0.08}}
    maximum = plain(query_range(client, '{ name = "cart.get" } | max_over_time(duration)'))
    assert maximum == {(("__name__", "max_over_time"),): {at: 0.08}}


def test_histogram_buckets_are_powers_of_two_seconds(client: httpx.Client) -> None:
    found = plain(query_range(client, "{ kind = server } | histogram_over_time(duration)"))
    # 100 ms and 400 ms: the powers of two at or above them are 2^-3 and 2^-1 seconds.
    name = ("__name__", "histogram_over_time")
    assert {labels: sum(points.values()) for labels, points in found.items()} == {
        (name, ("__bucket", 0.125)): 1.0,
        (name, ("__bucket", 0.5)): 1.0,
    }


def test_topk_keeps_the_largest_series_at_each_step(client: httpx.Client) -> None:
    found = plain(
        query_range(client, "{ } | count_over_time() by (resource.service.name) | topk(1)")
    )
    assert list(found) == [(("resource.service.name", "cart"),)]


def test_instant_query_covers_the_whole_range(client: httpx.Client) -> None:
    response = client.get(
        "/api/metrics/query",
        params={
            "q": "{ } | rate() by (resource.service.name)",
            "start": str(START),
            "end": str(END),
        },
    )
    assert response.status_code == 200, response.text
    found = {s["labels"][0]["value"]["stringValue"]: s["value"] for s in response.json()["series"]}
    seconds = END - START
    assert found == {"cart": pytest.approx(3 / seconds), "frontend": pytest.approx(2 / seconds)}


def test_bad_metrics_queries_are_400s_with_the_reason(client: httpx.Client) -> None:
    search = client.get("/api/metrics/query_range", params={"q": "{ }", **RANGE})
    assert search.status_code == 400
    assert "ends in rate()" in search.text
    broken = client.get("/api/metrics/query_range", params={"q": "{ } | rate(", **RANGE})
    assert broken.status_code == 400
    assert broken.text.startswith("invalid TraceQL query: parse error at line 1, col ")
    assert client.get("/api/metrics/query_range", params=RANGE).status_code == 400


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("soon", "step: expected seconds (30) or a duration (30s, 1m)"),
        ("0", "step: must be positive"),
        ("1e999", "is not a usable number of seconds"),
        ("0.01", "gives more than 11000 points over the range"),
    ],
)
def test_unusable_steps_are_refused(client: httpx.Client, step: str, message: str) -> None:
    response = client.get(
        "/api/metrics/query_range", params={"q": "{ } | rate()", **RANGE, "step": step}
    )
    assert response.status_code == 400
    assert message in response.text


def test_exemplars_are_the_slowest_span_of_each_step_and_group(client: httpx.Client) -> None:
    found = query_range(
        client,
        "{ } | quantile_over_time(duration, 0.5) by (resource.service.name)",
        exemplars="10",
    )
    by_service = {s["labels"][0]["value"]["stringValue"]: s.get("exemplars") for s in found}
    # The slowest span of each service (all in one step): frontend's POST /checkout
    # (400 ms, span 4 of TRACE_B), cart's cart.get (80 ms, span 2 of TRACE_A).
    assert by_service == {
        "frontend": [exemplar(TRACE_B, 4, 1000, 0.4)],
        "cart": [exemplar(TRACE_A, 2, 10, 0.08)],
    }
    [rate] = query_range(client, "{ kind = server } | rate()", exemplars="5")
    [example] = rate["exemplars"]
    assert example["value"] == "NaN"  # a rate's exemplar has no value of its own
    assert "exemplars" not in query_range(client, "{ } | rate()")[0]


def exemplar(trace: bytes, span: int, start_ms: int, seconds: float) -> dict[str, Any]:
    return {
        "labels": [
            {"key": "trace:id", "value": {"stringValue": trace.hex()}},
            {"key": "span:id", "value": {"stringValue": span.to_bytes(8, "big").hex()}},
        ],
        "value": seconds,
        "timestampMs": str((T0 + start_ms * MS) // MS),
    }


def test_arithmetic_between_metrics_queries(client: httpx.Client) -> None:
    # Errors over all spans per service: cart 1 of 3, frontend 0 of 2 (no error series).
    ratio = plain(
        query_range(
            client,
            "({ status = error } | count_over_time() by (resource.service.name))"
            " / ({ } | count_over_time() by (resource.service.name))",
        )
    )
    assert ratio == {(("resource.service.name", "cart"),): {bucket_ms(0): pytest.approx(1 / 3)}}
    # An ungrouped side applies to every series of the other; numbers apply to each point.
    share = plain(
        query_range(
            client,
            "({ } | count_over_time() by (resource.service.name)) / ({ } | count_over_time())",
        )
    )
    assert share == {
        (("resource.service.name", "cart"),): {bucket_ms(0): pytest.approx(3 / 5)},
        (("resource.service.name", "frontend"),): {bucket_ms(0): pytest.approx(2 / 5)},
    }
    doubled = plain(query_range(client, "({ kind = server } | count_over_time()) * 2"))
    assert doubled == {(): {bucket_ms(0): 4.0}}


def test_a_structural_first_stage_counts_the_spans_it_leaves(client: httpx.Client) -> None:
    # The two cart.get spans are children of server spans; cart.sweep has no parent.
    found = plain(
        query_range(
            client,
            '{ kind = server } > { name =~ "cart.*" } | count_over_time() by (name)',
        )
    )
    assert found == {(("span:name", "cart.get"),): {bucket_ms(0): 2.0}}
