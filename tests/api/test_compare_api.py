"""``/api/compare/traces`` and ``/api/compare`` over HTTP, on both backends.

The store holds the two hand-drawn checkout traces of ``tests.analysis.drawn``; the
expected alignment and shares are worked out by hand from those drawings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from tests.analysis.drawn import ID_A, ID_B, T0, checkout_batch
from tests.backends import BACKENDS, store

from .served import Served

SEC = 10**9
RANGE = {"start": str(T0 // SEC - 60), "end": str(T0 // SEC + 7200)}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(checkout_batch())
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                yield http
        finally:
            served.close()


def get(client: httpx.Client, path: str, **params: str) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def error(client: httpx.Client, path: str, status: int, **params: str) -> str:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    message: str = response.json()["error"]
    return message


def test_two_traces(client: httpx.Client) -> None:
    found = get(client, "/api/compare/traces", a=ID_A, b=ID_B)
    assert found["a"] == {
        "traceId": ID_A,
        "spans": 7,
        "durationNs": 100_000_000,
        "truncated": False,
    }
    assert found["b"] == {
        "traceId": ID_B,
        "spans": 8,
        "durationNs": 200_000_000,
        "truncated": False,
    }
    assert found["summary"] == {"added": 1, "missing": 1, "slower": 3, "faster": 1, "same": 1}
    shown = [
        (
            n["parent"],
            n["depth"],
            n["service"],
            n["operation"],
            n["change"],
            n["added"],
            n["missing"],
        )
        for n in found["nodes"]
    ]
    assert shown == [
        (-1, 0, "frontend", "GET /checkout", "slower", 0, 0),
        (0, 1, "cart", "GetCart", "faster", 0, 0),
        (0, 1, "checkout", "PlaceOrder", "slower", 0, 0),
        (2, 2, "db", "INSERT", "same", 1, 0),
        (2, 2, "payments", "Charge", "slower", 0, 0),
        (4, 3, "provider", "POST", "added", 1, 0),
        (0, 1, "recommend", "List", "missing", 0, 1),
    ]
    charge = found["nodes"][4]
    assert charge["a"] == {"count": 1, "totalNs": 25_000_000, "selfNs": 25_000_000, "errors": 0}
    assert charge["b"] == {"count": 1, "totalNs": 110_000_000, "selfNs": 10_000_000, "errors": 0}
    assert charge["deltaNs"] == 85_000_000
    assert found["nodes"][5]["a"] is None and found["nodes"][6]["b"] is None


def test_trace_ids_are_checked(client: httpx.Client) -> None:
    assert error(client, "/api/compare/traces", 400, a=ID_A).startswith("b: ")
    assert error(client, "/api/compare/traces", 400, a="xyz", b=ID_B).startswith("a: expected hex")
    unknown = "0c" * 16
    assert error(client, "/api/compare/traces", 404, a=ID_A, b=unknown) == (
        f"b: trace {unknown} not found"
    )


def test_errors_against_the_rest(client: httpx.Client) -> None:
    found = get(client, "/api/compare", selection="{ status = error }", limit="4", **RANGE)
    # One error (the provider's POST) against the 14 other spans; no span attributes.
    assert found["selection"] == {"query": "{ status = error }", "spans": 1}
    assert found["baseline"] == {"query": None, "spans": 14}
    five_of_14 = pytest.approx(-5 / 14)
    assert [(v["attribute"], v["value"], v["score"]) for v in found["values"]] == [
        ("name", "POST", 1.0),
        ("resource.service.name", "provider", 1.0),
        ("name", "INSERT", five_of_14),
        ("resource.service.name", "db", five_of_14),
    ]
    assert found["values"][2]["selection"] == {"count": 0, "share": 0.0}
    assert found["values"][2]["baseline"] == {"count": 5, "share": pytest.approx(5 / 14)}
    assert found["cut"] == {"values": [], "attributes": False, "ranked": True}
    assert found["sample"] is None
    assert found["bounds"] == {
        "spans": 200_000,
        "valuesPerAttribute": 100,
        "attributes": 300,
        "ranked": 4,
    }


def test_a_baseline_and_a_window(client: httpx.Client) -> None:
    found = get(
        client,
        "/api/compare",
        selection='{ resource.service.name = "db" }',
        baseline='{ resource.service.name = "payments" }',
        **RANGE,
    )
    assert (found["selection"]["spans"], found["baseline"]["spans"]) == (5, 2)
    # Trace b starts an hour after trace a: the window selects b's spans only.
    window = {"selectionStart": str(T0 // SEC + 1800), "selectionEnd": str(T0 // SEC + 7200)}
    found = get(client, "/api/compare", selection="{ }", **window, **RANGE)
    assert (found["selection"]["spans"], found["baseline"]["spans"]) == (8, 7)
    provider = [v for v in found["values"] if v["value"] == "provider"]
    assert provider[0]["selection"] == {"count": 1, "share": 1 / 8}


@pytest.mark.parametrize(
    ("params", "start"),
    [
        ({}, "selection: a TraceQL span set query is required"),
        ({"selection": "{ status = "}, "selection: parse error"),
        ({"selection": "{ } | count_over_time()"}, "selection: a span set query"),
        ({"selection": "{ }", "baseline": "{ } | rate() > 2"}, "baseline: a span set query"),
        ({"selection": "{ }", "selectionStart": "now-1h"}, "selectionStart, selectionEnd"),
        (
            {"selection": "{ }", "baseline": "{ }", "selectionStart": "1", "selectionEnd": "2"},
            "baseline: a selection window",
        ),
        ({"selection": "{ }", "limit": "0"}, "limit: expected an integer from 1 to 1000"),
        ({"selection": "{ }", "start": "now-30d"}, "start: a group comparison reads at most"),
    ],
)
def test_bad_group_parameters(client: httpx.Client, params: dict[str, str], start: str) -> None:
    assert error(client, "/api/compare", 400, **params).startswith(start)


def test_a_range_without_spans(client: httpx.Client) -> None:
    empty = {"start": str(T0 // SEC - 7200), "end": str(T0 // SEC - 3600)}
    found = get(client, "/api/compare", selection="{ status = error }", **empty)
    assert (found["selection"]["spans"], found["baseline"]["spans"]) == (0, 0)
    assert found["values"] == [] and found["sample"] is None
