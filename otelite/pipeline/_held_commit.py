"""Group commit for the tail sampler's held requests: concurrent requests share one sync.

A ``GroupSync`` over the sampler's log. Sequence numbers are reserved when a request is
submitted, so groups are written in rising order. What to do once a request is synced is
a callback run on the event loop before its waiter is woken: it runs even if the waiter
was cancelled meanwhile (a client gone), so a synced request is never left unregistered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from otelite.pipeline._group_commit import GroupSync
from otelite.pipeline._sampling_log import SamplingLog

__all__ = ["HeldCommitter"]


@dataclass(frozen=True, slots=True)
class _Submitted:
    seq: int
    tenant: str
    payload: bytes
    then: Callable[[int], object]


class HeldCommitter:
    """Syncs held requests to the sampler's log in groups."""

    def __init__(self, log: SamplingLog) -> None:
        self._log = log
        self._sync = GroupSync[_Submitted, None](
            self._write, name="otelite-sampling", synced=self._synced, failed=self._failed
        )
        self.syncs = 0
        """Groups synced so far."""

    def submit(
        self, tenant: str, payload: bytes, then: Callable[[int], object]
    ) -> asyncio.Future[Exception | None]:
        """Queue a (tenant, serialized request) record for the next group.

        Once it is synced, ``then`` is called with its sequence number and the future
        resolves to None; if it could not be, its sequence is abandoned, ``then`` is not
        called and the future resolves to the error. Call on the event loop.
        """
        (seq,) = self._log.reserve(1)
        return self._sync.submit(_Submitted(seq, tenant, payload, then))

    async def idle(self) -> None:
        """Wait until every submitted request is synced (or failed)."""
        await self._sync.idle()

    def close(self) -> None:
        """Release the sync thread. Call when idle."""
        self._sync.close()

    def _write(self, group: list[_Submitted]) -> None:
        self._log.write([(item.seq, item.tenant, item.payload) for item in group])

    def _synced(self, group: list[_Submitted], _: None) -> None:
        self.syncs += 1
        for item in group:
            item.then(item.seq)

    def _failed(self, group: list[_Submitted], error: Exception) -> None:
        self._log.abandon([item.seq for item in group])
