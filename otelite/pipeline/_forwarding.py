"""Forwarding: what otelite accepts, sent on to other OTLP destinations (the pipeline
file's ``exporters:``), through their outages.

``Forwarding`` is a ``Consumer`` in front of the local one (a tee): it hands each request
to ``next`` (the write-ahead log), then puts it in the queue of every destination that
takes its signal (``_forward_queue``), and returns (so the receiver acknowledges) only
once both are durable. A request the local pipeline refuses is queued nowhere: the sender
retries it. Concurrent requests share one queue sync per destination (a group commit).

Each destination's worker is a ``Deliverer`` (``_delivery``) over its queue, so a slow or
dead destination holds up neither ingest (which only appends to its queue) nor the other
destinations. It sends each request as it was queued (after the destination's own
processors: ``Worker.processed``) by ``_forward_send``, retrying without a time limit (the
queue's bound, not a retry budget, decides what is given up), and keeps what is refused
for good in ``DATA_DIR/forward/<name>/dead-letter/``, within its bound (``_dead_letters``).

A destination with tail sampling of its own (``_forward_sampling``) has a ``TailSampler``
in front of its queue: what it keeps is queued once its traces are decided.

With tenancy on, every tenant's data is forwarded, each request with its tenant in
``X-Scope-OrgID`` (taking the place of a configured header of that name), so that a
multi-tenant destination keeps the tenants apart as otelite does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from otelite.errors import RetryableError, Unavailable
from otelite.otlp import Backoff
from otelite.pipeline._breaker import BreakerState
from otelite.pipeline._consumer import Consumer
from otelite.pipeline._dead_letters import DeadLetter, DeadLetterReport, DeadLetters
from otelite.pipeline._delivery import Deliverer, DeliveryStats, Sleep
from otelite.pipeline._exporters import ExporterSettings
from otelite.pipeline._forward_queue import (
    DiskQueue,
    ForwardQueue,
    MemoryQueue,
    Queued,
    QueueReport,
)
from otelite.pipeline._forward_sampling import QueueConsumer
from otelite.pipeline._forward_send import Answer, Sender, open_sender
from otelite.pipeline._sampling_settings import SamplingReport
from otelite.pipeline._tail_sampling import TAIL_SAMPLING_DIR, TailSampler
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["FORWARD_DIR", "DeadLetter", "DestinationReport", "ForwardStats", "Forwarding"]

log = logging.getLogger("otelite")

FORWARD_DIR = "forward"
"""Under the data directory: a directory per destination (queue and dead letters)."""

_T = TypeVar("_T")

_BATCH_ITEMS = 64
_BATCH_BYTES = 8 * 1024 * 1024

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
        request: ExportRequest,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
    ) -> None:
        """Store locally, then queue for every destination of ``signal``; raises what
        ``next`` raises, or ``Unavailable`` when a queue cannot be written."""
        await self._next.consume(signal, request, tenant=tenant, payload=payload)
        targets = [w for w in self._workers if signal in w.settings.signals]
        if not targets:
            return
        body = request.SerializeToString() if payload is None else payload
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
        self, worker: _Worker, signal: Signal, request: ExportRequest, tenant: str, body: bytes
    ) -> Exception | None:
        """Queue ``body`` for ``worker`` after its processors (through its sampler, if it
        has one); None once durable, else the error that kept it out."""
        processed = worker.processed(signal, body)
        sampler = self._samplers.get(worker.settings.name)
        if sampler is None:
            return await worker.enqueue(signal, tenant, processed)
        if processed is not body:
            request = signal.request_type.FromString(processed)
        try:
            await sampler.consume(signal, request, tenant=tenant, payload=processed)
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
            sleep=sleep,
            clock=clock,
        )
        self._queue: ForwardQueue | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: list[tuple[Signal, str, bytes]] = []
        self._group: asyncio.Future[Exception | None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self._letters = DeadLetters(
            None if directory is None else directory / "dead-letter",
            settings.max_dead_letter_bytes,
        )

    async def open(self) -> None:
        if self._directory is None:
            self._queue = MemoryQueue(self.settings.max_queue_bytes)
        else:
            directory = self._directory
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, f"otelite-forward-{self.settings.name}"
            )
            self._queue = await asyncio.to_thread(
                DiskQueue, directory / "queue", self.settings.max_queue_bytes
            )
        await self._call(self._letters.open)
        if self._sender is None:
            self._sender = open_sender(self.settings)

    async def close(self) -> None:
        await self.deliverer.stop()
        while self._committing is not None:
            await asyncio.shield(self._committing)
        if self._sender is not None:
            await self._sender.close()
            self._sender = None
        if self._queue is not None:
            queue, self._queue = self._queue, None
            await asyncio.to_thread(queue.close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

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
        if self._executor is None:  # memory: nothing to sync
            queue.put([(signal, tenant, body)], time.time())
            self.deliverer.wake()
            return None
        self._pending.append((signal, tenant, body))
        if self._group is None:
            self._group = asyncio.get_running_loop().create_future()
        group = self._group
        if self._committing is None:
            self._committing = asyncio.create_task(self._commit(queue))
        return await asyncio.shield(group)

    async def _commit(self, queue: ForwardQueue) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                items, self._pending = self._pending, []
                group, self._group = self._group, None
                assert group is not None
                try:
                    await loop.run_in_executor(self._executor, queue.put, items, time.time())
                except Exception as error:  # OSError expected; anything else must answer too
                    group.set_result(error)
                    continue
                group.set_result(None)
                self.deliverer.wake()
        finally:
            self._committing = None

    async def take(self) -> list[Queued]:
        queue = self._queue
        assert queue is not None
        return await self._call(queue.read, queue.sent_position, _BATCH_ITEMS, _BATCH_BYTES)

    async def send(self, item: Queued) -> Answer:
        assert self._sender is not None
        return await self._sender.send(item, tenant_header=self._tenant_header)

    async def delivered(self, item: Queued, answer: Answer) -> None:
        """Nothing to do: ``finish`` acknowledges the whole batch at once."""

    async def refused(self, item: Queued, reason: str) -> None:
        log.warning(
            "forward: %s refused a %s request for good: %s",
            self.settings.name,
            item.signal.value,
            reason,
        )
        letter = DeadLetter(item.seq, item.signal, item.tenant, reason, time.time())
        await self._call(self._letters.add, item, letter)

    async def finish(self, items: Sequence[Queued]) -> None:
        assert self._queue is not None
        await self._call(self._queue.ack, items[-1].seq)

    async def _call(self, function: Callable[..., _T], *args: object) -> _T:
        """``function`` in a thread when the queue is on disk; memory queues do not block."""
        if self._executor is None:
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
