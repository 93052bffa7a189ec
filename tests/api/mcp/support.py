"""otelite filled with the demo shop's telemetry, and the official MCP SDK's client over
Streamable HTTP (``/mcp``) and stdio (``otelite mcp``)."""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import httpx2
import orjson
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from otelite.api import create_app
from otelite.demo import Batch, Shop
from otelite.storage import Storage, WriteBatch
from otelite.types import Signal
from tests.api.served import Served

T = TypeVar("T")
SEC = 10**9
FAULT_AFTER_S = 60
PROVIDER_HOST = "api.payments.example.com"


@dataclass
class Shopped:
    """The batches the shop sent, by signal."""

    batches: list[Batch]
    by_signal: dict[Signal, list[Batch]] = field(default_factory=dict)

    def requests(self, signal: Signal) -> list[Any]:
        return [b.request() for b in self.batches if b.signal is signal]


def shop_telemetry(batches: int = 60) -> Shopped:
    """The demo shop with a failing payment provider, its traces, logs and metrics over
    about three minutes that ended 17 minutes ago (inside the tools' default hour)."""
    ticks = itertools.count(time.time_ns() - 20 * 60 * SEC, 50_000_000)
    shop = Shop(
        seed=7,
        scenario="failing-payment-provider",
        fault_after=FAULT_AFTER_S,
        clock=lambda: next(ticks),
    )
    found = list(itertools.islice(shop.stream(metrics_interval=15), batches))
    found += shop.flush()
    return Shopped(found)


def fill(storage: Storage, shopped: Shopped) -> None:
    storage.write(
        WriteBatch(
            traces=shopped.requests(Signal.TRACES),
            logs=shopped.requests(Signal.LOGS),
            metrics=shopped.requests(Signal.METRICS),
        )
    )


@contextmanager
def served(storage: Storage, **options: Any) -> Iterator[Served]:
    server = Served(create_app(storage, **options))
    try:
        yield server
    finally:
        server.close()


Session = Callable[[Client], Awaitable[T]]


def over_http(url: str, work: Session[T], headers: Mapping[str, str] | None = None) -> T:
    """``work`` done with an MCP client of ``url``'s ``/mcp``."""

    async def main() -> T:
        async with (
            httpx2.AsyncClient(headers=dict(headers or {}), timeout=httpx2.Timeout(60)) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
        ):
            return await work(client)

    return anyio.run(main)


def over_stdio(url: str, work: Session[T], *args: str) -> T:
    """``work`` done with an MCP client of ``otelite mcp --url URL`` (a child process)."""
    command = [*args, "--url", url]
    env = {"PYTHONPATH": os.getcwd(), **{k: v for k, v in os.environ.items() if k == "HOME"}}

    async def main() -> T:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "otelite", "mcp", *command], env=env
        )
        async with Client(params) as client:
            return await work(client)

    return anyio.run(main)


def call(
    url: str, tool: str, arguments: Mapping[str, Any] | None = None, **kw: Any
) -> CallToolResult:
    """One tool call over HTTP."""

    async def work(client: Client) -> CallToolResult:
        return await client.call_tool(tool, dict(arguments or {}))

    return over_http(url, work, **kw)


def text(result: CallToolResult) -> str:
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


def answer(result: CallToolResult) -> dict[str, Any]:
    """A tool's JSON answer; the call must have succeeded."""
    assert not result.is_error, text(result)
    found = orjson.loads(text(result))
    assert isinstance(found, dict)
    return found


def error(result: CallToolResult) -> str:
    """A tool error's message; the call must have failed."""
    assert result.is_error, text(result)
    return text(result)


def every_item(url: str, tool: str, arguments: Mapping[str, Any], key: str) -> list[Any]:
    """Every item of a paged answer, following its cursors."""
    found: list[Any] = []
    while True:
        page = answer(call(url, tool, arguments))
        found += page[key]
        if "more" not in page:
            return found
        arguments = {"cursor": page["more"]["cursor"]}
