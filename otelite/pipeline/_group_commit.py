"""Group commit: many concurrent requests share one write-ahead-log write and fsync.

An fsync costs from tens of microseconds to many milliseconds, far more than handling a
request, so requests that arrive while one sync is running wait for the next and are
synced together. At most one sync runs at a time, in a thread so the event loop keeps
serving; groups are synced, and handed on, in submission order.

``GroupSync`` is the mechanism, for any log: what a group's write is, and what follows it
or its failure (run on the event loop before the group's waiters are woken, so it runs
even for a waiter that was cancelled meanwhile), are given to it. ``GroupCommitter`` is
the ingest write-ahead log's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from otelite.pipeline._batcher import QueuedRequest
from otelite.pipeline._stats import PipelineStats
from otelite.pipeline._wal import WriteAheadLog

__all__ = ["GroupCommitter", "GroupSync"]

_Item = TypeVar("_Item")
_Written = TypeVar("_Written")


class GroupSync(Generic[_Item, _Written]):
    """Collects items on the event loop and writes them in groups with ``write`` (in a
    thread of its own, named ``name``). ``synced`` gets a group and what ``write``
    answered; ``failed`` gets a group and the error ``write`` raised."""

    def __init__(
        self,
        write: Callable[[list[_Item]], _Written],
        *,
        name: str,
        synced: Callable[[list[_Item], _Written], None],
        failed: Callable[[list[_Item], Exception], None],
    ) -> None:
        self._write = write
        self._synced = synced
        self._failed = failed
        self._executor = concurrent.futures.ThreadPoolExecutor(1, name)
        self._items: list[_Item] = []
        self._group: asyncio.Future[Exception | None] | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: _Item) -> asyncio.Future[Exception | None]:
        """Queue ``item`` for the next group. The future resolves once its group is
        written: to None, or to the error that kept it out. Call on the event loop."""
        self._items.append(item)
        loop = asyncio.get_running_loop()
        if self._group is None:
            self._group = loop.create_future()
        group = self._group
        if self._task is None:
            self._task = loop.create_task(self._run())
        return group

    async def idle(self) -> None:
        """Wait until every submitted item is written (or failed)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Release the writing thread. Call when idle."""
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._items:
                items, self._items = self._items, []
                group, self._group = self._group, None
                assert group is not None
                try:
                    written = await loop.run_in_executor(self._executor, self._write, items)
                except Exception as error:
                    # An OSError is the expected case (disk full, I/O error); anything
                    # else must still answer the waiting senders rather than strand them.
                    self._failed(items, error)
                    group.set_result(error)
                    continue
                self._synced(items, written)
                group.set_result(None)
        finally:
            self._task = None


class GroupCommitter:
    """Syncs requests to the ingest write-ahead log in groups."""

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
        self._sync = GroupSync[QueuedRequest, float](
            self._append, name="otelite-wal", synced=self._synced, failed=self._failed
        )
        self.bytes_failed = 0
        """Serialized bytes of requests that never made it into the log."""
        self.last_error: Exception | None = None
        """The error of the latest group; None once a group is synced again."""

    def submit(self, request: QueuedRequest) -> asyncio.Future[Exception | None]:
        """Queue one request for the next group.

        The future resolves once its group is synced: to None, or to the error (usually
        an ``OSError``) that kept it from the log; the request is then not handed on.
        Call on the event loop.
        """
        assert request.seq is not None
        return self._sync.submit(request)

    async def idle(self) -> None:
        """Wait until every submitted request is synced (or failed)."""
        await self._sync.idle()

    def close(self) -> None:
        """Release the sync thread. Call when idle."""
        self._sync.close()

    def _append(self, requests: list[QueuedRequest]) -> float:
        """Write and fsync ``requests`` (in the sync thread); how long that took."""
        records = []
        for request in requests:
            assert request.seq is not None  # checked by submit
            records.append((request.seq, request.signal, request.payload))
        started = time.perf_counter()
        self._wal.append(records)
        return time.perf_counter() - started

    def _synced(self, requests: list[QueuedRequest], seconds: float) -> None:
        self.last_error = None
        self._stats.wal_syncs += 1
        self._stats.wal_sync_seconds.observe(seconds)
        for request in requests:
            self._on_durable(request)

    def _failed(self, requests: list[QueuedRequest], error: Exception) -> None:
        self.last_error = error
        self.bytes_failed += sum(request.size for request in requests)
