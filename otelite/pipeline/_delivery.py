"""Delivery: what waits in an outbox, sent to one destination oldest first, through its
outages (forwarding's exporters, the alert notifier's webhooks).

A ``Deliverer`` is one destination's task (a bulkhead: a slow or dead destination holds
up no other). Each round it takes what waits and sends each item until it is through:
delivered (a partial success too: its rejected items are counted, never retried) and
marked, first thing; or refused for good, or past its ``deadline``, and kept as a dead
letter with the reason. A retryable failure is sent again after a jittered exponential
wait (``otelite.otlp.Backoff``), or as long as ``Retry-After`` / ``RetryInfo`` say (an
hour at most). A ``CircuitBreaker`` stops sending after failures in a row and sends one
probe after each cool-down; a refusal is an answer, not a failure. When the outbox fails
(a full disk) the round is dropped and taken again a second later: what was not marked
is sent again, never lost.

An item the destination refuses for good may be ``split`` (a batch into smaller ones),
and each part is then delivered on its own: a refusal that was the doing of some of the
batch's contents (or of its size) reaches only those. ``count`` says how many of the
destination's units (requests, alerts) an item holds, for the stats.

With ``in_flight`` above 1, up to that many items are being delivered at once, each in a
task of its own, and the next round is taken as soon as the last item of this one is
under way; ``take`` must then hand out each item once (the destination keeps a read
cursor), items are marked in any order, and a failed mark is retried for its item alone
(the item is sent again a second later) rather than dropping the round. ``finish`` is
called with each round once all its items are through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from otelite.otlp import Backoff
from otelite.pipeline._breaker import CircuitBreaker

__all__ = ["Answer", "Deliverer", "DeliveryStats", "Destination", "Sleep"]

log = logging.getLogger("otelite")

Sleep = Callable[[float], Awaitable[None]]

_MAX_RETRY_AFTER = 3600.0
"""A longer ``Retry-After`` is taken as this: a misconfigured destination must not park
its outbox for days."""


ItemT = TypeVar("ItemT")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a destination said to one item: taken (``delivered``, with the items a
    partial success ``rejected``), or not, and then whether to try again (after
    ``retry_after`` seconds when it said so)."""

    delivered: bool
    retryable: bool
    text: str
    retry_after: float | None = None
    rejected: int = 0
    """Items a partial success rejected."""


class Destination(Protocol[ItemT]):
    """Where a ``Deliverer`` delivers. ``take``: the next round's items, oldest first
    (empty: none waits); ``send``: one attempt, whose every failure is an ``Answer``;
    ``delivered`` and ``refused``: mark an item taken, or given up on for ``reason``;
    ``finish``: every item of the round went through."""

    async def take(self) -> Sequence[ItemT]: ...
    async def send(self, item: ItemT) -> Answer: ...
    async def delivered(self, item: ItemT, answer: Answer) -> None: ...
    async def refused(self, item: ItemT, reason: str) -> None: ...
    async def finish(self, items: Sequence[ItemT]) -> None: ...


@dataclass(slots=True)
class DeliveryStats:
    """What one destination's deliverer counted since the process started."""

    sent: int = 0
    """Items (or units, when the deliverer counts them) the destination took, partial
    successes too."""
    failed: int = 0
    """Attempts that failed in a way worth retrying."""
    retried: int = 0
    """Attempts that were a retry."""
    rejected_items: int = 0
    """Spans, points or records the destination rejected in partial successes."""
    dead_lettered: int = 0
    """Items given up on (refused for good, or past their deadline)."""


