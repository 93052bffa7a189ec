"""The MCP server's resources (a trace, a service) and prompts, read with the SDK's client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import pytest
from mcp import Client, MCPError
from mcp.types import TextContent, TextResourceContents

from otelite.types import Signal
from tests.backends import BACKENDS, store
from tests.demo.support import FlatSpan, spans_of

from .support import Shopped, fill, over_http, served, shop_telemetry


@cache
def shopped() -> Shopped:
    return shop_telemetry(batches=30)


@cache
def spans() -> list[FlatSpan]:
    return spans_of(b for b in shopped().batches if b.signal is Signal.TRACES)


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        fill(opened, shopped())
        with served(opened) as server:
            yield server.url


def read(url: str, uri: str) -> Any:
    async def work(client: Client) -> Any:
        [content] = (await client.read_resource(uri)).contents
        assert isinstance(content, TextResourceContents)
        assert content.mime_type == "application/json"
        return orjson.loads(content.text)

    return over_http(url, work)


def test_the_resource_templates_are_listed(url: str) -> None:
    async def work(client: Client) -> set[str]:
        found = (await client.list_resource_templates()).resource_templates
        return {t.uri_template for t in found}

    assert over_http(url, work) == {"otelite://trace/{trace_id}", "otelite://service/{name}"}


def test_a_trace_resource_is_the_trace_outline(url: str) -> None:
    trace_id = spans()[0].span.trace_id
    found = read(url, f"otelite://trace/{trace_id.hex()}")
    assert found["traceId"] == trace_id.hex()
    assert found["spanCount"] == sum(f.span.trace_id == trace_id for f in spans())


def test_a_service_resource_gives_its_operations_in_brief(url: str) -> None:
    found = read(url, "otelite://service/payment")
    counted = Counter(f.span.name for f in spans() if f.service == "payment")
    assert found["operationCount"] == len(counted)
    busiest = [o["name"] for o in found["operations"]]
    assert busiest == sorted(counted, key=lambda name: (-counted[name], name))[: len(busiest)]
    assert found["lastHour"]["requestCount"] > 0
    assert found["deploymentsLastDay"] == [] and found["slos"] == []


def test_an_unknown_trace_or_service_is_not_found(url: str) -> None:
    async def work(client: Client) -> list[str]:
        messages = []
        for uri in ("otelite://trace/" + "ab" * 16, "otelite://service/paymnt"):
            with pytest.raises(MCPError) as caught:
                await client.read_resource(uri)
            messages.append(str(caught.value))
        return messages

    trace, service = over_http(url, work)
    assert "not found" in trace
    assert "did you mean 'payment'" in service


def test_the_prompts_lead_to_the_tools(url: str) -> None:
    async def work(client: Client) -> tuple[set[str], str, str]:
        names = {p.name for p in (await client.list_prompts()).prompts}
        alert = await client.get_prompt("investigate_alert", {"alert": "SLOFastBurn"})
        slow = await client.get_prompt("why_is_service_slow", {"service": 'pay"ment'})
        texts = []
        for prompt in (alert, slow):
            [message] = prompt.messages
            assert message.role == "user" and isinstance(message.content, TextContent)
            texts.append(message.content.text)
        return names, texts[0], texts[1]

    names, alert, slow = over_http(url, work)
    assert names == {"investigate_alert", "why_is_service_slow"}
    assert "'SLOFastBurn'" in alert and "firing_alerts" in alert and "slo_status" in alert
    assert 'resource.service.name = "pay\\"ment"' in slow and "critical_path" in slow
