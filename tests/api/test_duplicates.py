"""A re-sent batch (identical spans) against the same batch sent once: the trace, the
export and the span sets of Tempo's search hold each span once, and every count counts
each copy, as README.md says ("What counts copies")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store

from .samples import T0, TRACE_A, traces
from .served import Served

WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 10 * 10**9)}
TEMPO_WINDOW = {"start": str(T0 // 10**9 - 60), "end": str(T0 // 10**9 + 60)}


@pytest.fixture(scope="module", params=BACKENDS)
def clients(request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The API over the samples sent once, and over the samples sent twice."""
    with ExitStack() as stack:
        found = []
        for copies in (1, 2):
            opened = stack.enter_context(store(request.param))
            for _ in range(copies):
                opened.write(WriteBatch(traces=[traces()]))
            served = Served(create_app(opened))
            stack.callback(served.close)
            found.append(stack.enter_context(httpx.Client(base_url=served.url, timeout=10)))
        yield found[0], found[1]


def get(client: httpx.Client, path: str, **params: str) -> Any:
    response = client.get(path, params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_trace_comes_back_once(clients: tuple[httpx.Client, httpx.Client]) -> None:
    once, twice = clients
    path = f"/api/v2/traces/{TRACE_A.hex()}"
    assert get(twice, path) == get(once, path)


def test_the_export_holds_each_span_once(clients: tuple[httpx.Client, httpx.Client]) -> None:
    once, twice = clients

    def exported(client: httpx.Client) -> list[Any]:
        response = client.get("/api/export", params={**WINDOW, "signal": "traces"})
        assert response.status_code == 200, response.text
        return sorted(
            (span["traceId"], span["spanId"])
            for line in response.text.splitlines()
            for rs in json.loads(line)["resourceSpans"]
            for scope in rs["scopeSpans"]
            for span in scope["spans"]
        )

    assert exported(twice) == exported(once)


def test_stored_spans_count_each_copy(clients: tuple[httpx.Client, httpx.Client]) -> None:
    once, twice = clients
    single = get(once, "/api/count", signal="traces")["count"]
    assert single == sum(
        len(scope.spans) for rs in traces().resource_spans for scope in rs.scope_spans
    )
    assert get(twice, "/api/count", signal="traces")["count"] == 2 * single


def test_services_and_operations_count_each_copy(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    once, twice = clients
    single = get(once, "/api/services")["services"]
    assert get(twice, "/api/services")["services"] == [
        {**s, "spanCount": 2 * s["spanCount"], "errorCount": 2 * s["errorCount"]} for s in single
    ]
    for service in single:
        path = f"/api/services/{service['name']}/operations"
        counts = [
            (o["name"], o["spanCount"], o["errorCount"]) for o in get(once, path)["operations"]
        ]
        doubled = [
            (o["name"], o["spanCount"], o["errorCount"]) for o in get(twice, path)["operations"]
        ]
        assert doubled == [(name, 2 * spans, 2 * errors) for name, spans, errors in counts]


def test_search_counts_each_copy(clients: tuple[httpx.Client, httpx.Client]) -> None:
    once, twice = clients
    found = {t["traceId"]: t for t in get(once, "/api/search/traces")["traces"]}
    again = {t["traceId"]: t for t in get(twice, "/api/search/traces")["traces"]}
    assert found.keys() == again.keys()
    for trace_id, trace in found.items():
        assert again[trace_id]["spanCount"] == 2 * trace["spanCount"]
        assert again[trace_id]["errorCount"] == 2 * trace["errorCount"]
        assert again[trace_id]["durationMs"] == trace["durationMs"]


def test_the_uis_red_figures_count_each_copy(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    once, twice = clients
    single = {s["name"]: s for s in get(once, "/api/ui/services")["services"]}
    doubled = {s["name"]: s for s in get(twice, "/api/ui/services")["services"]}
    assert single.keys() == doubled.keys()
    for name, red in single.items():
        assert doubled[name]["requestCount"] == 2 * red["requestCount"]
        assert doubled[name]["errorCount"] == 2 * red["errorCount"]
        assert doubled[name]["errorRate"] == red["errorRate"]  # a ratio: copies cancel out


def tempo_search(client: httpx.Client, q: str, spss: int) -> list[Any]:
    params = {"q": q, "spss": str(spss), **TEMPO_WINDOW}
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()["traces"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "q",
    [
        "{ }",
        '{ resource.service.name = "cart" || span.http.route = "/cart" }',
        "{ } >> { }",
        "{ } | by(resource.service.name)",
        "{ } | select(span.http.status_code)",
    ],
)
@pytest.mark.parametrize("spss", [1, 2, 20])
def test_tempo_span_sets_list_each_span_once(
    clients: tuple[httpx.Client, httpx.Client], q: str, spss: int
) -> None:
    """The first ``spss`` distinct spans, as often as they were sent; ``matched`` too
    counts spans, not copies."""
    once, twice = clients
    found = tempo_search(once, q, spss)
    assert found, f"{q} finds nothing: it tests little"
    again = tempo_search(twice, q, spss)
    assert [t["traceID"] for t in again] == [t["traceID"] for t in found]
    for one, other in zip(found, again, strict=True):
        assert other["spanSets"] == one["spanSets"]
        assert other["spanSet"] == one["spanSet"]
        for spanset in other["spanSets"]:
            ids = [span["spanID"] for span in spanset["spans"]]
            assert len(set(ids)) == len(ids) == min(spss, spanset["matched"])


def test_jaeger_search_finds_each_trace_with_each_span_once(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    once, twice = clients

    def traces_of(client: httpx.Client) -> list[Any]:
        params = {"service": "cart", "start": str(T0 // 1000 - 10**6), "limit": "20"}
        response = client.get("/jaeger/api/traces", params=params)
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]

    found = traces_of(once)
    assert found
    assert traces_of(twice) == found
