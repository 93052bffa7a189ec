"""The UI's data endpoints and page routes, on a real server over in-memory DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otelite import __version__
from otelite.api import ServerInfo, create_app
from otelite.config import Access
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.ui import STATIC_DIR
from tests.access.support import Running, make_certificate
from tests.api.samples import INJECTION, T0, logs, metrics, traces
from tests.api.served import Served

WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 10 * 10**9)}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    store = DuckDBStorage(None)
    store.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
    served = Served(create_app(store))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            yield http
    finally:
        served.close()
        store.close()


def test_service_red_counts_entry_spans_with_percentiles(client: httpx.Client) -> None:
    body = client.get("/api/ui/services", params={**WINDOW, "buckets": 11}).json()
    by_name = {s["name"]: s for s in body["services"]}
    assert sorted(by_name) == ["cart", "frontend"]
    frontend = by_name["frontend"]
    # Two server roots of 100 ms and 400 ms; the cart's internal child spans are not requests.
    assert (frontend["requestCount"], frontend["errorCount"]) == (2, 0)
    assert frontend["p50Ms"] == pytest.approx(250.0)
    assert frontend["ratePerSecond"] == pytest.approx(2 / 11)
    assert by_name["cart"]["requestCount"] == 1  # the parentless cart.sweep
    assert body["bucketMs"] == 1000
    trend = frontend["trend"]
    assert [b["requestCount"] for b in trend] == [1, 1]
    assert trend[0]["startUnixMs"] <= T0 // 10**6 < trend[0]["startUnixMs"] + 1000


def test_service_red_for_one_service(client: httpx.Client) -> None:
    body = client.get("/api/ui/services", params={**WINDOW, "service": "cart"}).json()
    assert [s["name"] for s in body["services"]] == ["cart"]


def test_attribute_completions_list_keys_and_values(client: httpx.Client) -> None:
    spans = client.get("/api/ui/attributes", params={**WINDOW, "signal": "spans"}).json()
    keys = {k["key"]: k for k in spans["keys"]}
    assert keys["http.status_code"]["count"] == 2
    assert sorted(keys["http.status_code"]["values"]) == ["200", "500"]
    assert keys[INJECTION]["values"] == [INJECTION]
    assert keys["service.name"]["count"] == 5  # resource attributes too
    logs_ = client.get("/api/ui/attributes", params={**WINDOW, "signal": "logs"}).json()
    assert {k["key"] for k in logs_["keys"]} == {"user", "attempt", "service.name"}


def test_server_info_says_when_it_does_not_know(client: httpx.Client) -> None:
    body = client.get("/api/ui/info").json()
    assert body == {"version": __version__, "otlp": None, "storage": None}


def test_server_info_shows_a_wildcard_bind_as_the_host_asked_and_hides_paths() -> None:
    store = DuckDBStorage(None)
    info = ServerInfo("0.0.0.0", 4318, 4317, data_dir=Path("/srv/private/otelite-data"))
    served = Served(create_app(store, info=lambda: info))
    try:
        response = httpx.get(f"{served.url}/api/ui/info", timeout=10)
    finally:
        served.close()
        store.close()
    assert response.json()["otlp"] == {
        "http": "http://127.0.0.1:4318",
        "grpc": "http://127.0.0.1:4317",
        "tls": False,
    }
    assert response.json()["storage"] == {"mode": "disk", "dataDir": "otelite-data"}
    assert "private" not in response.text


def test_server_info_names_the_ports_bound_for_port_0_and_tls(tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path)
    running = Running(Access(tls_cert=certificate.cert, tls_key=certificate.key))
    try:
        with running.api_client(token=None) as api:
            body = api.get("/api/ui/info").json()
    finally:
        running.close()
    endpoints = running.endpoints
    assert 0 not in (endpoints.otlp_http_port, endpoints.otlp_grpc_port)
    assert body == {
        "version": __version__,
        "otlp": {
            "http": f"https://127.0.0.1:{endpoints.otlp_http_port}",
            "grpc": f"https://127.0.0.1:{endpoints.otlp_grpc_port}",
            "tls": True,
        },
        "storage": {"mode": "memory"},
        "multiTenant": False,
        "tenantRequired": False,
    }


def test_bad_parameters_name_themselves(client: httpx.Client) -> None:
    response = client.get("/api/ui/attributes", params={"signal": "metrics"})
    assert response.status_code == 400
    assert "signal" in response.json()["error"]
    response = client.get("/api/ui/services", params={"buckets": "0"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/", "/traces", "/trace/abc", "/logs", "/services", "/metrics"])
def test_pages_answer_the_single_page_with_a_strict_policy(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/js/main.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]


def test_static_files_are_served_from_the_package(client: httpx.Client) -> None:
    for path in ("/ui/js/main.js", "/ui/js/pages/trace.js", "/ui/vendor/uPlot.esm.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"]
    assert client.get("/ui/../pyproject.toml").status_code == 404
    assert client.get("/api/nope").status_code == 404  # API 404s stay JSON, not the page
    assert client.get("/api/nope").json() == {"error": "no such endpoint"}


def test_no_module_writes_markup() -> None:
    """Telemetry reaches the DOM only as text: no module uses innerHTML and friends."""
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
    for module in (STATIC_DIR / "js").rglob("*.js"):
        text = module.read_text()
        assert [s for s in sinks if s in text] == [], module.name


def test_vendored_libraries_carry_their_licences() -> None:
    vendor = STATIC_DIR / "vendor"
    assert (vendor / "uPlot.LICENSE").read_text().startswith("The MIT License")
