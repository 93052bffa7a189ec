"""Test doubles and request builders shared by the receiver tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.pipeline import InMemoryConsumer
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal

T = TypeVar("T")

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")


class LoopThread:
    """An asyncio event loop running on its own thread, as the server process runs one."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class GatedConsumer(InMemoryConsumer):
    """Holds every request until ``release`` is set, to catch requests in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        self.entered.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await super().consume(signal, request, tenant=tenant, payload=payload)


class PayloadConsumer(InMemoryConsumer):
    """Also keeps the ``payload`` each request came with, in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[bytes | None] = []

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        self.payloads.append(payload)
        await super().consume(signal, request, tenant=tenant, payload=payload)


class BrokenConsumer:
    """A consumer with a bug: raises something that is not an otelite error."""

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        raise RuntimeError("bug in a consumer")


def span(name: str = "op", **fields: Any) -> Span:
    values: dict[str, Any] = {
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "name": name,
        "start_time_unix_nano": 1_700_000_000_000_000_000,
        "end_time_unix_nano": 1_700_000_000_250_000_000,
    }
    values.update(fields)
    return Span(**values)


def traces(*spans: Span) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    scope.scope.name = "tests"
    scope.spans.extend(spans)
    return request


def received_span_names(consumer: InMemoryConsumer) -> list[str]:
    return [
        s.name
        for request in consumer.requests(Signal.TRACES)
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for s in scope.spans
    ]
