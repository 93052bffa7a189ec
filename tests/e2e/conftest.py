"""A real ``otelite serve`` process on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.backends import BACKENDS

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll ``check`` until it returns something other than None/False."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last={last!r}")


@dataclass
class ServerProcess:
    data_dir: Path | None
    log_path: Path
    api_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)
    """More ``otelite serve`` options, e.g. limits."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def otlp_http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def otlp_grpc(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        storage = ["--memory"] if self.data_dir is None else ["--data-dir", str(self.data_dir)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "otelite",
                    "serve",
                    *storage,
                    "--port",
                    str(self.api_port),
                    "--otlp-grpc-port",
                    str(self.grpc_port),
                    "--otlp-http-port",
                    str(self.http_port),
                    *self.extra_args,
                ],
                # A file, not a pipe: nobody reads while the server runs, and a full pipe blocks it.
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        wait_for(self._ready, timeout=30, what="otelite to become ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"otelite exited with {self.process.returncode}:\n{self.output}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    @property
    def output(self) -> str:
        """Everything the server processes printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the process with ``sig``; returns its exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def storage_args(kind: str, tmp_path: Path) -> list[str]:
    """``otelite serve`` options for a store of ``kind`` (its own chDB directory)."""
    return [] if kind == "duckdb" else ["--storage", f"chdb:{tmp_path / 'chdb'}"]


@pytest.fixture(params=BACKENDS)
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """``otelite serve`` on each kind of store."""
    proc = ServerProcess(
        tmp_path / "data", tmp_path / "server.log", extra_args=storage_args(request.param, tmp_path)
    )
    proc.start()
    yield proc
    if proc.process is not None and proc.process.poll() is None:
        proc.stop()
