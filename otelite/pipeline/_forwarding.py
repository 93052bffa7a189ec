"""Forwarding: what otelite accepts, sent on to other OTLP destinations (the pipeline
file's ``exporters:``), through their outages.

``Forwarding`` is a ``Consumer`` in front of the local one (a tee): it hands each request
to ``next`` (the write-ahead log), then puts it in the queue of every destination that
takes its signal (``_forward_queue``), and returns (so the receiver acknowledges) only
once both are durable. A request the local pipeline refuses is queued nowhere: the sender
retries it. Concurrent requests share one queue sync per destination (a group commit).

Each destination's worker is a ``Deliverer`` (``_delivery``) over its queue, so a slow or
dead destination holds up neither ingest (which only appends to its queue) nor the other
destinations. It sends the requests as they were queued (after the destination's own
processors: ``Worker.processed``), several of one signal and tenant joined as one export
(``_forward_batch``), up to ``in_flight`` batches at once, by ``_forward_send``, retrying
without a time limit (the queue's bound, not a retry budget, decides what is given up).
A batch refused for good is split in halves until the refusal is narrowed down to single
requests, which are kept in ``DATA_DIR/forward/<name>/dead-letter/``, within its bound
(``_dead_letters``). The queue's sent position moves as batches go through, only over
those that all did (``SentWindow``).

A destination with tail sampling of its own (``_forward_sampling``) has a ``TailSampler``
in front of its queue: what it keeps is queued once its traces are decided.

With tenancy on, every tenant's data is forwarded, each request with its tenant in
``X-Scope-OrgID`` (taking the place of a configured header of that name), so that a
multi-tenant destination keeps the tenants apart as otelite does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from otelite.errors import RetryableError, Unavailable
from otelite.otlp import Backoff
from otelite.pipeline._breaker import BreakerState
from otelite.pipeline._consumer import Consumer, serialized
from otelite.pipeline._dead_letters import DeadLetter, DeadLetterReport, DeadLetters
from otelite.pipeline._delivery import Answer, Deliverer, DeliveryStats, Sleep
from otelite.pipeline._exporters import ExporterSettings
from otelite.pipeline._forward_batch import Batch, SentWindow, batches
from otelite.pipeline._forward_queue import (
    DiskQueue,
    ForwardQueue,
    MemoryQueue,
    QueueReport,
)
from otelite.pipeline._forward_sampling import QueueConsumer
from otelite.pipeline._forward_send import Sender, open_sender
from otelite.pipeline._group_commit import GroupSync
from otelite.pipeline._sampling_settings import SamplingReport
from otelite.pipeline._tail_sampling import TAIL_SAMPLING_DIR, TailSampler
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["FORWARD_DIR", "DeadLetter", "DestinationReport", "ForwardStats", "Forwarding"]

log = logging.getLogger("otelite")

FORWARD_DIR = "forward"
"""Under the data directory: a directory per destination (queue and dead letters)."""

_T = TypeVar("_T")

ForwardStats = DeliveryStats
"""What one destination's worker counted since the process started (its ``Deliverer``'s
counts: ``dead_lettered`` are the requests the destination refused for good)."""


@dataclass(frozen=True, slots=True)
class DestinationReport:
    """One destination's state, as of now."""

    name: str
    endpoint: str
    protocol: str
    signals: tuple[Signal, ...]
    stats: ForwardStats
    queue: QueueReport
    oldest_seconds: float | None
    """Age of the oldest request waiting; None when none waits."""
    breaker: BreakerState
    breaker_opened: int
    last_error: str | None
    dead_letters: DeadLetterReport
    sampling: SamplingReport | None = None
    """The destination's own tail sampling; None without."""


