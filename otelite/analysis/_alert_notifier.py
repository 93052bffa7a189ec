"""The alert notifier: firing and resolved alerts, delivered to webhooks, exactly once if
it can be helped.

``enqueue`` writes the alerts to the outbox (``_alert_outbox``: SQLite, fsynced) for every
configured receiver, and returns only then: an alert whose ``enqueue`` returned is
delivered even if the process is killed right after. Each receiver has a worker of its
own (a bulkhead: a slow or dead receiver delays no other), which:

1. reads the receiver's pending alert states, oldest first, and takes at most one state
   per alert (per fingerprint) into the round; a later state of the same alert (it fired,
   then resolved, before the first was delivered) waits for the next round, so that the
   receiver sees every state, in order;
2. groups them by the ``group_by`` labels (Alertmanager's grouping, ``alertname`` by
   default) and posts one webhook body per group (``_alert_events.webhook_payload``), at most
   ``max_alerts_per_post`` alerts each;
3. marks the posted states delivered the moment the receiver answers 2xx, in one fsynced
   commit, before anything else happens.

**The one repeat that cannot be avoided.** A process killed after the receiver took a
post and before the mark committed sends that post again after restart: the receiver
cannot tell otelite that it already has it, and otelite cannot know. The window runs from
the request leaving to the commit of the mark (the receiver's own time plus a few
milliseconds); a kill at any other moment neither loses nor repeats a notification. (A
mark that fails, on a full disk, leaves the post pending: it is repeated too.)
Alertmanager's receivers tolerate repeats (Alertmanager itself resends on every group
interval), and the payload's ``fingerprint`` and ``startsAt`` let one drop them.

**Failures.** Each worker is an ``otelite.pipeline.Deliverer`` (as forwarding's are: the
backoff, ``Retry-After``, the circuit breaker). 408, 429, 5xx, timeouts and connection
errors are retried for up to ``backoff.budget`` seconds after the alert was enqueued; any
other answer but a 2xx (the receiver refuses the content, and will again) gives the states
up at once. Given-up states stay in the outbox as dead letters with the reason
(``dead_letters``), and are counted and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from otelite.analysis._alert_events import AlertEvent, group_key, group_labels, webhook_payload
from otelite.analysis._alert_outbox import DeadLetter, Outbox, Pending
from otelite.config import Webhook
from otelite.otlp import Backoff, retry_after_seconds
from otelite.pipeline import Answer, BreakerState, Deliverer, Sleep

__all__ = ["Notifier", "ReceiverReport", "ReceiverStats"]

log = logging.getLogger("otelite")

_ROUND = 1000
"""Pending states read per round; later ones wait for the next round."""
_ANSWER_CHARS = 500
"""How much of a refusing receiver's body is kept in its dead letter."""
_PRUNE_INTERVAL = 3600.0


@dataclass(slots=True)
class ReceiverStats:
    """What one receiver's worker counted since the process started."""

    notifications_sent: int = 0
    """Posts the receiver acknowledged (2xx)."""
    alerts_sent: int = 0
    """Alert states in those posts."""
    failures: int = 0
    """Posts that failed in a way worth retrying (408, 429, 5xx, timeout, no connection)."""
    retries: int = 0
    """Posts sent again after a failure."""
    alerts_dropped: int = 0
    """Alert states given up on (refused with a 4xx, or past the retry budget)."""


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """One receiver's state, as of now."""

    name: str
    url: str
    """The receiver's URL without credentials or query (safe to show)."""
    stats: ReceiverStats
    breaker: BreakerState
    breaker_opened: int
    pending: int
    oldest_pending_seconds: float | None
    last_error: str | None


