"""The MCP server's query-language tools (PromQL, LogQL, the metric catalogue), called
with the MCP SDK's own client over Streamable HTTP on the demo shop's telemetry, on both
backends. Expected answers are computed from the metric points and log records the shop
generated, never from otelite's own answers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from mcp import Client
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from otelite.types import Signal
from tests.backends import BACKENDS, store
from tests.demo.support import attrs, logs_of

from .support import (
    Shopped,
    answer,
    call,
    error,
    fill,
    over_http,
    served,
    shop_telemetry,
    text,
)

SEC = 10**9


@cache
def shopped() -> Shopped:
    return shop_telemetry()


@dataclass(frozen=True)
class Point:
    metric: str
    series: tuple[Any, ...]  # the resource's and the point's attributes
    time_ns: int
    value: float


@cache
def points() -> list[Point]:
    """Every gauge and sum point the shop sent, with its series."""
    found = []
    for request in shopped().requests(Signal.METRICS):
        assert isinstance(request, ExportMetricsServiceRequest)
        for resource in request.resource_metrics:
            owner = tuple(sorted(attrs(resource.resource.attributes).items()))
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    if kind not in ("gauge", "sum"):
                        continue
                    for p in getattr(metric, kind).data_points:
                        series = (owner, tuple(sorted(attrs(p.attributes).items())))
                        number = getattr(p, p.WhichOneof("value"))
                        found.append(Point(metric.name, series, p.time_unix_nano, number))
    return found


def metric_names() -> set[str]:
    return {
        metric.name
        for request in shopped().requests(Signal.METRICS)
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def series_of(metric: str) -> set[tuple[Any, ...]]:
    """The distinct series (resource and attributes) of a metric's points, any type."""
    found = set()
    for request in shopped().requests(Signal.METRICS):
        for resource in request.resource_metrics:
            owner = tuple(sorted(attrs(resource.resource.attributes).items()))
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        for p in getattr(m, m.WhichOneof("data")).data_points:
                            found.add((owner, tuple(sorted(attrs(p.attributes).items()))))
    return found


def last_values(metric: str) -> dict[tuple[Any, ...], float]:
    """Each series' value at its latest point."""
    latest: dict[tuple[Any, ...], Point] = {}
    for p in points():
        if p.metric == metric and (p.series not in latest or p.time_ns > latest[p.series].time_ns):
            latest[p.series] = p
    return {series: p.value for series, p in latest.items()}


@cache
def logs() -> list[tuple[str, LogRecord]]:
    return logs_of(b for b in shopped().batches if b.signal is Signal.LOGS)


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        fill(opened, shopped())
        with served(opened) as server:
            yield server.url


