"""SQL injection through every parameter, attribute key and path segment of every endpoint.

Each answer must be 200 or a 400 that names the problem, never a 500, and afterwards every
table holds exactly what it held before. Values that would widen a query if spliced into SQL
(``' OR '1'='1``) must match nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import Route

from otelite.api import create_app
from otelite.query import (
    LogFilter,
    Plan,
    SpanFilter,
    Table,
    TimeRange,
    compile_plan,
    count_plan,
    log_search_plan,
    metric_catalog_plan,
    metric_points_plan,
    operation_summary_plan,
    service_summary_plan,
    trace_search_plan,
)
from otelite.query.dialects import DuckDBDialect
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal
from tests.api.samples import logs, metrics, traces
from tests.api.served import Served

PAYLOADS = (
    "'; DROP TABLE otel_traces; --",
    "' OR '1'='1",
    '" OR "1"="1',
    "') OR 1=1 --",
    "1; DELETE FROM otel_logs",
    "1 UNION SELECT * FROM otelite_state",
    "x' || (SELECT count(*) FROM otel_traces) || '",
    "$1",
    "?",
    "{0}",
    "%' --",
    "\\'",
    "\x00",
    "now-1h'; DROP TABLE otel_logs; --",
    "1e999",
    "-1",
    "9" * 40,
    "../../etc/passwd",
)


@dataclass(frozen=True)
class Endpoint:
    params: tuple[str, ...]
    path_params: tuple[str, ...] = ()
    base: dict[str, str] = field(default_factory=dict)
    """Parameters sent along, so that the one under test is reached (export needs a signal)."""


JAEGER_V3 = {
    "query.serviceName": "cart",
    "query.startTimeMin": "2000-01-01T00:00:00Z",
    "query.startTimeMax": "2100-01-01T00:00:00Z",
}
PROMETHEUS_RANGE = {"query": "rate(requests_total[5m])", "start": "0", "end": "600", "step": "60"}
ENDPOINTS = {
    "/api/traces/{traceId}": Endpoint((), ("traceId",)),
    "/api/v2/traces/{traceId}": Endpoint((), ("traceId",)),
    "/api/search/traces": Endpoint(
        ("service", "name", "attr", "minDuration", "maxDuration", "status", "start", "end", "limit")
    ),
    "/api/services": Endpoint(("start", "end")),
    "/api/services/{service:path}/operations": Endpoint(("start", "end"), ("service",)),
    "/api/search/logs": Endpoint(
        ("service", "severity", "text", "traceId", "attr", "start", "end", "limit")
    ),
    "/api/metrics": Endpoint(("service", "start", "end")),
    "/api/metrics/{name:path}/series": Endpoint(
        ("attr", "service", "start", "end", "limit"), ("name",)
    ),
    "/api/export": Endpoint(("signal", "start", "end"), base={"signal": "logs"}),
    "/api/count": Endpoint(("signal", "start", "end"), base={"signal": "logs"}),
    "/api/traces/{traceId}/critical-path": Endpoint((), ("traceId",)),
    "/api/critical-path": Endpoint(
        ("q", "baseline", "start", "end", "baselineStart", "baselineEnd", "limit")
    ),
    "/api/compare/traces": Endpoint(("a", "b")),
    "/api/compare": Endpoint(
        ("selection", "baseline", "start", "end", "selectionStart", "selectionEnd", "limit"),
        base={"selection": "{ }"},
    ),
    "/api/deployments": Endpoint(("service", "start", "end", "settle", "window")),
    "/api/slos": Endpoint(()),
    "/api/slos/{name}": Endpoint((), ("name",)),
    "/api/slos/{name}/status": Endpoint(("time",), ("name",)),
    "/api/slos/{name}/history": Endpoint(("start", "end", "points"), ("name",)),
    "/api/ui/info": Endpoint(()),
    "/api/alerts/receivers": Endpoint(()),
    "/api/forwarding": Endpoint(()),
    "/api/ui/services": Endpoint(("service", "start", "end", "buckets")),
    "/api/ui/attributes": Endpoint(("signal", "service", "start", "end")),
    "/api/echo": Endpoint(()),
    "/api/status/buildinfo": Endpoint(()),
    "/api/search": Endpoint(("q", "tags", "start", "end", "limit", "spss")),
    "/api/search/tags": Endpoint(("start", "end")),
    "/api/v2/search/tags": Endpoint(("scope", "start", "end")),
    "/api/search/tag/{tag:path}/values": Endpoint(("start", "end", "limit"), ("tag",)),
    "/api/v2/search/tag/{field:path}/values": Endpoint(("start", "end", "limit"), ("field",)),
    "/api/metrics/query_range": Endpoint(
        ("q", "query", "start", "end", "step", "since"), base={"q": "{ } | rate()"}
    ),
    "/api/metrics/query": Endpoint(
        ("q", "query", "start", "end", "since"), base={"q": "{ } | rate()"}
    ),
    "/api/service-graph": Endpoint(("start", "end", "service")),
    "/jaeger/api/services": Endpoint(()),
    "/jaeger/api/services/{service:path}/operations": Endpoint((), ("service",)),
    "/jaeger/api/operations": Endpoint(("service", "spanKind"), base={"service": "cart"}),
    "/jaeger/api/traces": Endpoint(
        (
            "service",
            "operation",
            "tags",
            "tag",
            "minDuration",
            "maxDuration",
            "limit",
            "start",
            "end",
            "traceID",
        ),
        base={"service": "cart"},
    ),
    "/jaeger/api/traces/{traceId:path}": Endpoint((), ("traceId",)),
    "/jaeger/api/dependencies": Endpoint(("endTs", "lookback", "service")),
    "/jaeger/api/v3/services": Endpoint(()),
    "/jaeger/api/v3/operations": Endpoint(("service", "spanKind"), base={"service": "cart"}),
    "/jaeger/api/v3/traces": Endpoint(
        (
            "query.serviceName",
            "query.operationName",
            "query.attributes",
            "query.startTimeMin",
            "query.startTimeMax",
            "query.durationMin",
            "query.durationMax",
            "query.searchDepth",
        ),
        base=JAEGER_V3,
    ),
    "/jaeger/api/v3/traces/{traceId:path}": Endpoint((), ("traceId",)),
    "/jaeger/api/v3/trace-summaries": Endpoint(("query.serviceName",), base=JAEGER_V3),
    "/api/v1/query": Endpoint(("query", "time", "lookback_delta"), base={"query": "queue_depth"}),
    "/api/v1/query_range": Endpoint(
        ("query", "start", "end", "step", "lookback_delta"), base=PROMETHEUS_RANGE
    ),
    "/api/v1/series": Endpoint(
        ("match[]", "start", "end", "limit"), base={"match[]": "queue_depth"}
    ),
    "/api/v1/labels": Endpoint(("match[]", "start", "end", "limit")),
    "/api/v1/label/{label:path}/values": Endpoint(("match[]", "start", "end", "limit"), ("label",)),
    "/api/v1/metadata": Endpoint(("metric", "limit")),
    "/api/v1/query_exemplars": Endpoint(("query", "start", "end"), base={"query": "up"}),
    "/api/v1/format_query": Endpoint(("query",), base={"query": "up"}),
    "/api/v1/status/buildinfo": Endpoint(()),
    "/api/v1/rules": Endpoint(()),
    "/api/v1/alerts": Endpoint(()),
}
# Path parameters, when not the one under test.
PATH_DEFAULTS = {
    "traceId": "a1" * 16,
    "service": "cart",
    "name": "queue.depth",
    "tag": "http.route",
    "field": "span.http.route",
    "label": "job",
}


@pytest.fixture(scope="module")
def storage() -> Iterator[DuckDBStorage]:
    store = DuckDBStorage(None)
    store.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(storage: DuckDBStorage) -> Iterator[httpx.Client]:
    served = Served(create_app(storage))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            yield http
    finally:
        served.close()


def snapshot(storage: DuckDBStorage) -> dict[str, tuple[int, list[str]]]:
    """Every table with its row count and columns."""
    tables = storage.query(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name"
    ).to_pylist()
    found = {}
    for row in tables:
        name = row["table_name"]
        count = storage.query(f'SELECT count(*) AS n FROM "{name}"').to_pylist()[0]["n"]
        columns = storage.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [name],
        ).to_pylist()
        found[name] = (count, [c["column_name"] for c in columns])
    return found


def test_every_api_route_is_covered() -> None:
    storage = DuckDBStorage(None)
    try:
        app = create_app(storage)
    finally:
        storage.close()
    prefixes = ("/api/", "/jaeger/api/")
    routes = {r.path for r in app.routes if isinstance(r, Route) and r.path.startswith(prefixes)}
    assert routes == set(ENDPOINTS), "add new endpoints and their parameters to ENDPOINTS"


def tries(endpoint: Endpoint) -> Iterator[tuple[str, dict[str, str], list[tuple[str, str]]]]:
    """(path parameters, query) pairs that put each payload in each place once."""
    for payload in PAYLOADS:
        for name in endpoint.path_params:
            yield name, {**PATH_DEFAULTS, name: payload}, list(endpoint.base.items())
        for name in endpoint.params:
            values = [payload]
            if name == "attr":
                values = [f"{payload}={payload}", f"{payload}=x", f"http.route={payload}"]
            for value in values:
                yield name, PATH_DEFAULTS, [*{**endpoint.base, name: value}.items()]
        # Parameter names are data too.
        yield "name", PATH_DEFAULTS, [*endpoint.base.items(), (payload, "1")]


@pytest.mark.parametrize("route", list(ENDPOINTS))
def test_injection_through_every_parameter(
    client: httpx.Client, storage: DuckDBStorage, route: str
) -> None:
    before = snapshot(storage)
    endpoint = ENDPOINTS[route]
    for where, path_values, query in tries(endpoint):
        path = route.replace(":path", "")
        for name, value in path_values.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        response = client.get(path, params=query)
        assert response.status_code in (200, 400, 404), (where, query, response.text)
        if response.status_code != 200:
            error = error_message(response)
            assert "internal error" not in error
        if response.status_code == 404:
            # Only a well-formed trace id that is not stored is "not found" (and a Jaeger
            # v3 search that finds nothing, as Jaeger answers it, and an SLO name: this
            # store holds none).
            found_nothing = route == "/jaeger/api/v3/traces" or route.startswith("/api/slos/")
            assert found_nothing or ("/traces/" in route and where == "traceId"), (
                path,
                response.text,
            )
    assert snapshot(storage) == before


def error_message(response: httpx.Response) -> str:
    """The message of an error in the shape of the API that answered."""
    if response.headers["content-type"].startswith("text/plain"):
        return response.text  # Tempo's routes, as Tempo answers
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0]["msg"])  # Jaeger v1's envelope
    error = body["error"]
    return str(error["message"] if isinstance(error, dict) else error)  # Jaeger v3; otelite


@pytest.mark.parametrize(
    ("path", "params", "key"),
    [
        ("/api/search/traces", {"service": "' OR '1'='1"}, "traces"),
        ("/api/search/traces", {"name": "x' OR 1=1 --"}, "traces"),
        ("/api/search/traces", {"attr": "' OR '1'='1=' OR '1'='1"}, "traces"),
        ("/api/search/logs", {"service": "' OR '1'='1"}, "logs"),
        ("/api/search/logs", {"text": "' OR '1'='1"}, "logs"),
        ("/api/search/logs", {"attr": "user=' OR '1'='1"}, "logs"),
        ("/api/metrics", {"service": "' OR '1'='1"}, "metrics"),
        ("/api/services/x' OR '1'='1/operations", {}, "operations"),
        ("/api/metrics/x' OR '1'='1/series", {}, "series"),
    ],
)
def test_spliced_conditions_match_nothing(
    client: httpx.Client, path: str, params: dict[str, str], key: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 200
    assert response.json()[key] == []


MARK = "M4RK'\"; DROP TABLE otel_traces; --"


def compiled_plans() -> Iterator[Plan]:
    """A plan of each kind the API makes, with the marker in every user-given text."""
    time = TimeRange(1, 2)
    attributes = ((MARK, MARK),)
    span = SpanFilter(service=MARK, name=MARK, attributes=attributes)
    yield trace_search_plan(span, time, 10)
    yield service_summary_plan(time)
    yield operation_summary_plan(MARK, time)
    log = LogFilter(service=MARK, text=MARK, attributes=attributes)
    yield log_search_plan(log, time, 10)
    for signal in Signal:
        yield count_plan(signal, time)
    for table in Table.metrics():
        yield metric_catalog_plan(table, MARK, time)
        yield metric_points_plan(
            table, MARK, service=MARK, attributes=attributes, time=time, limit=10
        )


def test_user_text_reaches_sql_only_as_bound_parameters() -> None:
    for plan in compiled_plans():
        statement = compile_plan(plan, DuckDBDialect())
        assert "M4RK" not in statement.sql, statement.sql
        assert all(isinstance(value, str | bytes | int | float) for value in statement.params), (
            statement.params
        )
    assert any(MARK in compile_plan(p, DuckDBDialect()).params for p in compiled_plans())
