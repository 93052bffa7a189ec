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
from tests.promql.support import by_service as spans_by_service
from tests.promql.support import serving

MIDNIGHT_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
BASE_MS = MIDNIGHT_MS + 9 * 3_600_000
STEP_MS = 15_000
MS = 1_000_000
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


Edge = tuple[str, str, str]


def edge(r: dict[str, Any]) -> Edge:
    messaging = r["client_kind"] == Span.SPAN_KIND_PRODUCER
    return (r["client"], r["server"], "messaging_system" if messaging else "")


def counted(end_ms: int, keep: Any = lambda r: True) -> Counter[Edge]:
    return Counter(
        edge(r) for r in REQUESTS if MIDNIGHT_MS <= r["server_start_ms"] < end_ms and keep(r)
    )


def instant(api: httpx.Client, query: str, at_ms: int) -> dict[Edge, float]:
    response = api.get("/api/v1/query", params={"query": query, "time": at_ms / 1000})
    assert response.status_code == 200, response.text
    return {
        (m["metric"]["client"], m["metric"]["server"], m["metric"].get("connection_type", "")): (
            float(m["value"][1])
        )
        for m in response.json()["data"]["result"]
    }


@pytest.mark.parametrize("at", [BASE_MS + 6 * 60_000 + 777, BASE_MS + 15 * 60_000])
def test_requests_and_failures_per_edge(api: httpx.Client, at: int) -> None:
    end = at // STEP_MS * STEP_MS
    requests = {k: float(v) for k, v in counted(end).items()}
    assert len(requests) == len(PAIRS)
    assert instant(api, "traces_service_graph_request_total", at) == requests
    failed = counted(end, lambda r: r["client_error"] or r["server_error"])
    found = instant(api, "traces_service_graph_request_failed_total", at)
    assert {k: v for k, v in found.items() if v} == {k: float(v) for k, v in failed.items()}


def test_server_latency_histogram(api: httpx.Client) -> None:
    at = BASE_MS + 15 * 60_000
    end = at // STEP_MS * STEP_MS
    for le, bound_ns in (("0.002", 2 * MS), ("0.004", 4 * MS), ("0.256", 256 * MS)):
        query = f'traces_service_graph_request_server_seconds_bucket{{le="{le}"}}'
        expected = counted(end, lambda r, b=bound_ns: r["server_ns"] <= b)
        found = instant(api, query, at)
        assert {k: v for k, v in found.items() if v} == {k: float(v) for k, v in expected.items()}
    sums: dict[Edge, float] = {}
    for r in REQUESTS:
        if MIDNIGHT_MS <= r["server_start_ms"] < end:
            sums[edge(r)] = sums.get(edge(r), 0.0) + r["server_ns"] / 1e9
    found = instant(api, "traces_service_graph_request_server_seconds_sum", at)
    assert found.keys() == sums.keys()
    assert all(abs(found[k] - sums[k]) < 1e-6 for k in sums)
    # Grafana's service map asks for this, per edge.
    query = (
        "histogram_quantile(0.9, sum by (le, client, server)"
        " (rate(traces_service_graph_request_server_seconds_bucket[10m])))"
    )
    response = api.get("/api/v1/query", params={"query": query, "time": at / 1000})
    assert len(response.json()["data"]["result"]) == len(PAIRS)


@pytest.mark.parametrize("at", [BASE_MS + 6 * 60_000 + 777, BASE_MS + 15 * 60_000])
def test_a_span_sent_twice_counts_once(resent: httpx.Client, at: int) -> None:
    end = at // STEP_MS * STEP_MS
    requests = {k: float(v) for k, v in counted(end).items()}
    assert instant(resent, "traces_service_graph_request_total", at) == requests
    assert instant(resent, "traces_service_graph_request_server_seconds_count", at) == requests
    assert instant(resent, "traces_service_graph_request_client_seconds_count", at) == requests
    failed = counted(end, lambda r: r["client_error"] or r["server_error"])
    found = instant(resent, "traces_service_graph_request_failed_total", at)
    assert {k: v for k, v in found.items() if v} == {k: float(v) for k, v in failed.items()}
    sums: dict[Edge, float] = {}
    for r in REQUESTS:
        if MIDNIGHT_MS <= r["server_start_ms"] < end:
            sums[edge(r)] = sums.get(edge(r), 0.0) + r["server_ns"] / 1e9
    found = instant(resent, "traces_service_graph_request_server_seconds_sum", at)
    assert found.keys() == sums.keys()
    assert all(abs(found[k] - sums[k]) < 1e-6 for k in sums)
