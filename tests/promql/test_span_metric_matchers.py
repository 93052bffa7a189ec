"""Span metrics selected by their labels, on both backends, against counts made here.

The matchers on a span label that accept known column values (equality, or a regular
expression of words such as ``cart|pay``; a kind or status other than the enum's zero)
are read by the database, the others here; either way a selector answers the series
whose labels it accepts, so these selectors are checked against the spans the test
sends, filtered by the same labels. The spans have every kind and status, and kinds no
enum names (which read as ``SPAN_KIND_UNSPECIFIED``).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.storage import WriteBatch
from tests.backends import BACKENDS
from tests.promql.support import (
    MIDNIGHT_MS,
    MS,
    described_spans,
    instant_values,
    latest_step,
    serving,
)

BASE_MS = MIDNIGHT_MS + 6 * 3_600_000
KIND_NAMES = {
    Span.SPAN_KIND_UNSPECIFIED: "SPAN_KIND_UNSPECIFIED",
    Span.SPAN_KIND_INTERNAL: "SPAN_KIND_INTERNAL",
    Span.SPAN_KIND_SERVER: "SPAN_KIND_SERVER",
    Span.SPAN_KIND_CLIENT: "SPAN_KIND_CLIENT",
    Span.SPAN_KIND_PRODUCER: "SPAN_KIND_PRODUCER",
    Span.SPAN_KIND_CONSUMER: "SPAN_KIND_CONSUMER",
}
UNKNOWN_KIND = 9
STATUS_NAMES = {
    Status.STATUS_CODE_UNSET: "STATUS_CODE_UNSET",
    Status.STATUS_CODE_OK: "STATUS_CODE_OK",
    Status.STATUS_CODE_ERROR: "STATUS_CODE_ERROR",
}
LABELS = ("service", "span_name", "span_kind", "status_code")


def make_spans(seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "service": rng.choice(("cart", "shop", "pay")),
            "name": rng.choice(("GET /", "query", "charge")),
            "kind": rng.choice([*KIND_NAMES, UNKNOWN_KIND]),
            "status": rng.choice(list(STATUS_NAMES)),
            "start_ms": BASE_MS + rng.randrange(0, 30 * 60_000),
            "duration_ns": rng.choice((1 * MS, 3 * MS, 40 * MS)),
            "id": n + 1,
        }
        for n in range(600)
    ]


SPANS = make_spans()


def labels(span: dict[str, Any]) -> tuple[str, str, str, str]:
    kind = KIND_NAMES.get(span["kind"], "SPAN_KIND_UNSPECIFIED")
    return (span["service"], span["name"], kind, STATUS_NAMES[span["status"]])


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(traces=[described_spans(SPANS)])) as client:
        yield client


Accepts = Callable[[dict[str, str]], bool]

# Each selector's label matchers, and the same condition on a span's labels.
SELECTORS: list[tuple[str, Accepts]] = [
    ('service="cart"', lambda s: s["service"] == "cart"),
    (
        'span_name="query", service!="pay"',
        lambda s: s["span_name"] == "query" and s["service"] != "pay",
    ),
    ('span_kind="SPAN_KIND_UNSPECIFIED"', lambda s: s["span_kind"] == "SPAN_KIND_UNSPECIFIED"),
    ('span_kind="SPAN_KIND_SERVER"', lambda s: s["span_kind"] == "SPAN_KIND_SERVER"),
    (
        'service="pay", span_kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_ERROR"',
        lambda s: (
            (s["service"], s["span_kind"], s["status_code"])
            == ("pay", "SPAN_KIND_CLIENT", "STATUS_CODE_ERROR")
        ),
    ),
    ('status_code="STATUS_CODE_UNSET"', lambda s: s["status_code"] == "STATUS_CODE_UNSET"),
    (
        'service="shop", status_code!="STATUS_CODE_ERROR"',
        lambda s: s["service"] == "shop" and s["status_code"] != "STATUS_CODE_ERROR",
    ),
    ('status_code=~"STATUS_CODE_(OK|ERROR)"', lambda s: s["status_code"] != "STATUS_CODE_UNSET"),
    ('span_kind="SERVER"', lambda s: False),
    ('service=~"cart|pay"', lambda s: s["service"] in ("cart", "pay")),
    (
        'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER|SERVER"',
        lambda s: s["span_kind"] in ("SPAN_KIND_SERVER", "SPAN_KIND_CONSUMER"),
    ),
    (
        'span_kind=~"SPAN_KIND_CLIENT|SPAN_KIND_UNSPECIFIED"',
        lambda s: s["span_kind"] in ("SPAN_KIND_CLIENT", "SPAN_KIND_UNSPECIFIED"),
    ),
    ('span_kind=~"SERVER|CLIENT"', lambda s: False),
    ('span_name=~"GET /|quer."', lambda s: s["span_name"] in ("GET /", "query")),
    ('service=~"cart|"', lambda s: s["service"] == "cart"),
    ('service=""', lambda s: False),
]


def counted(end_ms: int, accepts: Accepts, weight: Callable[[dict[str, Any]], float]) -> Counter:
    """The spans since midnight and before ``end_ms`` whose labels ``accepts`` takes,
    added up by ``weight`` per label set."""
    found: Counter[tuple[str, ...]] = Counter()
    for s in SPANS:
        key = labels(s)
        if MIDNIGHT_MS <= s["start_ms"] < end_ms and accepts(dict(zip(LABELS, key, strict=True))):
            found[key] += weight(s)
    return found


def instant(api: httpx.Client, query: str, at_ms: int) -> dict[tuple[str, ...], float]:
    return instant_values(api, query, at_ms, lambda m: tuple(m.get(k, "") for k in LABELS))


# Inside the spans' half hour (the samples before it from the day's earlier counts), and
# at its end.
TIMES = [BASE_MS + 17 * 60_000 + 2_500, BASE_MS + 30 * 60_000]


@pytest.mark.parametrize("at", TIMES)
@pytest.mark.parametrize(("matchers", "accepts"), SELECTORS)
def test_selected_calls_are_the_spans_with_those_labels(
    api: httpx.Client, at: int, matchers: str, accepts: Accepts
) -> None:
    expected = {k: float(v) for k, v in counted(latest_step(at), accepts, lambda s: 1).items()}
    assert instant(api, f"traces_spanmetrics_calls_total{{{matchers}}}", at) == expected
    assert instant(api, f"traces_spanmetrics_latency_count{{{matchers}}}", at) == expected


@pytest.mark.parametrize(("matchers", "accepts"), SELECTORS[:6])
def test_selected_latency_buckets_and_sums(
    api: httpx.Client, matchers: str, accepts: Accepts
) -> None:
    at = TIMES[0]
    end = latest_step(at)
    fast = counted(end, accepts, lambda s: s["duration_ns"] <= 4 * MS)
    query = f'traces_spanmetrics_latency_bucket{{{matchers}, le="0.004"}}'
    # A label set with spans has a bucket series even when none of them is that fast.
    assert instant(api, query, at) == {k: float(fast[k]) for k in counted(end, accepts, len)}
    seconds = counted(end, accepts, lambda s: s["duration_ns"] / 1e9)
    found = instant(api, f"traces_spanmetrics_latency_sum{{{matchers}}}", at)
    assert found.keys() == seconds.keys()
    assert all(abs(found[k] - seconds[k]) < 1e-9 for k in seconds)


def test_a_range_of_sums_of_selected_counters(api: httpx.Client) -> None:
    """An SLO's kind of query over a range: at each step, the sum of the selected
    counters is the spans so far (no value before the first of them)."""
    wanted = {"service": "cart", "span_kind": "SPAN_KIND_SERVER"}
    query = 'sum(traces_spanmetrics_calls_total{service="cart", span_kind="SPAN_KIND_SERVER"})'
    start, end, step = BASE_MS - 10 * 60_000, BASE_MS + 40 * 60_000, 60_000
    params = {"query": query, "start": start / 1000, "end": end / 1000, "step": step / 1000}
    response = api.get("/api/v1/query_range", params=params)
    assert response.status_code == 200, response.text
    [series] = response.json()["data"]["result"]
    found = {round(float(t) * 1000): float(v) for t, v in series["values"]}

    def accepts(s: dict[str, str]) -> bool:
        return all(s[k] == v for k, v in wanted.items())

    expected = {}
    for at in range(start, end + 1, step):
        spans = sum(counted(latest_step(at), accepts, lambda s: 1).values())
        if spans:
            expected[at] = float(spans)
    assert len(expected) > 20
    assert found == expected
