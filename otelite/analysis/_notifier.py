"""Alert notifications: every alert that fires or is resolved, sent to webhooks in
Alertmanager's webhook format (version 4), one alert per message.

Each receiver (a URL) reads every tenant's numbered changes (``AlertBook``) in order, and
after each one it has had, that number is saved with the alert state. Nothing is lost: a
change is saved before the notifier hears of it, and a receiver that is down, or a
restart, only delays it (unless more than ``MAX_TRANSITIONS`` changes wait, which is
logged). Nothing is sent twice but when the process dies between a receiver's answer and
the saving of its number; every message carries an ``Idempotency-Key``
(``<tenant>/<number>``) for receivers that must not act twice even then.

A failed delivery (no answer, a 408, 429 or 5xx) is retried after a delay drawn at random
up to a limit that doubles each time (``Backoff``), while a receiver's ``Breaker``, open
after ``breaker_failures`` failures in a row, stops calls for ``breaker_cooldown_s``
and then lets one through to see. Any other 4xx is the message's fault: retrying it cannot
help, so it is logged and skipped. The receivers are the ``SloCatalog``'s: a new tenant's
book keeps its changes for them from the start, and a receiver configured for the first
time gets an existing tenant's changes from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from otelite.analysis._slo_alerts import Transition
from otelite.analysis._slo_store import SloCatalog
from otelite.analysis._time import rfc3339
from otelite.tenancy import SINGLE_TENANT

__all__ = ["AlertNotifier", "Backoff", "Breaker", "webhook_message"]

log = logging.getLogger("otelite.slo")

_ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing
_RETRYABLE = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: at random up to ``base_s`` doubled per attempt, at most
    ``cap_s`` ("full jitter", so that many retrying senders spread out)."""

    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed attempt number ``attempt`` (0 for the first)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2.0 ** min(attempt, 60)))


