"""Metric queries through the Loki API on a real server over each backend, called as
Grafana's Loki data source calls them (QUERY-API-NOTES §8: the health check, the log
volume query with ``step`` in ms, ns times, instant queries), with the answers worked out
by hand from ``tests.logql.metric_records``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store
from tests.logql import metric_records
from tests.logql.metric_records import M0, S

from .served import Served

CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
T = M0 // S  # M0 in seconds, as Loki writes step times


@pytest.fixture(scope="module", params=BACKENDS)
def loki(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[metric_records.request()]))
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=f"{served.url}/loki/api/v1", timeout=30) as http:
                yield http
        finally:
            served.close()


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert "summary" in body["data"]["stats"]
    return body["data"]


def test_grafana_health_check(loki: httpx.Client) -> None:
    response = loki.get("/query", params={"query": "vector(1)+vector(1)", "time": "4000000000"})
    data = _data(response)
    assert data["resultType"] == "vector"
    assert data["result"] == [{"metric": {}, "value": [4000000000, "2"]}]


def test_grafana_log_volume(loki: httpx.Client) -> None:
    # Windows of a minute ending at M0 + 60 s and M0 + 120 s hold api records 0-8 and
    # 9-17: levels info, info, warn, error in turn.
    query = (
        'sum by (level, detected_level) (count_over_time({service_name="api"} | drop __error__'
        "[1m]))"
    )
    params = {
        "query": query,
        "start": str(M0),
        "end": str(M0 + 140 * S),
        "step": "60000ms",
        "direction": "backward",
        "limit": "1000",
    }
    headers = {**CATEGORIZE, "X-Query-Tags": "Source=logvolhist"}
    data = _data(loki.get("/query_range", params=params, headers=headers))
    assert data["resultType"] == "matrix"
    at = [T + 60, T + 120]
    assert data["result"] == [
        {"metric": {"detected_level": "error"}, "values": [[at[0], "2"], [at[1], "2"]]},
        {"metric": {"detected_level": "info"}, "values": [[at[0], "5"], [at[1], "5"]]},
        {"metric": {"detected_level": "warn"}, "values": [[at[0], "2"], [at[1], "2"]]},
    ]


def test_metric_query_range_with_ns_times(loki: httpx.Client) -> None:
    # db writes at M0 + 1, 14, 27, ..., 118 s.
    params = {
        "query": 'count_over_time({service_name="db"}[1m])',
        "start": str(M0 + 60 * S),
        "end": str(M0 + 120 * S),
        "step": "30000ms",
    }
    data = _data(loki.get("/query_range", params=params))
    labels = {
        "detected_level": "error",
        "service_name": "db",
        "severity_number": "17",
        "severity_text": "ERROR",
    }
    values = [[T + 60, "5"], [T + 90, "4"], [T + 120, "5"]]
    assert data["result"] == [{"metric": labels, "values": values}]


def test_step_times_keep_their_milliseconds(loki: httpx.Client) -> None:
    params = {
        "query": 'rate({service_name="db"}[2s])',
        "start": str(M0 + 14 * S + 500_000_000),
        "end": str(M0 + 15 * S),
        "step": "1",
    }
    result = _data(loki.get("/query_range", params=params))["result"]
    assert [point[0] for point in result[0]["values"]] == [T + 14.5]
    assert result[0]["values"][0][1] == "0.5"


def test_instant_queries(loki: httpx.Client) -> None:
    at = str(M0 + 150 * S)
    by_level = 'sum by (detected_level) (count_over_time({service_name=~"api|db"}[3m]))'
    data = _data(loki.get("/query", params={"query": by_level, "time": at}))
    assert data["resultType"] == "vector"
    assert data["result"] == [
        {"metric": {"detected_level": "error"}, "value": [T + 150, "15"]},
        {"metric": {"detected_level": "info"}, "value": [T + 150, "10"]},
        {"metric": {"detected_level": "warn"}, "value": [T + 150, "5"]},
    ]
    ordered = _data(loki.get("/query", params={"query": f"sort({by_level})", "time": at}))
    assert [r["metric"]["detected_level"] for r in ordered["result"]] == ["warn", "info", "error"]
    scalar = _data(loki.get("/query", params={"query": "2 * 3", "time": at}))
    assert scalar["resultType"] == "scalar" and scalar["result"] == [T + 150, "6"]


def test_a_number_over_a_range_is_one_series(loki: httpx.Client) -> None:
    params = {"query": "4", "start": str(M0), "end": str(M0 + 20 * S), "step": "10s"}
    data = _data(loki.get("/query_range", params=params))
    values = [[T, "4"], [T + 10, "4"], [T + 20, "4"]]
    assert data["result"] == [{"metric": {}, "values": values}]


def test_metric_query_errors(loki: httpx.Client) -> None:
    params = {
        "query": 'sum_over_time({service_name="bad"} | logfmt | unwrap duration(latency) [1m])',
        "start": str(M0),
        "end": str(M0 + 60 * S),
    }
    response = loki.get("/query_range", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("pipeline error: 'SampleExtractionErr'")
