"""``GET /api/service-graph`` on a real server over both backends: its shape, its bad
input, and one meaning of "a request to a service" across the services page, the map's
nodes and a search for a service's requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.analysis.map_traces import (
    END_NS,
    SECONDS,
    START_NS,
    Expected,
    expected_edges,
    expected_nodes,
    export_request,
    make_spans,
)
from tests.backends import BACKENDS, store

from .served import Served

SPANS = make_spans(seed=11, traces=60)
COPIES = SPANS[1::4]
RANGE = {"start": str(START_NS), "end": str(END_NS)}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request(SPANS)]))
        opened.write(WriteBatch(traces=[export_request(COPIES)]))  # sent again
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                yield http
        finally:
            served.close()


def graph(client: httpx.Client, **params: str) -> Any:
    response = client.get("/api/service-graph", params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


def figures(expected: Expected) -> dict[str, Any]:
    return {
        "requestCount": expected.requests,
        "errorCount": expected.errors,
        "ratePerSecond": pytest.approx(expected.requests / SECONDS),
        "errorRate": pytest.approx(expected.errors / expected.requests if expected.requests else 0),
        "p50Ms": None if expected.p50_ms is None else pytest.approx(expected.p50_ms),
        "p95Ms": None if expected.p95_ms is None else pytest.approx(expected.p95_ms),
        "p99Ms": None if expected.p99_ms is None else pytest.approx(expected.p99_ms),
    }


def test_the_map_answers_nodes_and_edges_with_figures(client: httpx.Client) -> None:
    body = graph(client)
    assert body["startUnixMs"] == START_NS // 10**6 and body["endUnixMs"] == END_NS // 10**6
    assert body["truncated"] is False
    assert body["limits"]["maxRangeMs"] == 24 * 3600 * 1000
    nodes = expected_nodes(SPANS, COPIES)
    # Callers left of callees, on the longest chain of calls to each.
    places = {n["id"]: (n.pop("layer"), n.pop("row")) for n in body["nodes"]}
    assert {name: layer for name, (layer, _) in places.items()} == {
        "user": 0,
        "batch": 0,
        "inventory": 0,
        "frontend": 1,
        "checkout": 2,
        "payment": 3,
        "pg.local": 3,
        "shipping": 3,
        "billing": 3,
        "api.pay.example": 4,
    }
    assert len(set(places.values())) == len(places)
    assert sorted(body["nodes"], key=lambda n: n["id"]) == [
        {
            "id": name,
            "kind": kind,
            **figures(expected),
            "requestsQuery": f'{{ resource.service.name = "{name}" && (kind = server'
            " || kind = consumer || nestedSetParent < 0) }"
            if kind == "service"
            else None,
        }
        for name, (kind, expected) in sorted(nodes.items())
    ]
    edges = expected_edges(SPANS)
    assert body["edges"] == [
        {"client": c, "server": s, "connection": k, **figures(Expected.of(edges[c, s, k]))}
        for c, s, k in sorted(edges)
    ]


def test_one_meaning_of_a_request_everywhere(client: httpx.Client) -> None:
    """The services page, the map's service nodes and a search with a node's
    ``requestsQuery`` find the same requests: the counts count each stored copy of a span
    sent twice, the search's span sets hold it once (README.md, "What counts copies")."""
    once = expected_nodes(SPANS)
    page = client.get("/api/ui/services", params=RANGE).json()["services"]
    nodes = {n["id"]: n for n in graph(client)["nodes"] if n["kind"] == "service"}
    assert {s["name"] for s in page} == set(nodes)
    seconds = {"start": str(START_NS // 10**9), "end": str(END_NS // 10**9)}
    for row in page:
        node = nodes[row["name"]]
        for key in ("requestCount", "errorCount", "p50Ms", "p95Ms", "p99Ms", "requestsQuery"):
            assert row[key] == pytest.approx(node[key]), (row["name"], key)
        found = client.get(
            "/api/search",
            params={"q": node["requestsQuery"], "limit": "10000", "spss": "1000", **seconds},
        ).json()["traces"]
        matched = sum(t["spanSet"]["matched"] for t in found)
        assert matched == once[row["name"]][1].requests, row["name"]


def test_a_focus_on_one_service(client: httpx.Client) -> None:
    body = graph(client, service="payment")
    assert {(e["client"], e["server"]) for e in body["edges"]} == {
        ("checkout", "payment"),
        ("payment", "api.pay.example"),
    }
    assert {n["id"] for n in body["nodes"]} == {"checkout", "payment", "api.pay.example"}
    assert graph(client, service="nobody") | {"startUnixMs": 0, "endUnixMs": 0} == {
        "startUnixMs": 0,
        "endUnixMs": 0,
        "truncated": False,
        "limits": body["limits"],
        "nodes": [],
        "edges": [],
    }


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start": "now-25h", "end": "now"}, "start, end: a service map covers at most 24h"),
        ({"start": "yesterday"}, "start"),
        ({"start": "now", "end": "now-1h"}, "start"),
        ({"start": str(START_NS), "end": str(START_NS)}, "end"),
    ],
)
def test_bad_ranges_are_refused_naming_the_field(
    client: httpx.Client, params: dict[str, str], named: str
) -> None:
    response = client.get("/api/service-graph", params=params)
    assert response.status_code == 400
    assert response.json()["error"].startswith(named)
