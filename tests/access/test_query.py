"""The query API with a bearer token: every route needs it, except the health probes."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from otelite.api import SelfMetrics, create_app
from otelite.storage.duckdb import DuckDBStorage

from .support import INGEST_TOKEN, QUERY_TOKEN, Running

V3_WINDOW = "query.startTimeMin=2000-01-01T00:00:00Z&query.startTimeMax=2100-01-01T00:00:00Z"
# A concrete path for each route of the query API (path parameters filled in).
SAMPLE_PATHS = {
    "/api/traces/{traceId}": "/api/traces/" + "ab" * 16,
    "/api/v2/traces/{traceId}": "/api/v2/traces/" + "ab" * 16,
    "/api/traces/{traceId}/critical-path": "/api/traces/" + "ab" * 16 + "/critical-path",
    "/api/compare/traces": f"/api/compare/traces?a={'ab' * 16}&b={'ab' * 16}",
    "/api/compare": "/api/compare?selection=%7B%7D",
    "/api/slos/{name}": "/api/slos/checkout-availability",
    "/api/slos/{name}/status": "/api/slos/checkout-availability/status",
    "/api/slos/{name}/history": "/api/slos/checkout-availability/history",
    "/api/services/{service:path}/operations": "/api/services/cart/operations",
    "/api/metrics/{name:path}/series": "/api/metrics/queue.depth/series",
    "/api/export": "/api/export?signal=logs",
    "/api/count": "/api/count?signal=logs",
    "/jaeger/api/services/{service:path}/operations": "/jaeger/api/services/cart/operations",
    "/jaeger/api/operations": "/jaeger/api/operations?service=cart",
    "/jaeger/api/traces": "/jaeger/api/traces?service=cart",
    "/jaeger/api/traces/{traceId:path}": "/jaeger/api/traces/" + "ab" * 16,
    "/jaeger/api/v3/traces": f"/jaeger/api/v3/traces?{V3_WINDOW}",
    "/jaeger/api/v3/traces/{traceId:path}": "/jaeger/api/v3/traces/" + "ab" * 16,
    "/jaeger/api/v3/trace-summaries": f"/jaeger/api/v3/trace-summaries?{V3_WINDOW}",
    "/api/search/tag/{tag:path}/values": "/api/search/tag/service.name/values",
    "/api/v2/search/tag/{field:path}/values": "/api/v2/search/tag/resource.service.name/values",
    "/api/metrics/query_range": "/api/metrics/query_range?q=%7B%7D%7Crate()",
    "/api/metrics/query": "/api/metrics/query?q=%7B%7D%7Crate()",
    "/api/v1/query": "/api/v1/query?query=up",
    "/api/v1/query_range": "/api/v1/query_range?query=up&start=0&end=60&step=15",
    "/api/v1/series": "/api/v1/series?match%5B%5D=up",
    "/api/v1/label/{label:path}/values": "/api/v1/label/job/values",
    "/api/v1/query_exemplars": "/api/v1/query_exemplars?query=up",
    "/api/v1/format_query": "/api/v1/format_query?query=up",
}


def api_paths() -> list[str]:
    storage = DuckDBStorage(None)
    try:
        app = create_app(storage, self_metrics=SelfMetrics(list))
    finally:
        storage.close()
    paths = [route.path for route in app.routes if isinstance(route, Route)]
    served = [
        path for path in paths if path.startswith(("/api/", "/jaeger/api/")) or path == "/metrics"
    ]
    # /metrics twice: otelite's own metrics, and the web UI's page for browsers.
    return list(dict.fromkeys(SAMPLE_PATHS.get(path, path) for path in served))


@pytest.mark.parametrize("path", api_paths())
def test_every_api_route_needs_the_query_token(guarded: Running, path: str) -> None:
    with guarded.api_client(token=None) as anonymous:
        refused = anonymous.get(path)
        wrong = anonymous.get(path, headers={"Authorization": "Bearer no-such-token"})
        ingest = anonymous.get(path, headers={"Authorization": f"Bearer {INGEST_TOKEN}"})
    with guarded.api_client(token=QUERY_TOKEN) as api:
        allowed = api.get(path)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="otelite"'
    assert refused.json() == {
        "error": "authentication required: send the header 'Authorization: Bearer <token>'"
    }
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="otelite", error="invalid_token"'
    assert wrong.json() == {"error": "the bearer token is not valid"}
    # A known token without the right: told so, and no challenge to authenticate again.
    right = (
        "operator" if path in ("/metrics", "/api/alerts/receivers", "/api/forwarding") else "query"
    )
    assert ingest.status_code == 403
    assert "WWW-Authenticate" not in ingest.headers
    assert ingest.json() == {"error": f"this bearer token does not have the right {right!r}"}
    # 404 for the made-up trace id and SLO name, and for a Jaeger v3 search that finds
    # nothing: past the check, the route answers as usual.
    not_found = "/traces/" in path or path.startswith(
        ("/jaeger/api/v3/traces?", "/api/compare/traces", "/api/slos/")
    )
    assert allowed.status_code == (404 if not_found else 200), allowed.text


def test_metrics_are_a_page_for_browsers_and_guarded_series_for_programs(
    guarded: Running,
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    prometheus = {
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    }
    with guarded.api_client(token=None) as anonymous:
        page = anonymous.get("/metrics", headers=browser)
        refused = anonymous.get("/metrics", headers=prometheus)
    with guarded.api_client(token=QUERY_TOKEN) as api:
        scraped = api.get("/metrics", headers=prometheus)
        plain = api.get("/metrics")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert refused.status_code == 401
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("application/openmetrics-text")
    assert scraped.text.rstrip().endswith("# EOF")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE otelite_records_accepted_total counter" in plain.text


def test_unknown_paths_are_refused_before_routing(guarded: Running) -> None:
    # Without a token nobody learns which paths exist.
    with guarded.api_client(token=None) as anonymous:
        assert anonymous.get("/api/nothing").status_code == 401
    with guarded.api_client() as api:
        assert api.get("/api/nothing").status_code == 404


def test_health_probes_need_no_token(guarded: Running) -> None:
    with guarded.api_client(token=None) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        # Only the exact probe paths are open.
        assert anonymous.get("/healthz/x").status_code == 401
        assert anonymous.get("/readyz/").status_code == 401
