"""The real OpenTelemetry SDK sends all three signals over both transports; export gives
them back unchanged."""

from __future__ import annotations

import logging
import signal

import httpx
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from otelite.otlp import decode_request_json
from otelite.pipeline import count_items
from otelite.types import ExportRequest, Signal
from tests.e2e.conftest import ServerProcess, wait_for
from tests.roundtrip import assert_same_telemetry

pytestmark = pytest.mark.slow

RESOURCE = Resource.create(
    {"service.name": "checkout", "service.version": "1.2.3", "host.cpus": 2, "k8s.ready": True}
)


def _export(server: ServerProcess, signal_: Signal) -> list[ExportRequest]:
    response = httpx.get(f"{server.url}/api/export", params={"signal": signal_.value}, timeout=10)
    response.raise_for_status()
    return [decode_request_json(signal_, line) for line in response.text.splitlines() if line]


def _exported_once_complete(
    server: ServerProcess, signal_: Signal, count: int
) -> list[ExportRequest]:
    def complete() -> list[ExportRequest] | None:
        requests = _export(server, signal_)
        return requests if sum(map(count_items, requests)) >= count else None

    return wait_for(complete, what=f"{count} {signal_.value} items to be queryable")


def _make_spans() -> list:  # type: ignore[type-arg]
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer(
        "shop.checkout", "0.9", schema_url="https://opentelemetry.io/schemas/1.26.0"
    )
    with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.response.status_code", 200)
        root.set_attribute("cart.total", 99.5)
        root.set_attribute("cart.items", ["apple", "pear"])
        root.set_attribute("cart.quantities", [1, 2])
        root.set_attribute("user.vip", False)
        root.add_event("validated", {"rules": 3})
        with tracer.start_as_current_span("charge", kind=SpanKind.CLIENT) as child:
            child.set_status(Status(StatusCode.ERROR, "card declined"))
            child.record_exception(ValueError("declined"))
        link_context = root.get_span_context()
    with tracer.start_as_current_span(
        "ship", kind=SpanKind.CONSUMER, links=[Link(link_context, {"link.kind": "follows"})]
    ):
        pass
    provider.shutdown()
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_traces_come_back_unchanged(server: ServerProcess, transport: str) -> None:
    spans = _make_spans()
    if transport == "grpc":
        exporter = GrpcSpans(endpoint=server.otlp_grpc, insecure=True)
    else:
        exporter = HttpSpans(endpoint=f"{server.otlp_http}/v1/traces", compression=Compression.Gzip)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()

    sent = [encode_spans(spans)]
    got = _exported_once_complete(server, Signal.TRACES, len(spans))
    assert_same_telemetry(sent, got)

    trace_id = f"{spans[0].context.trace_id:032x}"
    by_id = httpx.get(
        f"{server.url}/api/traces/{trace_id}", headers={"Accept": "application/protobuf"}
    )
    assert by_id.status_code == 200


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_metrics_come_back_unchanged(server: ServerProcess, transport: str) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("shop.metrics", "1.0")
    meter.create_counter("orders", unit="{order}", description="orders placed").add(
        3, {"region": "eu"}
    )
    meter.create_histogram("latency", unit="ms").record(12.5, {"route": "/checkout"})
    meter.create_up_down_counter("queue.depth").add(-2)
    meter.create_gauge("temperature").set(21.5, {"room": "lab"})
    data = reader.get_metrics_data()
    assert data is not None

    exporter = (
        GrpcMetrics(endpoint=server.otlp_grpc, insecure=True)
        if transport == "grpc"
        else (HttpMetrics(endpoint=f"{server.otlp_http}/v1/metrics"))
    )
    assert exporter.export(data) is MetricExportResult.SUCCESS
    exporter.shutdown()
    provider.shutdown()

    sent = [encode_metrics(data)]
    got = _exported_once_complete(server, Signal.METRICS, 4)
    assert_same_telemetry(sent, got)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_logs_come_back_unchanged(server: ServerProcess, transport: str) -> None:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("shop.logs", "2.0")
    logger.emit(
        severity_number=SeverityNumber.WARN,
        severity_text="WARN",
        body="payment slow",
        attributes={"attempt": 2, "ok": False},
    )
    logger.emit(body={"order": {"id": 7, "items": ["a", "b"]}}, severity_number=SeverityNumber.INFO)
    logger.emit(body=b"\x00\x01raw", event_name="shop.raw")
    provider.shutdown()
    records = list(memory.get_finished_logs())
    assert len(records) == 3

    exporter = (
        GrpcLogs(endpoint=server.otlp_grpc, insecure=True)
        if transport == "grpc"
        else (HttpLogs(endpoint=f"{server.otlp_http}/v1/logs"))
    )
    assert exporter.export(records).name == "SUCCESS"
    exporter.shutdown()

    sent = [encode_logs(records)]
    got = _exported_once_complete(server, Signal.LOGS, len(records))
    assert_same_telemetry(sent, got)


def test_sigterm_drains_and_exits_cleanly(server: ServerProcess) -> None:
    spans = _make_spans()
    exporter = HttpSpans(endpoint=f"{server.otlp_http}/v1/traces")
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert server.stop(signal.SIGTERM) == 0, server.output
    assert "stopped" in server.output

    server.start()  # same data directory: everything acknowledged is still there
    got = _export(server, Signal.TRACES)
    assert_same_telemetry([encode_spans(spans)], got)


logging.getLogger("opentelemetry").setLevel(logging.ERROR)
