"""Tail sampling for one destination: ``exporters.<name>.processors.tail_sampling``.

The usual reason: keep everything locally, and send the paid destination only the
traces worth paying for (every error, the slow ones, a share of the rest). The sampler is
the pipeline file's own (``TailSampler``), in front of the destination's queue instead of
the local store: a request is acknowledged once it is in the local write-ahead log and in
this sampler's log (``DATA_DIR/forward/<name>/tail-sampling/``), and what it keeps goes
into the destination's queue when its traces are decided. Its figures are the
destination's (``DestinationReport.sampling``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from otelite.errors import Unavailable
from otelite.pipeline._consumer import serialized
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["QueueConsumer"]


class QueueConsumer:
    """A ``Consumer`` that puts each request into one destination's queue (``enqueue``:
    None once durable, else the error that kept it out)."""

    def __init__(
        self, name: str, enqueue: Callable[[Signal, str, bytes], Awaitable[Exception | None]]
    ) -> None:
        self._name = name
        self._enqueue = enqueue

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        body = serialized(request, payload)
        error = await self._enqueue(signal, tenant, body)
        if error is not None:
            raise Unavailable(f"cannot queue the request for {self._name}: {error}") from error
