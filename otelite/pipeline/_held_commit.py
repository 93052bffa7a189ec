"""Group commit for the tail sampler's held pieces: concurrent requests share one sync.

The same idea as the ingest write-ahead log's ``GroupCommitter``: requests that arrive
while a sync runs wait for the next one and are synced together, at most one sync at a
time, in a thread of its own. Sequence numbers are reserved when a request is submitted,
so groups are written in rising order. What to do once a request's pieces are synced is
a callback run on the event loop, before its waiter is woken: it runs even if the waiter
was cancelled meanwhile (a client gone), so synced pieces are never left unregistered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable

from otelite.pipeline._sampling_log import SamplingLog

__all__ = ["HeldCommitter"]


class HeldCommitter:
    """Collects held pieces on the event loop and syncs them to the log in groups."""

    def __init__(self, log: SamplingLog) -> None:
        self._log = log
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "otelite-sampling")
        self._records: list[tuple[int, str, bytes]] = []
        self._then: list[tuple[Callable[[list[int]], None], list[int]]] = []
        self._group: asyncio.Future[Exception | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.syncs = 0
        """Groups synced so far."""

    def submit(
        self, pieces: list[tuple[str, bytes]], then: Callable[[list[int]], None]
    ) -> asyncio.Future[Exception | None]:
        """Queue (tenant, serialized piece) records for the next group.

        Once they are synced, ``then`` is called with their sequence numbers and the
        future resolves to None; if they could not be, their sequences are abandoned,
        ``then`` is not called and the future resolves to the error. Call on the loop.
        """
        seqs = self._log.reserve(len(pieces))
        self._records += [
            (seq, tenant, payload) for seq, (tenant, payload) in zip(seqs, pieces, strict=True)
        ]
        self._then.append((then, seqs))
        loop = asyncio.get_running_loop()
        if self._group is None:
            self._group = loop.create_future()
        group = self._group
        if self._task is None:
            self._task = loop.create_task(self._run())
        return group

    async def idle(self) -> None:
        """Wait until every submitted piece is synced (or failed)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Release the sync thread. Call when idle."""
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._records:
                records, self._records = self._records, []
                then, self._then = self._then, []
                group, self._group = self._group, None
                assert group is not None
                try:
                    await loop.run_in_executor(self._executor, self._log.write, records)
                except Exception as error:
                    # An OSError is the expected case; anything else must still answer
                    # the waiting requests rather than strand them.
                    self._log.abandon([seq for _, seqs in then for seq in seqs])
                    group.set_result(error)
                    continue
                self.syncs += 1
                for callback, seqs in then:
                    callback(seqs)
                group.set_result(None)
        finally:
            self._task = None
