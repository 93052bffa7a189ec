"""The single storage writer: batches queued requests into few, large ``Storage.write`` calls.

Storage is fastest with big inserts (see the DuckDB figures: 10k-row batches are 2.5 times
faster than 1k-row ones), so a batcher thread collects requests until a batch holds
``max_items`` spans/points/records or ``max_delay`` seconds have passed since its first
request, and hands it to a flatten worker process (``_flatten``). The writer thread
inserts the flattened batches in order, each in one transaction, while the worker
flattens the next one: DuckDB releases the interpreter lock while it inserts, so
flattening, inserting and the event loop run on separate cores. While a backlog lasts, the
writer joins flattened batches into one insert of up to ``max_insert_items`` rows: DuckDB
writes an insert of a whole row group (122,880 rows) straight to the database file,
compressed, instead of into its own log and memory until a checkpoint — a third less
writer time and a fraction of the memory. Queued requests are held
serialized, as they were logged: a third of the memory of parsed messages, and what a
worker needs anyway. A failed write is retried with jittered
exponential backoff for as long as it takes: the data is safe in the write-ahead log (or,
in memory mode, its sender is still waiting), so it is never dropped for being slow.
A request storage refuses for good is never dropped silently either: it is kept in the
dead-letter directory, or, in memory mode, its sender is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pyarrow as pa

from otelite.errors import PermanentError, Unavailable
from otelite.pipeline._flatten import FlattenPool, PendingTables
from otelite.pipeline._stats import PipelineStats
from otelite.storage import Storage, WriteBatch
from otelite.types import Signal

__all__ = ["BatchWriter", "QueuedRequest"]

logger = logging.getLogger(__name__)


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
class _Flush:
    done: asyncio.Future[None]


class _Stop:
    pass


@dataclass(slots=True)
class _Flattening:
    """A batch on its way from the batcher to the writer."""

    batch: list[QueuedRequest]
    tables: PendingTables | None
    flushes: list[_Flush]


class _Stopped(Exception):
    """Raised inside the writer when told to give up on a write that keeps failing."""


_Entry = QueuedRequest | _Flush | _Stop


class BatchWriter:
    """Owns the batcher and writer threads; every ``Storage.write`` goes through them.

    At most ``max_in_flight`` batches wait between the two (flattening or flattened), which
    bounds the memory their tables take; ``max_insert_items`` bounds one insert.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        flattener: FlattenPool,
        stats: PipelineStats,
        max_items: int,
        max_delay: float,
        retry_initial: float,
        retry_max: float,
        max_in_flight: int = 8,
        max_insert_items: int = 122_880,
        on_stored: Callable[[int], None] | None = None,
        dead_letter_dir: Path | None = None,
    ) -> None:
        self._storage = storage
        self._flattener = flattener
        self._dead_letter_dir = dead_letter_dir
        self._stats = stats
        self.max_items = max_items
        self._max_insert_items = max_insert_items
        self._max_delay = max_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._on_stored = on_stored
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self._flattening: queue.Queue[_Flattening | _Stop] = queue.Queue(max_in_flight)
        self._abandoned: list[QueuedRequest] = []
        self._abandon = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.bytes_done = 0
        """Serialized bytes stored so far; written by the writer thread only."""
        self.stored_position = 0
        """Highest WAL sequence stored by this writer."""
        self.last_error: str | None = None
        """Why the latest write failed; None once a write succeeds again."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the threads; futures of queued requests are resolved on ``loop``."""
        self._loop = loop
        self._threads = [
            threading.Thread(target=self._batch, name="otelite-batcher", daemon=True),
            threading.Thread(target=self._run, name="otelite-writer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def put(self, request: QueuedRequest) -> None:
        """Queue one durable (or, in memory mode, accepted) request. Thread-safe."""
        self._queue.put(request)

    def flush(self, done: asyncio.Future[None]) -> None:
        """Write everything queued before this call now; resolve ``done`` after."""
        self._queue.put(_Flush(done))

    def stop(self, *, abandon: bool) -> None:
        """Ask the threads to end after what is queued; ``abandon`` also ends retrying."""
        if abandon:
            self._abandon.set()
        self._queue.put(_Stop())

    def join(self) -> None:
        """Wait for the threads to end (blocking)."""
        for thread in self._threads:
            thread.join()

    def leftovers(self) -> list[QueuedRequest]:
        """Requests still queued after the threads ended (only after an abandon)."""
        left, self._abandoned = self._abandoned, []
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return left
            if isinstance(entry, QueuedRequest):
                left.append(entry)
            elif isinstance(entry, _Flush):
                self._resolve([entry.done])

    def write(self, batch: Sequence[QueuedRequest], tables: Sequence[PendingTables] = ()) -> None:
        """Flatten and store ``batch`` in one transaction, retrying until it succeeds (blocking).

        ``tables`` are the parts of ``batch`` already submitted to the flatten workers, in
        order, if they were (else it is flattened as one). A batch
        that cannot be flattened, or that storage rejects as permanently invalid, is split;
        a single request refused so goes to the dead letters (see ``_dead_letter``), so
        that one bad request cannot wedge ingest.
        """
        delay = self._retry_initial
        flattened: dict[str, pa.Table] | None = None
        while True:
            try:
                if flattened is None:
                    if not tables:
                        tables = [self._flattener.submit(_serialized(batch))]
                    # Taken now, so that a worker that died is asked again on a retry.
                    pending, tables = tables, ()
                    flattened = _concat([part.result() for part in pending])
                self._storage.write(WriteBatch(tables=flattened, wal_position=batch[-1].seq))
            except PermanentError as error:
                self._split(batch, error)
                return
            except Exception as error:
                self._stats.write_errors += 1
                delay = self._back_off(f"storage write failed ({error})", error, delay)
            else:
                self.last_error = None
                self._stats.batches_written += 1
                return

    def _back_off(self, what: str, error: Exception, delay: float) -> float:
        """Record ``error``, wait about ``delay`` seconds; return the next delay."""
        self.last_error = f"{type(error).__name__}: {error}"
        wait = delay * random.uniform(0.5, 1.5)
        logger.warning("%s; retrying in %.2fs", what, wait)
        if self._abandon.wait(wait):
            raise _Stopped from error
        return min(delay * 2, self._retry_max)

    def _split(self, batch: Sequence[QueuedRequest], error: PermanentError) -> None:
        if len(batch) > 1:
            for request in batch:
                self.write([request])
            return
        self._dead_letter(batch[0], error)

    def _dead_letter(self, request: QueuedRequest, error: PermanentError) -> None:
        """Keep a request storage refuses for good where a person can find it.

        With a data directory it is written, as sent (binary OTLP protobuf), to
        ``<data_dir>/dead-letter/<UTC time>-<WAL sequence>.<signal>.pb``, retrying like a
        storage write until that succeeds; in memory mode its waiting sender gets the error.
        """
        self._stats.dropped_requests += 1
        if request.done is not None:
            self._call_on_loop(functools.partial(_set_exception, error), [request.done])
            logger.error("storage refused a %s request as unstorable: %s", request.signal, error)
            return
        if self._dead_letter_dir is None:  # a writer built without one: say so loudly
            logger.error(
                "storage refused a %s request; no dead-letter directory, dropped: %s",
                request.signal,
                error,
            )
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self._dead_letter_dir / f"{stamp}-{request.seq}.{request.signal.value}.pb"
        payload = request.payload
        delay = self._retry_initial
        while True:
            try:
                self._dead_letter_dir.mkdir(parents=True, exist_ok=True)
                path.write_bytes(payload)
                break
            except OSError as failure:
                delay = self._back_off(
                    f"cannot write dead letter {path} ({failure})", failure, delay
                )
        logger.error(
            "storage refused a %s request (WAL sequence %s) as unstorable; kept in %s: %s",
            request.signal,
            request.seq,
            path,
            error,
        )

    def _batch(self) -> None:
        """The batcher thread: collect batches and start flattening them, in order."""
        stopping = False
        while not stopping:
            batch, flushes, stopping = self._collect(self._queue.get())
            tables = None
            if batch and not self._abandon.is_set():
                tables = self._flattener.submit(_serialized(batch))
            self._flattening.put(_Flattening(batch, tables, flushes))
        self._flattening.put(_Stop())

    def _run(self) -> None:
        """The writer thread: store the batches the batcher hands on, in order."""
        stopping = False
        while not stopping and not isinstance(first := self._flattening.get(), _Stop):
            group, stopping = self._gather(first)
            batch = [request for entry in group for request in entry.batch]
            flushes = [flush.done for entry in group for flush in entry.flushes]
            if batch:
                parts = [entry.tables for entry in group if entry.batch]
                try:
                    self.write(batch, [] if None in parts else cast(list[PendingTables], parts))
                except _Stopped:
                    self._fail([r.done for r in batch if r.done is not None])
                    self._resolve(flushes)
                    if not stopping:
                        self._abandon_rest()
                    return
                self._stored(batch)
            self._resolve(flushes)

    def _gather(self, first: _Flattening) -> tuple[list[_Flattening], bool]:
        """``first`` and, while more requests wait, the batches after it, up to one insert.

        Returns the group and whether the batcher has stopped. Without a backlog the group
        is ``first`` alone, so nothing waits for company; a flush ends a group.
        """
        group = [first]
        items = sum(request.items for request in first.batch)
        while items < self._max_insert_items and not group[-1].flushes:
            try:
                entry = self._flattening.get_nowait()
            except queue.Empty:
                if self._queue.empty():
                    break
                entry = self._flattening.get()  # on its way: the batcher holds requests
            if isinstance(entry, _Stop):
                return group, True
            group.append(entry)
            items += sum(request.items for request in entry.batch)
        return group, False

    def _abandon_rest(self) -> None:
        """After giving up: keep what the batcher still hands on for ``leftovers``."""
        while not isinstance(entry := self._flattening.get(), _Stop):
            self._abandoned.extend(entry.batch)
            self._resolve([flush.done for flush in entry.flushes])

    def _collect(self, first: _Entry) -> tuple[list[QueuedRequest], list[_Flush], bool]:
        """Gather one batch: until full, timed out, or a flush or stop arrives."""
        batch: list[QueuedRequest] = []
        flushes: list[_Flush] = []
        entry = first
        items = 0
        deadline = time.monotonic() + self._max_delay
        while True:
            if isinstance(entry, _Stop):
                return batch, flushes, True
            if isinstance(entry, _Flush):
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

    def _stored(self, batch: Sequence[QueuedRequest]) -> None:
        self.bytes_done += sum(request.size for request in batch)
        self._resolve([request.done for request in batch if request.done is not None])
        last_seq = batch[-1].seq
        if last_seq is not None:
            self.stored_position = last_seq
            if self._on_stored is not None:
                self._on_stored(last_seq)

    def _resolve(self, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            self._call_on_loop(_set_results, futures)

    def _fail(self, futures: list[asyncio.Future[None]]) -> None:
        if futures:
            self._call_on_loop(_set_unavailable, futures)

    def _call_on_loop(
        self,
        callback: Callable[[list[asyncio.Future[None]]], None],
        futures: list[asyncio.Future[None]],
    ) -> None:
        assert self._loop is not None
        # A closed loop raises RuntimeError: nobody is waiting for these futures any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, futures)


def _concat(parts: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """The tables of consecutive batches as one set (chunked, nothing copied)."""
    if len(parts) == 1:
        return parts[0]
    names = dict.fromkeys(name for part in parts for name in part)
    return {name: pa.concat_tables([p[name] for p in parts if name in p]) for name in names}


def _serialized(batch: Sequence[QueuedRequest]) -> list[tuple[Signal, bytes]]:
    return [(request.signal, request.payload) for request in batch]


def _set_results(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def _set_exception(error: Exception, futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(error)


def _set_unavailable(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(
                Unavailable("otelite shut down before storage accepted the request")
            )
