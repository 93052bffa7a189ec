"""Tokens bound to tenants and rights: every route and both OTLP transports hold to them.

The token file gives each token some tenants and rights. A token's request for another
tenant is refused (403 / PERMISSION_DENIED) before anything is read or written; a token
with one tenant needs no header; a token without a route's right is refused there. The
query routes are walked from the isolation test's table, so a new route cannot be missed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.access import read_tokens
from otelite.config import Access
from otelite.types import Signal

from .data import tenant_a, tenant_b
from .support import Running
from .test_isolation import OPERATOR, QUERIES, STATIC, UNSCOPED, path_for, query_for

A, B = "tenant-a", "tenant-b"
TOKEN_FILE = f"""\
# collectors write, readers read, each for its own tenants
collector-a  tenant={A}       rights=ingest
collector-ab tenant={A},{B} rights=ingest
reader-a     tenant={A}       rights=query
sha256:{"b0c1d2" * 10}abcd tenant={B}
admin
ops          rights=operator
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    directory = tmp_path_factory.mktemp("bound")
    tokens = directory / "tokens"
    tokens.write_text(TOKEN_FILE)
    running = Running(directory / "data", access=Access(tokens=read_tokens(None, [tokens])))
    try:
        for signal, request in tenant_b().items():
            assert running.post(signal, request, B, token="admin").status_code == 200
        yield running
    finally:
        running.close()


def tenant_dirs(server: Running) -> list[str]:
    data_dir = server.server.config.data_dir
    assert data_dir is not None
    return sorted(os.listdir(data_dir / "tenants"))


def refusal(response_content: bytes) -> tuple[int, str]:
    status = Status.FromString(response_content)
    return status.code, status.message


def test_ingest_over_http_keeps_to_the_tokens_tenants_and_rights(server: Running) -> None:
    traces = tenant_a()[Signal.TRACES]
    other = server.post(Signal.TRACES, traces, B, token="collector-a")
    assert other.status_code == 403
    assert refusal(other.content) == (
        7,  # PERMISSION_DENIED
        f"this bearer token may not use tenant {B!r}; it may use {A!r}",
    )
    reader = server.post(Signal.TRACES, traces, A, token="reader-a")
    assert reader.status_code == 403
    assert refusal(reader.content) == (7, "this bearer token does not have the right 'ingest'")
    several = server.post(Signal.TRACES, traces, None, token="collector-ab")
    assert several.status_code == 400
    assert refusal(several.content)[1].startswith("X-Scope-OrgID header required")
    assert tenant_dirs(server) == [B]  # nothing refused created a tenant
    # One tenant: no header needed, and the data is that tenant's.
    for signal, request in tenant_a().items():
        assert server.post(signal, request, None, token="collector-a").status_code == 200
    server.flush()
    assert tenant_dirs(server) == [A, B]
    assert "cart" in server.get("/api/services", A, token="admin").text


def test_ingest_over_grpc_keeps_to_the_tokens_tenants_and_rights(server: Running) -> None:
    traces = tenant_b()[Signal.TRACES]
    cases = [
        ("collector-a", B, grpc.StatusCode.PERMISSION_DENIED, f"may not use tenant {B!r}"),
        ("reader-a", A, grpc.StatusCode.PERMISSION_DENIED, "does not have the right 'ingest'"),
        ("collector-ab", None, grpc.StatusCode.INVALID_ARGUMENT, "X-Scope-OrgID header required"),
        ("nobody-knows-me", A, grpc.StatusCode.UNAUTHENTICATED, "the bearer token is not valid"),
    ]
    for token, tenant, code, message in cases:
        with pytest.raises(grpc.RpcError) as refused:
            server.export_grpc(Signal.TRACES, traces, tenant, token=token)
        assert refused.value.code() == code, token  # type: ignore[attr-defined]
        assert message in refused.value.details(), token  # type: ignore[attr-defined]
    server.export_grpc(Signal.TRACES, traces, B, token="collector-ab")
    server.export_grpc(Signal.TRACES, tenant_a()[Signal.TRACES], None, token="collector-a")


def test_every_query_route_keeps_to_the_tokens_tenants_and_rights(server: Running) -> None:
    server.flush()
    for route, queries in QUERIES.items():
        if route in OPERATOR:
            continue  # the operator right, every tenant's: tests/access/test_query.py
        for owner in ("A", "B"):
            path = path_for(route, owner)
            for query in (query_for(q, owner) for q in queries):
                as_admin = server.get(path, A, token="admin", **query)
                assert as_admin.status_code in (200, 404), (route, as_admin.text)
                # One tenant: the header may be left out, and the answer is that tenant's.
                own = server.get(path, None, token="reader-a", **query)
                assert (own.status_code, own.content) == (as_admin.status_code, as_admin.content)
                other = server.get(path, B, token="reader-a", **query)
                for lacking in ("collector-a", "ops"):
                    refused = server.get(path, A, token=lacking, **query)
                    assert refused.status_code == 403, (route, lacking)
                    assert refused.json() == {
                        "error": "this bearer token does not have the right 'query'"
                    }
                if route in UNSCOPED | STATIC:
                    assert other.status_code == 200
                    continue
                assert other.status_code == 403, route
                assert other.json() == {
                    "error": f"this bearer token may not use tenant {B!r}; it may use {A!r}"
                }
    # Non-vacuous: the two tenants' data differ on a route that reads them.
    ids = {"start": "0", "end": str(2**62)}
    assert (
        server.get("/api/services", A, token="admin", **ids).json()
        != server.get("/api/services", B, token="admin", **ids).json()
    )


def test_a_digest_in_the_file_stands_for_its_token(server: Running) -> None:
    # "b0c1d2"*10 + "abcd" is no token's digest: no token gets in through it.
    assert server.get("/api/services", B, token="b0c1d2" * 10 + "abcd").status_code == 401


def test_otelites_own_metrics_need_the_operator_right(server: Running) -> None:
    for token, status in (("ops", 200), ("admin", 200), ("reader-a", 403), ("collector-a", 403)):
        response = server.get("/metrics", None, token=token)
        assert response.status_code == status, token
    assert server.get("/metrics", None).status_code == 401
