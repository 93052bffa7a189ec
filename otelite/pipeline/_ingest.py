"""The ingest pipeline: receivers → write-ahead log → batching writer → storage.

``consume`` acknowledges a request once it is durable: synced to the write-ahead log
(with a data directory) or committed to storage (in memory mode). Behind the log, one
writer stores requests in large batches, each tagged with the highest log sequence it
holds, flattening them in a worker process (``FlattenPool``); on start, the log is replayed
past the position storage reports, so every acknowledged request is stored exactly once,
crash or not.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from pathlib import Path

from opentelemetry.trace import Tracer

from otelite.config import Limits
from otelite.errors import Overloaded, Unavailable
from otelite.pipeline._align import Progress
from otelite.pipeline._batcher import QueuedRequest
from otelite.pipeline._consumer import parsed, serialized
from otelite.pipeline._drain import DrainEstimate
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._group_commit import GroupCommitter
from otelite.pipeline._stats import PipelineHealth, PipelineReport, PipelineStats, count_items
from otelite.pipeline._wal import WriteAheadLog
from otelite.pipeline._writer import BatchWriter
from otelite.storage import Storage
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["IngestPipeline"]

logger = logging.getLogger(__name__)


class _State(enum.Enum):
    NEW = "not started"
    STARTING = "replaying the write-ahead log"
    RUNNING = "running"
    STOPPING = "shutting down"
    STOPPED = "shut down"


class IngestPipeline:
    """Makes accepted requests durable, then stores them in batches. A ``Consumer``.

    ``wal_dir`` is the log's directory (``<data_dir>/wal``, created if missing); None is
    memory mode: no log, and ``consume`` waits for storage instead.
    Batches close at ``max_batch_items`` spans/points/records or ``max_batch_delay``
    seconds after their first request (in memory mode, as soon as the queue is empty).
    Failed storage writes are retried with jittered exponential backoff from
    ``retry_initial`` up to ``retry_max`` seconds. ``flattener`` is the worker pool that
    turns requests into rows; pipelines may share one (by default each starts its own,
    with one worker, and closes it on shutdown). While a backlog lasts, spans and log
    records are inserted in whole multiples of ``row_group_rows`` (``_align``; by default
    the backend's ``insert_rows``). ``stats`` is where it counts (a new one by default).
    ``tracer`` traces each storage write (otelite's own telemetry; none by default).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        wal_dir: Path | None,
        limits: Limits,
        max_batch_items: int = 20_000,
        max_batch_delay: float = 0.2,
        wal_segment_bytes: int = 64 * 1024 * 1024,
        retry_initial: float = 0.1,
        retry_max: float = 30.0,
        flattener: FlattenPool | None = None,
        row_group_rows: int | None = None,
        stats: PipelineStats | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._storage = storage
        self._owns_flattener = flattener is None
        self._flattener = FlattenPool() if flattener is None else flattener
        self._wal_dir = wal_dir
        self._limits = limits
        self._segment_bytes = wal_segment_bytes
        self.stats = PipelineStats() if stats is None else stats
        self._writer = BatchWriter(
            storage,
            flattener=self._flattener,
            stats=self.stats,
            max_items=max_batch_items,
            # Senders wait for storage in memory mode, so holding a batch back only
            # adds latency; it fills by itself with what queues while a write runs.
            max_delay=max_batch_delay if wal_dir is not None else 0.0,
            retry_initial=retry_initial,
            retry_max=retry_max,
            max_insert_items=row_group_rows or storage.insert_rows,
            on_stored=self._release_wal,
            dead_letter_dir=None if wal_dir is None else wal_dir.parent / "dead-letter",
            tracer=tracer,
        )
        self._wal: WriteAheadLog | None = None
        self._committer: GroupCommitter | None = None
        self._next_seq = 1
        self._bytes_in = 0
        """Serialized bytes taken in by ``consume``; see ``queued_bytes``."""
        self._drain = DrainEstimate(ceiling=limits.retry_after_seconds)
        self._state = _State.NEW

    @property
    def queued_bytes(self) -> int:
        """Accepted (or being logged) bytes not yet stored."""
        # Each term has one writing thread, so this needs no lock.
        failed = self._committer.bytes_failed if self._committer is not None else 0
        return self._bytes_in - self._writer.bytes_done - failed

    def report(self, tenant: str) -> PipelineReport:
        """Counts, queue and log size now, for otelite's own metrics (blocking: it looks
        at the log's files)."""
        wal_bytes = 0 if self._wal is None else self._wal.size_bytes()
        return PipelineReport(tenant, self.stats, self.queued_bytes, wal_bytes)

    def drain_seconds(self) -> float:
        """When half the queue's bound will have been stored, at the recent rate: what a
        refused client is told to wait (whole seconds, 1 up to ``retry_after_seconds``), so
        that senders come back while storage still has work, with room for them."""
        return self._drain.seconds(self._limits.max_queue_bytes // 2, self._writer.bytes_done)

    @property
    def ready(self) -> bool:
        """Whether requests are being accepted and stored now (for a readiness probe)."""
        return self.health().ready

    def health(self) -> PipelineHealth:
        """Ready, or the reason it is not: starting, storage or WAL failing, shut down."""
        if self._state is not _State.RUNNING:
            return PipelineHealth(False, self._state.value)
        if self._committer is not None and self._committer.last_error is not None:
            return PipelineHealth(
                False, f"write-ahead log cannot be written: {self._committer.last_error}"
            )
        if self._writer.last_error is not None:
            return PipelineHealth(
                False, f"storage writes failing, retrying: {self._writer.last_error}"
            )
        return PipelineHealth(True, "ok")

    async def start(self) -> None:
        """Open the write-ahead log, store what it holds beyond storage, then accept."""
        if self._state is not _State.NEW:
            raise RuntimeError(f"IngestPipeline.start() called when {self._state.value}")
        self._state = _State.STARTING
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._flattener.start)
        except BaseException:
            await self._close_flattener()
            self._state = _State.STOPPED
            raise
        if self._wal_dir is not None:
            try:
                self._wal = await loop.run_in_executor(None, self._replay, self._wal_dir)
            except OSError as error:
                await self._close_flattener()
                self._state = _State.STOPPED
                raise Unavailable(
                    f"cannot open the write-ahead log in {self._wal_dir}: {error}"
                ) from error
            except BaseException:
                await self._close_flattener()
                self._state = _State.STOPPED
                raise
            self._committer = GroupCommitter(
                self._wal, stats=self.stats, on_durable=self._writer.put
            )
        self._writer.start(loop)
        self._state = _State.RUNNING

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        """Accept one request; returns once it is durable (see the module docstring).

        ``payload`` is what the log keeps (and the writer stores) when given: a binary
        protobuf serialization of ``request``; without it, ``request`` is serialized here.
        ``items`` spares parsing ``payload`` when no ``request`` is given.

        Raises ``Overloaded`` when too much accepted data waits for storage and
        ``Unavailable`` when not running or the write-ahead log cannot be written.
        """
        if self._state is not _State.RUNNING:
            self.stats.rejected_unavailable += 1
            raise Unavailable(
                f"otelite is {self._state.value}, not accepting data",
                retry_after=self._limits.retry_after_seconds,
            )
        queued = self.queued_bytes
        self._drain.note(self._writer.bytes_done)
        if queued >= self._limits.max_queue_bytes:
            self.stats.rejected_overloaded += 1
            raise Overloaded(
                f"ingest queue is full: {queued} bytes wait for storage "
                f"(limit max_queue_bytes={self._limits.max_queue_bytes}); retry later",
                retry_after=self.drain_seconds(),
            )
        payload = serialized(request, payload)
        size = len(payload)
        if items is None:
            items = count_items(parsed(signal, request, payload))
        self._bytes_in += size
        if self._committer is None:
            done = asyncio.get_running_loop().create_future()
            self._writer.put(QueuedRequest(None, signal, payload, size, items, done))
            await done
        else:
            queued_request = QueuedRequest(self._next_seq, signal, payload, size, items)
            self._next_seq += 1
            error = await asyncio.shield(self._committer.submit(queued_request))
            if error is not None:
                self.stats.rejected_unavailable += 1
                raise Unavailable(
                    f"cannot write the write-ahead log in {self._wal_dir}: {error}",
                    retry_after=self._limits.retry_after_seconds,
                ) from error
        self._count(signal, items, size)

    async def flush(self) -> None:
        """Wait until everything accepted so far is committed to storage.

        While storage is failing this waits for it to recover; bound it with a timeout.
        """
        if self._state in (_State.NEW, _State.STARTING, _State.STOPPED):
            return
        if self._committer is not None:
            await self._committer.idle()
        done = asyncio.get_running_loop().create_future()
        self._writer.flush(done)
        await done

    async def shutdown(self, *, drain_timeout: float = 30.0) -> None:
        """Stop accepting, store what is queued, close the log. Idempotent.

        If storage cannot take the queued data within ``drain_timeout`` seconds, it stays
        in the write-ahead log for the next start (in memory mode it is lost, and its
        senders get ``Unavailable``).
        """
        if self._state in (_State.STOPPING, _State.STOPPED):
            return
        running = self._state is _State.RUNNING
        self._state = _State.STOPPING
        loop = asyncio.get_running_loop()
        abandon = False
        if running:
            try:
                await asyncio.wait_for(self.flush(), drain_timeout)
            except TimeoutError:
                abandon = True
                logger.warning(
                    "storage did not take %d queued bytes within %.0fs; %s",
                    self.queued_bytes,
                    drain_timeout,
                    "they stay in the write-ahead log"
                    if self._wal is not None
                    else "they are lost (memory mode)",
                )
            self._writer.stop(abandon=abandon)
            await loop.run_in_executor(None, self._writer.join)
            for request in self._writer.leftovers():
                if request.done is not None and not request.done.done():
                    request.done.set_exception(
                        Unavailable(
                            "otelite shut down before storage accepted the request",
                            retry_after=self._limits.retry_after_seconds,
                        )
                    )
        if self._committer is not None:
            await self._committer.idle()
            self._committer.close()
        if self._wal is not None:
            await loop.run_in_executor(None, self._wal.close, self._writer.stored_position)
        await self._close_flattener()
        self._state = _State.STOPPED

    async def _close_flattener(self) -> None:
        if self._owns_flattener:
            await asyncio.get_running_loop().run_in_executor(None, self._flattener.close)

    def _replay(self, wal_dir: Path) -> WriteAheadLog:
        """Open the log and store every record beyond storage's position (blocking)."""
        position = self._storage.wal_position()
        progress = Progress.decode(self._storage.ingest_state())
        self._writer.resume(progress)
        wal = WriteAheadLog.open(wal_dir, segment_bytes=self._segment_bytes)
        wal.release(position)
        batch: list[QueuedRequest] = []
        items = 0
        for record in wal.records(after=position):
            if progress.stored(record.seq, record.signal):
                continue  # stored entirely, after a request of another signal still carried
            count = count_items(record.signal.request_type.FromString(record.payload))
            batch.append(QueuedRequest(record.seq, record.signal, record.payload, 0, count))
            items += count
            if items >= self._writer.max_items:
                self._store_replayed(wal, batch)
                batch, items = [], 0
        if batch:
            self._store_replayed(wal, batch)
        self._writer.stored_position = max(position, self._writer.stored_position)
        self._next_seq = max(wal.last_seq, position) + 1
        if self.stats.replayed_requests:
            logger.info(
                "replayed %d requests from the write-ahead log", self.stats.replayed_requests
            )
        return wal

    def _store_replayed(self, wal: WriteAheadLog, batch: list[QueuedRequest]) -> None:
        self._writer.write(batch)
        self.stats.replayed_requests += len(batch)
        last_seq = batch[-1].seq
        assert last_seq is not None
        self._writer.stored_position = last_seq
        wal.release(last_seq)

    def _release_wal(self, position: int) -> None:
        if self._wal is not None:
            self._wal.release(position)

    def _count(self, signal: Signal, items: int, size: int) -> None:
        stats = self.stats
        stats.requests += 1
        stats.bytes_accepted += size
        stats.count_accepted(signal, items)
