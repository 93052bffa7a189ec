"""Null receivers that read each request and answer success: the senders' own ceiling.

If the senders could not go well past the server's rate, the benchmark would measure them;
sending the same bodies to a receiver that does nothing shows how fast they go alone.
"""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc

from bench._send import Transport
from bench._server import free_port, wait_until

__all__ = ["null_sink"]


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
