"""The pipeline file's processors on the ingest path: after validation, before the
write-ahead log, so that what a processor takes out is never written anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from otelite.pipeline._consumer import Consumer, parsed
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["Processing", "Processor"]


class Processor(Protocol):
    """Changes a request in place; says whether it changed anything. ``payload`` is the
    request's serialization when it is at hand (None once a processor changed it)."""

    def apply(self, request: ExportRequest, payload: bytes | None = None) -> bool: ...


class Processing:
    """A ``Consumer`` that runs ``processors`` on each request, in order, and hands it to
    ``next``. A changed request goes on without the body it was decoded from (``payload``),
    so that the write-ahead log keeps what the processors left, not what was sent."""

    def __init__(self, next_consumer: Consumer, processors: Sequence[Processor]) -> None:
        self._next = next_consumer
        self._processors = tuple(processors)

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        request = parsed(signal, request, payload)
        changed = False
        for processor in self._processors:
            changed |= processor.apply(request, None if changed else payload)
        await self._next.consume(
            signal, request, tenant=tenant, payload=None if changed else payload
        )
