"""A whole otelite (receivers, pipeline with its WAL, DuckDB, query API) in the test process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otelite.config import Config, Limits
from otelite.server import Server
from tests.receivers.support import LoopThread


class Running:
    """A started ``Server`` and clients for its OTLP/HTTP receiver and query API."""

    def __init__(self, loop_thread: LoopThread, data_dir: Path, limits: Limits) -> None:
        self.loop_thread = loop_thread
        self.server = Server(
            Config(
                data_dir=data_dir,
                port=0,
                otlp_grpc_port=0,
                otlp_http_port=0,
                retention_seconds=None,
                limits=limits,
            )
        )
        loop_thread.run(self.server.start())
        endpoints = self.server.endpoints
        self.grpc_target = f"127.0.0.1:{endpoints.otlp_grpc_port}"
        self.otlp = httpx.Client(base_url=f"http://127.0.0.1:{endpoints.otlp_http_port}")
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{endpoints.api_port}", timeout=30)

    def flush(self) -> None:
        """Wait until everything acknowledged is in storage, so queries see it."""
        pipeline = self.server._pipeline
        assert pipeline is not None
        self.loop_thread.run(pipeline.flush())

    def close(self) -> None:
        self.otlp.close()
        self.api.close()
        self.loop_thread.run(self.server.shutdown())


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def running(loop_thread: LoopThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    server = Running(
        loop_thread, tmp_path_factory.mktemp("otelite"), Limits(max_request_bytes=1 << 20)
    )
    yield server
    server.close()
