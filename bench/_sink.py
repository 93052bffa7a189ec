"""Receivers that do not store: the senders' own ceiling, and a destination to forward to.

If the senders could not go well past the server's rate, the benchmark would measure them;
sending the same bodies to a receiver that does nothing (``null_sink``) shows how fast they
go alone. Forwarding is judged against ``counting_receiver``: otelite's own OTLP receivers,
decoding and checking every request as a server does, in front of a consumer that counts
spans instead of storing them, so that the destination is not itself the limit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import grpc

from bench._send import Transport
from bench._server import free_port, wait_until
from otelite.pipeline import count_items, parsed
from otelite.receivers import GrpcReceiver, HttpReceiver
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["CountingReceiver", "counting_receiver", "null_sink"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve_http(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), _Handler).serve_forever()


def _serve_grpc(port: int) -> None:
    def export(body: bytes, context: grpc.ServicerContext) -> bytes:
        return b""

    handler = grpc.unary_unary_rpc_method_handler(export)
    server = grpc.server(
        ThreadPoolExecutor(max_workers=8), options=[("grpc.max_receive_message_length", -1)]
    )
    for service in ("trace.v1.TraceService", "metrics.v1.MetricsService", "logs.v1.LogsService"):
        server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    f"opentelemetry.proto.collector.{service}", {"Export": handler}
                )
            ]
        )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


@contextmanager
def null_sink(transport: Transport) -> Iterator[int]:
    """A null receiver of ``transport`` in its own process; yields its port."""
    port = free_port()
    target = _serve_http if transport == "http" else _serve_grpc
    process = multiprocessing.get_context("fork").Process(target=target, args=(port,), daemon=True)
    process.start()
    try:
        wait_until(lambda: _listening(port), timeout=30, what=f"the null {transport} sink")
        yield port
    finally:
        process.terminate()
        process.join(timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CountingReceiver:
    """Where ``counting_receiver`` listens, and what it has taken."""

    http_port: int
    grpc_port: int
    _count: Synchronized[int]

    def items(self) -> int:
        """Spans, points and log records taken so far."""
        return int(self._count.value)


class _Counting:
    """A consumer that counts what it is given."""

    def __init__(self, count: Synchronized[int]) -> None:
        self._count = count

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        if items is None:
            items = count_items(parsed(signal, request, payload))
        with self._count.get_lock():
            self._count.value += items


def _serve_counting(http_port: int, grpc_port: int, count: Synchronized[int]) -> None:
    async def serve() -> None:
        consumer = _Counting(count)
        await HttpReceiver(consumer, port=http_port).start()
        await GrpcReceiver(consumer, port=grpc_port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


@contextmanager
def counting_receiver() -> Iterator[CountingReceiver]:
    """otelite's OTLP receivers over a counting consumer, in a process of their own."""
    ports = free_port(), free_port()
    # Spawned, not forked: a fork of a process whose gRPC threads are running leaves the
    # child's gRPC server unable to answer.
    context = multiprocessing.get_context("spawn")
    count: Synchronized[int] = context.Value("q", 0)
    process = context.Process(target=_serve_counting, args=(*ports, count), daemon=True)
    process.start()
    try:
        wait_until(
            lambda: all(_listening(port) for port in ports),
            timeout=30,
            what="the counting receiver",
        )
        yield CountingReceiver(*ports, count)
    finally:
        process.terminate()
        process.join(timeout=10)
