"""The MCP server's trace tools, called with the MCP SDK's own client over Streamable HTTP
on the demo shop's telemetry (a failing payment provider), on both backends. Expected
answers are computed from the spans the shop generated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from mcp import Client
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.types import Signal
from tests.backends import BACKENDS, store
from tests.demo.support import FlatSpan, spans_of

from .support import (
    Shopped,
    answer,
    call,
    error,
    every_item,
    fill,
    over_http,
    served,
    shop_telemetry,
    text,
)

TOOLS = {"list_services", "list_operations", "search_traces", "get_trace"}


@cache
def shopped() -> Shopped:
    return shop_telemetry()


@cache
def spans() -> list[FlatSpan]:
    return spans_of(b for b in shopped().batches if b.signal is Signal.TRACES)


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        fill(opened, shopped())
        with served(opened) as server:
            yield server.url


def is_error(span: Span) -> bool:
    return span.status.code == Status.STATUS_CODE_ERROR


def test_every_tool_is_listed_with_a_description_and_a_schema(url: str) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_http(url, work)}
    assert set(tools) >= TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.annotations is not None and tool.annotations.read_only_hint
        # An example of a call, in the description or in an argument's.
        described = [
            tool.description,
            *(p.get("description", "") for p in tool.input_schema["properties"].values()),
        ]
        assert any("Example:" in d or "e.g." in d for d in described), tool.name
    schema = tools["search_traces"].input_schema["properties"]
    assert {"query", "service", "start", "end", "limit", "max_chars", "cursor"} <= set(schema)
    assert "TraceQL" in schema["query"]["description"]


def test_services_are_those_that_sent_spans_with_their_requests(url: str) -> None:
    found = answer(call(url, "list_services"))
    names = {s["name"]: s for s in found["services"]}
    assert set(names) == {f.service for f in spans()}
    # A request: a server or consumer span, or a root span (the services page's meaning).
    requests = Counter(
        f.service
        for f in spans()
        if f.span.kind in (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER)
        or not f.span.parent_span_id
    )
    busiest = [s["name"] for s in found["services"]]
    assert busiest == sorted(names, key=lambda n: (-requests[n], n))
    for name, service in names.items():
        assert service["requestCount"] == requests[name], name


def test_operations_of_a_service_and_a_misspelt_one(url: str) -> None:
    found = answer(call(url, "list_operations", {"service": "payment"}))
    counted = Counter(f.span.name for f in spans() if f.service == "payment")
    assert {o["name"]: o["spanCount"] for o in found["operations"]} == dict(counted)
    errors = Counter(f.span.name for f in spans() if f.service == "payment" and is_error(f.span))
    assert {o["name"]: o["errorCount"] for o in found["operations"]} == {
        name: errors[name] for name in counted
    }
    refused = error(call(url, "list_operations", {"service": "paymnet"}))
    assert "no span of the last 7 days comes from 'paymnet'" in refused
    assert "did you mean 'payment'" in refused


def test_traceql_search_finds_the_traces_with_such_spans(url: str) -> None:
    query = '{ resource.service.name = "payment" && status = error }'
    traces = every_item(url, "search_traces", {"query": query, "limit": 200}, "traces")
    failing = {
        f.span.trace_id.hex() for f in spans() if f.service == "payment" and is_error(f.span)
    }
    ids = [t["traceId"] for t in traces]
    assert len(ids) == len(set(ids)) == min(200, len(failing))
    assert set(ids) <= failing
    for trace in traces:
        assert trace["errorCount"] > 0 and trace["matchedSpans"]
    starts = [t["start"] for t in traces]
    assert starts == sorted(starts, reverse=True)


def test_the_filters_search_too_and_a_bad_query_says_where(url: str) -> None:
    found = answer(
        call(url, "search_traces", {"service": "payment", "status": "error", "limit": 5})
    )
    assert len(found["traces"]) == 5
    assert "there may be more" in found["cut"][0]
    refused = error(call(url, "search_traces", {"query": "{ status = }"}))
    assert "parse error at line 1, col 12" in refused and "{ status = }" in refused, refused
    both = error(call(url, "search_traces", {"query": "{ }", "service": "payment"}))
    assert "not both" in both


def a_failing_trace() -> tuple[str, list[Span]]:
    """The failing trace with the most spans."""
    by_trace: dict[bytes, list[Span]] = {}
    for f in spans():
        by_trace.setdefault(f.span.trace_id, []).append(f.span)
    failing = [t for t, s in by_trace.items() if any(is_error(x) for x in s)]
    chosen = max(failing, key=lambda t: (len(by_trace[t]), t))
    return chosen.hex(), by_trace[chosen]


def test_a_trace_lists_where_its_failure_started_first(url: str) -> None:
    trace_id, trace = a_failing_trace()
    found = answer(call(url, "get_trace", {"trace_id": trace_id, "max_chars": 100_000}))
    assert found["traceId"] == trace_id
    assert found["spanCount"] == found["total"] == len(trace)
    assert found["errorCount"] == sum(map(is_error, trace))
    listed = found["spans"]
    assert {s["id"] for s in listed} == {s.span_id.hex() for s in trace}
    # Where failures start: failing spans none of whose children failed.
    failing_parents = {s.parent_span_id.hex() for s in trace if is_error(s)}
    origins = {s.span_id.hex() for s in trace if is_error(s)} - failing_parents
    errors = sum(map(is_error, trace))
    assert {s["id"] for s in listed[: len(origins)]} == origins
    assert all(s.get("failureStartsHere") for s in listed[: len(origins)])
    assert all(s["status"] == "error" for s in listed[:errors])
    # Then the critical path, by time on it: the root is on it.
    on_path = [s for s in listed[errors:] if "criticalPathMs" in s]
    assert on_path and [s["criticalPathMs"] for s in on_path] == sorted(
        (s["criticalPathMs"] for s in on_path), reverse=True
    )
    rest = listed[errors + len(on_path) :]
    assert [s["durationMs"] for s in rest] == sorted((s["durationMs"] for s in rest), reverse=True)
    assert found["criticalPathMs"] > 0


def test_a_cut_trace_continues_with_its_cursor_to_the_last_span(url: str) -> None:
    trace_id, trace = a_failing_trace()
    seen: list[str] = []
    arguments: dict[str, Any] = {"trace_id": trace_id, "max_chars": 1000}
    pages = 0
    while True:
        result = call(url, "get_trace", arguments)
        assert len(text(result)) <= 1000 or len(answer(result)["spans"]) == 1
        found = answer(result)
        seen += [s["id"] for s in found["spans"]]
        pages += 1
        if "more" not in found:
            break
        assert found["more"]["left"] == len(trace) - len(seen)
        arguments = {"cursor": found["more"]["cursor"]}
    assert pages > 2
    assert sorted(seen) == sorted(s.span_id.hex() for s in trace)


def test_bad_arguments_are_tool_errors_that_say_what_to_change(url: str) -> None:
    assert "not found" in error(call(url, "get_trace", {"trace_id": "ab" * 16}))
    assert "traceId" in error(call(url, "get_trace", {"trace_id": "xyz"}))
    assert "max_chars: from 1000 to 100000" in error(call(url, "list_services", {"max_chars": 10}))
    assert "cursor: not a cursor" in error(call(url, "get_trace", {"trace_id": "x", "cursor": "!"}))
    assert "start: not a time" in error(call(url, "list_services", {"start": "yesterday"}))
