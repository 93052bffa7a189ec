"""Every tenant's data survives restarts: its write-ahead log is replayed after ``kill -9``,
and retention reaches every tenant."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import grpc
import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from otelite.config import Tenancy
from otelite.otlp import decode_request_json
from otelite.types import ExportTraceServiceRequest, Signal
from tests.e2e.conftest import ServerProcess
from tests.hardening.load import make_request, span_ids

from .support import Running

REQUESTS = 15
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def stored(server: ServerProcess, tenant: str) -> Counter[bytes]:
    """Every span id in ``tenant``'s storage, with how many times it is stored."""
    response = httpx.get(
        f"{server.url}/api/export",
        params={"signal": "traces"},
        headers={"X-Scope-OrgID": tenant},
        timeout=30,
    )
    response.raise_for_status()
    ids: Counter[bytes] = Counter()
    for line in response.text.splitlines():
        request = decode_request_json(Signal.TRACES, line)
        assert isinstance(request, ExportTraceServiceRequest)
        ids.update(span_ids(request))
    return ids


def test_kill_9_then_restart_replays_every_tenants_log(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "data", tmp_path / "server.log", extra_args=["--multi-tenant"]
    )
    server.start()
    acknowledged: dict[str, set[bytes]] = {"over-http": set(), "over-grpc": set()}
    try:
        with (
            httpx.Client(timeout=10) as http,
            grpc.insecure_channel(server.otlp_grpc) as channel,
        ):
            stub = TraceServiceStub(channel)
            for n in range(REQUESTS):
                by_http, by_grpc = make_request(1 + n, 50), make_request(1_000 + n, 50)
                response = http.post(
                    f"{server.otlp_http}/v1/traces",
                    content=by_http.SerializeToString(),
                    headers={
                        "Content-Type": "application/x-protobuf",
                        "X-Scope-OrgID": "over-http",
                    },
                )
                assert response.status_code == 200
                acknowledged["over-http"] |= span_ids(by_http)
                stub.Export(by_grpc, metadata=(("x-scope-orgid", "over-grpc"),), timeout=10)
                acknowledged["over-grpc"] |= span_ids(by_grpc)
        # At once, while the last requests are likely in the write-ahead logs only.
        server.stop(signal.SIGKILL)
        server.start()
        for tenant, ids in acknowledged.items():
            found = stored(server, tenant)
            assert found.keys() == ids, f"{tenant}: lost or foreign spans"
            assert set(found.values()) == {1}, f"{tenant}: spans stored twice"
        assert stored(server, "nobody") == Counter()
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()
    for tenant in acknowledged:
        assert (tmp_path / "data" / "tenants" / tenant / "wal").is_dir()


def test_retention_deletes_old_data_of_every_tenant(tmp_path: Path) -> None:
    old = make_request(1, 3)
    two_days_ago = time.time_ns() - 2 * 86400 * 10**9
    for span in old.resource_spans[0].scope_spans[0].spans:
        span.start_time_unix_nano = two_days_ago
        span.end_time_unix_nano = two_days_ago + 1000
    fresh = make_request(2, 3)
    tenancy = Tenancy(enabled=True)
    server = Running(tmp_path / "data", tenancy)
    try:
        for tenant in ("first", "second"):
            assert server.post(Signal.TRACES, old, tenant).status_code == 200
            assert server.post(Signal.TRACES, fresh, tenant).status_code == 200
    finally:
        server.close()
    # Retention runs once at start, then every few minutes.
    server = Running(tmp_path / "data", tenancy, retention_seconds=86400)
    try:
        deadline = time.monotonic() + 10
        for tenant in ("first", "second"):
            while True:
                body = server.get("/api/export", tenant, signal="traces").text
                if all(f'"{b.hex()}"' not in body for b in span_ids(old)):
                    break
                assert time.monotonic() < deadline, f"old data of {tenant} not deleted"
                time.sleep(0.05)
            assert len(body.splitlines()) == 1  # the fresh request's spans remain
    finally:
        server.close()
