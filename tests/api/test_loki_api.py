"""The Loki API on a real server over each backend, called as Grafana's Loki data source
calls it (QUERY-API-NOTES §8: ns times, ``step`` in ms, the categorize-labels header),
with the answers written out by hand from ``tests.logql.loki_records``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from otelite.api import create_app
from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store
from tests.logql import loki_records
from tests.logql.loki_records import AT, END, LINES, START, TRACE

from .served import Served

CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
GRAFANA = {"X-Query-Tags": "Source=logsample"}
WINDOW = {"start": str(START), "end": str(END)}


@pytest.fixture(scope="module", params=BACKENDS)
def loki_storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[loki_records.request()]))
        yield opened


@contextmanager
def _client(app: Starlette) -> Iterator[httpx.Client]:
    served = Served(app)
    try:
        with httpx.Client(base_url=f"{served.url}/loki/api/v1", timeout=30) as http:
            yield http
    finally:
        served.close()


@pytest.fixture(scope="module")
def loki(loki_storage: Storage) -> Iterator[httpx.Client]:
    with _client(create_app(loki_storage)) as http:
        yield http


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    return body["data"]


def _range(client: httpx.Client, query: str, **params: str) -> httpx.Response:
    """query_range as Grafana sends it: ns times, a step in ms, direction and limit."""
    sent = {"query": query, "direction": "backward", "limit": "1000", "step": "2000ms"}
    return client.get("/query_range", params={**sent, **WINDOW, **params}, headers=GRAFANA)


def test_query_range_streams_without_flags(loki: httpx.Client) -> None:
    data = _data(_range(loki, '{service_name="worker"}'))
    assert data["resultType"] == "streams"
    assert "encodingFlags" not in data
    # Without the flag, structured metadata is part of a stream's labels.
    assert data["result"] == [
        {
            "stream": {
                "detected_level": "unknown",
                "k8s_container_name": "worker",
                "service_name": "worker",
            },
            "values": [[str(AT[9]), "worker started"]],
        }
    ]
    summary = data["stats"]["summary"]
    assert summary["totalEntriesReturned"] == 1 and summary["totalLinesProcessed"] == 1


def test_query_range_categorized_as_grafana_asks(loki: httpx.Client) -> None:
    response = loki.get(
        "/query_range",
        params={
            "query": '{service_name="checkout"} | logfmt | status >= 500',
            "direction": "backward",
            "limit": "1000",
            "step": "2000ms",
            **WINDOW,
        },
        headers={**CATEGORIZE, **GRAFANA},
    )
    data = _data(response)
    assert data["encodingFlags"] == ["categorize-labels"]
    assert data["result"] == [
        {
            "stream": {"k8s_pod_name": "checkout-1", "service_name": "checkout"},
            "values": [
                [
                    str(AT[2]),
                    LINES[2][1],
                    {
                        "structuredMetadata": {
                            "attempt": "3",
                            "detected_level": "error",
                            "host_name": "h1",
                            "scope_name": "shop.logger",
                            "scope_version": "1.2",
                            "severity_number": "17",
                            "severity_text": "ERROR",
                            "span_id": "b7ad6b7169203331",
                            "trace_id": TRACE.hex(),
                        },
                        "parsed": {
                            "duration": "1.5s",
                            "level": "error",
                            "msg": "payment failed",
                            "status": "502",
                            "trace_id_extracted": "abc",
                            "user": "bob",
                        },
                    },
                ]
            ],
        }
    ]


def test_direction_limit_and_stream_order(loki: httpx.Client) -> None:
    query = '{service_name=~"checkout|worker"}'
    backward = _data(
        loki.get(
            "/query_range", params={"query": query, "limit": "3", **WINDOW}, headers=CATEGORIZE
        )
    )
    assert [s["stream"]["service_name"] for s in backward["result"]] == ["checkout"]
    assert [v[0] for v in backward["result"][0]["values"]] == [str(AT[n]) for n in (6, 5, 4)]
    forward = _data(
        _range(loki, query, direction="forward", limit="3"),
    )
    times = sorted(int(v[0]) for s in forward["result"] for v in s["values"])
    assert times == [AT[1], AT[2], AT[3]]
    # Streams sorted by their labels as Loki writes them: {k8s_container_name=...} first.
    both = _data(loki.get("/query_range", params={"query": query, **WINDOW}, headers=CATEGORIZE))
    assert [s["stream"]["service_name"] for s in both["result"]] == ["worker", "checkout"]


def test_times_as_seconds_floats_and_rfc3339(loki: httpx.Client) -> None:
    seconds = {"start": str(START // 10**9), "end": str(END // 10**9)}
    floats = {"start": f"{START / 1e9:.3f}", "end": f"{END / 1e9:.3f}"}
    rfc = {"start": "2025-06-15T15:06:40Z", "end": "2025-06-15T15:06:50Z"}  # START, END
    for window in (seconds, floats, rfc):
        data = _data(loki.get("/query_range", params={"query": '{app="shop"}', **window}))
        assert [v[1] for s in data["result"] for v in s["values"]] == ["pushed line error"]


def test_labels_as_grafana_asks(loki: httpx.Client) -> None:
    assert _data(loki.get("/labels", params=WINDOW)) == [
        "app",
        "deployment_environment_name",
        "env",
        "k8s_container_name",
        "k8s_pod_name",
        "service_name",
    ]
    narrowed = loki.get("/labels", params={**WINDOW, "query": '{service_name="payments"}'})
    assert _data(narrowed) == ["deployment_environment_name", "service_name"]
    outside = {"start": str(END), "end": str(END + 10**9)}
    assert _data(loki.get("/labels", params=outside)) == []


def test_label_values_as_grafana_asks(loki: httpx.Client) -> None:
    found = loki.get("/label/service_name/values", params=WINDOW)
    assert _data(found) == ["checkout", "payments", "shop", "worker"]
    narrowed = loki.get("/label/service_name/values", params={**WINDOW, "query": '{env=~".+"}'})
    assert _data(narrowed) == ["shop"]
    assert _data(loki.get("/label/nothing/values", params=WINDOW)) == []


def test_series_as_grafana_asks(loki: httpx.Client) -> None:
    found = loki.get(
        "/series",
        params=[
            ("match[]", '{service_name="checkout"}'),
            ("match[]", '{app="shop"}'),
            ("start", str(START)),
            ("end", str(END)),
        ],
    )
    assert _data(found) == [
        {"app": "shop", "env": "prod", "service_name": "shop"},
        {"k8s_pod_name": "checkout-1", "service_name": "checkout"},
    ]
    everything = _data(loki.get("/series", params={**WINDOW, "match[]": "{}"}))
    assert len(everything) == 4
    refused = loki.get("/series", params={**WINDOW, "match[]": '{app="shop"} |= "x"'})
    assert refused.status_code == 400


def test_post_form(loki: httpx.Client) -> None:
    response = loki.post("/query_range", data={"query": '{app="shop"}', **WINDOW})
    assert len(_data(response)["result"]) == 1


@pytest.mark.parametrize(
    ("path", "params", "status", "text"),
    [
        ("/query_range", {"query": '{app="shop"'}, 400, "parse error at line 1, col 12"),
        ("/query_range", {"query": "{}"}, 400, "queries require at least one regexp"),
        (
            "/query_range",
            {"query": '{app="shop"}', "limit": "5001"},
            400,
            "max entries limit per query exceeded, limit > max_entries_limit_per_query"
            " (5001 > 5000)",
        ),
        ("/query_range", {"query": '{app="shop"}', "limit": "0"}, 400, "limit must be a positive"),
        ("/query_range", {"query": '{app="shop"}', "direction": "up"}, 400, "invalid direction"),
        (
            "/query_range",
            {"query": '{app="shop"}', "start": "20", "end": "10"},
            400,
            "end timestamp must not be before or equal to start time",
        ),
        ("/query_range", {"query": '{app="shop"}', "step": "0"}, 400, "zero or negative"),
        (
            "/query_range",
            {"query": '{app="shop"}', "start": "0", "end": "100000", "step": "1"},
            400,
            "exceeded maximum resolution of 11,000 points",
        ),
        (
            "/query_range",
            {"query": '{app="shop"}', "start": "0", "end": "3000000"},
            400,
            "the query time range exceeds the limit (query length: 34d17h20m, limit: 30d1h)",
        ),
        ("/query_range", {"query": '{app="shop"} | regexp "(a"'}, 400, "error parsing regexp"),
        (
            "/query_range",
            {"query": 'sum(count_over_time({service_name=~".+"} | json [1m]))', **WINDOW},
            400,
            "pipeline error: 'JSONParserErr' for series: '{__error__=\"JSONParserErr\"",
        ),
        (
            "/query",
            {"query": '{app="shop"}'},
            400,
            "log queries are not supported as an instant query type, please change your query"
            " to a range query type",
        ),
        ("/labels", {"start": "x"}, 400, "could not parse 'start' parameter"),
    ],
)
def test_errors_in_plain_text(
    loki: httpx.Client, path: str, params: dict[str, str], status: int, text: str
) -> None:
    response = loki.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert text in response.text


def test_format_query_and_buildinfo(loki: httpx.Client) -> None:
    formatted = loki.get("/format_query", params={"query": '{app="shop"}|="x"|json'})
    assert _data(formatted) == '{app="shop"} |= "x" | json'
    info = loki.get("/status/buildinfo").json()
    assert info["version"].startswith("3.") and "otelite" in info["revision"]


def test_a_query_past_the_servers_timeout(loki_storage: Storage) -> None:
    with _client(create_app(loki_storage, query_timeout_seconds=1e-9)) as slow:
        response = _range(slow, '{service_name=~".+"} | json')
    assert response.status_code == 504
    assert response.text.startswith("request timed out, decrease the duration of the request")
