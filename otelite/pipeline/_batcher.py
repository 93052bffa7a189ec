"""The batcher: accepted requests collected into batches and handed to the flatten workers.

Requests arrive one by one (durable, or in memory mode accepted); a batch closes when it
holds ``max_items`` spans/points/records or ``max_delay`` seconds after its first request,
whichever comes first, or at a flush or stop. Each batch goes to a flatten worker
(``_flatten``) at once and, in order, to the writer (``_writer``), which stores it while
the next batches are collected and flattened. At most ``max_in_flight`` batches wait for
the writer, which bounds the memory their tables take. Queued requests are held
serialized, as they were logged: a third of the memory of parsed messages, and what a
worker needs anyway.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from otelite.pipeline._flatten import FlattenPool, PendingTables
from otelite.types import Signal

__all__ = ["Batcher", "Flattening", "Flush", "QueuedRequest", "Stop"]


@dataclass(slots=True)
class QueuedRequest:
    """An accepted request on its way to storage."""

    seq: int | None
    """Its write-ahead-log sequence number; None in memory mode."""
    signal: Signal
    payload: bytes
    """The request serialized (binary OTLP protobuf), as logged."""
    size: int
    """Serialized bytes, for the queue limit (0 for requests replayed from the log)."""
    items: int
    """Spans, points or records, for the batch size."""
    done: asyncio.Future[None] | None = None
    """Resolved once stored (memory mode, where the sender waits for storage)."""


@dataclass(slots=True)
class Flush:
    """Store everything queued before it, then resolve ``done``."""

    done: asyncio.Future[None]


class Stop:
    """The end of the queue: the batcher, then the writer, end after what came before."""


@dataclass(slots=True)
class Flattening:
    """A batch on its way from the batcher to the writer."""

    batch: list[QueuedRequest]
    tables: PendingTables | None
    """Its rows once a worker has flattened them; None when the batch was not submitted."""
    flushes: list[Flush]


_Entry = QueuedRequest | Flush | Stop


class Batcher:
    """Collects queued requests into batches on its own thread (``run``); ``output`` gives
    them, being flattened, to the writer, then a ``Stop``."""

    def __init__(
        self,
        flattener: FlattenPool,
        *,
        max_items: int,
        max_delay: float,
        max_in_flight: int,
        abandon: threading.Event,
    ) -> None:
        self._flattener = flattener
        self.max_items = max_items
        self.max_delay = max_delay
        self._abandon = abandon
        """Set when the writer gives up: batches are handed on without flattening."""
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self.output: queue.Queue[Flattening | Stop] = queue.Queue(max_in_flight)

    def put(self, entry: _Entry) -> None:
        """Queue a request, a flush or the stop. Thread-safe."""
        self._queue.put(entry)

    def idle(self) -> bool:
        """Whether no request waits to join a batch."""
        return self._queue.empty()

    def take_queued(self) -> list[QueuedRequest | Flush]:
        """Whatever is still queued (after the threads ended)."""
        taken: list[QueuedRequest | Flush] = []
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return taken
            if not isinstance(entry, Stop):
                taken.append(entry)

    def run(self) -> None:
        """The batcher thread: collect batches and start flattening them, in order."""
        stopping = False
        while not stopping:
            batch, flushes, stopping = self._collect(self._queue.get())
            tables = None
            if batch and not self._abandon.is_set():
                tables = self._flattener.submit(serialized(batch))
            self.output.put(Flattening(batch, tables, flushes))
        self.output.put(Stop())

    def _collect(self, first: _Entry) -> tuple[list[QueuedRequest], list[Flush], bool]:
        """Gather one batch: until full, timed out, or a flush or stop arrives."""
        batch: list[QueuedRequest] = []
        flushes: list[Flush] = []
        entry = first
        items = 0
        deadline = time.monotonic() + self.max_delay
        while True:
            if isinstance(entry, Stop):
                return batch, flushes, True
            if isinstance(entry, Flush):
                flushes.append(entry)
                return batch, flushes, False
            batch.append(entry)
            items += entry.items
            if items >= self.max_items:
                return batch, flushes, False
            try:
                # Whatever is queued already joins the batch, even past the deadline.
                entry = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return batch, flushes, False
                try:
                    entry = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch, flushes, False


def serialized(batch: Sequence[QueuedRequest]) -> list[tuple[Signal, bytes]]:
    """(signal, serialized request) of each request, as flatten workers take them."""
    return [(request.signal, request.payload) for request in batch]
