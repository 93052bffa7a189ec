from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc import (
    MetricsServiceStub,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otelite.config import Limits
from otelite.errors import InvalidRequest, Overloaded, RequestTooLarge, Unavailable
from otelite.pipeline import Consumer, InMemoryConsumer
from otelite.receivers import GrpcReceiver
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)

from .support import (
    BrokenConsumer,
    GatedConsumer,
    LoopThread,
    PayloadConsumer,
    received_span_names,
    span,
    traces,
)

LIMIT = 1 << 20
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@dataclass
class Server:
    receiver: GrpcReceiver
    consumer: InMemoryConsumer
    target: str


def start(loop_thread: LoopThread, consumer: Consumer, **options: object) -> GrpcReceiver:
    receiver = GrpcReceiver(consumer, port=0, **options)  # type: ignore[arg-type]
    loop_thread.run(receiver.start())
    return receiver


@pytest.fixture(scope="module")
def module_server(loop_thread: LoopThread) -> Iterator[Server]:
    consumer = InMemoryConsumer()
    receiver = start(loop_thread, consumer, limits=Limits(max_request_bytes=LIMIT))
    yield Server(receiver, consumer, f"127.0.0.1:{receiver.port}")
    loop_thread.run(receiver.shutdown())


@pytest.fixture
def server(module_server: Server) -> Server:
    module_server.consumer.received.clear()
    module_server.consumer.fail_with = None
    return module_server


@pytest.fixture
def channel(server: Server) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.target) as channel:
        yield channel


def rpc_error(call: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()  # type: ignore[operator]
    return raised.value


def status_details(error: grpc.RpcError) -> Status | None:
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "grpc-status-details-bin":
            return Status.FromString(value)
    return None


# --- real OpenTelemetry SDK exporters -------------------------------------------------


def test_sdk_exports_spans_with_gzip(server: Server) -> None:
    exporter = OTLPSpanExporter(
        endpoint=server.target, insecure=True, compression=grpc.Compression.Gzip
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("parent"), tracer.start_as_current_span("child") as child:
        child.add_event("cache miss", {"key": "user:1"})
    provider.shutdown()

    assert sorted(received_span_names(server.consumer)) == ["child", "parent"]
    sent = server.consumer.requests(Signal.TRACES)[0].resource_spans[0].scope_spans[0].spans[0]
    assert sent.name == "child"
    assert sent.events[0].name == "cache miss"
    assert sent.span_id == child.get_span_context().span_id.to_bytes(8, "big")


def test_sdk_exports_metrics(server: Server) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    histogram = provider.get_meter("tests").create_histogram("latency", unit="ms")
    for value in (5, 50, 500):
        histogram.record(value)
    data = reader.get_metrics_data()
    assert data is not None
    exporter = OTLPMetricExporter(endpoint=server.target, insecure=True)
    assert exporter.export(data) is MetricExportResult.SUCCESS
    exporter.shutdown()
    provider.shutdown()

    [request] = server.consumer.requests(Signal.METRICS)
    [metric] = request.resource_metrics[0].scope_metrics[0].metrics
    assert (metric.name, metric.unit) == ("latency", "ms")
    [point] = metric.histogram.data_points
    assert (point.count, point.sum) == (3, 555)


def test_sdk_exports_logs(server: Server) -> None:
    provider = LoggerProvider()
    exporter = OTLPLogExporter(endpoint=server.target, insecure=True)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("tests").emit(body="payment declined", attributes={"code": 51})
    provider.shutdown()

    [request] = server.consumer.requests(Signal.LOGS)
    [record] = request.resource_logs[0].scope_logs[0].log_records
    assert record.body.string_value == "payment declined"
    assert record.attributes[0].value.int_value == 51


# --- stubs ------------------------------------------------------------------------------


def test_gzip_compressed_call(server: Server, channel: grpc.Channel) -> None:
    request = traces(span("compressed"))
    response = TraceServiceStub(channel).Export(request, compression=grpc.Compression.Gzip)
    assert not response.HasField("partial_success")
    assert server.consumer.requests(Signal.TRACES) == [request]


def test_every_signal_is_served(server: Server, channel: grpc.Channel) -> None:
    metrics = ExportMetricsServiceRequest()
    metric = metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="up")
    metric.gauge.data_points.add(as_int=1, time_unix_nano=1)
    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add(severity_text="INFO")
    MetricsServiceStub(channel).Export(metrics)
    LogsServiceStub(channel).Export(logs)
    assert server.consumer.requests(Signal.METRICS) == [metrics]
    assert server.consumer.requests(Signal.LOGS) == [logs]


def test_an_unchanged_request_is_passed_on_as_the_payload(loop_thread: LoopThread) -> None:
    consumer = PayloadConsumer()
    receiver = start(loop_thread, consumer)
    good = traces(span("good"))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            TraceServiceStub(channel).Export(good)
            TraceServiceStub(channel).Export(traces(span("kept"), span("cut", span_id=b"")))
    finally:
        loop_thread.run(receiver.shutdown())
    assert consumer.payloads == [good.SerializeToString(), None]


def test_invalid_records_give_partial_success(server: Server, channel: grpc.Channel) -> None:
    request = traces(span("good"), span("bad-parent", parent_span_id=b"\x01\x02"))
    response = TraceServiceStub(channel).Export(request)
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == (
        "rejected 1 span: resourceSpans[0].scopeSpans[0].spans[1]: "
        "parent_span_id must be empty or 8 bytes, got 2"
    )
    assert received_span_names(server.consumer) == ["good"]


def test_invalid_data_points_give_partial_success(server: Server, channel: grpc.Channel) -> None:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="m")
    metric.sum.data_points.add(as_double=1.0, time_unix_nano=2**63)
    metric.sum.data_points.add(as_double=2.0, time_unix_nano=1)
    response = MetricsServiceStub(channel).Export(request)
    assert response.partial_success.rejected_data_points == 1
    [stored] = server.consumer.requests(Signal.METRICS)
    assert [
        p.as_double for p in stored.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points
    ] == [2.0]


