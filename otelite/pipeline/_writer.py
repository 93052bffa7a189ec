"""The single storage writer: stores the batcher's flattened batches in few, large inserts.

The batcher (``_batcher``) collects queued requests into batches and hands each to a
flatten worker process (``_flatten``); the writer thread inserts the flattened batches in
order, each in one transaction, while the worker flattens the next one: DuckDB releases
the interpreter lock while it inserts, so flattening, inserting and the event loop run on
separate cores. While a backlog lasts, the writer joins flattened batches and inserts
spans and log records in whole multiples of the backend's insert size (DuckDB's row
group, which it writes straight to its file, compressed); the rows beyond wait for the
next batch (``_align`` says how a request split so is still stored exactly once). A failed write
is retried with jittered exponential backoff for as long as it takes: the data is safe in
the write-ahead log (or, in memory mode, its sender is still waiting), so it is never
dropped for being slow. A request storage refuses for good is never dropped silently
either: it is kept in the dead-letter directory, or, in memory mode, its sender is told.
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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pyarrow as pa
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Tracer

from otelite.errors import PermanentError, Unavailable
from otelite.pipeline._align import InsertPlan, Progress, RowGroupAligner
from otelite.pipeline._batcher import (
    Batcher,
    Flattening,
    Flush,
    QueuedRequest,
    Stop,
    serialized,
)
from otelite.pipeline._flatten import FlattenPool, PendingTables
from otelite.pipeline._stats import PipelineStats
from otelite.storage import Storage, WriteBatch

__all__ = ["BatchWriter"]

logger = logging.getLogger(__name__)


class _Stopped(Exception):
    """Raised inside the writer when told to give up on a write that keeps failing."""


class BatchWriter:
    """Owns the batcher and writer threads; every ``Storage.write`` goes through them.

    At most ``max_in_flight`` batches wait between the two (flattening or flattened), which
    bounds the memory their tables take. While a backlog lasts (a batch filled a row group
    with more waiting, in the last ``max_carry_seconds``), spans and log records go in
    whole row groups of ``max_insert_items`` rows (``_align``); rows beyond wait for the
    next batch, at most ``max_carry_seconds``, and go in anyway when no batch comes for
    0.2 s, or on a flush or stop. Without a backlog every batch goes in whole at once.
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
        max_carry_seconds: float = 2.0,
        on_stored: Callable[[int], None] | None = None,
        dead_letter_dir: Path | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._storage = storage
        self._tracer = tracer or NoOpTracer()
        self._flattener = flattener
        self._dead_letter_dir = dead_letter_dir
        self._stats = stats
        self._max_insert_items = max_insert_items
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._on_stored = on_stored
        self._abandon = threading.Event()
        self._batcher = Batcher(
            flattener,
            max_items=max_items,
            max_delay=max_delay,
            max_in_flight=max_in_flight,
            abandon=self._abandon,
        )
        self._abandoned: list[QueuedRequest] = []
        self._aligner = RowGroupAligner(rows=max_insert_items)
        self._max_carry_seconds = max_carry_seconds
        self._carried_since: float | None = None
        self._backlog_until = 0.0
        """Until when rows are carried through pauses: a backlog was seen lately."""
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
            threading.Thread(target=self._batcher.run, name="otelite-batcher", daemon=True),
            threading.Thread(target=self._run, name="otelite-writer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def resume(self, progress: Progress) -> None:
        """Continue from what storage recorded (before replaying the log; see ``_align``)."""
        self._aligner = RowGroupAligner(progress=progress, rows=self._max_insert_items)

    @property
    def max_items(self) -> int:
        """Spans, points or records that close a batch."""
        return self._batcher.max_items

    def put(self, request: QueuedRequest) -> None:
        """Queue one durable (or, in memory mode, accepted) request. Thread-safe."""
        self._batcher.put(request)

    def flush(self, done: asyncio.Future[None]) -> None:
        """Write everything queued before this call now; resolve ``done`` after."""
        self._batcher.put(Flush(done))

    def stop(self, *, abandon: bool) -> None:
        """Ask the threads to end after what is queued; ``abandon`` also ends retrying."""
        if abandon:
            self._abandon.set()
        self._batcher.put(Stop())

    def join(self) -> None:
        """Wait for the threads to end (blocking)."""
        for thread in self._threads:
            thread.join()

    def leftovers(self) -> list[QueuedRequest]:
        """Requests still queued after the threads ended (only after an abandon)."""
        left, self._abandoned = self._abandoned, []
        # Requests whose rows were partly stored: in memory mode their senders are told.
        left.extend(cast(list[QueuedRequest], self._aligner.open_requests()))
        for entry in self._batcher.take_queued():
            if isinstance(entry, QueuedRequest):
                left.append(entry)
            else:
                self._resolve([entry.done])
        return left

    def write(
        self,
        batch: Sequence[QueuedRequest],
        tables: Sequence[PendingTables] = (),
        *,
        drain: bool = True,
    ) -> None:
        """Flatten ``batch`` and store it, retrying until that succeeds (blocking).

        ``tables`` are the parts of ``batch`` already submitted to the flatten workers, in
        order, if they were (else it is flattened as one). Unless ``drain``, rows beyond
        whole row groups wait for the next write (``_align``); each insert is one
        transaction, and requests count as stored once all their rows are. A batch that
        cannot be flattened, or that storage rejects as permanently invalid, is split; a
        single request refused so goes to the dead letters (see ``_dead_letter``), so
        that one bad request cannot wedge ingest.
        """
        signals = sorted({request.signal.value for request in batch})
        with self._tracer.start_as_current_span(
            "write",
            attributes={
                "otelite.requests": len(batch),
                "otelite.items": sum(request.items for request in batch),
                "otelite.signals": signals,
            },
        ):
            flattened = self._flatten(batch, tables)
            if flattened is None:
                return
            try:
                self._store(self._aligner.plan(batch, flattened, drain=drain))
            except PermanentError as error:
                self._isolate()
                self._split(batch, error)

    def _flatten(
        self, batch: Sequence[QueuedRequest], tables: Sequence[PendingTables]
    ) -> dict[str, pa.Table] | None:
        """``batch`` as rows, retrying failures; None when it was split instead."""
        delay = self._retry_initial
        with self._tracer.start_as_current_span("flatten"):
            while True:
                try:
                    if not tables:
                        tables = [self._flattener.submit(serialized(batch))]
                    # Taken now, so that a worker that died is asked again on a retry.
                    pending, tables = tables, ()
                    flattened = _concat([part.result() for part in pending])
                    for part in pending:
                        self._stats.flatten_seconds.observe(part.seconds)
                    return flattened
                except PermanentError as error:
                    self._split(batch, error)
                    return None
                except Exception as error:
                    self._stats.write_errors += 1
                    delay = self._back_off(f"flattening failed ({error})", error, delay)

    def _store(self, plan: InsertPlan) -> None:
        """Write ``plan`` in one transaction, retrying failures storage may recover from;
        then count what it stored. ``PermanentError`` propagates, nothing adopted."""
        delay = self._retry_initial
        while True:
            try:
                if plan.tables or plan.done:
                    rows = sum(table.num_rows for table in plan.tables.values())
                    with self._tracer.start_as_current_span(
                        "insert", attributes={"otelite.rows": rows}
                    ):
                        started = time.perf_counter()
                        self._storage.write(
                            WriteBatch(
                                tables=plan.tables,
                                wal_position=plan.wal_position,
                                ingest_state=plan.progress.encode(),
                            )
                        )
                        self._stats.write_seconds.observe(time.perf_counter() - started)
            except PermanentError:
                raise
            except Exception as error:
                self._stats.write_errors += 1
                delay = self._back_off(f"storage write failed ({error})", error, delay)
            else:
                self._aligner.commit(plan)
                self.last_error = None
                self._stats.batches_written += 1
                self._stored(cast(list[QueuedRequest], plan.done), plan.wal_position)
                return

    def _back_off(self, what: str, error: Exception, delay: float) -> float:
        """Record ``error``, wait about ``delay`` seconds; return the next delay."""
        self.last_error = f"{type(error).__name__}: {error}"
        wait = delay * random.uniform(0.5, 1.5)
        trace.get_current_span().record_exception(error, {"otelite.retry_in_seconds": wait})
        logger.warning("%s; retrying in %.2fs", what, wait)
        if self._abandon.wait(wait):
            raise _Stopped from error
        return min(delay * 2, self._retry_max)

    def _split(self, batch: Sequence[QueuedRequest], error: PermanentError) -> None:
        """Write ``batch`` request by request; one refused alone goes to the dead letters."""
        if len(batch) > 1:
            for request in batch:
                self.write([request])
            return
        self._dead_letter(batch[0], error)
        self._forget(batch[0])

    def _isolate(self) -> None:
        """After storage refused an insert: store the rows carried for earlier requests
        request by request, dead-lettering any it refuses (its rows already stored stay)."""
        for request, rows in self._aligner.isolate():
            try:
                self._store(self._aligner.plan([], rows, drain=True))
            except PermanentError as error:
                self._dead_letter(cast(QueuedRequest, request), error)
                self._aligner.drop(request)
                self._store(self._aligner.plan([], {}, drain=True))

    def _forget(self, request: QueuedRequest) -> None:
        """Count a dead-lettered request (none of it stored) as done."""
        self._store(self._aligner.plan([replace(request, items=0)], {}, drain=True))

    def _dead_letter(self, request: QueuedRequest, error: PermanentError) -> None:
        """Keep a request storage refuses for good where a person can find it.

        With a data directory it is written, as sent (binary OTLP protobuf), to
        ``<data_dir>/dead-letter/<UTC time>-<WAL sequence>.<signal>.pb``, retrying like a
        storage write until that succeeds; in memory mode its waiting sender gets the error.
        """
        self._stats.dropped_requests += 1
        trace.get_current_span().add_event(
            "dead letter", {"otelite.signal": request.signal.value, "exception.message": str(error)}
        )
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

    def _run(self) -> None:
        """The writer thread: store the batches the batcher hands on, in order."""
        stopping = False
        while not stopping:
            first = self._next()
            if isinstance(first, Flattening):
                group, stopping, full = self._gather(first)
            else:  # the batcher stopped, or rows are carried and nothing came for a while
                group, stopping, full = [], first is not None, False
            batch = [request for entry in group for request in entry.batch]
            flushes = [flush.done for entry in group for flush in entry.flushes]
            now = time.monotonic()
            if full:  # a backlog: keep carrying through short pauses for a while
                self._backlog_until = now + self._max_carry_seconds
            drain = (
                stopping
                or bool(flushes)
                or first is None
                or now >= self._backlog_until
                or self._carried_too_long()
            )
            try:
                if batch:
                    parts = [entry.tables for entry in group if entry.batch]
                    tables = [] if None in parts else cast(list[PendingTables], parts)
                    self.write(batch, tables, drain=drain)
                elif drain and self._aligner.carried_rows:
                    self._drain_carried()
            except _Stopped:
                self._fail([r.done for r in batch if r.done is not None])
                self._resolve(flushes)
                if not stopping:
                    self._abandon_rest()
                return
            if not self._aligner.carried_rows:
                self._carried_since = None
            elif self._carried_since is None:
                self._carried_since = time.monotonic()
            self._resolve(flushes)

    def _carried_too_long(self) -> bool:
        since = self._carried_since
        return since is not None and time.monotonic() - since >= self._max_carry_seconds

    def _drain_carried(self) -> None:
        """Store every carried row now (the backlog paused, or a flush or stop came)."""
        try:
            self._store(self._aligner.plan([], {}, drain=True))
        except PermanentError:
            self._isolate()

    def _next(self) -> Flattening | Stop | None:
        """The next batch; None when rows are carried and none came for a short while."""
        output = self._batcher.output
        if not self._aligner.carried_rows:
            return output.get()
        try:
            return output.get(timeout=min(max(self._batcher.max_delay, 0.02), 0.2))
        except queue.Empty:
            return None

    def _gather(self, first: Flattening) -> tuple[list[Flattening], bool, bool]:
        """``first`` and, while more requests wait, the batches after it, up to one insert.

        Returns the group, whether the batcher has stopped, and whether the group filled
        a row group with more still waiting (a backlog). Without a backlog the group is
        ``first`` alone, so nothing waits for company; a flush ends a group.
        """
        group = [first]
        items = self._aligner.carried_rows + sum(request.items for request in first.batch)
        while items < self._max_insert_items and not group[-1].flushes:
            try:
                entry = self._batcher.output.get_nowait()
            except queue.Empty:
                if self._batcher.idle():
                    return group, False, False
                entry = self._batcher.output.get()  # on its way: the batcher holds requests
            if isinstance(entry, Stop):
                return group, True, False
            group.append(entry)
            items += sum(request.items for request in entry.batch)
        return group, False, items >= self._max_insert_items

    def _abandon_rest(self) -> None:
        """After giving up: keep what the batcher still hands on for ``leftovers``."""
        while not isinstance(entry := self._batcher.output.get(), Stop):
            self._abandoned.extend(entry.batch)
            self._resolve([flush.done for flush in entry.flushes])

    def _stored(self, done: Sequence[QueuedRequest], wal_position: int | None) -> None:
        """Count ``done`` as stored; everything up to ``wal_position`` is (None: unchanged)."""
        self.bytes_done += sum(request.size for request in done)
        self._resolve([request.done for request in done if request.done is not None])
        if wal_position is not None:
            self.stored_position = wal_position
            if self._on_stored is not None:
                self._on_stored(wal_position)

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
