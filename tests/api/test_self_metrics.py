"""``GET /metrics``: otelite's own series, read by Prometheus's own parser, after real
OTLP traffic and queries; per tenant when multi-tenant; behind the query token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from prometheus_client.parser import text_string_to_metric_families

from otelite.config import Limits, Tenancy
from otelite.types import ExportTraceServiceRequest, Signal
from tests.tenancy.support import Running

TRACE = bytes(range(1, 17))
T0 = 1_700_000_000_000_000_000


def spans(valid: int, invalid: int, *, attributes: int = 0) -> ExportTraceServiceRequest:
    """``valid`` spans of one trace and ``invalid`` ones whose trace id is 5 bytes long."""
    items = [
        Span(
            trace_id=TRACE,
            span_id=(n + 1).to_bytes(8, "big"),
            name=f"op {n}",
            start_time_unix_nano=T0 + n,
            end_time_unix_nano=T0 + n + 1000,
            attributes=[KeyValue(key=f"k{a}") for a in range(attributes)],
        )
        for n in range(valid)
    ]
    items += [
        Span(trace_id=b"short", span_id=b"12345678", name="bad", start_time_unix_nano=T0)
        for _ in range(invalid)
    ]
    resource = Resource(attributes=[KeyValue(key="service.name")])
    resource.attributes[0].value.string_value = "shop"
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=items)])]
    )


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: Running, **headers: str) -> Samples:
    """Every sample of ``/metrics``: (name, labels) → value."""
    response = httpx.get(f"{server.api}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    # The text format Prometheus asks for by default (and any scraper understands).
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def single(tmp_path: Path) -> Iterator[Running]:
    running = Running(tmp_path / "data", Tenancy())
    yield running
    running.close()


def test_counts_queue_log_and_latencies_follow_what_was_sent_and_asked(single: Running) -> None:
    # 7 + 5 spans accepted, 2 refused by validation; the limits cut nothing.
    assert single.post(Signal.TRACES, spans(7, 2), None).status_code == 200
    assert single.post(Signal.TRACES, spans(5, 0), None).status_code == 200
    single.flush()
    assert single.get(f"/api/traces/{TRACE.hex()}", None).status_code == 200
    assert single.get(f"/api/traces/{'ab' * 16}", None).status_code == 404
    assert single.get("/no/such/route", None).status_code == 404
    samples = scrape(single)
    tenant = "single-tenant"
    assert value(samples, "otelite_records_accepted_total", tenant=tenant, signal="traces") == 12
    assert value(samples, "otelite_records_accepted_total", tenant=tenant, signal="logs") == 0
    assert (
        value(
            samples,
            "otelite_records_refused_total",
            tenant=tenant,
            signal="traces",
            reason="invalid",
        )
        == 2
    )
    assert value(samples, "otelite_requests_accepted_total", tenant=tenant) == 2
    assert value(samples, "otelite_requests_refused_total", tenant=tenant, reason="overloaded") == 0
    assert value(samples, "otelite_dead_letters_total", tenant=tenant) == 0
    # Everything accepted is stored: nothing queued; the log holds at least the requests.
    assert value(samples, "otelite_queue_bytes", tenant=tenant) == 0
    assert value(samples, "otelite_wal_bytes", tenant=tenant) > 0
    syncs = value(samples, "otelite_wal_syncs_total", tenant=tenant)
    assert 1 <= syncs <= 2
    assert value(samples, "otelite_wal_sync_duration_seconds_count", tenant=tenant) == syncs
    assert (
        value(samples, "otelite_wal_sync_duration_seconds_bucket", tenant=tenant, le="+Inf")
        == syncs
    )
    written = value(samples, "otelite_storage_batches_written_total", tenant=tenant)
    assert written >= 1
    assert value(samples, "otelite_storage_write_duration_seconds_count", tenant=tenant) >= 1
    assert value(samples, "otelite_flatten_duration_seconds_count", tenant=tenant) >= 1
    assert value(samples, "otelite_flatten_duration_seconds_sum", tenant=tenant) > 0
    # Each query under its route's template and outcome; unknown paths share one label.
    trace_route = "/api/traces/{traceId}"
    queries = "otelite_query_duration_seconds_count"
    assert value(samples, queries, route=trace_route, outcome="success") == 1
    assert value(samples, queries, route=trace_route, outcome="client_error") == 1
    assert value(samples, queries, route="unmatched", outcome="client_error") == 1


def test_what_limits_cut_and_retention_deletes_is_counted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    running = Running(data_dir, Tenancy(), limits=Limits(max_attributes=3))
    try:
        # 4 spans of 5 attributes each: 2 cut from each. They are from 2023.
        assert running.post(Signal.TRACES, spans(4, 0, attributes=5), None).status_code == 200
        running.flush()
        samples = scrape(running)
    finally:
        running.close()
    tenant = "single-tenant"
    cut = "otelite_items_dropped_total"
    assert value(samples, cut, tenant=tenant, reason="attribute_limit") == 8
    assert value(samples, cut, tenant=tenant, reason="value_truncated") == 0
    assert value(samples, "otelite_retention_deleted_rows_total", tenant=tenant) == 0
    # Opened again with a day's retention: its first pass deletes the four spans.
    running = Running(data_dir, Tenancy(), retention_seconds=86_400)
    try:
        deadline = time.monotonic() + 30
        deleted = 0.0
        while deleted < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
            deleted = value(scrape(running), "otelite_retention_deleted_rows_total", tenant=tenant)
    finally:
        running.close()
    assert deleted == 4


def test_each_tenant_has_its_own_series(tmp_path: Path) -> None:
    running = Running(tmp_path / "data", Tenancy(enabled=True))
    try:
        assert running.post(Signal.TRACES, spans(3, 1), "acme").status_code == 200
        assert running.post(Signal.TRACES, spans(2, 0), "globex").status_code == 200
        # Only invalid spans: a tenant that never opened still has its refusals counted.
        assert running.post(Signal.TRACES, spans(0, 4), "initech").status_code == 200
        running.flush()
        samples = scrape(running, **{"X-Scope-OrgID": "acme"})
    finally:
        running.close()
    accepted = "otelite_records_accepted_total"
    refused = "otelite_records_refused_total"
    assert value(samples, accepted, tenant="acme", signal="traces") == 3
    assert value(samples, accepted, tenant="globex", signal="traces") == 2
    assert value(samples, accepted, tenant="initech", signal="traces") == 0
    assert value(samples, refused, tenant="acme", signal="traces", reason="invalid") == 1
    assert value(samples, refused, tenant="globex", signal="traces", reason="invalid") == 0
    assert value(samples, refused, tenant="initech", signal="traces", reason="invalid") == 4
    assert value(samples, "otelite_wal_bytes", tenant="acme") > 0
    assert value(samples, "otelite_wal_bytes", tenant="initech") == 0
