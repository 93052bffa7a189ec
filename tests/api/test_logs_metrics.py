from __future__ import annotations

from typing import Any

import httpx
import pytest

from otelite.otlp import decode_request_json
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal

from .samples import MS, T0, TRACE_A

WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 10 * 10**9)}


def search_logs(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/search/logs", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["logs"]
    return found


def test_log_records_newest_first_as_otlp_json(client: httpx.Client) -> None:
    records = search_logs(client)
    assert [r["severityText"] for r in records] == ["WARN", "ERROR", "INFO"]
    warn, error, info = records
    assert info == {
        "timeUnixNano": str(T0 + 5 * MS),
        "observedTimeUnixNano": str(T0 + 6 * MS),
        "severityNumber": 9,
        "severityText": "INFO",
        "body": {"stringValue": "cart loaded"},
        "serviceName": "cart",
        "traceId": TRACE_A.hex(),
        "spanId": (2).to_bytes(8, "big").hex(),
        "attributes": [{"key": "user", "value": {"stringValue": "alice"}}],
        "eventName": "",
    }
    # No time of its own: "0", as in OTLP; sorted by its observed time.
    assert (error["timeUnixNano"], error["observedTimeUnixNano"]) == ("0", str(T0 + 15 * MS))
    assert error["body"] == {
        "kvlistValue": {"values": [{"key": "reason", "value": {"stringValue": "Timeout FAILED"}}]}
    }
    assert error["attributes"] == [{"key": "attempt", "value": {"intValue": "3"}}]
    assert error["eventName"] == "cart.failed"
    assert (warn["body"], warn["traceId"], warn["spanId"]) == ({}, "", "")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"severity": "warn"}, ["WARN", "ERROR"]),
        ({"severity": "17"}, ["ERROR"]),
        ({"text": "timeout failed"}, ["ERROR"]),
        ({"traceId": TRACE_A.hex()}, ["ERROR", "INFO"]),
        ({"attr": "attempt=3"}, ["ERROR"]),
        ({"attr": "service.name=cart", "limit": "2"}, ["WARN", "ERROR"]),
        ({"service": "frontend"}, []),
    ],
)
def test_log_filters(client: httpx.Client, params: dict[str, str], expected: list[str]) -> None:
    assert [r["severityText"] for r in search_logs(client, **params)] == expected


def test_metric_catalog(client: httpx.Client) -> None:
    body = client.get("/api/metrics", params=WINDOW).json()
    assert [(m["name"], m["type"], m["unit"], m["seriesCount"]) for m in body["metrics"]] == [
        ("latency", "histogram", "ms", 1),
        ("queue.depth", "gauge", "{items}", 2),
        ("requests", "sum", "1", 1),
        ("rtt", "summary", "s", 1),
        ("size", "exponential_histogram", "By", 1),
    ]
    assert body["metrics"][1]["description"] == "items waiting"
    assert client.get("/api/metrics", params={**WINDOW, "service": "nope"}).json() == {
        "metrics": []
    }


def series(client: httpx.Client, name: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/metrics/{name}/series", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["series"]
    return found


def test_gauge_series(client: httpx.Client) -> None:
    found = series(client, "queue.depth")
    assert sorted(s["attributes"]["queue"] for s in found) == ["a", "b"]
    assert all(s["resource"] == {"service.name": "cart", "host.name": "box-1"} for s in found)
    assert [p["value"] for p in found[0]["points"]] == [1.0, 2.0]
    assert found[0]["points"][0]["timeUnixNano"] == str(T0 + 10**9)
    only_b = series(client, "queue.depth", attr="queue=b", service="cart")
    assert [s["attributes"] for s in only_b] == [{"queue": "b"}]


def test_series_of_every_type(client: httpx.Client) -> None:
    [requests] = series(client, "requests")
    assert requests["type"] == "sum"
    assert requests["attributes"] == {"code": 200}
    assert requests["points"][0]["value"] == 7
    [latency] = series(client, "latency")
    point = latency["points"][0]
    assert (point["count"], point["sum"], point["min"], point["max"]) == (3, 12.5, 1.0, 9.0)
    assert (point["bucketCounts"], point["explicitBounds"]) == ([1, 2], [5.0])
    [size] = series(client, "size")
    point = size["points"][0]
    assert (point["scale"], point["zeroCount"], point["positive"]) == (
        1,
        1,
        {"offset": 2, "bucketCounts": [1, 2]},
    )
    [rtt] = series(client, "rtt")
    assert rtt["points"][0]["quantileValues"] == [{"quantile": 0.5, "value": 1.5}]
    assert series(client, "no.such.metric") == []


def test_export_streams_otlp_json_lines(client: httpx.Client, storage: DuckDBStorage) -> None:
    for signal, expected in ((Signal.TRACES, 5), (Signal.LOGS, 3), (Signal.METRICS, 8)):
        response = client.get("/api/export", params={"signal": signal.value})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = response.content.splitlines()
        requests = [decode_request_json(signal, line) for line in lines]
        assert sum(_items(signal, r) for r in requests) == expected
    later = {"signal": "traces", "start": str(T0 + 1500 * MS)}
    lines = client.get("/api/export", params=later).content.splitlines()
    assert sum(_items(Signal.TRACES, decode_request_json(Signal.TRACES, x)) for x in lines) == 1


def _items(signal: Signal, request: Any) -> int:
    if signal is Signal.TRACES:
        return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    if signal is Signal.LOGS:
        return sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
    total = 0
    for r in request.resource_metrics:
        for s in r.scope_metrics:
            for m in s.metrics:
                total += len(getattr(m, m.WhichOneof("data")).data_points)
    return total
