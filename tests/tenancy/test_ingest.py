"""Ingest with tenants: ids checked on every edge with exact messages, the tenant bound,
the default tenant, rate limits per tenant, and the CLI's ``--tenant``."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.cli import main
from otelite.config import Limits, Tenancy
from otelite.otlp import encode_request_json
from otelite.types import Signal

from .data import tenant_a, tenant_b
from .support import Running

RULE = "a tenant id is 1 to 150 characters from A-Z a-z 0-9 ! - _ . * ' ( ) and not '.' or '..'"
# Header values as sent (bytes go on the wire as they are) and the problem reported.
REFUSED: dict[str | bytes, str] = {
    "": "'' is empty",
    "x" * 151: f"{'x' * 60!r}... (151 characters) is 151 bytes long, over the limit of 150",
    "..": "'..' is reserved",
    ".": "'.' is reserved",
    "a/b": "'a/b' contains '/', which a tenant id may not",
    "a\\b": "'a\\\\b' contains '\\\\', which a tenant id may not",
    "%2e%2e": "'%2e%2e' contains '%', which a tenant id may not",
    "%252e%252e": "'%252e%252e' contains '%', which a tenant id may not",
    "..%2f": "'..%2f' contains '%', which a tenant id may not",
    "a b": "'a b' contains ' ', which a tenant id may not",
    # HTTP header bytes beyond ASCII are read as Latin-1, as Starlette does.
    "té".encode(): "'tÃ©' contains 'Ã', which a tenant id may not",
}
SPANS = encode_request_json(tenant_b()[Signal.TRACES])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = Running(tmp_path_factory.mktemp("ingest") / "data")
    yield running
    running.close()


def tenant_dirs(server: Running) -> list[str]:
    data_dir = server.server.config.data_dir
    assert data_dir is not None
    return sorted(os.listdir(data_dir / "tenants"))


@pytest.mark.parametrize("value", list(REFUSED), ids=repr)
def test_invalid_tenant_ids_are_refused_everywhere(server: Running, value: str | bytes) -> None:
    message = f"X-Scope-OrgID {REFUSED[value]}; {RULE}"
    before = tenant_dirs(server)
    ingest = httpx.post(
        f"{server.otlp_http}/v1/traces",
        content=SPANS,
        headers={"Content-Type": "application/json", "X-Scope-OrgID": value},
    )
    assert ingest.status_code == 400
    assert ingest.json() == {"code": 3, "message": message, "details": []}
    query = httpx.get(f"{server.api}/api/services", headers={"X-Scope-OrgID": value})
    assert query.status_code == 400
    assert query.json() == {"error": message}
    if isinstance(value, str):
        with pytest.raises(grpc.RpcError) as refused:
            server.export_grpc(Signal.TRACES, tenant_b()[Signal.TRACES], value)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert refused.value.details() == message  # type: ignore[attr-defined]
    assert tenant_dirs(server) == before


def test_control_characters_never_reach_otelite(server: Running) -> None:
    # NUL and line breaks cannot be in an HTTP header: the HTTP parser refuses the request.
    port = int(server.otlp_http.rsplit(":", 1)[1])
    for value in (b"a\x00b", b"..\x00/x"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nX-Scope-OrgID: " + value + b"\r\n\r\n{}"
            )
            assert sock.recv(100).startswith(b"HTTP/1.1 400 ")
    assert "a\x00b" not in "".join(tenant_dirs(server))


def test_twice_the_header_is_refused(server: Running) -> None:
    response = httpx.post(
        f"{server.otlp_http}/v1/traces",
        content=SPANS,
        headers=[
            ("Content-Type", "application/json"),
            ("X-Scope-OrgID", "first"),
            ("X-Scope-OrgID", "second"),
        ],
    )
    assert response.status_code == 400
    assert (
        response.json()["message"] == "X-Scope-OrgID sent 2 times; send one tenant id per request"
    )


def test_ingest_lands_in_the_tenants_directory(server: Running) -> None:
    assert server.post(Signal.TRACES, tenant_b()[Signal.TRACES], "http-tenant").status_code == 200
    server.export_grpc(Signal.LOGS, tenant_b()[Signal.LOGS], "grpc-tenant")
    assert {"http-tenant", "grpc-tenant"} <= set(tenant_dirs(server))
    server.flush()
    traces = server.get("/api/export", "http-tenant", signal="traces").text
    logs = server.get("/api/export", "grpc-tenant", signal="logs").text
    assert "bravo-op" in traces and "bravo says hi" in logs
    assert server.get("/api/export", "grpc-tenant", signal="traces").text == ""
    assert server.get("/api/export", "http-tenant", signal="logs").text == ""


def test_the_tenant_bound_refuses_new_tenants_only(tmp_path: Path) -> None:
    server = Running(tmp_path / "data", Tenancy(enabled=True, max_tenants=2))
    try:
        for tenant in ("one", "two"):
            assert server.post(Signal.TRACES, tenant_a()[Signal.TRACES], tenant).status_code == 200
        refused = server.post(Signal.TRACES, tenant_a()[Signal.TRACES], "three")
        assert refused.status_code == 403
        assert "Retry-After" not in refused.headers
        message = (
            "tenant 'three' cannot be added: 2 tenants exist (limit max_tenants=2); "
            "use an existing tenant id or raise the limit (--max-tenants)"
        )
        assert Status.FromString(refused.content).message == message
        with pytest.raises(grpc.RpcError) as denied:
            server.export_grpc(Signal.LOGS, tenant_a()[Signal.LOGS], "four")
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
        # Existing tenants still write, and reading an unknown tenant creates nothing.
        assert server.post(Signal.LOGS, tenant_a()[Signal.LOGS], "one").status_code == 200
        assert server.get("/api/services", "five").json() == {"services": []}
        assert sorted(os.listdir(tmp_path / "data" / "tenants")) == ["one", "two"]
    finally:
        server.close()


def test_with_tail_sampling_a_tenant_beyond_the_bound_is_refused_before_it_is_answered(
    tmp_path: Path,
) -> None:
    # Tail sampling answers a client before it hands the spans on; a tenant storage would
    # refuse must be refused then, not after its spans were acknowledged.
    pipeline_file = tmp_path / "pipeline.yaml"
    pipeline_file.write_text(
        "processors:\n  tail_sampling:\n    decision_wait: 1h\n"
        "    policies: [{name: all, type: always_sample}]\n"
    )
    server = Running(
        tmp_path / "data", Tenancy(enabled=True, max_tenants=1), pipeline_file=pipeline_file
    )
    try:
        assert server.post(Signal.TRACES, tenant_a()[Signal.TRACES], "one").status_code == 200
        refused = server.post(Signal.TRACES, tenant_a()[Signal.TRACES], "two")
        assert refused.status_code == 403
        assert "tenant 'two' cannot be added" in Status.FromString(refused.content).message
        assert sorted(os.listdir(tmp_path / "data" / "tenants")) == ["one"]
    finally:
        server.close()


def test_a_default_tenant_takes_requests_without_the_header(tmp_path: Path) -> None:
    server = Running(None, Tenancy(enabled=True, default_tenant="shared"))
    try:
        assert server.post(Signal.TRACES, tenant_b()[Signal.TRACES], None).status_code == 200
        server.flush()
        assert server.get("/api/services", None).json()["services"][0]["name"] == "bravo"
        assert server.get("/api/services", "shared").json()["services"][0]["name"] == "bravo"
        assert server.get("/api/services", "other").json() == {"services": []}
        assert server.get("/api/ui/info", None).json()["tenantRequired"] is False
    finally:
        server.close()


def test_rate_limits_are_per_checked_tenant(tmp_path: Path) -> None:
    limits = Limits(ingest_rate_bytes=1.0, ingest_burst_bytes=1)
    server = Running(None, Tenancy(enabled=True, default_tenant="shared"), limits=limits)
    try:
        request = tenant_b()[Signal.TRACES]
        # The first request of each tenant passes (the bucket is full), the next must wait.
        assert server.post(Signal.TRACES, request, "acme").status_code == 200
        assert server.post(Signal.TRACES, request, "other").status_code == 200
        limited = server.post(Signal.TRACES, request, "acme")
        assert limited.status_code == 429
        # Without the header the request is the default tenant's, and pays into its bucket.
        assert server.post(Signal.TRACES, request, None).status_code == 200
        assert server.post(Signal.TRACES, request, "shared").status_code == 429
        # An invalid id is refused before it can make a bucket of its own.
        assert server.post(Signal.TRACES, request, "a/b").status_code == 400
    finally:
        server.close()


def test_without_multi_tenancy_the_header_is_ignored(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = Running(data_dir, Tenancy())
    try:
        for tenant in ("../../escape", "%252e%252e", "acme"):
            request = tenant_b()[Signal.TRACES]
            assert server.post(Signal.TRACES, request, tenant).status_code == 200
        server.flush()
        # All three sends went to the one store (service counts count every send).
        assert server.get("/api/services", "someone").json()["services"][0]["spanCount"] == 3
        assert server.get("/api/ui/info", None).json()["multiTenant"] is False
    finally:
        server.close()
    assert sorted(os.listdir(data_dir)) == ["otelite.duckdb", "wal"]
    assert not (tmp_path / "escape").exists()


def test_cli_commands_send_the_tenant(
    server: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = tmp_path / "b.jsonl"
    lines.write_bytes(b"\n".join(encode_request_json(r) for r in tenant_b().values()) + b"\n")
    imported = main(
        ["import", str(lines), "--otlp-url", server.otlp_http, "--tenant", "cli-tenant"]
    )
    assert imported == 0
    server.flush()
    exported = tmp_path / "out.jsonl"
    monkeypatch.setenv("OTELITE_TENANT", "cli-tenant")
    assert main(["export", "--signal", "traces", "--url", server.api, "-o", str(exported)]) == 0
    assert b"bravo-op" in exported.read_bytes()
    monkeypatch.delenv("OTELITE_TENANT")
    assert main(["export", "--signal", "traces", "--url", server.api, "-o", str(exported)]) == 1
    assert "cli-tenant" in tenant_dirs(server)


def test_a_tenant_directory_that_leads_elsewhere_is_not_used(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "data" / "tenants").mkdir(parents=True)
    (tmp_path / "data" / "tenants" / "evil").symlink_to(outside)
    server = Running(tmp_path / "data")  # the link is skipped, with a warning, at start
    try:
        refused = server.post(Signal.TRACES, tenant_b()[Signal.TRACES], "evil")
        assert refused.status_code == 400
        assert "its directory is not its own" in Status.FromString(refused.content).message
        assert server.post(Signal.TRACES, tenant_b()[Signal.TRACES], "good").status_code == 200
    finally:
        server.close()
    assert list(outside.iterdir()) == []
