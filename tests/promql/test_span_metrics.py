"""Metrics derived from spans (Tempo's span metrics names), on both backends, against
counts made here from the spans the test sends.

A counter's sample at the end of each 15-second step counts the spans that started
since midnight (UTC) and before that end; an instant query sees the latest sample at or
before its time.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.storage import WriteBatch
from tests.backends import BACKENDS
from tests.promql.support import (
    MIDNIGHT_MS,
    MS,
    assert_counts,
    assert_sums,
    described_spans,
    instant_values,
    latest_step,
    serving,
)

BASE_MS = MIDNIGHT_MS + 10 * 3_600_000  # 10:00, where the spans start
KINDS = {Span.SPAN_KIND_SERVER: "SPAN_KIND_SERVER", Span.SPAN_KIND_CLIENT: "SPAN_KIND_CLIENT"}
STATUSES = {
    Status.STATUS_CODE_UNSET: "STATUS_CODE_UNSET",
    Status.STATUS_CODE_ERROR: "STATUS_CODE_ERROR",
}
# Durations on and around the bucket bounds (2 ms, 4 ms, ...) and past the last one.
DURATIONS_NS = (0, 1 * MS, 2 * MS, 2 * MS + 1, 3 * MS, 4 * MS, 100 * MS, 1_500 * MS, 20_000 * MS)


def make_spans(seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    spans = []
    for n in range(300):
        spans.append(
            {
                "service": rng.choice(("cart", "shop")),
                "name": rng.choice(("GET /", "query")),
                "kind": rng.choice(list(KINDS)),
                "status": rng.choice(list(STATUSES)),
                "start_ms": BASE_MS + rng.randrange(0, 20 * 60_000),
                "duration_ns": rng.choice(DURATIONS_NS),
                "id": n + 1,
            }
        )
    # The day before, a minute to midnight: counted that day, not the next.
    for n in range(3):
        spans.append(
            {
                "service": "cart",
                "name": "nightly",
                "kind": Span.SPAN_KIND_SERVER,
                "status": Status.STATUS_CODE_UNSET,
                "start_ms": MIDNIGHT_MS - 60_000 + n,
                "duration_ns": MS,
                "id": 1_000 + n,
            }
        )
    return spans


SPANS = make_spans()


def export_request(spans: list[dict[str, Any]] = SPANS) -> ExportTraceServiceRequest:
    return described_spans(spans)


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(traces=[export_request()])) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def resent(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The API over the spans, a third of which a client sent again (a retry)."""
    again = WriteBatch(traces=[export_request(SPANS[::3])])
    with serving(request.param, WriteBatch(traces=[export_request()]), again) as client:
        yield client


def key(span: dict[str, Any]) -> tuple[str, str, str, str]:
    return (span["service"], span["name"], KINDS[span["kind"]], STATUSES[span["status"]])


def counted_before(end_ms: int, keep: Any = lambda span: True) -> Counter[tuple[str, ...]]:
    """Spans per label set that started since midnight and before ``end_ms``."""
    return Counter(key(s) for s in SPANS if MIDNIGHT_MS <= s["start_ms"] < end_ms and keep(s))


def duration_sums(end_ms: int) -> dict[tuple[str, ...], float]:
    """Seconds of the spans per label set that started since midnight and before
    ``end_ms``."""
    sums: dict[tuple[str, ...], float] = {}
    for s in SPANS:
        if MIDNIGHT_MS <= s["start_ms"] < end_ms:
            sums[key(s)] = sums.get(key(s), 0.0) + s["duration_ns"] / 1e9
    return sums


def instant(api: httpx.Client, query: str, at_ms: int) -> dict[tuple[str, ...], float]:
    """The value of each series at ``at_ms``, by its labels in ``key``'s order."""
    return instant_values(
        api,
        query,
        at_ms,
        lambda m: (m["service"], m["span_name"], m["span_kind"], m["status_code"]),
    )


