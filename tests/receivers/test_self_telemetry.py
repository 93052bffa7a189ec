"""otelite in otelite: its own spans and metrics, received like a client's export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AGGREGATION_TEMPORALITY_CUMULATIVE, Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from otelite.config import Config, Limits
from otelite.otlp import decode_request_json
from otelite.pipeline import InMemoryConsumer, PipelineStats
from otelite.receivers import SELF_SERVICE, SelfTelemetry
from otelite.server import Server
from otelite.types import (
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)

from .support import LoopThread, span, traces


def attributes(item: object) -> dict[str, object]:
    found = {}
    for pair in item.attributes:  # type: ignore[attr-defined]
        found[pair.key] = plain(pair.value)
    return found


def plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(plain(item) for item in value.array_value.values)
    return getattr(value, kind)


def test_spans_and_metrics_reach_the_consumer_as_otelites(loop_thread: LoopThread) -> None:
    registry = CollectorRegistry()
    Counter("demo_requests", "Requests.", ["kind"], registry=registry).labels("a").inc(3)
    Gauge("demo_queue_bytes", "Bytes waiting.", registry=registry).set(7)
    seconds = Histogram("demo_wait_seconds", "Waits.", buckets=(0.5, 1, 5), registry=registry)
    for value in (0.2, 0.7, 3.0):
        seconds.observe(value)
    consumer = InMemoryConsumer()
    telemetry = SelfTelemetry(limits=Limits(), interval=3600)
    loop_thread.run(telemetry.start(consumer, tenant="t1", stats=PipelineStats(), metrics=registry))
    try:
        tracer = telemetry.tracer
        with (
            tracer.start_as_current_span("outer"),
            tracer.start_as_current_span("inner", attributes={"k": 1}),
        ):
            pass
        loop_thread.run(telemetry.flush())
    finally:
        loop_thread.run(telemetry.shutdown())

    by_signal = {signal: [r for s, r, t in consumer.received if s is signal] for signal in Signal}
    assert {t for _, _, t in consumer.received} == {"t1"}
    [trace_request] = by_signal[Signal.TRACES]
    assert isinstance(trace_request, ExportTraceServiceRequest)
    [resource_spans] = trace_request.resource_spans
    assert attributes(resource_spans.resource)["service.name"] == SELF_SERVICE
    spans = {s.name: s for scope in resource_spans.scope_spans for s in scope.spans}
    assert set(spans) == {"outer", "inner"}
    assert spans["inner"].parent_span_id == spans["outer"].span_id
    assert spans["inner"].trace_id == spans["outer"].trace_id
    assert attributes(spans["inner"]) == {"k": 1}

    # flush sent a reading, shutdown a last one: both the same, counted by hand here.
    assert len(by_signal[Signal.METRICS]) == 2
    request = by_signal[Signal.METRICS][-1]
    assert isinstance(request, ExportMetricsServiceRequest)
    metrics = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}
    counter = metrics["demo_requests"]
    assert counter.sum.is_monotonic
    assert counter.sum.aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE
    [point] = counter.sum.data_points
    assert (attributes(point), point.as_double) == ({"kind": "a"}, 3.0)
    assert point.start_time_unix_nano < point.time_unix_nano
    [gauge_point] = metrics["demo_queue_bytes"].gauge.data_points
    assert gauge_point.as_double == 7.0
    assert metrics["demo_queue_bytes"].unit == "By"
    histogram = metrics["demo_wait_seconds"]
    assert histogram.unit == "s"
    [h] = histogram.histogram.data_points
    assert list(h.explicit_bounds) == [0.5, 1.0, 5.0]
    assert list(h.bucket_counts) == [1, 1, 1, 0]  # 0.2 | 0.7 | 3.0 | none above 5
    assert (h.count, h.sum) == (3, pytest.approx(3.9))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, LoopThread]]:
    config = Config(
        data_dir=tmp_path / "data",
        port=0,
        otlp_grpc_port=0,
        otlp_http_port=0,
        self_telemetry=True,
    )
    loop = LoopThread()
    running = Server(config)
    try:
        loop.run(running.start())
        yield running, loop
    finally:
        loop.run(running.shutdown())
        loop.close()


def exported(api: httpx.Client, signal: Signal) -> list[ExportTraceServiceRequest]:
    response = api.get("/api/export", params={"signal": signal.value})
    assert response.status_code == 200
    return [decode_request_json(signal, line) for line in response.content.splitlines()]  # type: ignore[misc]


def test_a_server_traces_its_queries_and_writes_into_itself(
    server: tuple[Server, LoopThread],
) -> None:
    running, loop = server
    endpoints = running.endpoints
    body = traces(span(name="client-op")).SerializeToString()
    posted = httpx.post(
        f"http://127.0.0.1:{endpoints.otlp_http_port}/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert posted.status_code == 200
    with httpx.Client(base_url=f"http://127.0.0.1:{endpoints.api_port}") as api:
        assert api.get("/api/services").status_code == 200
        assert api.get("/api/services").status_code == 200
        assert api.get("/api/traces/" + "ab" * 16).status_code == 404
        # Store the client's data, send what was traced so far, and store that.
        assert running._self_telemetry is not None and running._pipeline is not None
        loop.run(running._pipeline.flush())
        loop.run(running._self_telemetry.flush())
        loop.run(running._pipeline.flush())
        stored = [
            (attributes(rs.resource).get("service.name"), s)
            for request in exported(api, Signal.TRACES)
            for rs in request.resource_spans
            for scope in rs.scope_spans
            for s in scope.spans
        ]
        metric_requests = exported(api, Signal.METRICS)

    own = [s for service, s in stored if service == SELF_SERVICE]
    assert [s.name for service, s in stored if service != SELF_SERVICE] == ["client-op"]
    by_id = {s.span_id: s for s in own}
    services = [s for s in own if s.name == "GET /api/services"]
    assert len(services) == 2
    for request_span in services:
        assert request_span.kind == Span.SPAN_KIND_SERVER
        assert attributes(request_span) == {
            "http.request.method": "GET",
            "url.path": "/api/services",
            "http.route": "/api/services",
            "http.response.status_code": 200,
        }
        queries = [s for s in own if s.parent_span_id == request_span.span_id]
        assert queries, "the request's storage queries are its children"
        for query in queries:
            assert query.kind == Span.SPAN_KIND_CLIENT
            assert query.trace_id == request_span.trace_id
            found = attributes(query)
            assert found["db.system.name"] == "duckdb"
            assert "SELECT" in str(found["db.query.text"]).upper()
            assert isinstance(found["db.response.returned_rows"], int)
    missing = [s for s in own if s.name == "GET /api/traces/{traceId}"]
    assert [attributes(s)["http.response.status_code"] for s in missing] == [404]
    assert missing[0].status.code == 0  # a 404 is the client's, not an error of otelite's

    writes = [s for s in own if s.name == "write"]
    assert writes, "storage writes are traced"
    # The client's one request was stored by a write of its own, before any of otelite's.
    first = min(writes, key=lambda s: s.start_time_unix_nano)
    assert attributes(first) == {
        "otelite.requests": 1,
        "otelite.items": 1,
        "otelite.signals": ("traces",),
    }
    children = {s.name for s in own if s.parent_span_id == first.span_id}
    assert children == {"flatten", "insert"}
    assert all(by_id.get(s.parent_span_id) is None for s in writes)  # each its own trace

    # otelite's metrics: the same series as /metrics, counted here from what was asked.
    metrics: dict[str, list[Metric]] = {}
    for request in metric_requests:
        for rm in request.resource_metrics:  # type: ignore[attr-defined]
            assert attributes(rm.resource)["service.name"] == SELF_SERVICE
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    metrics.setdefault(metric.name, []).append(metric)
    durations = [
        p for m in metrics["otelite_query_duration_seconds"] for p in m.histogram.data_points
    ]
    counts = {(attributes(p)["route"], attributes(p)["outcome"]): p.count for p in durations}
    assert counts[("/api/services", "success")] == 2
    assert counts[("/api/traces/{traceId}", "client_error")] == 1
    # The client's request, and otelite's spans, which flush sent just before the reading.
    accepted = [p for m in metrics["otelite_requests_accepted"] for p in m.sum.data_points]
    assert [(attributes(p), p.as_double) for p in accepted] == [({"tenant": "single-tenant"}, 2)]