def pages(url: str, tool: str, arguments: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every page of an answer, following its cursors; each within its budget (or one
    item alone)."""
    budget = arguments.get("max_chars", 12_000)
    found = []
    while True:
        result = call(url, tool, arguments)
        page = answer(result)
        assert len(text(result)) <= budget or len(page[key]) == 1
        found.append(page)
        if "more" not in page:
            return found
        assert page["more"]["left"] == page["total"] - page.get("offset", 0) - len(page[key])
        arguments = {"cursor": page["more"]["cursor"]}


def test_the_query_tools_take_their_queries_as_plain_text(url: str) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_http(url, work)}
    for name in ("query_promql", "query_logql"):
        schema = tools[name].input_schema["properties"]
        # Exactly a string: the SDK parses other string arguments that look like JSON.
        assert schema["query"]["type"] == "string", name
        assert {"start", "end", "step", "max_chars", "cursor"} <= set(schema)
    assert {"name", "service"} <= set(tools["list_metrics"].input_schema["properties"])


# PromQL names worked out by hand from the specification's rules: words joined by `_`,
# the unit's words appended, `_total` for a monotonic sum, `_ratio` for a gauge in 1.
PROMQL_NAMES = {
    "shop.orders": ("shop_orders_total", "counter", None),
    "process.memory.usage": ("process_memory_usage_bytes", "gauge", None),
    "shop.circuit_breaker.state": ("shop_circuit_breaker_state_ratio", "gauge", None),
    "shop.bulkhead.in_flight": ("shop_bulkhead_in_flight", "gauge", None),
    "http.server.request.duration": (
        "http_server_request_duration_seconds",
        "histogram",
        [
            "http_server_request_duration_seconds_bucket",
            "http_server_request_duration_seconds_count",
            "http_server_request_duration_seconds_sum",
        ],
    ),
}


def test_the_catalogue_names_each_metric_as_promql_selects_it(url: str) -> None:
    [page] = pages(url, "list_metrics", {"max_chars": 100_000}, "metrics")
    stored = {m["otelName"]: m for m in page["metrics"] if "otelName" in m}
    assert set(stored) == metric_names()
    for otel, (name, kind, select) in PROMQL_NAMES.items():
        assert stored[otel]["name"] == name, otel
        assert stored[otel]["type"] == kind, otel
        assert stored[otel].get("select") == select, otel
    for otel, metric in stored.items():
        assert metric["series"] == len(series_of(otel)), otel
    derived = {m["name"] for m in page["metrics"] if m.get("fromSpans")}
    assert "traces_spanmetrics_calls_total" in derived
    # Every name it gives is one PromQL answers with data.
    names = answer(call(url, "list_metrics", {"name": "ORDERS"}))["metrics"]
    assert [m["name"] for m in names] == ["shop_orders_total"]
    found = answer(call(url, "query_promql", {"query": "count(shop_orders_total)"}))
    assert found["series"][0]["lastValue"] == len(series_of("shop.orders"))


def test_a_counters_last_value_at_an_instant_and_over_a_range(url: str) -> None:
    last = last_values("shop.orders")
    at_ns = max(p.time_ns for p in points() if p.metric == "shop.orders") + SEC
    end = str(at_ns)
    instant = answer(
        call(url, "query_promql", {"query": "sum(shop_orders_total)", "instant": True, "end": end})
    )
    assert instant["resultType"] == "vector"
    [total] = instant["series"]
    assert total["value"] == sum(last.values())

    # 40 steps of 15 s ending at `end`: each series' last value is its latest point's.
    start = str(at_ns - 600 * SEC)
    args = {"query": "shop_orders_total", "start": start, "end": end, "step": "15s"}
    found = answer(call(url, "query_promql", args))
    assert found["resultType"] == "matrix" and found["step"] == "15s"
    series = found["series"]
    assert sorted(s["lastValue"] for s in series) == sorted(last.values())
    assert [s["lastValue"] for s in series] == sorted(last.values(), reverse=True)
    for s in series:
        assert s["labels"]["__name__"] == "shop_orders_total"
        assert s["min"] <= s["mean"] <= s["max"] == s["lastValue"]  # a counter only grows
        assert s["values"][-1] == [s["last"], s["lastValue"]]
        assert len(s["values"]) == min(20, s["points"])
        assert ("thinned" in s) == (s["points"] > 20)


def test_the_default_step_gives_at_most_sixty_points(url: str) -> None:
    found = answer(call(url, "query_promql", {"query": "sum(shop_orders_total)"}))
    assert found["step"] == "62s"  # an hour in 59 steps, rounded up to whole seconds
    [series] = found["series"]
    assert series["points"] <= 60 and len(series["values"]) <= 20


def test_a_promql_parse_error_says_where(url: str) -> None:
    refused = error(call(url, "query_promql", {"query": "sum(rate(foo[5m]"}))
    assert "1:9: parse error: unclosed left parenthesis" in refused, refused
    assert "query: required" in error(call(url, "query_promql", {}))


def test_a_cut_answer_continues_with_its_cursor_to_the_last_series(url: str) -> None:
    query = "http_server_request_duration_seconds_count"
    found = pages(url, "query_promql", {"query": query, "max_chars": 1000}, "series")
    assert len(found) > 2
    series = [s for page in found for s in page["series"]]
    assert len(series) == len(series_of("http.server.request.duration"))
    assert len({tuple(sorted(s["labels"].items())) for s in series}) == len(series)
    lasts = [s["lastValue"] for s in series]
    assert lasts == sorted(lasts, reverse=True)


def payment_errors() -> list[LogRecord]:
    return [r for service, r in logs() if service == "payment" and r.severity_text == "ERROR"]


def test_error_lines_counted_over_the_range_are_the_services_error_records(url: str) -> None:
    times = [r.time_unix_nano for r in payment_errors()]
    assert times
    # Windows of a minute at steps of a minute tile (start - 1m, end]: each line once.
    start = min(times) // SEC - 1
    end = start + 60 * math.ceil((max(times) / SEC - start) / 60)
    query = 'sum(count_over_time({service_name="payment"} | severity_text="ERROR" [1m]))'
    args = {"query": query, "start": str(start), "end": str(end), "step": "1m"}
    found = answer(call(url, "query_logql", args))
    assert found["resultType"] == "matrix"
    [series] = found["series"]
    assert "thinned" not in series
    assert sum(value for _, value in series["values"]) == len(times)


def test_a_line_filter_finds_the_lines_newest_first_in_groups(url: str) -> None:
    matching = [
        r for service, r in logs() if service == "payment" and "OPEN" in r.body.string_value
    ]
    assert 20 < len(matching) < 5000
    query = '{service_name="payment"} |= "OPEN"'
    arguments = {"query": query, "limit": 5000, "max_chars": 4000}
    found = pages(url, "query_logql", arguments, "streams")
    assert len(found) > 1
    groups = [g for page in found for g in page["streams"]]
    assert found[0]["lines"] == len(matching)
    lines = [line for g in groups for line in g["lines"]]
    assert Counter(line["line"] for line in lines) == Counter(r.body.string_value for r in matching)
    for group in groups:
        assert group["stream"]["service_name"] == "payment"
        times = [line["time"] for line in group["lines"]]
        assert times == sorted(times, reverse=True)
        # Said once: what every line of the group shares, and the trace of each line.
        for line in group["lines"]:
            labels = {**group.get("shared", {}), **line.get("labels", {})}
            assert labels["severity_text"] in ("ERROR", "WARN", "INFO", "DEBUG")
    firsts = [g["lines"][0]["time"] for g in groups]
    assert firsts == sorted(firsts, reverse=True)
    newest = max(matching, key=lambda r: r.time_unix_nano)
    assert groups[0]["lines"][0]["labels"]["trace_id"] == newest.trace_id.hex()


def test_forward_starts_at_the_oldest_line_and_limit_says_there_is_more(url: str) -> None:
    records = [r for service, r in logs() if service == "payment"]
    arguments = {"query": '{service_name="payment"}', "direction": "forward", "limit": 3}
    found = answer(call(url, "query_logql", arguments))
    lines = [line for g in found["streams"] for line in g["lines"]]
    assert len(lines) == 3
    oldest = sorted(records, key=lambda r: r.time_unix_nano)[:3]
    assert sorted(line["line"] for line in lines) == sorted(r.body.string_value for r in oldest)
    assert "there are more" in found["cut"][0]


def test_a_logql_parse_error_says_where(url: str) -> None:
    refused = error(call(url, "query_logql", {"query": '{service_name="payment"} |= '}))
    assert "parse error at line 1, col 29" in refused, refused
    # The query `{}` stays text (not a JSON object) and is refused by LogQL's own rule.
    assert "parse error at line 1, col 1" in error(call(url, "query_logql", {"query": "{}"}))
