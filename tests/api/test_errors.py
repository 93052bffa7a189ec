from __future__ import annotations

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import Storage

from .samples import INJECTION
from .served import Served


def test_health(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readiness_reports_the_reason(storage: Storage) -> None:
    state = [(False, "replaying the write-ahead log")]
    served = Served(create_app(storage, readiness=lambda: state[0]))
    try:
        response = httpx.get(served.url + "/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "reason": "replaying the write-ahead log",
        }
        state[0] = (True, "")
        assert httpx.get(served.url + "/readyz").status_code == 200
    finally:
        served.close()


def test_unknown_routes_are_json_404(client: httpx.Client) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "no such endpoint"}
    assert client.post("/api/services").status_code == 405


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/search/traces", {"start": "yesterday"}, "start: expected RFC 3339"),
        ("/api/search/traces", {"end": "99999999999999999999"}, "end: outside"),
        ("/api/search/traces", {"start": "now", "end": "now-1h"}, "start: must not be after end"),
        ("/api/search/traces", {"limit": "0"}, "limit: expected an integer from 1 to 1000"),
        ("/api/search/traces", {"limit": "many"}, "limit: expected an integer"),
        ("/api/search/traces", {"limit": "100000"}, "limit: expected an integer"),
        ("/api/search/traces", {"minDuration": "fast"}, "minDuration: expected a duration"),
        ("/api/search/traces", {"status": "broken"}, "status: expected unset|ok|error"),
        ("/api/search/traces", {"attr": "novalue"}, "attr: expected key=value"),
        ("/api/search/traces", {"attr": "=v"}, "attr: expected key=value"),
        ("/api/search/traces", {"service": "x" * 5000}, "service: longer than"),
        ("/api/search/logs", {"severity": "LOUD"}, "severity: expected a severity"),
        ("/api/search/logs", {"traceId": "nothex"}, "traceId: expected hex"),
        ("/api/search/logs", {"limit": "5001"}, "limit: expected an integer from 1 to 5000"),
        ("/api/metrics/x/series", {"limit": "-1"}, "limit"),
        ("/api/export", {}, "signal: expected traces, metrics or logs"),
        ("/api/export", {"signal": "profiles"}, "signal: expected"),
        ("/api/export", {"signal": "logs", "end": "soon"}, "end: expected"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


PARAMETERS = ["service", "name", "text", "traceId", "severity", "status", "start", "end", "limit"]
# What each endpoint reads (otelite.api's table of endpoints); parameters it does not read
# are ignored. Free text (service, name, text) matches as data; the others must parse.
READS = {
    "/api/search/traces": {"service", "name", "status", "start", "end", "limit"},
    "/api/search/logs": {"service", "severity", "text", "traceId", "start", "end", "limit"},
    "/api/services": {"start", "end"},
    "/api/metrics": {"service", "start", "end"},
    "/api/metrics/queue.depth/series": {"service", "start", "end", "limit"},
}
PARSED = {"traceId", "severity", "status", "start", "end", "limit"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/search/traces",
        "/api/search/logs",
        "/api/services",
        "/api/metrics",
        "/api/metrics/queue.depth/series",
    ],
)
def test_injection_through_every_parameter(
    client: httpx.Client, storage: Storage, path: str
) -> None:
    tries = [(name, INJECTION) for name in PARAMETERS] + [
        ("attr", f"{INJECTION}={INJECTION}"),
        ("attr", f"k={INJECTION}"),
    ]
    for name, value in tries:
        response = client.get(path, params={name: value})
        # An attribute's key and value are data wherever attr is read.
        refused = name in READS[path] & PARSED
        assert response.status_code == (400 if refused else 200), (name, response.text)
        if refused:
            assert response.json()["error"].startswith(f"{name}: ")
    assert storage.query("SELECT count(*) AS n FROM otel_traces").to_pylist() == [{"n": 5}]


def test_injection_through_path_segments(client: httpx.Client, storage: Storage) -> None:
    assert client.get(f"/api/services/{INJECTION}/operations").json() == {"operations": []}
    assert client.get(f"/api/metrics/{INJECTION}/series").json() == {"series": []}
    assert client.get(f"/api/traces/{INJECTION}").status_code == 400
    assert storage.query("SELECT count(*) AS n FROM otel_traces").to_pylist() == [{"n": 5}]
