from __future__ import annotations

import asyncio
import gzip
import os
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import orjson
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otelite.config import Limits
from otelite.errors import Overloaded, Unavailable
from otelite.otlp import decode_response_json
from otelite.pipeline import Consumer, InMemoryConsumer
from otelite.receivers import HttpReceiver
from otelite.types import ExportTraceServiceResponse, Signal

from .support import (
    SPAN_ID,
    TRACE_ID,
    BrokenConsumer,
    GatedConsumer,
    LoopThread,
    PayloadConsumer,
    received_span_names,
    span,
    traces,
)

LIMIT = 1 << 20  # 1 MiB: small enough to test, large enough for the SDK's batches
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
DECODE_ERROR = (
    "could not decode the body as protobuf: Error parsing message with type "
    "'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest': Wire format was corrupt"
)
TOO_LARGE = "request body is over the limit of 1 MiB (after decompression); send smaller batches"
USE = "use application/x-protobuf or application/json"


@dataclass
class Server:
    receiver: HttpReceiver
    consumer: InMemoryConsumer
    url: str


def start(loop_thread: LoopThread, consumer: Consumer, **options: object) -> HttpReceiver:
    receiver = HttpReceiver(consumer, port=0, **options)  # type: ignore[arg-type]
    loop_thread.run(receiver.start())
    return receiver


@pytest.fixture(scope="module")
def module_server(loop_thread: LoopThread) -> Iterator[Server]:
    consumer = InMemoryConsumer()
    receiver = start(loop_thread, consumer, limits=Limits(max_request_bytes=LIMIT))
    yield Server(receiver, consumer, f"http://127.0.0.1:{receiver.port}")
    loop_thread.run(receiver.shutdown())


@pytest.fixture
def server(module_server: Server) -> Server:
    module_server.consumer.received.clear()
    module_server.consumer.fail_with = None
    return module_server


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


def status_of(response: httpx.Response) -> tuple[int, str]:
    """The google.rpc.Status code and message of an error body, in either encoding."""
    if response.headers["content-type"] == "application/json":
        body = orjson.loads(response.content)
        return body["code"], body["message"]
    status = Status.FromString(response.content)
    return status.code, status.message


# --- real OpenTelemetry SDK exporters -------------------------------------------------


def test_sdk_exports_spans_with_gzip(server: Server) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", compression=Compression.Gzip)
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    with tracer.start_as_current_span("parent") as parent:
        parent.set_attribute("order.id", 42)
        with tracer.start_as_current_span("child"):
            pass
    provider.shutdown()

    assert sorted(received_span_names(server.consumer)) == ["child", "parent"]
    request = server.consumer.requests(Signal.TRACES)[-1]
    resource = request.resource_spans[0].resource
    assert {"key": "service.name", "value": "checkout"} in [
        {"key": a.key, "value": a.value.string_value} for a in resource.attributes
    ]
    sent = request.resource_spans[0].scope_spans[0].spans[0]
    assert sent.name == "parent"
    assert sent.trace_id == parent.get_span_context().trace_id.to_bytes(16, "big")
    assert sent.attributes[0].value.int_value == 42


def test_sdk_exports_metrics(server: Server) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    counter = provider.get_meter("tests").create_counter("requests")
    counter.add(3, {"route": "/a"})
    counter.add(4, {"route": "/b"})
    data = reader.get_metrics_data()
    assert data is not None
    exporter = OTLPMetricExporter(endpoint=f"{server.url}/v1/metrics")
    assert exporter.export(data) is MetricExportResult.SUCCESS
    exporter.shutdown()
    provider.shutdown()

    [request] = server.consumer.requests(Signal.METRICS)
    [metric] = request.resource_metrics[0].scope_metrics[0].metrics
    assert metric.name == "requests"
    assert sorted(p.as_int for p in metric.sum.data_points) == [3, 4]


def test_sdk_exports_logs(server: Server) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server.url}/v1/logs"))
    )
    provider.get_logger("tests").emit(body="disk full", severity_text="ERROR")
    provider.shutdown()

    [request] = server.consumer.requests(Signal.LOGS)
    [record] = request.resource_logs[0].scope_logs[0].log_records
    assert record.body.string_value == "disk full"
    assert record.severity_text == "ERROR"


