"""Every tool over stdio (``otelite mcp --url``) gives the answer it gives over ``/mcp``,
on the demo shop's data: the same call, with the same pinned period, the same JSON."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from mcp import Client

from tests.backends import BACKENDS, store

from .support import Shopped, answer, call, fill, over_stdio, served, shop_telemetry


@cache
def shopped() -> Shopped:
    return shop_telemetry(batches=30)


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        fill(opened, shopped())
        with served(opened) as server:
            yield server.url


def calls(url: str) -> dict[str, dict[str, Any]]:
    """A call of every tool, over the hour that holds the shop's data."""
    now = time.time()
    period = {"start": str(int(now - 3600)), "end": str(int(now))}
    failing = answer(
        call(url, "search_traces", {"query": "{ status = error }", "limit": 2, **period})
    )
    a, b = (t["traceId"] for t in failing["traces"])
    return {
        "list_services": period,
        "list_operations": {"service": "payment", **period},
        "search_traces": {"query": "{ status = error }", "limit": 3, **period},
        "get_trace": {"trace_id": a},
        "list_metrics": {"name": "shop", **period},
        "query_promql": {"query": "sum(traces_spanmetrics_calls_total)", **period},
        "query_logql": {"query": '{service_name="payment"}', "limit": 5, **period},
        "service_map": period,
        "critical_path": {"query": "{ status = error }", "limit": 5, **period},
        "compare_traces": {"a": a, "b": b},
        "compare_groups": {"selection": "{ status = error }", **period},
        "slo_status": {},
        "firing_alerts": {},
        "recent_deployments": period,
    }


def test_every_tool_answers_the_same_over_stdio(url: str) -> None:
    asked = calls(url)

    async def work(client: Client) -> dict[str, str]:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert listed == set(asked)
        found = {}
        for tool, arguments in asked.items():
            result = await client.call_tool(tool, arguments)
            found[tool] = orjson.dumps(answer(result)).decode()
        return found

    over_stdio_answers = over_stdio(url, work)
    for tool, arguments in asked.items():
        over_http = orjson.dumps(answer(call(url, tool, arguments))).decode()
        assert over_stdio_answers[tool] == over_http, tool
    # And they hold the demo's data.
    assert orjson.loads(over_stdio_answers["list_operations"])["operations"]
    assert orjson.loads(over_stdio_answers["query_logql"])["total"] > 0
    assert orjson.loads(over_stdio_answers["service_map"])["edges"]
