"""Loki's index endpoints on a real server over each backend, called as Grafana's Loki
data source (``index/stats``, ns times) and Logs Drilldown (``index/volume`` with RFC 3339
times, ``index/volume_range`` with a step) call them, with the answers worked out by hand
from ``tests.logql.loki_records`` (lines' sizes are their UTF-8 lengths)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store
from tests.logql import loki_records
from tests.logql.loki_records import END, LINES, START, T0

from . import loki_late_records
from .loki_late_records import LATE
from .served import Served

WINDOW = {"start": str(START), "end": str(END)}
# Logs Drilldown sends RFC 3339 times: START and END.
DRILLDOWN = {"start": "2025-06-15T15:06:40.000Z", "end": "2025-06-15T15:06:50.000Z"}
ALL_SERVICES = '{service_name=~".+"}'
CHECKOUT, PAYMENTS, WORKER, SHOP = (1, 2, 3, 4, 5, 6), (7, 8, 11), (9,), (10,)


def size(*records: int) -> int:
    """Bytes of the records' lines (record 8's body is a map, stored as its JSON text,
    which has the length of the line written in ``LINES``)."""
    return sum(len(LINES[n][1].encode()) for n in records)


@pytest.fixture(scope="module", params=BACKENDS)
def index_client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[loki_records.request(), loki_late_records.request()]))
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=f"{served.url}/loki/api/v1", timeout=30) as http:
                yield http
        finally:
            served.close()


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_stats_as_grafana_asks(index_client: httpx.Client) -> None:
    # Grafana's query-size hint: the selector of the query, ns times, no envelope.
    found = _json(index_client.get("/index/stats", params={"query": ALL_SERVICES, **WINDOW}))
    everything = CHECKOUT + PAYMENTS + WORKER + SHOP
    assert found == {"streams": 4, "chunks": 4, "entries": 11, "bytes": size(*everything)}
    one = index_client.get("/index/stats", params={"query": '{service_name="checkout"}', **WINDOW})
    assert _json(one) == {"streams": 1, "chunks": 1, "entries": 6, "bytes": size(*CHECKOUT)}
    none = index_client.get("/index/stats", params={"query": '{service_name="none"}', **WINDOW})
    assert _json(none) == {"streams": 0, "chunks": 0, "entries": 0, "bytes": 0}


def test_stats_estimates_a_chunk_per_stream_and_two_hours(index_client: httpx.Client) -> None:
    # The two lines are two hours apart: windows 2h long, aligned on the epoch, hold one each.
    found = _json(
        index_client.get("/index/stats", params={"query": '{service_name="late"}', **LATE})
    )
    assert found == {"streams": 1, "chunks": 2, "entries": 2, "bytes": len("first" + "second")}


def test_volume_as_logs_drilldown_asks(index_client: httpx.Client) -> None:
    response = index_client.get(
        "/index/volume",
        params={"query": ALL_SERVICES, **DRILLDOWN, "limit": "5000"},
        headers={"X-Query-Tags": "Source=grafana-lokiexplore-app"},
    )
    at = END / 1e9
    assert _json(response) == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"service_name": "checkout"}, "value": [at, str(size(*CHECKOUT))]},
                {"metric": {"service_name": "payments"}, "value": [at, str(size(*PAYMENTS))]},
                {"metric": {"service_name": "shop"}, "value": [at, str(size(*SHOP))]},
                {"metric": {"service_name": "worker"}, "value": [at, str(size(*WORKER))]},
            ],
        },
    }


def _vector(response: httpx.Response) -> list[tuple[dict[str, str], int]]:
    data = _json(response)["data"]
    assert data["resultType"] == "vector"
    return [(item["metric"], int(item["value"][1])) for item in data["result"]]


def test_volume_of_every_stream(index_client: httpx.Client) -> None:
    found = index_client.get("/index/volume", params={"query": "{}", **WINDOW})
    assert _vector(found) == [
        ({"k8s_pod_name": "checkout-1", "service_name": "checkout"}, size(*CHECKOUT)),
        ({"deployment_environment_name": "prod", "service_name": "payments"}, size(*PAYMENTS)),
        ({"app": "shop", "env": "prod", "service_name": "shop"}, size(*SHOP)),
        ({"k8s_container_name": "worker", "service_name": "worker"}, size(*WORKER)),
    ]


def test_volume_by_label(index_client: httpx.Client) -> None:
    by_label = {"query": ALL_SERVICES, "aggregateBy": "labels", **WINDOW}
    found = index_client.get("/index/volume", params=by_label)
    assert _vector(found) == [
        ({"service_name": ""}, size(*CHECKOUT, *PAYMENTS, *WORKER, *SHOP)),
        ({"k8s_pod_name": ""}, size(*CHECKOUT)),
        ({"deployment_environment_name": ""}, size(*PAYMENTS)),
        # Equal volumes: by name.
        ({"app": ""}, size(*SHOP)),
        ({"env": ""}, size(*SHOP)),
        ({"k8s_container_name": ""}, size(*WORKER)),
    ]
    targeted = index_client.get("/index/volume", params={**by_label, "targetLabels": "env"})
    assert _vector(targeted) == [({"env": ""}, size(*SHOP))]


def test_volume_by_target_labels_and_limit(index_client: httpx.Client) -> None:
    # Streams without a target label are left out; the others add up by its values.
    targeted = {"query": ALL_SERVICES, "targetLabels": "env,app", **WINDOW}
    found = index_client.get("/index/volume", params=targeted)
    assert _vector(found) == [({"app": "shop", "env": "prod"}, size(*SHOP))]
    top = index_client.get("/index/volume", params={"query": ALL_SERVICES, "limit": "2", **WINDOW})
    assert [labels["service_name"] for labels, _ in _vector(top)] == ["checkout", "payments"]
    # The selector's labels only, not the whole stream's.
    narrowed = {"query": '{service_name="payments", deployment_environment_name!="dev"}'}
    assert _vector(index_client.get("/index/volume", params={**narrowed, **WINDOW})) == [
        ({"deployment_environment_name": "prod", "service_name": "payments"}, size(*PAYMENTS))
    ]


def test_volume_range_per_step(index_client: httpx.Client) -> None:
    response = index_client.get(
        "/index/volume_range", params={"query": ALL_SERVICES, "step": "2000ms", **WINDOW}
    )
    data = _json(response)["data"]
    assert data["resultType"] == "matrix"

    def at(seconds: int) -> float:
        # A step's volume is stamped 1 ms before the next step starts.
        return (T0 + seconds * 10**9 - 10**6) // 10**6 / 1000

    assert data["result"] == [
        # Ordered by the first sample: payments' (record 7) is larger than checkout's (1).
        {
            "metric": {"service_name": "payments"},
            "values": [[at(2), str(size(7))], [at(4), str(size(8))], [at(6), str(size(11))]],
        },
        {
            "metric": {"service_name": "checkout"},
            "values": [
                [at(2), str(size(1))],
                [at(4), str(size(2, 3))],
                [at(6), str(size(4, 5))],
                [at(8), str(size(6))],
            ],
        },
        {"metric": {"service_name": "shop"}, "values": [[at(6), str(size(10))]]},
        {"metric": {"service_name": "worker"}, "values": [[at(4), str(size(9))]]},
    ]


def test_volume_range_with_one_step_is_a_vector(index_client: httpx.Client) -> None:
    # As Loki answers: a vector whenever no series has two samples.
    response = index_client.get(
        "/index/volume_range", params={"query": '{app="shop"}', "step": "10s", **WINDOW}
    )
    assert _vector(response) == [({"app": "shop"}, size(*SHOP))]


@pytest.mark.parametrize(
    ("path", "params", "text"),
    [
        ("/index/stats", {"query": "{}"}, "queries require at least one regexp or equality"),
        ("/index/stats", {"query": '{app="shop"} |= "x"'}, "only label matchers"),
        ("/index/volume", {}, "parse error"),
        ("/index/volume", {"query": ALL_SERVICES, "aggregateBy": "x"}, "invalid aggregation"),
        ("/index/volume", {"query": ALL_SERVICES, "limit": "-1"}, "limit must be a positive"),
        ("/index/volume_range", {"query": ALL_SERVICES, "step": "0"}, "zero or negative"),
        ("/index/volume", {"query": ALL_SERVICES, "start": "x"}, "could not parse 'start'"),
    ],
)
def test_errors_in_plain_text(
    index_client: httpx.Client, path: str, params: dict[str, str], text: str
) -> None:
    response = index_client.get(path, params={**WINDOW, **params})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert text in response.text
