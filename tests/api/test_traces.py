from __future__ import annotations

import httpx
import pytest

from otelite.api import create_app
from otelite.otlp import request_from_json
from otelite.storage import Storage, WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import ExportTraceServiceRequest, Signal

from .samples import INJECTION, MS, SHORT_TRACE, T0, TRACE_A, TRACE_B, traces
from .served import Served

WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 10 * 10**9)}


def test_trace_v1_is_tempo_batches_of_otlp_json(client: httpx.Client, storage: Storage) -> None:
    response = client.get(f"/api/traces/{TRACE_A.hex()}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    batches = response.json()["batches"]
    assert batches[0]["scopeSpans"][0]["spans"][0]["traceId"] == TRACE_A.hex()
    decoded = request_from_json(Signal.TRACES, {"resourceSpans": batches})
    assert decoded == storage.get_trace(TRACE_A)


def test_trace_v2_wraps_resource_spans(client: httpx.Client, storage: Storage) -> None:
    body = client.get(f"/api/v2/traces/{TRACE_B.hex().upper()}").json()
    assert set(body) == {"trace"}
    decoded = request_from_json(Signal.TRACES, body["trace"])
    assert decoded == storage.get_trace(TRACE_B)


def test_trace_protobuf(client: httpx.Client, storage: Storage) -> None:
    headers = {"Accept": "application/protobuf"}
    v1 = client.get(f"/api/traces/{TRACE_A.hex()}", headers=headers)
    assert v1.headers["content-type"] == "application/protobuf"
    assert ExportTraceServiceRequest.FromString(v1.content) == storage.get_trace(TRACE_A)
    v2 = client.get(f"/api/v2/traces/{TRACE_A.hex()}", headers=headers).content
    # TraceByIDResponse: field 1 (length-delimited) holds the v1 body.
    assert v2[0] == 0x0A
    length, offset = 0, 1
    for shift in range(0, 64, 7):
        byte = v2[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
    assert v2[offset:] == v1.content and length == len(v1.content)


def test_short_trace_ids_are_left_padded(client: httpx.Client) -> None:
    body = client.get("/api/traces/abc").json()
    assert body["batches"][0]["scopeSpans"][0]["spans"][0]["traceId"] == SHORT_TRACE.hex()


@pytest.mark.parametrize(
    ("trace_id", "status", "message"),
    [
        ("ff" * 16, 404, "not found"),
        ("xyz", 400, "hex"),
        ("a" * 33, 400, "1 to 32 hex characters"),
        ("0" * 32, 400, "all-zero"),
        ("%20", 400, "1 to 32"),
    ],
)
def test_bad_or_unknown_trace_ids(
    client: httpx.Client, trace_id: str, status: int, message: str
) -> None:
    for version in ("", "/v2"):
        response = client.get(f"/api{version}/traces/{trace_id}")
        assert response.status_code == status
        assert message in response.json()["error"]


def search(client: httpx.Client, **params: str | list[str]) -> list[dict[str, object]]:
    response = client.get("/api/search/traces", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    traces: list[dict[str, object]] = response.json()["traces"]
    return traces


def test_search_summarises_traces_newest_first(client: httpx.Client) -> None:
    traces = search(client)
    assert [t["traceId"] for t in traces] == [SHORT_TRACE.hex(), TRACE_B.hex(), TRACE_A.hex()]
    assert traces[2] == {
        "traceId": TRACE_A.hex(),
        "rootServiceName": "frontend",
        "rootSpanName": "GET /cart",
        "startTimeUnixNano": str(T0),
        "durationMs": 100.0,
        "spanCount": 2,
        "errorCount": 1,
        "services": ["cart", "frontend"],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": "cart", "status": "error"}, [TRACE_A]),
        ({"service": "frontend", "status": "error"}, []),
        ({"status": "unset", "name": "cart.get"}, [TRACE_B]),
        ({"minDuration": "90ms"}, [TRACE_B, TRACE_A]),
        ({"minDuration": "90ms", "maxDuration": "0.2s"}, [TRACE_A]),
        ({"attr": "http.status_code=500"}, [TRACE_A]),
        ({"attr": ["http.route=/cart", "http.status_code=200"]}, []),
        ({"attr": "host.name=h1"}, [TRACE_B, TRACE_A]),
        ({"attr": f"{INJECTION}={INJECTION}"}, [TRACE_B]),
        ({"limit": "1"}, [SHORT_TRACE]),
        ({"start": str(T0 + 500 * MS)}, [SHORT_TRACE, TRACE_B]),
    ],
)
def test_search_filters(
    client: httpx.Client, params: dict[str, str], expected: list[bytes]
) -> None:
    assert [t["traceId"] for t in search(client, **params)] == [e.hex() for e in expected]


def test_search_defaults_to_the_last_hour(client: httpx.Client) -> None:
    assert len(client.get("/api/search/traces").json()["traces"]) == 3
    old = {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}
    assert client.get("/api/search/traces", params=old).json() == {"traces": []}


def test_services_and_operations(client: httpx.Client) -> None:
    services = client.get("/api/services", params=WINDOW).json()
    assert services == {
        "services": [
            {"name": "cart", "spanCount": 3, "errorCount": 1},
            {"name": "frontend", "spanCount": 2, "errorCount": 0},
        ]
    }
    operations = client.get("/api/services/cart/operations", params=WINDOW).json()["operations"]
    assert [(o["name"], o["spanKind"], o["spanCount"], o["errorCount"]) for o in operations] == [
        ("cart.get", 0, 2, 1),
        ("cart.sweep", 0, 1, 0),
    ]
    assert operations[0]["p50Ms"] == 50.0
    assert 20.0 < operations[0]["p95Ms"] < operations[0]["p99Ms"] < 80.0
    nobody = client.get(f"/api/services/{INJECTION}/operations", params=WINDOW)
    assert nobody.json() == {"operations": []}


def test_names_with_slashes_reach_their_routes() -> None:
    # Service and metric names may contain "/": clients send it as %2F, which arrives decoded.
    store = DuckDBStorage(None)
    request = traces()
    request.resource_spans[1].resource.attributes[0].value.string_value = "team/cart"
    store.write(WriteBatch(traces=[request]))
    served = Served(create_app(store))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            response = http.get("/api/services/team%2Fcart/operations", params=WINDOW)
            series = http.get("/api/metrics/no%2Fsuch/series", params=WINDOW)
    finally:
        served.close()
        store.close()
    assert response.status_code == 200
    assert [o["name"] for o in response.json()["operations"]] == ["cart.get", "cart.sweep"]
    assert series.status_code == 200
    assert series.json()["series"] == []
