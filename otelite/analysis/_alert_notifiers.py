"""A notifier per tenant: each tenant's alerts wait in an outbox in that tenant's directory.

Alerts are a tenant's data, so each tenant's outbox lives with the rest of its data and
goes when the tenant goes; the receivers are the process's (``--alert-webhook``), each
tenant's notifier posting to all of them with workers of its own. A tenant's notifier is
opened on its first alert, and at start for every tenant whose outbox exists, so that
what was pending before a restart is delivered without waiting for a new alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from otelite.analysis._alert_events import AlertEvent
from otelite.analysis._alert_notifier import Notifier, ReceiverReport
from otelite.analysis._alert_outbox import DeadLetter

__all__ = ["Notifiers"]


class Notifiers:
    """Every tenant's ``Notifier``: ``make(tenant)`` builds one (not started); ``existing()``
    names the tenants to open at start (blocking). ``start`` and ``shutdown`` run in the
    event loop."""

    def __init__(
        self, make: Callable[[str], Notifier], *, existing: Callable[[], Iterable[str]]
    ) -> None:
        self._make = make
        self._existing = existing
        self._notifiers: dict[str, Notifier] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        for tenant in await asyncio.to_thread(lambda: list(self._existing())):
            await self.of(tenant)

    async def of(self, tenant: str) -> Notifier:
        """``tenant``'s notifier, started (opened now if it was not)."""
        async with self._lock:
            if self._closed:
                raise RuntimeError("the notifiers are shut down")
            notifier = self._notifiers.get(tenant)
            if notifier is None:
                notifier = self._make(tenant)
                await notifier.start()
                self._notifiers[tenant] = notifier
            return notifier

    async def notify(self, tenant: str, alerts: Sequence[AlertEvent]) -> None:
        """Keep ``alerts`` of ``tenant`` durably for every receiver (then deliver them)."""
        await (await self.of(tenant)).notify(alerts)

    async def shutdown(self) -> None:
        """Stop every tenant's delivery; what is pending stays in the outboxes."""
        async with self._lock:
            self._closed = True
            notifiers, self._notifiers = list(self._notifiers.values()), {}
        for notifier in notifiers:
            await notifier.shutdown()

    def reports(self) -> list[tuple[str, ReceiverReport]]:
        """Each open tenant's receivers, as of now. Blocking (reads the outboxes)."""
        return [
            (tenant, report)
            for tenant, notifier in sorted(dict(self._notifiers).items())
            for report in notifier.reports()
        ]

    def dead_letters(self, tenant: str, receiver: str, limit: int) -> list[DeadLetter]:
        """The latest alert states of ``tenant`` given up on for ``receiver``. Blocking."""
        notifier = self._notifiers.get(tenant)
        return [] if notifier is None else notifier.dead_letters(receiver, limit)
