"""One tenant can never read another's data, through any route of the query API.

Non-interference: everything tenant B (and a tenant that never wrote) reads through every
route is the same, byte for byte, before and after tenant A writes. Each route is also
shown to read tenant data at all (A's and B's answers differ from an empty tenant's), so
the equality is not vacuous. Routes are taken from the app, so a new one cannot be missed.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.routing import Route

from otelite.api import create_app
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal
from tests.api.samples import T0
from tests.backends import chdb_location, drop

from .data import ENTITIES, tenant_a, tenant_b
from .support import Running

A, B, NOBODY = "tenant-a", "tenant-b", "nobody"
OWNERS = {A: "A", B: "B"}
WINDOW = {"start": str(T0 - 3600 * 10**9), "end": str(T0 + 3600 * 10**9)}
WINDOW_US = {"start": str((T0 - 3600 * 10**9) // 1000), "end": str((T0 + 3600 * 10**9) // 1000)}
JAEGER_V3_WINDOW = {
    "query.startTimeMin": "2000-01-01T00:00:00Z",
    "query.startTimeMax": "2100-01-01T00:00:00Z",
}
PROMETHEUS_WINDOW = {"start": str(T0 // 10**9 - 3600), "end": str(T0 // 10**9 + 3600)}
PROMETHEUS_RANGE = {**PROMETHEUS_WINDOW, "step": "60"}
# Queries for each route of the API; every one is asked with each tenant's path parameters.
QUERIES: dict[str, list[dict[str, str]]] = {
    "/api/traces/{traceId}": [{}],
    "/api/v2/traces/{traceId}": [{}],
    "/api/search/traces": [WINDOW],
    "/api/services": [WINDOW],
    "/api/services/{service:path}/operations": [WINDOW],
    "/api/search/logs": [WINDOW],
    "/api/metrics": [WINDOW],
    "/api/metrics/{name:path}/series": [WINDOW],
    "/api/export": [{"signal": signal.value} for signal in Signal],
    "/api/count": [{"signal": signal.value, **WINDOW} for signal in Signal],
    "/api/traces/{traceId}/critical-path": [{}],
    "/api/critical-path": [{"q": '{ resource.service.name = "{service}" }', **WINDOW}],
    "/api/compare/traces": [{"a": "{traceId}", "b": "{traceId}"}],
    "/api/compare": [{"selection": '{ resource.service.name = "{service}" }', **WINDOW}],
    "/api/deployments": [{"service": "{service}", **WINDOW}],
    "/api/alerts/receivers": [{}],
    "/api/forwarding": [{}],
    "/api/slos": [{}],
    "/api/slos/{name}": [{}],
    "/api/slos/{name}/status": [{}],
    "/api/slos/{name}/history": [WINDOW],
    "/api/ui/info": [{}],
    "/api/service-graph": [WINDOW],
    "/api/ui/services": [WINDOW],
    "/api/ui/attributes": [{"signal": "spans", **WINDOW}, {"signal": "logs", **WINDOW}],
    "/jaeger/api/services": [{}],
    "/jaeger/api/services/{service:path}/operations": [{}],
    "/jaeger/api/operations": [{"service": "{service}"}],
    "/jaeger/api/traces": [{"service": "{service}", **WINDOW_US}],
    "/jaeger/api/traces/{traceId:path}": [{}],
    "/jaeger/api/dependencies": [
        {"endTs": str((T0 + 3600 * 10**9) // 10**6), "lookback": str(2 * 3600 * 10**3)}
    ],
    "/jaeger/api/v3/services": [{}],
    "/jaeger/api/v3/operations": [{"service": "{service}"}],
    "/jaeger/api/v3/traces": [JAEGER_V3_WINDOW],
    "/jaeger/api/v3/traces/{traceId:path}": [{}],
    "/jaeger/api/v3/trace-summaries": [JAEGER_V3_WINDOW],
    "/api/echo": [{}],
    "/api/status/buildinfo": [{}],
    "/api/search": [{"q": '{ resource.service.name = "{service}" }', **WINDOW}],
    "/api/search/tags": [WINDOW],
    "/api/v2/search/tags": [WINDOW],
    "/api/search/tag/{tag:path}/values": [WINDOW],
    "/api/v2/search/tag/{field:path}/values": [WINDOW],
    "/api/metrics/query_range": [
        {"q": '{ resource.service.name = "{service}" } | count_over_time()', **WINDOW}
    ],
    "/api/metrics/query": [{"q": '{ resource.service.name = "{service}" } | rate()', **WINDOW}],
    "/api/v1/query": [{"query": 'count({job="{service}"})', "time": str(T0 // 10**9 + 10)}],
    "/api/v1/query_range": [{"query": 'count({job="{service}"})', **PROMETHEUS_RANGE}],
    "/api/v1/series": [{"match[]": '{job="{service}"}', **PROMETHEUS_WINDOW}],
    "/api/v1/labels": [PROMETHEUS_WINDOW],
    "/api/v1/label/{label:path}/values": [PROMETHEUS_WINDOW],
    "/api/v1/metadata": [{}],
    "/api/v1/query_exemplars": [{"query": '{job="{service}"}', **PROMETHEUS_WINDOW}],
    "/api/v1/format_query": [{"query": "sum(up)"}],
    "/api/v1/status/buildinfo": [{}],
    "/api/v1/rules": [{}],
    "/api/v1/alerts": [{}],
}
UNSCOPED = {"/api/ui/info"}
"""Routes that read no telemetry, so need no tenant."""
STATIC = {
    "/api/echo",
    "/api/status/buildinfo",
    "/api/v1/status/buildinfo",
    "/api/v1/format_query",
    "/api/alerts/receivers",
    "/api/forwarding",
}
"""Routes whose answer is the same for everyone: no telemetry, no tenant, no settings."""
ONLY_A_HAS = {"/jaeger/api/dependencies"}
"""Routes B's data cannot change: B's one span calls no other service."""
NOTHING_TO_FIND = {
    "/api/deployments",
    "/api/v1/rules",
    "/api/v1/alerts",
    "/api/slos",
    "/api/slos/{name}",
    "/api/slos/{name}/status",
    "/api/slos/{name}/history",
}
"""Routes neither tenant's data changes: no service's version changes, no SLO is set."""
OPERATOR = {"/api/alerts/receivers", "/api/forwarding"}
"""Routes that need the operator right rather than the query right (every tenant's)."""
MISSING = (
    "X-Scope-OrgID header required: this otelite keeps tenants apart (multi-tenant mode) "
    "and needs to know whose data this is"
)

Answers = dict[tuple[str, str, int], tuple[int, bytes]]


def api_routes() -> set[str]:
    storage = DuckDBStorage(None)
    try:
        app = create_app(storage)
    finally:
        storage.close()
    prefixes = ("/api/", "/jaeger/api/")
    return {r.path for r in app.routes if isinstance(r, Route) and r.path.startswith(prefixes)}


def test_every_api_route_is_covered() -> None:
    assert api_routes() == set(QUERIES), "add the new route and its queries to QUERIES"


def path_for(route: str, owner: str) -> str:
    path = route
    for name, value in ENTITIES[owner].items():
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
        path = path.replace(f"{{{name}:path}}", quote(value, safe=""))
    return path


def query_for(query: dict[str, str], owner: str) -> dict[str, str]:
    """``query`` with the path parameter names in its values (``{service}``) filled in."""
    filled = {}
    for key, value in query.items():
        for name, entity in ENTITIES[owner].items():
            value = value.replace(f"{{{name}}}", entity)
        filled[key] = value
    return filled


def answers(server: Running, tenant: str | None) -> Answers:
    """What ``tenant`` gets from every route, asked about A's things and about B's."""
    found = {}
    for route, queries in QUERIES.items():
        for owner in ("A", "B"):
            for n, query in enumerate(queries):
                response = server.get(path_for(route, owner), tenant, **query_for(query, owner))
                found[route, owner, n] = (response.status_code, response.content)
    return found


def send(server: Running, tenant: str, *, grpc: bool) -> None:
    data = tenant_a() if tenant == A else tenant_b()
    for signal, request in data.items():
        if grpc:
            server.export_grpc(signal, request, tenant)
        else:
            assert server.post(signal, request, tenant).status_code == 200
    server.flush()


@pytest.mark.parametrize("where", ["disk", "memory", "chdb"])
def test_a_tenant_reads_only_its_own_data(tmp_path: Path, where: str) -> None:
    data_dir = None if where == "memory" else tmp_path / "data"
    location = chdb_location() if where == "chdb" else None
    server = Running(data_dir, storage=location)
    try:
        send(server, B, grpc=True)
        before = {tenant: answers(server, tenant) for tenant in (B, NOBODY)}
        send(server, A, grpc=False)
        after = {tenant: answers(server, tenant) for tenant in (A, B, NOBODY)}
    finally:
        server.close()
        if location is not None:
            for tenant in (A, B):
                drop(location.for_tenant(tenant))

    for tenant in (B, NOBODY):
        changed = [key for key in before[tenant] if before[tenant][key] != after[tenant][key]]
        assert not changed, f"{tenant} sees a change after {A} wrote, in {changed}"
    # Each route does read tenant data: each writer's answers about its own things differ
    # from those of a tenant that never wrote.
    for tenant, owner in OWNERS.items():
        for (route, about, n), (status, body) in after[tenant].items():
            skipped = route in UNSCOPED | STATIC | NOTHING_TO_FIND or (
                owner == "B" and route in ONLY_A_HAS
            )
            if about != owner or skipped:
                continue
            assert status == 200, (tenant, route, body)
            assert (status, body) != after[NOBODY][route, about, n], (tenant, route, n)
    if data_dir is not None:
        tenants = data_dir / "tenants"
        assert sorted(os.listdir(tenants)) == [A, B]  # reading created no tenant
        for tenant in (A, B):
            assert (tenants / tenant / "otelite.duckdb").is_file() == (location is None)
            assert (tenants / tenant / "wal").is_dir()
        assert sorted(os.listdir(data_dir)) == ["tenants"]  # nothing outside tenants/


def test_every_route_that_reads_telemetry_needs_a_tenant(tmp_path: Path) -> None:
    server = Running(None)
    try:
        for route, queries in QUERIES.items():
            response = server.get(path_for(route, "A"), None, **queries[0])
            if route in STATIC:
                assert response.status_code == 200
                continue
            if route in UNSCOPED:
                assert response.status_code == 200
                assert response.json()["multiTenant"] is True
                assert response.json()["tenantRequired"] is True
                continue
            assert response.status_code == 400, route
            assert response.json() == {"error": MISSING}
            twice = server.get(path_for(route, "A"), None, **queries[0])
            assert twice.status_code == 400
    finally:
        server.close()