def test_empty_request_and_envelopes(server: Server, channel: grpc.Channel) -> None:
    stub = TraceServiceStub(channel)
    for request in (ExportTraceServiceRequest(), traces()):
        assert not stub.Export(request).HasField("partial_success")
    assert server.consumer.requests(Signal.TRACES) == [traces()]


def test_undecodable_request_is_invalid_argument(server: Server, channel: grpc.Channel) -> None:
    export_raw = channel.unary_unary(TRACE_METHOD)  # bytes in, bytes out
    error = rpc_error(lambda: export_raw(bytes.fromhex("0aff01")))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert error.details() == (  # type: ignore[attr-defined]
        "could not decode the body as protobuf: Error parsing message with type "
        "'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest': "
        "Wire format was corrupt"
    )
    assert server.consumer.received == []


def test_oversized_message_is_resource_exhausted(server: Server, channel: grpc.Channel) -> None:
    request = traces(
        span("big", attributes=[{"key": "blob", "value": {"bytes_value": bytes(LIMIT)}}])
    )
    stub = TraceServiceStub(channel)
    for compression in (grpc.Compression.NoCompression, grpc.Compression.Gzip):
        error = rpc_error(lambda c=compression: stub.Export(request, compression=c))
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
        assert "larger than max" in error.details()  # type: ignore[attr-defined]
        assert status_details(error) is None  # no RetryInfo: clients must not retry
    assert server.consumer.received == []


def test_overloaded_is_resource_exhausted_with_retry_info(
    server: Server, channel: grpc.Channel
) -> None:
    server.consumer.fail_with = Overloaded("queue is full", retry_after=2.5)
    error = rpc_error(lambda: TraceServiceStub(channel).Export(traces(span())))
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert error.details() == "queue is full"  # type: ignore[attr-defined]
    status = status_details(error)
    assert status is not None
    assert (status.code, status.message) == (8, "queue is full")
    retry_info = RetryInfo()
    assert status.details[0].Unpack(retry_info)
    assert (retry_info.retry_delay.seconds, retry_info.retry_delay.nanos) == (2, 500_000_000)


def test_unavailable(server: Server, channel: grpc.Channel) -> None:
    server.consumer.fail_with = Unavailable("storage is read-only", retry_after=10)
    error = rpc_error(
        lambda: LogsServiceStub(channel).Export(ExportLogsServiceRequest(resource_logs=[{}]))
    )
    assert error.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert error.details() == "storage is read-only"  # type: ignore[attr-defined]
    status = status_details(error)
    assert status is not None
    retry_info = RetryInfo()
    assert status.details[0].Unpack(retry_info)
    assert retry_info.retry_delay.seconds == 10


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidRequest("bad"), grpc.StatusCode.INVALID_ARGUMENT),
        (RequestTooLarge("too big"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
def test_permanent_consumer_errors(
    server: Server, channel: grpc.Channel, error: Exception, code: grpc.StatusCode
) -> None:
    server.consumer.fail_with = error  # type: ignore[assignment]
    raised = rpc_error(lambda: TraceServiceStub(channel).Export(traces(span())))
    assert raised.code() is code  # type: ignore[attr-defined]
    assert raised.details() == str(error)  # type: ignore[attr-defined]
    assert status_details(raised) is None


def test_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Query")
    error = rpc_error(lambda: call(b""))
    assert error.code() is grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]


def test_consumer_bug_is_internal_without_traceback(
    loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = start(loop_thread, BrokenConsumer())
    try:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            error = rpc_error(lambda: TraceServiceStub(channel).Export(traces(span())))
    finally:
        loop_thread.run(receiver.shutdown())
    assert error.code() is grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    assert error.details() == "internal error; see the server log"  # type: ignore[attr-defined]
    assert "bug in a consumer" in caplog.text


def test_shutdown_finishes_calls_in_flight(loop_thread: LoopThread) -> None:
    consumer = GatedConsumer()
    receiver = start(loop_thread, consumer)
    with (
        grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel,
        ThreadPoolExecutor(1) as pool,
    ):
        stub = TraceServiceStub(channel)
        pending = pool.submit(stub.Export, traces(span("in-flight")), timeout=10)
        assert consumer.entered.wait(10)
        stopping = asyncio.run_coroutine_threadsafe(receiver.shutdown(), loop_thread.loop)
        threading.Timer(0.3, consumer.release.set).start()
        assert not pending.result(10).HasField("partial_success")
        stopping.result(10)
        error = rpc_error(lambda: stub.Export(traces(span()), timeout=2))
        assert error.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert received_span_names(consumer) == ["in-flight"]


def test_port_in_use_raises_os_error(loop_thread: LoopThread) -> None:
    first = start(loop_thread, InMemoryConsumer())
    try:
        second = GrpcReceiver(InMemoryConsumer(), port=first.port)
        with pytest.raises(OSError, match=f"cannot bind 127.0.0.1:{first.port}"):
            loop_thread.run(second.start())
    finally:
        loop_thread.run(first.shutdown())
