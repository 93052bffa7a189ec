"""The background component that evaluates every tenant's SLOs on a schedule.

Each pass computes the status of every SLO (in a worker thread, one SLO after another)
and records its alerts' conditions in the tenant's ``AlertBook``, which saves any change
before it is handed to ``notify`` (the server's alert notifiers). A pass that
fails for one SLO (a PromQL query timing out, a store not answering) leaves that SLO's
alerts as they were, remembers the error for ``/api/v1/rules`` and goes on with the next.
What each evaluation found is kept too (``latest``), for a status asked for now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from otelite.analysis._openslo import SloDefinition
from otelite.analysis._slo_alerts import Transition
from otelite.analysis._slo_status import SloStatus, slo_status
from otelite.analysis._slo_store import SloCatalog
from otelite.storage import Storage

__all__ = ["DEFAULT_REPEAT_SECONDS", "NOTIFIERS", "Evaluation", "Notify", "SloEvaluator"]

log = logging.getLogger("otelite.slo")

Notify = Callable[[str, list[Transition]], Awaitable[None]]
"""Takes a tenant's alert changes for delivery, keeping them durably before it returns."""

DEFAULT_REPEAT_SECONDS = 4 * 3600.0
"""How long an alert fires before it is sent again: Alertmanager's default
``repeat_interval``."""

NOTIFIERS = "notifiers"
"""The receiver, in each ``AlertBook``, of the changes handed to ``notify``."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """How the last evaluation of one SLO went, and what it found."""

    at_ns: int
    seconds: float
    error: str | None = None
    status: SloStatus | None = None


class SloEvaluator:
    """Evaluates the SLOs of ``catalog`` every ``interval_seconds``, reading each tenant's
    ``storage_of(tenant)``; each PromQL query stops after ``timeout_seconds``. An alert
    still firing ``repeat_seconds`` after it was last handed on is handed on again (None:
    never). ``start`` and ``shutdown`` run in the event loop."""

    def __init__(
        self,
        catalog: SloCatalog,
        storage_of: Callable[[str], Storage],
        *,
        interval_seconds: float = 60.0,
        timeout_seconds: float | None = 60.0,
        notify: Notify | None = None,
        repeat_seconds: float | None = DEFAULT_REPEAT_SECONDS,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be positive, got {interval_seconds}")
        if repeat_seconds is not None and repeat_seconds <= 0:
            raise ValueError(f"repeat_seconds must be positive, got {repeat_seconds}")
        self._repeat_ns = None if repeat_seconds is None else int(repeat_seconds * 1e9)
        self.catalog = catalog
        self.interval_seconds = interval_seconds
        self._storage_of = storage_of
        self._timeout_seconds = timeout_seconds
        self._notify = notify
        self._task: asyncio.Task[None] | None = None
        self._last: dict[tuple[str, str], Evaluation] = {}
        self.counts: dict[tuple[str, str], int] = {}
        """Evaluations by tenant and outcome (``ok`` or ``error``), for ``/metrics``."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def shutdown(self) -> None:
        """Stop, interrupting a pass (an SLO being evaluated finishes in its thread)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def last(self, tenant: str, slo: str) -> Evaluation | None:
        """How the last evaluation of ``tenant``'s ``slo`` went; None before the first."""
        return self._last.get((tenant, slo))

    def latest(self, tenant: str, definition: SloDefinition, now_ns: int) -> SloStatus | None:
        """The status the last evaluation found for ``definition`` (as it is now, not an
        earlier version of it), if that was less than two intervals before ``now_ns``."""
        found = self._last.get((tenant, definition.name))
        if found is None or found.status is None or found.status.definition is not definition:
            return None
        if now_ns - found.at_ns >= 2 * self.interval_seconds * 1e9:
            return None
        return found.status

    async def evaluate(self, at_ns: int | None = None) -> list[Transition]:
        """One pass over every tenant's SLOs at ``at_ns`` (default now); the changes."""
        changes = []
        for tenant in self.catalog.tenants():
            try:
                found = await asyncio.to_thread(self._evaluate_tenant, tenant, at_ns)
            except Exception as error:  # its storage cannot be had: the next tenant's may
                log.warning("SLOs of tenant %r: not evaluated: %s", tenant, error)
                continue
            changes += found
            if self._notify is not None:
                await self._hand_over(tenant, self._notify)
        return changes

    def _evaluate_tenant(self, tenant: str, at_ns: int | None) -> list[Transition]:
        book = self.catalog.book(tenant)
        storage = self._storage_of(tenant)
        changes = []
        definitions = book.slos()
        names = {d.name for d in definitions}
        for key in [k for k in self._last if k[0] == tenant and k[1] not in names]:
            del self._last[key]
        for definition in definitions:
            started = time.monotonic()
            now = time.time_ns() if at_ns is None else at_ns
            try:
                status = slo_status(storage, definition, now, timeout_s=self._timeout_seconds)
                changes += book.record(
                    definition, status.conditions(), now, repeat_ns=self._repeat_ns
                )
            except Exception as error:
                log.warning(
                    "SLO %r of tenant %r: evaluation failed: %s", definition.name, tenant, error
                )
                self._last[(tenant, definition.name)] = Evaluation(
                    now, time.monotonic() - started, str(error) or type(error).__name__
                )
                self._count(tenant, "error")
                continue
            self._count(tenant, "ok")
            self._last[(tenant, definition.name)] = Evaluation(
                now, time.monotonic() - started, status=status
            )
        return changes

    async def _hand_over(self, tenant: str, notify: Notify) -> None:
        """Give ``notify`` the tenant's changes it has not had; when it has kept them, say
        so in the book. What fails now (or was made before a restart) goes next pass."""
        alerts = self.catalog.book(tenant).alerts
        await asyncio.to_thread(alerts.register, [NOTIFIERS])
        waiting = alerts.undelivered(NOTIFIERS)
        if not waiting:
            return
        try:
            await notify(tenant, waiting)
        except Exception as error:
            log.warning("SLO alerts of tenant %r: not handed to the notifier: %s", tenant, error)
            return
        await asyncio.to_thread(alerts.delivered, NOTIFIERS, waiting[-1].sequence)

    def firing(self) -> dict[tuple[str, str], int]:
        """Alerts firing now, by tenant and severity (for ``/metrics``)."""
        found: dict[tuple[str, str], int] = {}
        now = time.time_ns()
        for tenant in self.catalog.tenants():
            for alert in self.catalog.book(tenant).alerts.alerts(now):
                if alert.state == "firing":
                    key = (tenant, alert.labels.get("severity", ""))
                    found[key] = found.get(key, 0) + 1
        return found

    def _count(self, tenant: str, outcome: str) -> None:
        self.counts[(tenant, outcome)] = self.counts.get((tenant, outcome), 0) + 1

    async def _run(self) -> None:
        while True:
            try:
                await self.evaluate()
            except Exception:
                log.exception("SLO evaluation failed; will try again")
            await asyncio.sleep(self.interval_seconds)