class Notifier:
    """Delivers alerts to ``webhooks``; the outbox is ``outbox_path`` (None: in memory).

    ``headers`` go with every post, before each receiver's own (the server names the
    tenant there). ``start`` and ``shutdown`` run in the event loop. ``sleep`` and
    ``clock`` (monotonic seconds, for the circuit breakers) are there for tests, which
    need not wait.
    """

    def __init__(
        self,
        webhooks: Sequence[Webhook],
        *,
        outbox_path: Path | None,
        external_url: str,
        group_by: Sequence[str] = ("alertname",),
        backoff: Backoff | None = None,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        timeout_seconds: float = 10.0,
        max_alerts_per_post: int = 100,
        keep_seconds: float = 7 * 86400.0,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._outbox_path = outbox_path
        self._outbox: Outbox | None = None
        self._keep_seconds = keep_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        delivery = _Delivery(
            external_url=external_url,
            group_by=tuple(group_by),
            backoff=backoff or Backoff(initial=1.0, maximum=300.0, budget=86400.0),
            timeout_seconds=timeout_seconds,
            max_alerts_per_post=max_alerts_per_post,
            headers=dict(headers or {}),
            failure_threshold=failure_threshold,
            cooldown_seconds=cooldown_seconds,
            sleep=sleep,
            clock=clock,
        )
        self._workers = [_Worker(webhook, delivery) for webhook in webhooks]

    @property
    def receivers(self) -> list[str]:
        return [worker.webhook.name for worker in self._workers]

    async def start(self) -> None:
        """Open the outbox and start a worker per receiver, which sends what is pending."""
        self._outbox = await asyncio.to_thread(Outbox, self._outbox_path)
        self._loop = asyncio.get_running_loop()
        stranded = set(await asyncio.to_thread(self._outbox.receivers_with_pending))
        for name in sorted(stranded - set(self.receivers)):
            log.warning("alerts: receiver %r is no longer configured; its alerts wait", name)
        for worker in self._workers:
            worker.start(self._outbox)
        self._housekeeping = asyncio.create_task(self._prune())

    async def shutdown(self) -> None:
        """Stop delivering (a post in flight is abandoned: it is still pending, and goes
        out again at the next start) and close the outbox. Safe to call twice."""
        await asyncio.gather(*(w.deliverer.stop() for w in self._workers))
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        for worker in self._workers:
            await worker.close()
        if self._outbox is not None:
            await asyncio.to_thread(self._outbox.close)
            self._outbox = None

    def enqueue(self, alerts: Sequence[AlertEvent]) -> None:
        """Keep ``alerts`` for every receiver, durably, then wake the workers. Blocking (it
        fsyncs) and safe from any thread; once it returns the alerts will be delivered."""
        outbox = self._outbox
        if outbox is None or self._loop is None:
            raise RuntimeError("the notifier is not started")
        if not alerts:
            return
        outbox.add(alerts, self.receivers, time.time())
        for worker in self._workers:
            self._loop.call_soon_threadsafe(worker.deliverer.wake)

    async def notify(self, alerts: Sequence[AlertEvent]) -> None:
        """``enqueue`` from the event loop: the fsync runs in a thread."""
        await asyncio.to_thread(self.enqueue, alerts)

    def reports(self) -> list[ReceiverReport]:
        """Every receiver's counts, breaker and backlog. Blocking (reads the outbox)."""
        outbox = self._outbox
        now = time.time()
        reports = []
        for worker in self._workers:
            try:
                backlog = None if outbox is None else outbox.backlog(worker.webhook.name)
            except sqlite3.ProgrammingError:  # closed meanwhile: shutting down
                backlog = None
            oldest = None if backlog is None else backlog.oldest_enqueued_at
            reports.append(
                ReceiverReport(
                    name=worker.webhook.name,
                    url=_shown_url(worker.webhook.url),
                    stats=ReceiverStats(
                        notifications_sent=worker.deliverer.stats.sent,
                        alerts_sent=worker.alerts_sent,
                        failures=worker.deliverer.stats.failed,
                        retries=worker.deliverer.stats.retried,
                        alerts_dropped=worker.alerts_dropped,
                    ),
                    breaker=worker.deliverer.breaker.state,
                    breaker_opened=worker.deliverer.breaker.opened_count,
                    pending=0 if backlog is None else backlog.pending,
                    oldest_pending_seconds=None if oldest is None else max(0.0, now - oldest),
                    last_error=worker.deliverer.last_error,
                )
            )
        return reports

    def dead_letters(self, receiver: str, limit: int = 20) -> list[DeadLetter]:
        """The latest alert states given up on for ``receiver``. Blocking."""
        if self._outbox is None:
            return []
        return self._outbox.dead_letters(receiver, limit)

    async def _prune(self) -> None:
        assert self._outbox is not None
        while True:
            try:
                await asyncio.to_thread(self._outbox.prune, time.time() - self._keep_seconds)
            except Exception:
                log.exception("alerts: pruning the outbox failed; will try again")
            await asyncio.sleep(_PRUNE_INTERVAL)


@dataclass(frozen=True, slots=True)
class _Delivery:
    """How every worker posts: the settings they share."""

    external_url: str
    group_by: tuple[str, ...]
    backoff: Backoff
    timeout_seconds: float
    max_alerts_per_post: int
    headers: dict[str, str]
    failure_threshold: int
    cooldown_seconds: float
    sleep: Sleep
    clock: Callable[[], float]


class _Worker:
    """One receiver and its ``Deliverer``, whose items are posts (``_posts``)."""

    def __init__(self, webhook: Webhook, delivery: _Delivery) -> None:
        self.webhook = webhook
        self.deliverer = Deliverer(
            f"alerts:{webhook.name}",
            self,
            backoff=delivery.backoff,
            failure_threshold=delivery.failure_threshold,
            cooldown_seconds=delivery.cooldown_seconds,
            deadline=lambda post: min(p.enqueued_at for p in post) + delivery.backoff.budget,
            sleep=delivery.sleep,
            clock=delivery.clock,
        )
        self.alerts_sent = 0
        self.alerts_dropped = 0
        self._delivery = delivery
        self._outbox: Outbox | None = None
        headers = {"Content-Type": "application/json", "User-Agent": "otelite"}
        headers.update(delivery.headers)
        headers.update(webhook.headers)
        if webhook.bearer_token is not None:
            headers["Authorization"] = f"Bearer {webhook.bearer_token}"
        self._client = httpx.AsyncClient(
            headers=headers, timeout=delivery.timeout_seconds, follow_redirects=False
        )

    def start(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.deliverer.start()

    async def close(self) -> None:
        await self._client.aclose()

    async def take(self) -> list[list[Pending]]:
        assert self._outbox is not None
        pending = await asyncio.to_thread(self._outbox.pending, self.webhook.name, _ROUND)
        return _posts(pending, self._delivery)

    async def send(self, post: list[Pending]) -> Answer:
        delivery = self._delivery
        payload = webhook_payload(
            [p.alert for p in post],
            receiver=self.webhook.name,
            group_by=delivery.group_by,
            external_url=delivery.external_url,
        )
        body = json.dumps(payload).encode()
        try:
            response = await self._client.post(self.webhook.url, content=body)
        except httpx.HTTPError as error:  # timeouts, refused or broken connections
            return Answer(False, True, f"{type(error).__name__}: {error}".rstrip(": "))
        status = response.status_code
        if 200 <= status < 300:
            return Answer(True, False, f"HTTP {status}")
        text = f"HTTP {status}: {response.text[:_ANSWER_CHARS]}".rstrip(": ")
        if status in (408, 429) or status >= 500:
            told = retry_after_seconds(response.headers.get("Retry-After"))
            return Answer(False, True, text, told)
        return Answer(False, False, text)

    async def delivered(self, post: list[Pending], answer: Answer) -> None:
        assert self._outbox is not None
        seqs = [p.seq for p in post]
        await asyncio.to_thread(self._outbox.mark_delivered, self.webhook.name, seqs, time.time())
        self.alerts_sent += len(seqs)

    async def refused(self, post: list[Pending], reason: str) -> None:
        assert self._outbox is not None
        name, seqs = self.webhook.name, [p.seq for p in post]
        await asyncio.to_thread(self._outbox.mark_dead, name, seqs, reason, time.time())
        self.alerts_dropped += len(post)
        log.warning("alerts: %s: gave up on %d alerts: %s", name, len(post), reason)

    async def finish(self, posts: Sequence[list[Pending]]) -> None:
        """Nothing to do: each post was marked as it went through."""


def _posts(pending: Sequence[Pending], delivery: _Delivery) -> list[list[Pending]]:
    """One round's posts: at most one state per alert (the oldest), grouped, in order of
    each group's oldest state, each at most ``max_alerts_per_post`` long."""
    seen: set[str] = set()
    groups: dict[str, list[Pending]] = {}
    for item in pending:
        fingerprint = item.alert.fingerprint
        if fingerprint in seen:
            continue  # a later state of an alert in this round: the next round sends it
        seen.add(fingerprint)
        key = group_key(group_labels(item.alert, delivery.group_by))
        groups.setdefault(key, []).append(item)
    size = delivery.max_alerts_per_post
    return [
        members[start : start + size]
        for members in groups.values()
        for start in range(0, len(members), size)
    ]


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = "" if parts.port is None else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}{parts.path}"