# --- protobuf, JSON, gzip ---------------------------------------------------------------


def test_protobuf_request(server: Server, client: httpx.Client) -> None:
    request = traces(span("a"), span("b", parent_span_id=SPAN_ID))
    response = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    assert server.consumer.requests(Signal.TRACES) == [request]


def test_json_request_with_charset(server: Server, client: httpx.Client) -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_ID.hex().upper(),
                                "spanId": SPAN_ID.hex(),
                                "name": "from-json",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": 1700000000000000001,
                            }
                        ]
                    }
                ]
            }
        ]
    }
    response = client.post(
        "/v1/traces",
        content=orjson.dumps(body),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b"{}"
    [request] = server.consumer.requests(Signal.TRACES)
    sent = request.resource_spans[0].scope_spans[0].spans[0]
    assert (sent.name, sent.trace_id, sent.span_id) == ("from-json", TRACE_ID, SPAN_ID)
    assert sent.end_time_unix_nano == 1700000000000000001


@pytest.mark.parametrize("encoding", ["gzip", "GZip", "identity", "x-gzip"])
def test_content_encodings(server: Server, client: httpx.Client, encoding: str) -> None:
    request = traces(span("zipped"))
    body = request.SerializeToString()
    if encoding != "identity":
        body = gzip.compress(body)
    headers = {**PROTOBUF, "Content-Encoding": encoding}
    response = client.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == 200
    assert server.consumer.requests(Signal.TRACES) == [request]


def test_gzip_of_several_members(server: Server, client: httpx.Client) -> None:
    body = traces(span("two-members")).SerializeToString()
    compressed = gzip.compress(body[:10]) + gzip.compress(body[10:])
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}
    assert client.post("/v1/traces", content=compressed, headers=headers).status_code == 200
    assert received_span_names(server.consumer) == ["two-members"]


def test_large_requests(loop_thread: LoopThread) -> None:
    # Over the size at which decoding moves to a worker thread (1 MiB), under the limit.
    consumer = PayloadConsumer()
    receiver = start(loop_thread, consumer, limits=Limits(max_request_bytes=4 * LIMIT))
    request = traces(*[span(f"span-{i}", parent_span_id=SPAN_ID) for i in range(20_000)])
    body = request.SerializeToString()
    assert LIMIT < len(body) < 4 * LIMIT
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{receiver.port}") as client:
            response = client.post("/v1/traces", content=body, headers=PROTOBUF)
            assert response.status_code == 200
            response = client.post("/v1/traces", content=body[:-3], headers=PROTOBUF)
            assert status_of(response) == (3, DECODE_ERROR)
    finally:
        loop_thread.run(receiver.shutdown())
    assert consumer.requests(Signal.TRACES) == [request]
    assert consumer.payloads == [body]


def test_an_unchanged_protobuf_body_is_passed_on_as_the_payload(loop_thread: LoopThread) -> None:
    # The body is what the write-ahead log keeps, instead of serializing the request again;
    # a request that validation changed, or that came as JSON, has no payload to pass on.
    consumer = PayloadConsumer()
    receiver = start(loop_thread, consumer)
    good = traces(span("a"), span("b", parent_span_id=SPAN_ID)).SerializeToString()
    cut = traces(span("kept"), span("rejected", trace_id=b"abc")).SerializeToString()
    gzipped = {**PROTOBUF, "Content-Encoding": "gzip"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{receiver.port}") as client:
            for body, headers in [
                (good, PROTOBUF),
                (gzip.compress(good), gzipped),
                (cut, PROTOBUF),
                (orjson.dumps({"resourceSpans": [{"scopeSpans": [{}]}]}), JSON),
            ]:
                assert client.post("/v1/traces", content=body, headers=headers).is_success
    finally:
        loop_thread.run(receiver.shutdown())
    assert consumer.payloads == [good, good, None, None]
    assert received_span_names(consumer).count("kept") == 1


# --- partial success --------------------------------------------------------------------


def test_invalid_ids_give_partial_success(server: Server, client: httpx.Client) -> None:
    request = traces(span("good"), span("short", trace_id=b"abc"), span("zero", span_id=bytes(8)))
    response = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 2
    assert partial.error_message == (
        "rejected 2 spans: resourceSpans[0].scopeSpans[0].spans[1]: trace_id must be 16 bytes, "
        "got 3; resourceSpans[0].scopeSpans[0].spans[2]: span_id must not be all zeros"
    )
    assert received_span_names(server.consumer) == ["good"]


def test_partial_success_in_json(server: Server, client: httpx.Client) -> None:
    body = {
        "resourceSpans": [
            {"scopeSpans": [{"spans": [{"traceId": "", "spanId": SPAN_ID.hex(), "name": "x"}]}]}
        ]
    }
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JSON)
    assert response.status_code == 200
    partial = decode_response_json(Signal.TRACES, response.content).partial_success
    assert partial.rejected_spans == 1
    assert partial.error_message == (
        "rejected 1 span: resourceSpans[0].scopeSpans[0].spans[0]: trace_id must be 16 bytes, got 0"
    )
    assert server.consumer.received == []


