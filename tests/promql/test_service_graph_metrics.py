"""Service-graph metrics derived from stored spans (Tempo's names), on both backends,
against the requests the test makes: a client (or producer) span and its server (or
consumer) child are one request from the client's service to the server's, counted by
the server span's start since midnight (UTC), up to the end of its 15-second step."""

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
    Edge,
    assert_counts,
    assert_sums,
    edges,
    latest_step,
    serving,
)
from tests.promql.support import by_service as spans_by_service

BASE_MS = MIDNIGHT_MS + 9 * 3_600_000
PAIRS = (
    ("web", "cart", Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_SERVER),
    ("cart", "db", Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_SERVER),
    ("cart", "mailer", Span.SPAN_KIND_PRODUCER, Span.SPAN_KIND_CONSUMER),
)


def make_requests(seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made = []
    for n in range(200):
        client, server, client_kind, server_kind = rng.choice(PAIRS)
        start = BASE_MS + rng.randrange(0, 15 * 60_000)
        made.append(
            {
                "id": n + 1,
                "client": client,
                "server": server,
                "client_kind": client_kind,
                "server_kind": server_kind,
                "client_start_ms": start,
                "server_start_ms": start + rng.randrange(0, 5),
                "server_ns": rng.choice((1 * MS, 3 * MS, 8 * MS, 300 * MS)),
                "client_error": rng.random() < 0.1,
                "server_error": rng.random() < 0.2,
            }
        )
    return made


REQUESTS = make_requests()


def export_request(
    requests: list[dict[str, Any]] = REQUESTS, *, sides: tuple[str, ...] = ("client", "server")
) -> ExportTraceServiceRequest:
    """The spans of ``requests``: both of each, or only the client's or the server's."""
    by_service: dict[str, list[Span]] = {}
    for r in requests:
        trace = r["id"].to_bytes(16, "big")
        client_id, server_id = (
            (2 * r["id"]).to_bytes(8, "big"),
            (2 * r["id"] + 1).to_bytes(8, "big"),
        )
        error = Status(code=Status.STATUS_CODE_ERROR)
        made = {
            "client": Span(
                trace_id=trace,
                span_id=client_id,
                name="call",
                kind=r["client_kind"],
                start_time_unix_nano=r["client_start_ms"] * MS,
                end_time_unix_nano=r["client_start_ms"] * MS + r["server_ns"] + 2 * MS,
                status=error if r["client_error"] else Status(),
            ),
            "server": Span(
                trace_id=trace,
                span_id=server_id,
                parent_span_id=client_id,
                name="handle",
                kind=r["server_kind"],
                start_time_unix_nano=r["server_start_ms"] * MS,
                end_time_unix_nano=r["server_start_ms"] * MS + r["server_ns"],
                status=error if r["server_error"] else Status(),
            ),
        }
        for side in sides:
            by_service.setdefault(r[side], []).append(made[side])
    return spans_by_service(by_service)


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with serving(request.param, WriteBatch(traces=[export_request()])) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def resent(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The API over the requests' spans, some of which a client sent again: the client
    span of some requests, the server span of others, both of others."""
    again = [
        export_request(REQUESTS[0::5], sides=("client",)),
        export_request(REQUESTS[1::5], sides=("server",)),
        export_request(REQUESTS[2::5]),
    ]
    batches = [WriteBatch(traces=[export_request()]), *(WriteBatch(traces=[r]) for r in again)]
    with serving(request.param, *batches) as client:
        yield client


def edge(r: dict[str, Any]) -> Edge:
    messaging = r["client_kind"] == Span.SPAN_KIND_PRODUCER
    return (r["client"], r["server"], "messaging_system" if messaging else "")


def counted(end_ms: int, keep: Any = lambda r: True) -> Counter[Edge]:
    return Counter(
        edge(r) for r in REQUESTS if MIDNIGHT_MS <= r["server_start_ms"] < end_ms and keep(r)
    )


def server_seconds(end_ms: int) -> dict[Edge, float]:
    """Seconds of the server spans per edge of the requests counted before ``end_ms``."""
    sums: dict[Edge, float] = {}
    for r in REQUESTS:
        if MIDNIGHT_MS <= r["server_start_ms"] < end_ms:
            sums[edge(r)] = sums.get(edge(r), 0.0) + r["server_ns"] / 1e9
    return sums


@pytest.mark.parametrize("at", [BASE_MS + 6 * 60_000 + 777, BASE_MS + 15 * 60_000])
def test_requests_and_failures_per_edge(api: httpx.Client, at: int) -> None:
    end = latest_step(at)
    requests = {k: float(v) for k, v in counted(end).items()}
    assert len(requests) == len(PAIRS)
    assert edges(api, "traces_service_graph_request_total", at) == requests
    failed = counted(end, lambda r: r["client_error"] or r["server_error"])
    assert_counts(edges(api, "traces_service_graph_request_failed_total", at), failed)


def test_server_latency_histogram(api: httpx.Client) -> None:
    at = BASE_MS + 15 * 60_000
    end = latest_step(at)
    for le, bound_ns in (("0.002", 2 * MS), ("0.004", 4 * MS), ("0.256", 256 * MS)):
        query = f'traces_service_graph_request_server_seconds_bucket{{le="{le}"}}'
        expected = counted(end, lambda r, b=bound_ns: r["server_ns"] <= b)
        assert_counts(edges(api, query, at), expected)
    found = edges(api, "traces_service_graph_request_server_seconds_sum", at)
    assert_sums(found, server_seconds(end))
    # Grafana's service map asks for this, per edge.
    query = (
        "histogram_quantile(0.9, sum by (le, client, server)"
        " (rate(traces_service_graph_request_server_seconds_bucket[10m])))"
    )
    response = api.get("/api/v1/query", params={"query": query, "time": at / 1000})
    assert len(response.json()["data"]["result"]) == len(PAIRS)


@pytest.mark.parametrize("at", [BASE_MS + 6 * 60_000 + 777, BASE_MS + 15 * 60_000])
def test_a_span_sent_twice_counts_once(resent: httpx.Client, at: int) -> None:
    end = latest_step(at)
    requests = {k: float(v) for k, v in counted(end).items()}
    assert edges(resent, "traces_service_graph_request_total", at) == requests
    assert edges(resent, "traces_service_graph_request_server_seconds_count", at) == requests
    assert edges(resent, "traces_service_graph_request_client_seconds_count", at) == requests
    failed = counted(end, lambda r: r["client_error"] or r["server_error"])
    assert_counts(edges(resent, "traces_service_graph_request_failed_total", at), failed)
    found = edges(resent, "traces_service_graph_request_server_seconds_sum", at)
    assert_sums(found, server_seconds(end))
