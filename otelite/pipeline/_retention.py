"""Retention: deleting what is older than the retention, every few minutes, per store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from otelite.pipeline._stats import PipelineStats
from otelite.storage import Storage

__all__ = ["Retention", "RetentionTargets"]

log = logging.getLogger("otelite")

RetentionTargets = Callable[[], list[tuple[Storage, PipelineStats]]]
"""Each store to keep within the retention, and where its tenant counts what is deleted
(asked again on every pass, so that tenants opened meanwhile join)."""


class Retention:
    """Deletes data older than ``retention_seconds`` from every store ``targets`` names: at
    start, then every ``interval_seconds``. A store that expires rows itself (ClickHouse's
    TTL) deletes nothing here. ``start`` and ``shutdown`` run in the event loop; deletes
    run in a thread."""

    def __init__(
        self,
        targets: RetentionTargets,
        *,
        retention_seconds: float,
        interval_seconds: float = 300.0,
    ) -> None:
        self._targets = targets
        self._retention_seconds = retention_seconds
        self._interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def shutdown(self) -> None:
        """Stop, interrupting a pass (a delete already running finishes in its thread)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            cutoff = time.time_ns() - int(self._retention_seconds * 1e9)
            for storage, stats in self._targets():
                try:
                    deleted = await asyncio.to_thread(storage.delete_before, cutoff)
                except Exception:
                    log.exception("retention: deleting old data failed; will try again")
                    continue
                stats.retention_deleted_rows += deleted
                if deleted:
                    log.info(
                        "retention: deleted %d rows older than %.0fs",
                        deleted,
                        self._retention_seconds,
                    )
            await asyncio.sleep(self._interval_seconds)