class Breaker:
    """A circuit breaker: closed; open after ``failures`` failures in a row, refusing
    calls for ``cooldown_s``; then half open, letting one call through, whose outcome
    closes it or opens it again."""

    def __init__(
        self,
        *,
        failures: int = 5,
        cooldown_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self._opened_at is None:
            return "closed"
        return "open" if self.wait() > 0 else "half_open"

    def wait(self) -> float:
        """Seconds until a call may be made (0: now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown_s - self._clock())

    def succeeded(self) -> None:
        self._failures, self._opened_at = 0, None

    def failed(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock()  # a half-open call that failed opens it again


def webhook_message(
    tenant: str, transition: Transition, *, external_url: str = ""
) -> dict[str, Any]:
    """One change as Alertmanager's webhook sends an alert group (``version`` 4)."""
    alert = transition.alert
    labels = dict(alert.labels)
    if tenant != SINGLE_TENANT:
        labels["tenant"] = tenant
    group = {k: labels[k] for k in ("alertname", "slo") if k in labels}
    fingerprint = hashlib.sha256(orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {
        "version": "4",
        "groupKey": "{}:" + orjson.dumps(group, option=orjson.OPT_SORT_KEYS).decode(),
        "truncatedAlerts": 0,
        "status": alert.state,
        "receiver": "otelite",
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": dict(alert.annotations),
        "externalURL": external_url,
        "alerts": [
            {
                "status": alert.state,
                "labels": labels,
                "annotations": dict(alert.annotations),
                "startsAt": rfc3339(alert.active_at_ns),
                "endsAt": _ZERO_TIME
                if alert.resolved_at_ns is None
                else rfc3339(alert.resolved_at_ns),
                "generatorURL": f"{external_url}/slos?slo={alert.slo}" if external_url else "",
                "fingerprint": fingerprint[:16],
            }
        ],
    }


class AlertNotifier:
    """Sends every tenant's alert changes (from ``catalog``, made with these ``receivers``)
    to each of ``receivers``;
    ``wake`` says there are new ones (otherwise it looks every ``poll_s``). ``start`` and
    ``shutdown`` run in the event loop."""

    def __init__(
        self,
        catalog: SloCatalog,
        receivers: Sequence[str],
        *,
        timeout_s: float = 10.0,
        backoff: Backoff = Backoff(),
        breaker_failures: int = 5,
        breaker_cooldown_s: float = 60.0,
        poll_s: float = 5.0,
        external_url: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self._catalog = catalog
        self._receivers = list(dict.fromkeys(receivers))
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._breakers = {
            r: Breaker(failures=breaker_failures, cooldown_s=breaker_cooldown_s)
            for r in self._receivers
        }
        self._poll_s = poll_s
        self._external_url = external_url.rstrip("/")
        self._rng = rng or random.Random()
        self._wakes = {r: asyncio.Event() for r in self._receivers}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: httpx.AsyncClient | None = None
        self.counts: dict[tuple[str, str], int] = {}
        """Delivery attempts by receiver and outcome (``sent``, ``failed``, ``refused``)."""

    @property
    def receivers(self) -> list[str]:
        return list(self._receivers)

    def breaker(self, receiver: str) -> Breaker:
        return self._breakers[receiver]

    def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self._timeout_s)
        self._tasks = [asyncio.create_task(self._run(r)) for r in self._receivers]

    def wake(self, *_: object) -> None:
        """There are new changes (takes and ignores an ``on_transition``'s arguments)."""
        for event in self._wakes.values():
            event.set()

    async def shutdown(self) -> None:
        """Stop, interrupting a delivery (it is sent again after a restart)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _run(self, receiver: str) -> None:
        while True:
            try:
                await self._deliver_all(receiver)
            except Exception:
                log.exception("notifications to %s failed; will try again", receiver)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakes[receiver].wait(), self._poll_s)
            self._wakes[receiver].clear()

    async def _deliver_all(self, receiver: str) -> None:
        for tenant in self._catalog.tenants():
            alerts = self._catalog.book(tenant).alerts
            await asyncio.to_thread(alerts.register, [receiver])
            for transition in alerts.undelivered(receiver):
                await self._deliver(receiver, tenant, transition)
                await asyncio.to_thread(alerts.delivered, receiver, transition.sequence)

    async def _deliver(self, receiver: str, tenant: str, transition: Transition) -> None:
        """Send one change until the receiver takes it or refuses it for good."""
        assert self._http is not None
        breaker = self._breakers[receiver]
        body = orjson.dumps(webhook_message(tenant, transition, external_url=self._external_url))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": f"{tenant}/{transition.sequence}",
        }
        attempt = 0
        while True:
            await asyncio.sleep(breaker.wait())
            try:
                response = await self._http.post(receiver, content=body, headers=headers)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.is_success:
                    breaker.succeeded()
                    self._count(receiver, "sent")
                    return
                if response.status_code < 500 and response.status_code not in _RETRYABLE:
                    breaker.succeeded()  # it answers: the message is at fault, not the receiver
                    self._count(receiver, "refused")
                    log.error(
                        "notification %s/%d refused by %s (HTTP %d: %s); not sent again",
                        tenant,
                        transition.sequence,
                        receiver,
                        response.status_code,
                        response.text[:200],
                    )
                    return
                problem = f"HTTP {response.status_code}"
            breaker.failed()
            self._count(receiver, "failed")
            delay = self._backoff.delay(attempt, self._rng)
            log.warning(
                "notification %s/%d to %s failed (%s); attempt %d, next in %.1fs",
                tenant,
                transition.sequence,
                receiver,
                problem,
                attempt + 1,
                max(delay, breaker.wait()),
            )
            attempt += 1
            await asyncio.sleep(delay)

    def _count(self, receiver: str, outcome: str) -> None:
        self.counts[(receiver, outcome)] = self.counts.get((receiver, outcome), 0) + 1
