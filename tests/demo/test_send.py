"""The sender against real HTTP and gRPC servers that misbehave on purpose."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.demo import Batch, Sender, SendError, Shop
from otelite.types import ExportTraceServiceResponse, Signal
from tests.e2e.conftest import free_port

Reply = tuple[int, dict[str, str], bytes]


@pytest.fixture
def batch() -> Batch:
    return next(Shop(seed=1, batch_size=50, signals=(Signal.TRACES,)).batches(Signal.TRACES))


class _Script:
    """Answers each request with the next scripted reply; records what arrived."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.received: list[tuple[str, bytes]] = []


@pytest.fixture
def http_server() -> Iterator[Callable[[list[Reply]], tuple[str, _Script]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(replies: list[Reply]) -> tuple[str, _Script]:
        script = _Script(replies)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                script.received.append((self.path, body))
                status, headers, content = script.replies.pop(0)
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(content))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}", script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_http_retries_503_and_429_then_counts_a_partial_success(
    http_server: Callable[[list[Reply]], tuple[str, _Script]], batch: Batch
) -> None:
    partial = ExportTraceServiceResponse()
    partial.partial_success.rejected_spans = 2
    partial.partial_success.error_message = "two spans were bad"
    url, script = http_server(
        [
            (503, {"Retry-After": "0"}, b""),
            (429, {"Retry-After": "0"}, b""),
            (200, {"Content-Type": "application/x-protobuf"}, partial.SerializeToString()),
        ]
    )
    with Sender(url, seed=1) as sender:
        sender.send(batch)
    assert [path for path, _ in script.received] == ["/v1/traces"] * 3
    assert all(body == batch.body for _, body in script.received)
    assert sender.stats.retries == 2
    assert sender.stats.accepted[Signal.TRACES] == batch.items - 2
    assert sender.stats.rejected[Signal.TRACES] == 2
    assert sender.stats.last_rejection == "two spans were bad"


def test_http_does_not_retry_a_bad_request(
    http_server: Callable[[list[Reply]], tuple[str, _Script]], batch: Batch
) -> None:
    url, script = http_server([(400, {}, b"trace_id must be 16 bytes")])
    with Sender(url) as sender, pytest.raises(SendError, match="HTTP 400: trace_id must"):
        sender.send(batch)
    assert len(script.received) == 1


def test_http_gives_up_when_the_budget_runs_out(
    http_server: Callable[[list[Reply]], tuple[str, _Script]], batch: Batch
) -> None:
    url, _ = http_server([(503, {"Retry-After": "5"}, b"")] * 3)
    with Sender(url, retry_budget=1.0) as sender, pytest.raises(SendError, match="giving up"):
        sender.send(batch)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_nothing_listening_is_one_clear_error(protocol: str) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}" if protocol == "http" else f"127.0.0.1:{port}"
    with (
        Sender(endpoint, protocol=protocol) as sender,  # type: ignore[arg-type]
        pytest.raises(SendError, match=f"nothing listens for OTLP/.* at {endpoint}"),
    ):
        sender.connect(timeout=0.5)


def _retry_info_trailer(seconds: float) -> tuple[tuple[str, bytes]]:
    status = Status(code=grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], message="busy")
    nanos = int(seconds * 1e9)
    status.details.add().Pack(RetryInfo(retry_delay=Duration(nanos=nanos)))
    return (("grpc-status-details-bin", status.SerializeToString()),)


@pytest.fixture
def grpc_server() -> Iterator[
    Callable[[list[grpc.StatusCode | str | None]], tuple[str, list[bytes]]]
]:
    servers: list[grpc.Server] = []

    def start(script: list[grpc.StatusCode | str | None]) -> tuple[str, list[bytes]]:
        received: list[bytes] = []

        def export(request: bytes, context: grpc.ServicerContext) -> bytes:
            received.append(request)
            answer = script.pop(0)
            if answer == "retry-info":
                context.set_trailing_metadata(_retry_info_trailer(0.01))
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "try later")
            if isinstance(answer, grpc.StatusCode):
                context.abort(answer, "try later")
            return b""

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc.unary_unary_rpc_method_handler(export)},
        )
        server.add_generic_rpc_handlers([handler])
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", received

    yield start
    for server in servers:
        server.stop(None)


def test_grpc_retries_unavailable_and_resource_exhausted_with_retry_info(
    grpc_server: Callable[[list[grpc.StatusCode | str | None]], tuple[str, list[bytes]]],
    batch: Batch,
) -> None:
    target, received = grpc_server([grpc.StatusCode.UNAVAILABLE, "retry-info", None])
    with Sender(target, protocol="grpc", seed=1) as sender:
        sender.connect()
        sender.send(batch)
    assert received == [batch.body] * 3
    assert sender.stats.retries == 2
    assert sender.stats.accepted[Signal.TRACES] == batch.items


def test_grpc_resource_exhausted_without_retry_info_is_final(
    grpc_server: Callable[[list[grpc.StatusCode | str | None]], tuple[str, list[bytes]]],
    batch: Batch,
) -> None:
    target, received = grpc_server([grpc.StatusCode.RESOURCE_EXHAUSTED, None])
    with (
        Sender(target, protocol="grpc") as sender,
        pytest.raises(SendError, match="RESOURCE_EXHAUSTED"),
    ):
        sender.send(batch)
    assert len(received) == 1