@pytest.mark.parametrize(
    "body",
    [b"", traces().SerializeToString(), b"\n\x00", b"\n\x02\x12\x00"],
    ids=["empty", "empty-scope", "empty-resource", "resource-with-empty-scope"],
)
def test_empty_requests_and_envelopes(server: Server, client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 200
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")


def test_empty_json_request(client: httpx.Client) -> None:
    for path in ("/v1/traces", "/v1/metrics", "/v1/logs"):
        response = client.post(path, content=b"{}", headers=JSON)
        assert (response.status_code, response.content) == (200, b"{}")


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [traces(span()).SerializeToString()[:-5], bytes.fromhex("ffffffffffffffff")],
    ids=["truncated", "garbage"],
)
def test_undecodable_protobuf_is_400(server: Server, client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-protobuf"
    assert status_of(response) == (3, DECODE_ERROR)
    assert server.consumer.received == []


def test_random_bytes_are_400(client: httpx.Client) -> None:
    body = bytes.fromhex("0a") + os.urandom(64)  # resource_spans whose length runs past the end
    body = body[:1] + b"\xff" + body[2:]
    response = client.post("/v1/logs", content=body, headers=PROTOBUF)
    assert response.status_code == 400
    code, message = status_of(response)
    assert code == 3
    assert message.startswith("could not decode the body as protobuf: Error parsing message")


def test_invalid_utf8_is_400(client: httpx.Client) -> None:
    body = traces(span("é")).SerializeToString().replace("é".encode(), b"\xff\xff")
    response = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 400
    assert status_of(response) == (
        3,
        DECODE_ERROR.replace("Wire format was corrupt", "String field had bad UTF-8"),
    )


def test_undecodable_json_is_400_in_json(client: httpx.Client) -> None:
    response = client.post("/v1/metrics", content=b'{"resourceMetrics": [', headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    code, message = status_of(response)
    assert code == 3
    assert message != ""


def test_bad_gzip_is_400(client: httpx.Client) -> None:
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}
    response = client.post("/v1/traces", content=b"not gzip at all", headers=headers)
    assert response.status_code == 400
    assert status_of(response) == (
        3,
        "body is not valid gzip: Error -3 while decompressing data: incorrect header check",
    )
    truncated = gzip.compress(traces(span()).SerializeToString())[:-6]
    response = client.post("/v1/traces", content=truncated, headers=headers)
    assert response.status_code == 400
    assert status_of(response) == (3, "body is not valid gzip: the stream ends early")


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain", f"Content-Type 'text/plain' is not supported; {USE}"),
        ("application/json+x", f"Content-Type 'application/json+x' is not supported; {USE}"),
        (None, f"a Content-Type header is required; {USE}"),
    ],
)
def test_unsupported_content_type_is_415(
    client: httpx.Client, content_type: str | None, message: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/traces", content=b"\x00", headers=headers)
    assert response.status_code == 415
    assert status_of(response) == (3, message)


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br"])
def test_unknown_content_encoding_is_415(client: httpx.Client, encoding: str) -> None:
    headers = {**PROTOBUF, "Content-Encoding": encoding}
    response = client.post("/v1/traces", content=b"\x00", headers=headers)
    assert response.status_code == 415
    assert status_of(response) == (
        3,
        f"Content-Encoding {encoding!r} is not supported; use one of: gzip, identity",
    )


def test_gzip_bomb_is_413_without_inflating(server: Server, client: httpx.Client) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(100)) + compressor.flush()
    assert len(bomb) < 200_000  # 100 MiB of zeros in about 100 KB
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}
    tracemalloc.start()
    try:
        response = client.post("/v1/traces", content=bomb, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert status_of(response) == (8, TOO_LARGE)
    assert peak < 8 * LIMIT  # the body never got near its inflated 100 MiB
    assert server.consumer.received == []


def test_declared_content_length_over_limit_is_413(client: httpx.Client) -> None:
    response = client.post("/v1/traces", content=bytes(LIMIT + 1), headers=PROTOBUF)
    assert response.status_code == 413
    assert status_of(response) == (
        8,
        "request body is over the limit of 1 MiB (Content-Length 1048577); send smaller batches",
    )


def test_streamed_body_over_limit_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield bytes(LIMIT // 4 + 1)

    # A generator body goes out chunked, with no Content-Length to check up front.
    response = client.post("/v1/traces", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert status_of(response) == (8, TOO_LARGE)


def test_overloaded_is_429_with_retry_after(server: Server, client: httpx.Client) -> None:
    server.consumer.fail_with = Overloaded("queue is full", retry_after=4.2)
    body = traces(span()).SerializeToString()
    response = client.post("/v1/traces", content=body, headers=PROTOBUF)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert status_of(response) == (8, "queue is full")


def test_unavailable_is_503_with_retry_after(server: Server, client: httpx.Client) -> None:
    server.consumer.fail_with = Unavailable("storage is read-only", retry_after=30)
    response = client.post("/v1/logs", content=b'{"resourceLogs": [{}]}', headers=JSON)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert status_of(response) == (14, "storage is read-only")


def test_other_methods_are_405_and_other_paths_404(client: httpx.Client) -> None:
    assert client.get("/v1/traces").status_code == 405
    assert client.put("/v1/metrics", content=b"").status_code == 405
    assert client.post("/v1/spans", content=b"", headers=PROTOBUF).status_code == 404
    assert client.post("/v1/traces/", content=b"", headers=PROTOBUF).status_code == 404
    assert client.get("/").status_code == 404


def test_no_server_header(client: httpx.Client) -> None:
    response = client.post("/v1/traces", content=b"", headers=PROTOBUF)
    assert "server" not in response.headers


def test_consumer_bug_is_500_without_traceback(
    loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = start(loop_thread, BrokenConsumer())
    try:
        body = traces(span()).SerializeToString()
        response = httpx.post(
            f"http://127.0.0.1:{receiver.port}/v1/traces", content=body, headers=PROTOBUF
        )
    finally:
        loop_thread.run(receiver.shutdown())
    assert response.status_code == 500
    assert status_of(response) == (13, "internal error; see the server log")
    assert "bug in a consumer" in caplog.text  # logged for the operator, not sent


# --- lifecycle --------------------------------------------------------------------------


def test_shutdown_finishes_requests_in_flight(loop_thread: LoopThread) -> None:
    consumer = GatedConsumer()
    receiver = start(loop_thread, consumer)
    body = traces(span("in-flight")).SerializeToString()
    with ThreadPoolExecutor(1) as pool:
        url = f"http://127.0.0.1:{receiver.port}/v1/traces"
        pending = pool.submit(httpx.post, url, content=body, headers=PROTOBUF)
        assert consumer.entered.wait(10)
        stopping = asyncio.run_coroutine_threadsafe(receiver.shutdown(), loop_thread.loop)
        threading.Timer(0.3, consumer.release.set).start()
        assert pending.result(10).status_code == 200
        stopping.result(10)
    assert received_span_names(consumer) == ["in-flight"]
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, content=body, headers=PROTOBUF)
