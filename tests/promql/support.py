"""What the PromQL tests share: a store of each kind served over HTTP, spans grouped into
one export request by their service, and reading the metrics derived from spans (span
metrics, service graphs) back by instant queries."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.api.served import Served
from tests.backends import store

_K = TypeVar("_K", bound=Hashable)

MIDNIGHT_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
"""A midnight (UTC): the counters derived from spans count the spans since one."""
STEP_MS = 15_000
"""The step of the samples of metrics derived from spans."""
MS = 1_000_000
"""A millisecond in ns."""

Edge = tuple[str, str, str]
"""A service graph's edge: client, server and connection type (empty for a plain call)."""


@contextmanager
def serving(kind: str, *batches: WriteBatch) -> Iterator[httpx.Client]:
    """A client of the query API over a store of ``kind`` holding ``batches``, written
    one after another (as separate requests would be)."""
    with store(kind) as opened:
        for batch in batches:
            opened.write(batch)
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=60) as client:
                yield client
        finally:
            served.close()


def by_service(spans: Mapping[str, Sequence[Span]]) -> ExportTraceServiceRequest:
    """One request with a resource (only ``service.name``) per service and its spans."""
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key="service.name", value=AnyValue(string_value=name))]
                ),
                scope_spans=[ScopeSpans(spans=list(found))],
            )
            for name, found in spans.items()
        ]
    )


def described_spans(spans: Sequence[Mapping[str, Any]]) -> ExportTraceServiceRequest:
    """One request of spans described by ``service``, ``name``, ``kind``, ``status``,
    ``start_ms``, ``duration_ns`` and ``id`` (their trace and span id)."""
    found: dict[str, list[Span]] = {}
    for s in spans:
        start = s["start_ms"] * MS
        found.setdefault(s["service"], []).append(
            Span(
                trace_id=s["id"].to_bytes(16, "big"),
                span_id=s["id"].to_bytes(8, "big"),
                name=s["name"],
                kind=s["kind"],
                start_time_unix_nano=start,
                end_time_unix_nano=start + s["duration_ns"],
                status=Status(code=s["status"]),
            )
        )
    return by_service(found)


def latest_step(at_ms: int) -> int:
    """The time of the latest sample of a metric derived from spans at or before ``at_ms``:
    the end of the step it is in."""
    return at_ms // STEP_MS * STEP_MS


def instant_values(
    client: httpx.Client, query: str, at_ms: int, key: Callable[[Mapping[str, str]], _K]
) -> dict[_K, float]:
    """The value of each series an instant query at ``at_ms`` answers, by ``key`` of its
    labels."""
    response = client.get("/api/v1/query", params={"query": query, "time": at_ms / 1000})
    assert response.status_code == 200, response.text
    return {
        key(item["metric"]): float(item["value"][1]) for item in response.json()["data"]["result"]
    }


def edges(client: httpx.Client, query: str, at_ms: int) -> dict[Edge, float]:
    """The value of each service-graph series an instant query answers, by its edge."""
    return instant_values(
        client,
        query,
        at_ms,
        lambda labels: (labels["client"], labels["server"], labels.get("connection_type", "")),
    )


def assert_counts(found: Mapping[_K, float], expected: Mapping[_K, int]) -> None:
    """The series with a value other than 0 are those counted, with their counts."""
    assert {k: v for k, v in found.items() if v} == {k: float(v) for k, v in expected.items() if v}


def assert_sums(found: Mapping[_K, float], expected: Mapping[_K, float]) -> None:
    """The same series, each with the expected sum (to a float's rounding)."""
    assert found.keys() == expected.keys()
    assert all(abs(found[k] - expected[k]) < 1e-6 for k in expected)
