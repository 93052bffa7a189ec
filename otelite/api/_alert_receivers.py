"""Alert receivers, seen from outside: ``GET /api/alerts/receivers`` and their series on
``/metrics``.

The answer (an operator's view, like ``/metrics``: every tenant's receivers)::

    {"receivers": [{
        "tenant": "single-tenant", "name": "pager", "url": "https://pager.example/hook",
        "breaker": "closed",          closed, open or half_open
        "breakerOpened": 0,           times the breaker opened since start
        "pending": 0,                 alert states still to deliver
        "oldestPendingSeconds": null, age of the oldest of them
        "notificationsSent": 3, "alertsSent": 5, "failures": 1, "retries": 1,
        "alertsDropped": 0, "lastError": "HTTP 503",
        "deadLetters": [{"fingerprint": "...", "alert": {<as posted>}, "answer":
                         "HTTP 400: ...", "timeUnixMs": ...}, ...]   the latest 10
    }, ...]}

URLs are shown without credentials or query. Without ``--alert-webhook`` the list is
empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import Notifiers
from otelite.api._json import JSONResponse

__all__ = ["AlertReceiverMetrics", "alert_receiver_routes"]

_DEAD_LETTERS_SHOWN = 10


def alert_receiver_routes() -> list[Route]:
    return [Route("/api/alerts/receivers", _receivers)]


async def _receivers(request: Request) -> Response:
    notifiers: Notifiers | None = request.app.state.alert_receivers
    answer = [] if notifiers is None else await run_in_threadpool(_status, notifiers)
    return JSONResponse({"receivers": answer})


def _status(notifiers: Notifiers) -> list[dict[str, Any]]:
    answer = []
    for tenant, report in notifiers.reports():
        letters = notifiers.dead_letters(tenant, report.name, _DEAD_LETTERS_SHOWN)
        stats = report.stats
        answer.append(
            {
                "tenant": tenant,
                "name": report.name,
                "url": report.url,
                "breaker": report.breaker.value,
                "breakerOpened": report.breaker_opened,
                "pending": report.pending,
                "oldestPendingSeconds": report.oldest_pending_seconds,
                "notificationsSent": stats.notifications_sent,
                "alertsSent": stats.alerts_sent,
                "failures": stats.failures,
                "retries": stats.retries,
                "alertsDropped": stats.alerts_dropped,
                "lastError": report.last_error,
                "deadLetters": [
                    {
                        "fingerprint": letter.fingerprint,
                        "alert": letter.alert.to_json(),
                        "answer": letter.answer,
                        "timeUnixMs": round(letter.at * 1000),
                    }
                    for letter in letters
                ],
            }
        )
    return answer


_COUNTERS = (
    (
        "otelite_alert_notifications_sent",
        "Webhook posts a receiver acknowledged (2xx).",
        "notifications_sent",
    ),
    ("otelite_alerts_sent", "Alert states delivered to a receiver.", "alerts_sent"),
    (
        "otelite_alert_notification_failures",
        "Webhook posts that failed and are retried (408, 429, 5xx, timeout, no connection).",
        "failures",
    ),
    ("otelite_alert_notification_retries", "Webhook posts sent again after a failure.", "retries"),
    (
        "otelite_alerts_dropped",
        "Alert states given up on: refused by the receiver (4xx) or past the retry budget; "
        "kept as dead letters.",
        "alerts_dropped",
    ),
)
"""Per-receiver counters: (name, help, ``ReceiverStats`` field)."""


class AlertReceiverMetrics(Collector):
    """Each receiver's counts, breaker and backlog, read when ``/metrics`` is scraped."""

    def __init__(self, notifiers: Notifiers) -> None:
        self._notifiers = notifiers

    def collect(self) -> Iterator[Metric]:
        reports = self._notifiers.reports()
        labels = ["tenant", "receiver"]
        for name, text, field in _COUNTERS:
            counter = CounterMetricFamily(name, text, labels=labels)
            for tenant, report in reports:
                counter.add_metric([tenant, report.name], getattr(report.stats, field))
            yield counter
        opened = CounterMetricFamily(
            "otelite_alert_breaker_opened",
            "Times a receiver's circuit breaker opened.",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "otelite_alert_breaker_state",
            "A receiver's circuit breaker: 0 closed, 1 open, 2 half-open (probing).",
            labels=labels,
        )
        pending = GaugeMetricFamily(
            "otelite_alerts_pending",
            "Alert states waiting for delivery to a receiver.",
            labels=labels,
        )
        oldest = GaugeMetricFamily(
            "otelite_alerts_oldest_pending_seconds",
            "Age of the oldest alert state waiting for a receiver (0 when none waits).",
            labels=labels,
        )
        states = {"closed": 0, "open": 1, "half_open": 2}
        for tenant, report in reports:
            key = [tenant, report.name]
            opened.add_metric(key, report.breaker_opened)
            state.add_metric(key, states[report.breaker.value])
            pending.add_metric(key, report.pending)
            oldest.add_metric(key, report.oldest_pending_seconds or 0.0)
        yield from (opened, state, pending, oldest)
