"""Forwarding, seen from outside: ``GET /api/forwarding`` and its series on ``/metrics``.

The answer (an operator's view, like ``/metrics``: every tenant's data goes the same way)::

    {"destinations": [{
        "name": "vendor", "endpoint": "https://otlp.vendor.example:4318",
        "protocol": "http/protobuf", "signals": ["traces", "logs"],
        "breaker": "closed",            closed, open or half_open
        "breakerOpened": 0,             times the breaker opened since start
        "queuedRequests": 0, "queuedBytes": 0,   still to be sent
        "queueDiskBytes": 0,            the queue's files on disk (what queue.max_size bounds)
        "oldestQueuedSeconds": null,    age of the oldest request waiting
        "sent": 12, "failed": 1, "retried": 1, "rejectedItems": 0,
        "droppedRequests": 0, "droppedBytes": 0,   given up by the queue's bound
        "deadLettered": 0, "lastError": "HTTP 503",
        "deadLetterRequests": 0, "deadLetterBytes": 0,   in the dead-letter directory now
        "deadLettersRemoved": 0, "deadLetterBytesRemoved": 0,   removed by its bound
        "deadLetters": [{"seq": 7, "signal": "traces", "tenant": "single-tenant",
                         "answer": "HTTP 400: ...", "timeUnixMs": ...}, ...],  latest 10
        "sampling": {"keptTraces": 3, "droppedTraces": 40,   the destination's own tail
                     "heldTraces": 12, "heldSpans": 80}      sampling; null without
    }, ...]}

The series are labelled by destination only, not by tenant: a destination's queue,
breaker and position are shared by every tenant, and tenants are not bounded in number;
each dead letter names its tenant.

Endpoints are shown without credentials or query; headers are never shown. Without
``exporters:`` in the pipeline file the list is empty.
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

from otelite.api._json import JSONResponse
from otelite.pipeline import Forwarding, SamplingReport

__all__ = ["ForwardingMetrics", "forwarding_routes"]

_DEAD_LETTERS_SHOWN = 10


def forwarding_routes() -> list[Route]:
    return [Route("/api/forwarding", _destinations)]


async def _destinations(request: Request) -> Response:
    forwarding: Forwarding | None = request.app.state.forwarding
    answer = [] if forwarding is None else await run_in_threadpool(_status, forwarding)
    return JSONResponse({"destinations": answer})


def _status(forwarding: Forwarding) -> list[dict[str, Any]]:
    answer = []
    for report in forwarding.reports():
        stats, queue = report.stats, report.queue
        letters = forwarding.dead_letters(report.name, _DEAD_LETTERS_SHOWN)
        answer.append(
            {
                "name": report.name,
                "endpoint": report.endpoint,
                "protocol": report.protocol,
                "signals": [signal.value for signal in report.signals],
                "breaker": report.breaker.value,
                "breakerOpened": report.breaker_opened,
                "queuedRequests": queue.requests,
                "queuedBytes": queue.bytes,
                "queueDiskBytes": queue.disk_bytes,
                "oldestQueuedSeconds": report.oldest_seconds,
                "sent": stats.sent,
                "failed": stats.failed,
                "retried": stats.retried,
                "rejectedItems": stats.rejected_items,
                "droppedRequests": queue.dropped_requests,
                "droppedBytes": queue.dropped_bytes,
                "deadLettered": stats.dead_lettered,
                "lastError": report.last_error,
                "deadLetterRequests": report.dead_letters.requests,
                "deadLetterBytes": report.dead_letters.bytes,
                "deadLettersRemoved": report.dead_letters.removed_requests,
                "deadLetterBytesRemoved": report.dead_letters.removed_bytes,
                "deadLetters": [
                    {
                        "seq": letter.seq,
                        "signal": letter.signal.value,
                        "tenant": letter.tenant,
                        "answer": letter.answer,
                        "timeUnixMs": round(letter.at * 1000),
                    }
                    for letter in letters
                ],
                "sampling": None if report.sampling is None else _sampling(report.sampling),
            }
        )
    return answer


def _sampling(report: SamplingReport) -> dict[str, int]:
    return {
        "keptTraces": report.stats.kept,
        "droppedTraces": report.stats.dropped,
        "heldTraces": report.held_traces,
        "heldSpans": report.held_spans,
    }


_COUNTERS = (
    (
        "otelite_forward_sent_requests",
        "Requests a destination took (partial successes too).",
        "sent",
    ),
    (
        "otelite_forward_failed_attempts",
        "Attempts to send to a destination that failed and are retried.",
        "failed",
    ),
    ("otelite_forward_retried_attempts", "Attempts that were retries.", "retried"),
    (
        "otelite_forward_rejected_items",
        "Spans, data points and log records a destination rejected in partial successes.",
        "rejected_items",
    ),
    (
        "otelite_forward_dead_lettered_requests",
        "Requests a destination refused for good, kept in its dead-letter directory.",
        "dead_lettered",
    ),
)
"""Per-destination counters: (name, help, ``ForwardStats`` field)."""


class ForwardingMetrics(Collector):
    """Each destination's counts, queue and breaker, read when ``/metrics`` is scraped."""

    def __init__(self, forwarding: Forwarding) -> None:
        self._forwarding = forwarding

    def collect(self) -> Iterator[Metric]:
        reports = self._forwarding.reports()
        labels = ["destination"]
        for name, text, field in _COUNTERS:
            counter = CounterMetricFamily(name, text, labels=labels)
            for report in reports:
                counter.add_metric([report.name], getattr(report.stats, field))
            yield counter
        dropped = CounterMetricFamily(
            "otelite_forward_dropped_requests",
            "Requests given up because a destination's queue was over its bound (oldest first).",
            labels=labels,
        )
        dropped_bytes = CounterMetricFamily(
            "otelite_forward_dropped_bytes", "Bytes of the requests dropped so.", labels=labels
        )
        queued = GaugeMetricFamily(
            "otelite_forward_queue_requests", "Requests waiting for a destination.", labels=labels
        )
        queued_bytes = GaugeMetricFamily(
            "otelite_forward_queue_bytes",
            "Bytes of the requests waiting for a destination.",
            labels=labels,
        )
        on_disk = GaugeMetricFamily(
            "otelite_forward_queue_disk_bytes",
            "Bytes of a destination's queue files on disk (what its max_size bounds).",
            labels=labels,
        )
        oldest = GaugeMetricFamily(
            "otelite_forward_queue_oldest_seconds",
            "Age of the oldest request waiting for a destination (0 when none waits).",
            labels=labels,
        )
        opened = CounterMetricFamily(
            "otelite_forward_breaker_opened",
            "Times a destination's circuit breaker opened.",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "otelite_forward_breaker_state",
            "A destination's circuit breaker: 0 closed, 1 open, 2 half-open (probing).",
            labels=labels,
        )
        letters = GaugeMetricFamily(
            "otelite_forward_dead_letter_requests",
            "Requests in a destination's dead-letter directory.",
            labels=labels,
        )
        letter_bytes = GaugeMetricFamily(
            "otelite_forward_dead_letter_bytes",
            "Bytes a destination's dead-letter directory holds.",
            labels=labels,
        )
        removed = CounterMetricFamily(
            "otelite_forward_dead_letters_removed_requests",
            "Dead letters removed (oldest first) to keep a destination's directory in bound.",
            labels=labels,
        )
        removed_bytes = CounterMetricFamily(
            "otelite_forward_dead_letters_removed_bytes",
            "Bytes of the dead letters removed so.",
            labels=labels,
        )
        sampled = CounterMetricFamily(
            "otelite_forward_sampling_traces",
            "Traces a destination's own tail sampling decided, by decision.",
            labels=[*labels, "decision"],
        )
        held = GaugeMetricFamily(
            "otelite_forward_sampling_held_traces",
            "Traces a destination's own tail sampling holds now.",
            labels=labels,
        )
        states = {"closed": 0, "open": 1, "half_open": 2}
        for report in reports:
            key = [report.name]
            dropped.add_metric(key, report.queue.dropped_requests)
            dropped_bytes.add_metric(key, report.queue.dropped_bytes)
            queued.add_metric(key, report.queue.requests)
            queued_bytes.add_metric(key, report.queue.bytes)
            on_disk.add_metric(key, report.queue.disk_bytes)
            oldest.add_metric(key, report.oldest_seconds or 0.0)
            opened.add_metric(key, report.breaker_opened)
            state.add_metric(key, states[report.breaker.value])
            letters.add_metric(key, report.dead_letters.requests)
            letter_bytes.add_metric(key, report.dead_letters.bytes)
            removed.add_metric(key, report.dead_letters.removed_requests)
            removed_bytes.add_metric(key, report.dead_letters.removed_bytes)
            if report.sampling is not None:
                sampled.add_metric([report.name, "kept"], report.sampling.stats.kept)
                sampled.add_metric([report.name, "dropped"], report.sampling.stats.dropped)
                held.add_metric(key, report.sampling.held_traces)
        yield from (dropped, dropped_bytes, queued, queued_bytes, on_disk, oldest, opened, state)
        yield from (letters, letter_bytes, removed, removed_bytes, sampled, held)