class Forwarding:
    """The forwarding tee (a ``Consumer`` over ``next_consumer``) and its workers.

    ``directory`` holds a sub-directory per destination (None: memory queues, lost on
    restart). ``tenant_header``: send each request's tenant as ``X-Scope-OrgID``.
    ``senders`` replace the network senders by name, ``sleep`` and ``clock`` (monotonic
    seconds, for the breakers) are there for tests, which need not wait.
    """

    def __init__(
        self,
        next_consumer: Consumer,
        exporters: Sequence[ExporterSettings],
        *,
        directory: Path | None,
        tenant_header: bool = False,
        senders: dict[str, Sender] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._next = next_consumer
        self._workers = [
            _Worker(
                settings,
                None if directory is None else directory / settings.name,
                (senders or {}).get(settings.name),
                tenant_header=tenant_header,
                sleep=sleep,
                clock=clock,
            )
            for settings in exporters
        ]
        self._samplers: dict[str, TailSampler] = {
            worker.settings.name: TailSampler(
                QueueConsumer(worker.settings.name, worker.enqueue),
                worker.settings.tail_sampling,
                log_dir=None
                if directory is None
                else directory / worker.settings.name / TAIL_SAMPLING_DIR,
                interval=worker.settings.tail_sampling.tick_seconds,
            )
            for worker in self._workers
            if worker.settings.tail_sampling is not None
        }

    @property
    def destinations(self) -> list[str]:
        return [worker.settings.name for worker in self._workers]

    async def start(self) -> None:
        """Open every queue (what waits from before a restart is sent first), then start
        the workers."""
        for worker in self._workers:
            await worker.open()
        for worker in self._workers:
            worker.deliverer.start()
        # Started once the queues are open: what they held undecided may be kept now.
        for sampler in self._samplers.values():
            await sampler.start()

    async def shutdown(self) -> None:
        """Stop sending (a request in flight stays queued and goes out at the next start)
        and close the queues. Call after the receivers stopped. Safe to call twice."""
        for sampler in self._samplers.values():
            await sampler.shutdown()
        for worker in self._workers:
            await worker.close()

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        """Store locally, then queue for every destination of ``signal``; raises what
        ``next`` raises, or ``Unavailable`` when a queue cannot be written."""
        await self._next.consume(signal, request, tenant=tenant, payload=payload, items=items)
        targets = [w for w in self._workers if signal in w.settings.signals]
        if not targets:
            return
        body = serialized(request, payload)
        errors = await asyncio.gather(
            *(self._queue(w, signal, request, tenant, body) for w in targets)
        )
        for worker, error in zip(targets, errors, strict=True):
            if error is not None:
                raise Unavailable(
                    f"cannot queue the request for {worker.settings.name}: {error}"
                ) from error

    def reports(self) -> list[DestinationReport]:
        """Every destination's counts, queue and breaker. Blocking (looks at files)."""
        found = []
        for worker in self._workers:
            report = worker.report()
            sampler = self._samplers.get(report.name)
            found.append(report if sampler is None else replace(report, sampling=sampler.report()))
        return found

    async def _queue(
        self,
        worker: _Worker,
        signal: Signal,
        request: ExportRequest | None,
        tenant: str,
        body: bytes,
    ) -> Exception | None:
        """Queue ``body`` for ``worker`` after its processors (through its sampler, if it
        has one; ``request``: ``body`` parsed, when at hand); None once durable, else the
        error that kept it out."""
        processed = worker.processed(signal, body)
        sampler = self._samplers.get(worker.settings.name)
        if sampler is None:
            return await worker.enqueue(signal, tenant, processed)
        # The request parsed goes along only while it is what the bytes say.
        unchanged = request if processed is body else None
        try:
            await sampler.consume(signal, unchanged, tenant=tenant, payload=processed)
        except RetryableError as error:
            return error
        return None

    def dead_letters(self, name: str, limit: int = 10) -> list[DeadLetter]:
        """The latest requests ``name`` refused for good, newest first. Blocking."""
        for worker in self._workers:
            if worker.settings.name == name:
                return worker.dead_letters(limit)
        return []


class _Worker:
    """One destination: its queue, the group commit into it, and its ``Deliverer``."""

    def __init__(
        self,
        settings: ExporterSettings,
        directory: Path | None,
        sender: Sender | None,
        *,
        tenant_header: bool,
        sleep: Sleep,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self._directory = directory
        self._sender = sender
        self._tenant_header = tenant_header
        self.deliverer = Deliverer(
            f"forward:{settings.name}",
            self,
            backoff=Backoff(
                initial=settings.retry_initial_seconds, maximum=settings.retry_max_seconds
            ),
            failure_threshold=settings.failure_threshold,
            cooldown_seconds=settings.cooldown_seconds,
            in_flight=settings.in_flight,
            split=Batch.halves,
            count=lambda batch: len(batch.requests),
            sleep=sleep,
            clock=clock,
        )
        self._queue: ForwardQueue | None = None
        self._window = SentWindow(0)
        self._sync: GroupSync[tuple[Signal, str, bytes], None] | None = None
        """The group commit into a queue on disk (None in memory: nothing to sync)."""
        self._letters = DeadLetters(
            None if directory is None else directory / "dead-letter",
            settings.max_dead_letter_bytes,
        )

    async def open(self) -> None:
        if self._directory is None:
            self._queue = MemoryQueue(self.settings.max_queue_bytes)
        else:
            queue = await asyncio.to_thread(
                DiskQueue, self._directory / "queue", self.settings.max_queue_bytes
            )
            self._queue = queue
            self._sync = GroupSync(
                lambda items: queue.put(items, time.time()),
                name=f"otelite-forward-{self.settings.name}",
                synced=lambda items, _: self.deliverer.wake(),
                failed=lambda items, error: None,  # the error is each sender's answer
            )
        await self._call(self._letters.open)
        if self._sender is None:
            self._sender = open_sender(self.settings)

    async def close(self) -> None:
        await self.deliverer.stop()
        if self._sync is not None:
            await self._sync.idle()
        if self._sender is not None:
            await self._sender.close()
            self._sender = None
        if self._queue is not None:
            queue, self._queue = self._queue, None
            await asyncio.to_thread(queue.close)
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    def processed(self, signal: Signal, body: bytes) -> bytes:
        """``body`` after this destination's own processors: they run on a copy (the
        local pipeline and the other destinations keep theirs), before it is queued, so
        that what the destination must not see is never written to its queue."""
        processors = self.settings.processors
        if not processors:
            return body
        request = signal.request_type.FromString(body)
        changed = False
        for processor in processors:
            changed |= processor.apply(request, None if changed else body)
        return request.SerializeToString() if changed else body

    async def enqueue(self, signal: Signal, tenant: str, body: bytes) -> Exception | None:
        """Queue one request with the next group commit; None once it is durable, else
        the error that kept it out."""
        queue = self._queue
        if queue is None:
            return RuntimeError("forwarding is not started")
        if self._sync is None:  # memory: nothing to sync
            queue.put([(signal, tenant, body)], time.time())
            self.deliverer.wake()
            return None
        return await asyncio.shield(self._sync.submit((signal, tenant, body)))

    async def take(self) -> list[Batch]:
        queue = self._queue
        assert queue is not None
        if self.deliverer.current is None:
            # Nothing under way: read from the sent position, which sends again what a
            # failed mark left unsaved (at least once, never lost).
            self._window = SentWindow(queue.sent_position)
        settings = self.settings
        # A read is enough for every batch the sends at once take, and then some, so that
        # requests of different tenants or signals read together still fill batches.
        read = await self._call(
            queue.read,
            self._window.last_taken,
            settings.batch_max_requests * settings.in_flight,
            settings.batch_max_bytes * settings.in_flight,
        )
        self._window.take(item.seq for item in read)
        return batches(
            read, max_bytes=settings.batch_max_bytes, max_requests=settings.batch_max_requests
        )

    async def send(self, batch: Batch) -> Answer:
        assert self._sender is not None
        return await self._sender.send(batch, tenant_header=self._tenant_header)

    async def delivered(self, batch: Batch, answer: Answer) -> None:
        await self._through(batch)

    async def refused(self, batch: Batch, reason: str) -> None:
        # Each letter is one request, as it was queued (a refusal reaches here for a
        # single request, after ``Batch.halves``; a letter per request holds regardless).
        for item in batch.requests:
            log.warning(
                "forward: %s refused a %s request for good: %s",
                self.settings.name,
                item.signal.value,
                reason,
            )
            letter = DeadLetter(item.seq, item.signal, item.tenant, reason, time.time())
            await self._call(self._letters.add, item, letter)
        await self._through(batch)

    async def finish(self, batches: Sequence[Batch]) -> None:
        """Nothing to do: each batch moved the sent position as it went through."""

    async def _through(self, batch: Batch) -> None:
        """``batch`` was delivered or dead-lettered: move the sent position over it and
        what went through before it, if nothing before it is still under way."""
        assert self._queue is not None
        window = self._window
        if window.through(item.seq for item in batch.requests):
            await self._call(self._queue.ack, window.position)

    async def _call(self, function: Callable[..., _T], *args: object) -> _T:
        """``function`` in a thread when the queue is on disk; memory queues do not block."""
        if self._sync is None:
            return function(*args)
        return await asyncio.to_thread(function, *args)

    def report(self) -> DestinationReport:
        queue = self._queue
        shown = QueueReport(0, 0, 0, 0) if queue is None else queue.report()
        head = self.deliverer.current
        oldest = (
            None if head is None or not shown.requests else max(0.0, time.time() - head.enqueued_at)
        )
        settings = self.settings
        return DestinationReport(
            name=settings.name,
            endpoint=settings.shown_endpoint,
            protocol=settings.protocol,
            signals=tuple(s for s in Signal if s in settings.signals),
            stats=replace(self.deliverer.stats),
            queue=shown,
            oldest_seconds=oldest,
            breaker=self.deliverer.breaker.state,
            breaker_opened=self.deliverer.breaker.opened_count,
            last_error=self.deliverer.last_error,
            dead_letters=self._letters.report(),
        )

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        return self._letters.latest(limit)
