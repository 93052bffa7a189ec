"""The Prometheus HTTP API as Grafana calls it, on both backends, over tests/api/samples.py.

The expected names and labels follow the OpenTelemetry specification's Prometheus rules
applied by hand to the samples: the gauge ``queue.depth`` in ``{items}`` is
``queue_depth``, the monotonic sum ``requests`` is ``requests_total``, the histogram
``latency`` in ``ms`` is ``latency_milliseconds_bucket``/``_sum``/``_count``, the summary
``rtt`` in ``s`` is ``rtt_seconds{quantile}``/``_sum``/``_count``, and the resource's
``service.name`` is ``job``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .samples import T0

S0 = T0 // 10**9  # the samples' points are at S0 + 1 and S0 + 2 seconds


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    return body["data"]


def failed(response: httpx.Response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["errorType"]) == ("error", kind)
    return str(body["error"])


def test_an_instant_query_answers_a_vector_of_string_values(client: httpx.Client) -> None:
    data = ok(client.get("/api/v1/query", params={"query": "queue_depth", "time": S0 + 2}))
    assert data["resultType"] == "vector"
    assert sorted(data["result"], key=lambda r: r["metric"]["queue"]) == [
        {
            "metric": {"__name__": "queue_depth", "job": "cart", "queue": queue},
            "value": [S0 + 2, "2"],
        }
        for queue in ("a", "b")
    ]


def test_counters_and_histograms_have_their_prometheus_names(client: httpx.Client) -> None:
    def value(query: str) -> list[tuple[dict[str, str], str]]:
        data = ok(client.get("/api/v1/query", params={"query": query, "time": S0 + 2}))
        found = [(r["metric"], r["value"][1]) for r in data["result"]]
        return sorted(found, key=lambda item: sorted(item[0].items()))

    assert value("requests_total") == [
        ({"__name__": "requests_total", "code": "200", "job": "cart"}, "7")
    ]
    bucket = {"__name__": "latency_milliseconds_bucket", "job": "cart"}
    assert value("latency_milliseconds_bucket") == [
        ({**bucket, "le": "+Inf"}, "3"),
        ({**bucket, "le": "5"}, "1"),
    ]
    assert value("latency_milliseconds_count")[0][1] == "3"
    assert value("latency_milliseconds_sum")[0][1] == "12.5"
    # The summary rtt in s: a series per quantile, and its count and sum.
    assert value("rtt_seconds") == [
        ({"__name__": "rtt_seconds", "job": "cart", "quantile": "0.5"}, "1.5")
    ]
    assert [v for _, v in value("rtt_seconds_count") + value("rtt_seconds_sum")] == ["2", "3"]
    # The resource's other attributes: target_info, with job to join it on.
    assert value("target_info") == [
        ({"__name__": "target_info", "host_name": "box-1", "job": "cart"}, "1")
    ]
    joined = "queue_depth * on (job) group_left (host_name) target_info"
    assert {m["host_name"] for m, _ in value(joined)} == {"box-1"}
    # Prometheus 3's quoted names reach the OpenTelemetry name itself.
    assert [m["__name__"] for m, _ in value('{"queue.depth"}')] == ["queue.depth"] * 2


def test_grafana_health_check_and_scalars(client: httpx.Client) -> None:
    data = ok(client.get("/api/v1/query", params={"query": "1+1", "time": "4"}))
    assert data == {"resultType": "scalar", "result": [4, "2"]}
    data = ok(client.get("/api/v1/query", params={"query": "-1/0", "time": "4"}))
    assert data["result"] == [4, "-Inf"]


def test_a_range_query_answers_a_matrix_sorted_by_labels(client: httpx.Client) -> None:
    params = {"query": "queue_depth", "start": S0, "end": S0 + 2, "step": "1"}
    data = ok(client.get("/api/v1/query_range", params=params))
    assert data["resultType"] == "matrix"
    assert [r["metric"]["queue"] for r in data["result"]] == ["a", "b"]
    # Nothing at S0: the first point is a second later.
    assert data["result"][0]["values"] == [[S0 + 1, "1"], [S0 + 2, "2"]]


def test_queries_may_be_posted_as_forms(client: httpx.Client) -> None:
    form = {"query": 'sum(queue_depth{queue="b"})', "start": str(S0 + 1), "end": str(S0 + 2)}
    data = ok(client.post("/api/v1/query_range", data={**form, "step": "1s"}))
    assert data["result"] == [{"metric": {}, "values": [[S0 + 1, "1"], [S0 + 2, "2"]]}]
    data = ok(client.post("/api/v1/query", data={"query": "count(queue_depth)", "time": S0 + 2}))
    assert data["result"] == [{"metric": {}, "value": [S0 + 2, "2"]}]


@pytest.mark.parametrize(
    ("path", "params", "status", "kind", "words"),
    [
        ("/api/v1/query", {"query": "sum(rate(x[5m]"}, 400, "bad_data", "parenthesis"),
        ("/api/v1/query", {}, 400, "bad_data", "query"),
        ("/api/v1/query", {"query": "up", "time": "yesterday"}, 400, "bad_data", "time"),
        (
            "/api/v1/query_range",
            {"query": "up", "start": "10", "end": "5", "step": "1"},
            400,
            "bad_data",
            "before start",
        ),
        (
            "/api/v1/query_range",
            {"query": "up", "start": "0", "end": "10", "step": "0"},
            400,
            "bad_data",
            "step",
        ),
        (
            "/api/v1/query_range",
            {"query": "up", "start": "0", "end": "20000", "step": "1"},
            400,
            "bad_data",
            "11,000 points",
        ),
        (
            "/api/v1/query_range",
            {"query": "queue_depth[1m]", "start": "0", "end": "10", "step": "1"},
            400,
            "bad_data",
            "range vector",
        ),
        # Two series on each side share the empty signature: Prometheus refuses to run it.
        (
            "/api/v1/query",
            {"query": "queue_depth + on() queue_depth", "time": str(S0 + 2)},
            422,
            "execution",
            "many-to-many",
        ),
        ("/api/v1/series", {}, 400, "bad_data", "match[]"),
    ],
)
def test_bad_input_gets_prometheus_error_types(
    client: httpx.Client, path: str, params: dict[str, str], status: int, kind: str, words: str
) -> None:
    assert words in failed(client.get(path, params=params), status, kind)


def test_series_labels_and_values(client: httpx.Client) -> None:
    window = {"start": str(S0 - 60), "end": str(S0 + 60)}
    found = ok(client.get("/api/v1/series", params={"match[]": "queue_depth", **window}))
    assert found == [
        {"__name__": "queue_depth", "job": "cart", "queue": "a"},
        {"__name__": "queue_depth", "job": "cart", "queue": "b"},
    ]
    limited = client.get(
        "/api/v1/series", params={"match[]": "queue_depth", "limit": "1", **window}
    )
    assert len(ok(limited)) == 1 and limited.json()["warnings"]
    names = ok(client.get("/api/v1/labels", params=window))
    assert {"__name__", "job", "queue", "code", "le"} <= set(names)
    assert names == sorted(names)
    matched = ok(client.get("/api/v1/labels", params={"match[]": "requests_total", **window}))
    assert matched == ["__name__", "code", "job"]
    metrics = ok(client.get("/api/v1/label/__name__/values"))
    assert {
        "queue_depth",
        "requests_total",
        "latency_milliseconds_bucket",
        "latency_milliseconds_sum",
        "latency_milliseconds_count",
    } <= set(metrics)
    assert "queue.depth" not in metrics  # each metric once, under its escaped name
    queues = ok(client.get("/api/v1/label/queue/values", params=window))
    assert queues == ["a", "b"]


def test_metadata_gives_type_help_and_unit(client: httpx.Client) -> None:
    data = ok(client.get("/api/v1/metadata"))
    assert data["queue_depth"] == [{"type": "gauge", "help": "items waiting", "unit": ""}]
    assert data["requests_total"] == [{"type": "counter", "help": "", "unit": ""}]
    assert data["latency_milliseconds"] == [
        {"type": "histogram", "help": "", "unit": "milliseconds"}
    ]
    one = ok(client.get("/api/v1/metadata", params={"metric": "queue_depth"}))
    assert list(one) == ["queue_depth"]


def test_build_info_rules_alerts_and_formatting(client: httpx.Client) -> None:
    info = ok(client.get("/api/v1/status/buildinfo"))
    assert {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} <= set(info)
    assert "features" not in info  # Grafana would take otelite for Mimir
    assert ok(client.get("/api/v1/rules")) == {"groups": []}
    assert ok(client.get("/api/v1/alerts")) == {"alerts": []}
    formatted = ok(client.get("/api/v1/format_query", params={"query": "sum(rate(x[5m]))by(a)"}))
    assert formatted == "sum by (a) (rate(x[5m]))"


def test_exemplars_link_a_series_to_its_traces(client: httpx.Client) -> None:
    window = {"start": str(S0 - 60), "end": str(S0 + 60)}
    query = "sum(rate(requests_total[5m]))"
    data = ok(client.get("/api/v1/query_exemplars", params={"query": query, **window}))
    assert data == [
        {
            "seriesLabels": {"__name__": "requests_total", "code": "200", "job": "cart"},
            "exemplars": [
                {
                    "labels": {"trace_id": "a1" * 16, "span_id": "a2" * 8, "user": "ann"},
                    "value": "1",
                    "timestamp": S0 + 0.5,
                }
            ],
        }
    ]
    # A histogram's exemplar belongs to the bucket its value falls in: 3 is under 5.
    buckets = "histogram_quantile(0.9, rate(latency_milliseconds_bucket[5m]))"
    [found] = ok(client.get("/api/v1/query_exemplars", params={"query": buckets, **window}))
    assert found["seriesLabels"]["le"] == "5"
    assert found["exemplars"][0]["labels"] == {"trace_id": "b2" * 16}
    assert found["exemplars"][0]["value"] == "3"
    # A native histogram's (an OTLP exponential histogram's) belong to its one series.
    [found] = ok(client.get("/api/v1/query_exemplars", params={"query": "size_bytes", **window}))
    assert found["seriesLabels"] == {"__name__": "size_bytes", "job": "cart"}
    assert found["exemplars"] == [
        {"labels": {"trace_id": "b2" * 16}, "value": "2.5", "timestamp": S0 + 0.8}
    ]
    # Outside the window, or for a series without any: nothing.
    before = {"start": str(S0 - 600), "end": str(S0 - 60)}
    assert ok(client.get("/api/v1/query_exemplars", params={"query": query, **before})) == []
    assert (
        ok(client.get("/api/v1/query_exemplars", params={"query": "queue_depth", **window})) == []
    )