# Times inside the spans' twenty minutes, off the step grid, and at its end.
TIMES = [BASE_MS + 7 * 60_000 + 4_321, BASE_MS + 13 * 60_000 + 11_000, BASE_MS + 20 * 60_000]


@pytest.mark.parametrize("at", TIMES)
def test_calls_count_the_spans_since_midnight(api: httpx.Client, at: int) -> None:
    step_end = latest_step(at)
    expected = {k: float(v) for k, v in counted_before(step_end).items()}
    assert expected
    assert instant(api, "traces_spanmetrics_calls_total", at) == expected
    assert instant(api, "traces_spanmetrics_latency_count", at) == expected


@pytest.mark.parametrize("at", TIMES)
def test_latency_buckets_and_sums(api: httpx.Client, at: int) -> None:
    step_end = latest_step(at)
    for le, bound_ns in (("0.002", 2 * MS), ("0.004", 4 * MS), ("16.384", 16_384 * MS)):
        expected = counted_before(step_end, lambda s, b=bound_ns: s["duration_ns"] <= b)
        query = f'traces_spanmetrics_latency_bucket{{le="{le}"}}'
        assert_counts(instant(api, query, at), expected)
    found = instant(api, "traces_spanmetrics_latency_sum", at)
    assert_sums(found, duration_sums(step_end))


@pytest.mark.parametrize("at", TIMES)
def test_a_span_sent_twice_counts_once(resent: httpx.Client, at: int) -> None:
    step_end = latest_step(at)
    expected = {k: float(v) for k, v in counted_before(step_end).items()}
    assert instant(resent, "traces_spanmetrics_calls_total", at) == expected
    assert instant(resent, "traces_spanmetrics_latency_count", at) == expected
    fast = counted_before(step_end, lambda s: s["duration_ns"] <= 4 * MS)
    assert_counts(instant(resent, 'traces_spanmetrics_latency_bucket{le="0.004"}', at), fast)
    found = instant(resent, "traces_spanmetrics_latency_sum", at)
    assert_sums(found, duration_sums(step_end))


def test_a_counter_means_the_same_in_every_selector(api: httpx.Client) -> None:
    """Two selectors reading different windows agree: the difference over ten minutes is
    the spans that started in them."""
    at = TIMES[1]
    query = "traces_spanmetrics_calls_total - traces_spanmetrics_calls_total offset 10m"
    found = instant(api, query, at)
    now, then = latest_step(at), latest_step(at - 600_000)
    before, after = counted_before(then), counted_before(now)
    # A label set without spans ten minutes ago had no series then: no difference.
    expected = {k: float(after[k] - before[k]) for k in before}
    assert found == expected
    assert any(expected.values()) and len(expected) < len(after)


def test_span_metrics_are_listed_with_their_types(api: httpx.Client) -> None:
    names = api.get("/api/v1/label/__name__/values").json()["data"]
    assert "traces_spanmetrics_calls_total" in names
    assert "traces_spanmetrics_latency_bucket" in names
    metadata = api.get("/api/v1/metadata").json()["data"]
    assert metadata["traces_spanmetrics_calls_total"][0]["type"] == "counter"
    assert metadata["traces_spanmetrics_latency"][0]["type"] == "histogram"
    assert metadata["traces_spanmetrics_latency"][0]["unit"] == "seconds"


def test_counters_start_again_at_midnight(api: httpx.Client) -> None:
    nightly = ("cart", "nightly", "SPAN_KIND_SERVER", "STATUS_CODE_UNSET")
    # Just before midnight the day's three spans; just after, none yet: a reset.
    assert instant(api, "traces_spanmetrics_calls_total", MIDNIGHT_MS - 1_000)[nightly] == 3.0
    assert instant(api, "traces_spanmetrics_calls_total", MIDNIGHT_MS + 120_000)[nightly] == 0.0
    # increase() reads the drop as the reset it is, not as a negative count.
    query = "increase(traces_spanmetrics_calls_total[4m])"
    assert instant(api, query, MIDNIGHT_MS + 120_000)[nightly] >= 0.0
