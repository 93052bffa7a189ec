"""Group commit: many concurrent requests share one write-ahead-log write and fsync.

An fsync costs from tens of microseconds to many milliseconds, far more than handling a
request, so requests that arrive while one sync is running wait for the next and are
synced together. At most one sync runs at a time, in a thread so the event loop keeps
serving; groups are synced, and handed on, in sequence order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable

from otelite.pipeline._batcher import QueuedRequest
from otelite.pipeline._stats import PipelineStats
from otelite.pipeline._wal import WriteAheadLog
from otelite.types import Signal

__all__ = ["GroupCommitter"]


class GroupCommitter:
    """Collects requests on the event loop and syncs them to the log in groups."""

    def __init__(
        self,
        wal: WriteAheadLog,
        *,
        stats: PipelineStats,
        on_durable: Callable[[QueuedRequest], None],
    ) -> None:
        self._wal = wal
        self._stats = stats
        self._on_durable = on_durable
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "otelite-wal")
        self._requests: list[QueuedRequest] = []
        self._records: list[tuple[int, Signal, bytes]] = []
        self._group: asyncio.Future[Exception | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.bytes_failed = 0
        """Serialized bytes of requests that never made it into the log."""
        self.last_error: Exception | None = None
        """The error of the latest group; None once a group is synced again."""

    def submit(self, request: QueuedRequest, payload: bytes) -> asyncio.Future[Exception | None]:
        """Queue one request (with its serialized form) for the next group.

        The future resolves once its group is synced: to None, or to the error (usually
        an ``OSError``) that kept it from the log; the request is then not handed on.
        Call on the event loop.
        """
        assert request.seq is not None
        self._requests.append(request)
        self._records.append((request.seq, request.signal, payload))
        if self._group is None:
            self._group = asyncio.get_running_loop().create_future()
        group = self._group
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return group

    async def idle(self) -> None:
        """Wait until every submitted request is synced (or failed)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Release the sync thread. Call when idle."""
        self._executor.shutdown(wait=True)

    def _append(self, records: list[tuple[int, Signal, bytes]]) -> float:
        """Write and fsync ``records`` (in the sync thread); how long that took."""
        started = time.perf_counter()
        self._wal.append(records)
        return time.perf_counter() - started

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._requests:
                requests, self._requests = self._requests, []
                records, self._records = self._records, []
                group, self._group = self._group, None
                assert group is not None
                try:
                    seconds = await loop.run_in_executor(self._executor, self._append, records)
                except Exception as error:
                    # An OSError is the expected case (disk full, I/O error); anything
                    # else must still answer the waiting senders rather than strand them.
                    self.last_error = error
                    self.bytes_failed += sum(request.size for request in requests)
                    group.set_result(error)
                    continue
                self.last_error = None
                self._stats.wal_syncs += 1
                self._stats.wal_sync_seconds.observe(seconds)
                for request in requests:
                    self._on_durable(request)
                group.set_result(None)
        finally:
            self._task = None
