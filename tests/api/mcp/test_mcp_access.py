"""``/mcp`` keeps to the same tokens and tenants as every other route, and ``otelite mcp``
serves the same tools over stdio."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client

from otelite.access import read_tokens
from otelite.config import Access
from otelite.types import Signal
from tests.api import samples
from tests.tenancy.data import tenant_a, tenant_b
from tests.tenancy.support import Running

from .support import answer, call, error, over_stdio

A, B = "tenant-a", "tenant-b"
TOKENS = f"""\
reader-a  tenant={A}  rights=query
sender    rights=ingest
admin
"""
RANGE = {"start": str((samples.T0 - 3600 * 10**9) // 10**9), "end": "now"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    directory = tmp_path_factory.mktemp("mcp-access")
    (directory / "tokens").write_text(TOKENS)
    running = Running(
        directory / "data", access=Access(tokens=read_tokens(None, [directory / "tokens"]))
    )
    try:
        for tenant, data in ((A, tenant_a()), (B, tenant_b())):
            for signal, request in data.items():
                assert running.post(signal, request, tenant, token="admin").status_code == 200
        running.flush()
        yield running
    finally:
        running.close()


def services_of(data: dict[Signal, Any]) -> set[str]:
    return {
        kv.value.string_value
        for resource_spans in data[Signal.TRACES].resource_spans
        for kv in resource_spans.resource.attributes
        if kv.key == "service.name"
    }


def bearer(token: str, tenant: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers if tenant is None else headers | {"X-Scope-OrgID": tenant}


def test_a_tenants_token_sees_only_its_tenant(server: Running) -> None:
    found = answer(call(server.api, "list_services", RANGE, headers=bearer("reader-a")))
    assert {s["name"] for s in found["services"]} == services_of(tenant_a())
    other = answer(call(server.api, "list_services", RANGE, headers=bearer("admin", B)))
    assert {s["name"] for s in other["services"]} == services_of(tenant_b())
    assert services_of(tenant_a()).isdisjoint(services_of(tenant_b()))
    refused = error(call(server.api, "list_services", RANGE, headers=bearer("reader-a", B)))
    assert f"may not use tenant {B!r}" in refused
    trace_of_b = error(
        call(server.api, "get_trace", {"trace_id": "cd" * 16}, headers=bearer("reader-a"))
    )
    assert "not found" in trace_of_b


def test_mcp_takes_the_query_apis_tokens(server: Running) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    for sent, status in (({}, 401), (bearer("wrong"), 401), (bearer("sender"), 403)):
        response = httpx.post(f"{server.api}/mcp", json=body, headers=headers | sent, timeout=10)
        assert response.status_code == status, response.text


def test_otelite_mcp_serves_the_same_tools_over_stdio(server: Running) -> None:
    async def work(client: Client) -> tuple[set[str], Any]:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        return tools, await client.call_tool("list_services", RANGE)

    tools, result = over_stdio(server.api, work, "--token", "reader-a")
    assert {"list_services", "get_trace", "search_traces"} <= tools
    assert {s["name"] for s in answer(result)["services"]} == services_of(tenant_a())
    over_http_answer = answer(call(server.api, "list_services", RANGE, headers=bearer("reader-a")))
    assert {s["name"] for s in over_http_answer["services"]} == services_of(tenant_a())