class Deliverer(Generic[ItemT]):
    """Delivers ``destination``'s items in a task named ``name``: ``start``, ``wake`` once
    something was enqueued, ``stop``. ``deadline``: when to give up retrying an item (Unix
    seconds; None: never). ``in_flight``, ``split`` and ``count``: see the module
    docstring. ``sleep`` and ``clock`` (monotonic seconds, for the breaker)
    are there for tests, which need not wait."""

    def __init__(
        self,
        name: str,
        destination: Destination[ItemT],
        *,
        backoff: Backoff,
        failure_threshold: int,
        cooldown_seconds: float,
        deadline: Callable[[ItemT], float] | None = None,
        in_flight: int = 1,
        split: Callable[[ItemT], Sequence[ItemT]] | None = None,
        count: Callable[[ItemT], int] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.breaker = CircuitBreaker(
            failure_threshold=failure_threshold, cooldown_seconds=cooldown_seconds, clock=clock
        )
        self.stats = DeliveryStats()
        self.last_error: str | None = None
        self._flying: list[ItemT] = []  # the items being delivered, oldest first
        self._destination = destination
        self._backoff = backoff
        self._deadline = deadline
        self._in_flight = in_flight
        self._split = split
        self._count = count
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def current(self) -> ItemT | None:
        """The oldest item being delivered; None when none is."""
        return self._flying[0] if self._flying else None

    def start(self) -> None:
        run = self._run if self._in_flight == 1 else self._run_window
        self._task = asyncio.create_task(run(), name=self.name)

    def wake(self) -> None:
        """Something was enqueued. In the event loop's thread."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop; an item in flight stays in the outbox (sent again at the next start)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        destination = self._destination
        while True:
            # Cleared before reading, so that an item enqueued during the read is not missed.
            self._wake.clear()
            try:
                items = await destination.take()
                for item in items:
                    self._flying[:] = [item]
                    await self.deliver(item)
                if items:
                    await destination.finish(items)
            except Exception:
                # The outbox failed (a full disk): what was not marked stays to send.
                log.exception("%s: delivery failed; will try again", self.name)
                await self._sleep(1.0)
                continue
            finally:
                self._flying.clear()
            if not items:
                await self._wake.wait()

    async def _run_window(self) -> None:
        """``_run`` with up to ``in_flight`` items under way at once."""
        slots = asyncio.Semaphore(self._in_flight)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wake.clear()
                try:
                    items = await self._destination.take()
                except Exception:
                    log.exception("%s: reading the outbox failed; will try again", self.name)
                    await self._sleep(1.0)
                    continue
                if not items:
                    await self._wake.wait()
                    continue
                left = [len(items)]
                for item in items:
                    await slots.acquire()
                    self._flying.append(item)
                    task = asyncio.create_task(self._deliver_marked(item, items, left, slots))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._flying.clear()

    async def _deliver_marked(
        self,
        item: ItemT,
        round_items: Sequence[ItemT],
        left: list[int],
        slots: asyncio.Semaphore,
    ) -> None:
        """Deliver ``item`` until it is marked (a failed mark: again a second later), then
        ``finish`` its round if it was the round's last."""
        try:
            while True:
                try:
                    await self.deliver(item)
                    break
                except Exception:
                    log.exception("%s: marking a delivery failed; will try again", self.name)
                    await self._sleep(1.0)
            left[0] -= 1
            if not left[0]:
                while True:
                    try:
                        await self._destination.finish(round_items)
                        break
                    except Exception:
                        log.exception("%s: finishing a round failed; will try again", self.name)
                        await self._sleep(1.0)
        finally:
            self._flying.remove(item)
            slots.release()

    async def deliver(self, item: ItemT) -> None:
        """Send ``item`` until the destination takes it, refuses it, or its deadline passed."""
        waits = self._backoff.waits()
        attempts = 0
        while True:
            if attempts and self._deadline is not None and time.time() > self._deadline(item):
                await self._give_up(item, f"retry budget spent; last answer: {self.last_error}")
                return
            pause = self.breaker.wait_seconds()
            if pause > 0 or not self.breaker.allow():
                await self._sleep(pause)
                continue
            if attempts:
                self.stats.retried += 1
            attempts += 1
            answer = await self._destination.send(item)
            if answer.delivered:
                # First thing after the answer: the sooner it is marked, the rarer a repeat.
                await self._destination.delivered(item, answer)
                self.breaker.record_success()
                self.stats.sent += self._units(item)
                self.stats.rejected_items += answer.rejected
                if answer.rejected:
                    self.last_error = answer.text
                return
            if not answer.retryable:
                self.breaker.record_success()  # it answered: it is up
                parts = () if self._split is None else self._split(item)
                if parts:
                    for part in parts:
                        await self.deliver(part)
                    return
                await self._give_up(item, answer.text)
                return
            self.breaker.record_failure()
            self.stats.failed += 1
            self.last_error = answer.text
            told = answer.retry_after
            await self._sleep(next(waits) if told is None else min(told, _MAX_RETRY_AFTER))

    async def _give_up(self, item: ItemT, reason: str) -> None:
        await self._destination.refused(item, reason)
        self.stats.dead_lettered += self._units(item)
        self.last_error = reason

    def _units(self, item: ItemT) -> int:
        return 1 if self._count is None else self._count(item)
