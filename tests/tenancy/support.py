"""A multi-tenant otelite (storage, pipelines, receivers, API) in this process, on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc import (
    MetricsServiceStub,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from otelite.config import Access, Config, Limits, StorageLocation, Tenancy
from otelite.server import Server
from otelite.types import ExportRequest, Signal
from tests.backends import chdb_location, drop
from tests.receivers.support import LoopThread

MULTI_TENANT = Tenancy(enabled=True)
PROTOBUF = {"Content-Type": "application/x-protobuf"}
_STUBS = {Signal.TRACES: TraceServiceStub, Signal.METRICS: MetricsServiceStub}


class Running:
    """``Server(config)`` on free ports in an event loop thread of its own."""

    def __init__(
        self,
        data_dir: Path | None,
        tenancy: Tenancy = MULTI_TENANT,
        *,
        limits: Limits | None = None,
        retention_seconds: float | None = None,
        storage: StorageLocation | None = None,
        access: Access | None = None,
        self_telemetry: bool = False,
        pipeline_file: Path | None = None,
    ) -> None:
        config = Config(
            storage=storage or StorageLocation(),
            data_dir=data_dir,
            port=0,
            otlp_grpc_port=0,
            otlp_http_port=0,
            retention_seconds=retention_seconds,
            limits=limits or Limits(),
            tenancy=tenancy,
            access=access or Access(),
            self_telemetry=self_telemetry,
            pipeline_file=pipeline_file,
        )
        self._loop = LoopThread()
        self.server = Server(config)
        try:
            self._loop.run(self.server.start())
        except BaseException:
            self._loop.run(self.server.shutdown())
            self._loop.close()
            raise
        endpoints = self.server.endpoints
        self.api = f"http://127.0.0.1:{endpoints.api_port}"
        self.otlp_http = f"http://127.0.0.1:{endpoints.otlp_http_port}"
        self.otlp_grpc = f"127.0.0.1:{endpoints.otlp_grpc_port}"
        self._api = httpx.Client(base_url=self.api, timeout=10)

    def post(
        self, signal: Signal, request: ExportRequest, tenant: str | None, token: str | None = None
    ) -> httpx.Response:
        """Send ``request`` over OTLP/HTTP (protobuf) with ``tenant`` as X-Scope-OrgID."""
        headers = dict(PROTOBUF) | _headers(tenant, token)
        return httpx.post(
            f"{self.otlp_http}/v1/{signal.value}",
            content=request.SerializeToString(),
            headers=headers,
            timeout=10,
        )

    def export_grpc(
        self, signal: Signal, request: ExportRequest, tenant: str | None, token: str | None = None
    ) -> None:
        """Send ``request`` over OTLP/gRPC with ``tenant`` in the x-scope-orgid metadata."""
        metadata = tuple((key.lower(), value) for key, value in _headers(tenant, token).items())
        with grpc.insecure_channel(self.otlp_grpc) as channel:
            stub = _STUBS.get(signal, LogsServiceStub)(channel)
            stub.Export(request, metadata=metadata, timeout=10)

    def get(
        self, path: str, tenant: str | None, token: str | None = None, **params: str
    ) -> httpx.Response:
        """GET a query API path as ``tenant`` (None: without the header), with ``token``."""
        return self._api.get(path, params=params, headers=_headers(tenant, token))

    def flush(self) -> None:
        """Wait until everything accepted is stored."""
        # The test reaches into its own server: Server has no public flush.
        ingest = self.server._tenants or self.server._pipeline
        assert ingest is not None
        self._loop.run(ingest.flush())
        if self.server._self_telemetry is not None:
            # What storing that traced, then that itself.
            self._loop.run(self.server._self_telemetry.flush())
            self._loop.run(ingest.flush())

    def close(self) -> None:
        self._api.close()
        self._loop.run(self.server.shutdown())
        self._loop.close()


@contextmanager
def running_on(kind: str, data_dir: Path) -> Iterator[Running]:
    """A single-tenant otelite storing on ``kind`` (a ``tests.backends.BACKENDS`` name; a
    chDB database of its own, dropped afterwards)."""
    location = chdb_location() if kind == "chdb" else None
    running = Running(data_dir, Tenancy(), storage=location)
    try:
        yield running
    finally:
        running.close()
        if location is not None:
            drop(location)


def _headers(tenant: str | None, token: str | None) -> dict[str, str]:
    headers = {}
    if tenant is not None:
        headers["X-Scope-OrgID"] = tenant
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers
