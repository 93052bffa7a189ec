"""otelite's own metrics: ``GET /metrics`` on the query port, in Prometheus's text format.

Two kinds of series, both through prometheus-client's registry:

* what the pipeline counts anyway (each tenant's ``PipelineStats``, its queue and its
  write-ahead log) is read when the metrics are scraped, so ingest pays nothing extra;
* the query API's latency by route and outcome, observed around each request.

Names follow Prometheus's conventions: ``otelite_`` first, base units (seconds, bytes),
``_total`` on counters. README.md lists the series.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.api._status import ResponseStatus
from otelite.pipeline import DURATION_BUCKETS, Durations, PipelineReport
from otelite.types import Signal

__all__ = ["PipelineReports", "SelfMetrics"]

PipelineReports = Callable[[], Iterable[PipelineReport]]
"""Every tenant's pipeline report, as of now (blocking)."""

_QUERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SelfMetrics:
    """The registry behind ``/metrics``, and the middleware that times the query API."""

    def __init__(self, reports: PipelineReports) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._queries = Histogram(
            "otelite_query_duration_seconds",
            "Time to answer a request to the query API (or the web UI), by route and outcome.",
            ["route", "outcome"],
            buckets=_QUERY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_PipelineCollector(reports))

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the text format, or OpenMetrics when the scraper asks for it."""
        encode, media_type = choose_encoder(request.headers.get("accept", ""))
        body = await run_in_threadpool(encode, self.registry)
        return Response(body, headers={"Content-Type": media_type})

    def timed(self, app: ASGIApp) -> ASGIApp:
        """``app`` with each HTTP request's latency observed by route and outcome."""
        return _Timed(app, self._queries)


class _Timed:
    """ASGI middleware observing each HTTP request's latency in ``histogram``."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self._app = app
        self._histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        response = ResponseStatus()
        try:
            await self._app(scope, receive, response.watching(send))
        finally:
            # The route's template, never the path: ids and unknown paths (scanners) must
            # not grow the number of series. Requests refused before routing (no token)
            # and unknown paths share "unmatched".
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self._histogram.labels(route, _outcome(response.status)).observe(elapsed)


def _outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "client_error" if status < 500 else "server_error"


_COUNTERS = (
    ("otelite_requests_accepted", "Export requests accepted.", "requests"),
    (
        "otelite_received_bytes",
        "Serialized bytes of the export requests accepted.",
        "bytes_accepted",
    ),
    (
        "otelite_dead_letters",
        "Requests storage refused for their content, kept in the dead-letter directory.",
        "dropped_requests",
    ),
    (
        "otelite_storage_write_errors",
        "Failed storage writes (and flattenings); each is retried with backoff.",
        "write_errors",
    ),
    (
        "otelite_storage_batches_written",
        "Batches written to storage, each one transaction or insert set.",
        "batches_written",
    ),
    (
        "otelite_wal_syncs",
        "Group commits of the write-ahead log: one write and fsync for every request that "
        "arrived meanwhile.",
        "wal_syncs",
    ),
    (
        "otelite_wal_replayed_requests",
        "Requests stored from the write-ahead log at start-up.",
        "replayed_requests",
    ),
    (
        "otelite_retention_deleted_rows",
        "Rows retention deleted (ClickHouse expires rows by TTL: not counted here).",
        "retention_deleted_rows",
    ),
)
"""Per-tenant counters: (name, help, ``PipelineStats`` field)."""

_BY_REASON = (
    (
        "otelite_requests_refused",
        "Export requests refused whole, by reason: overloaded (queue full: 429 or "
        "RESOURCE_EXHAUSTED), unavailable (storage or log failing: 503 or UNAVAILABLE), "
        "rate_limited (429).",
        (
            ("overloaded", "rejected_overloaded"),
            ("unavailable", "rejected_unavailable"),
            ("rate_limited", "rejected_rate_limited"),
        ),
    ),
    (
        "otelite_items_dropped",
        "Parts of accepted records cut by the limits: attributes, events and links dropped, "
        "attribute values truncated.",
        (
            ("attribute_limit", "dropped_attributes"),
            ("event_limit", "dropped_events"),
            ("link_limit", "dropped_links"),
            ("value_truncated", "truncated_values"),
        ),
    ),
)
"""Per-tenant counters by reason: (name, help, ((reason, ``PipelineStats`` field), ...))."""

_GAUGES = (
    ("otelite_queue_bytes", "Accepted bytes not yet stored.", "queued_bytes"),
    ("otelite_wal_bytes", "Size of the write-ahead log on disk.", "wal_bytes"),
)
"""Per-tenant gauges: (name, help, ``PipelineReport`` field)."""

_HISTOGRAMS = (
    (
        "otelite_wal_sync_duration_seconds",
        "Write and fsync of one group commit of the write-ahead log.",
        "wal_sync_seconds",
    ),
    (
        "otelite_flatten_duration_seconds",
        "From handing a batch to a flatten worker until its tables came back.",
        "flatten_seconds",
    ),
    (
        "otelite_storage_write_duration_seconds",
        "One successful storage write (a batch's inserts and its position).",
        "write_seconds",
    ),
)
"""Per-tenant histograms: (name, help, ``PipelineStats`` field of ``Durations``)."""


class _PipelineCollector(Collector):
    """Turns the pipeline reports into metric families when scraped."""

    def __init__(self, reports: PipelineReports) -> None:
        self._reports = reports

    def collect(self) -> Iterator[Metric]:
        reports = list(self._reports())
        accepted = CounterMetricFamily(
            "otelite_records_accepted",
            "Spans, metric data points and log records accepted: durable, stored or to be.",
            labels=["tenant", "signal"],
        )
        refused = CounterMetricFamily(
            "otelite_records_refused",
            "Spans, data points and log records validation removed from accepted requests "
            "(OTLP partial success).",
            labels=["tenant", "signal", "reason"],
        )
        for report in reports:
            for signal in Signal:
                tenant_signal = [report.tenant, signal.value]
                accepted.add_metric(tenant_signal, report.stats.accepted(signal))
                refused.add_metric(
                    [*tenant_signal, "invalid"], report.stats.rejected_records[signal]
                )
        yield accepted
        yield refused
        for name, text, field in _COUNTERS:
            counter = CounterMetricFamily(name, text, labels=["tenant"])
            for report in reports:
                counter.add_metric([report.tenant], getattr(report.stats, field))
            yield counter
        for name, text, reasons in _BY_REASON:
            counter = CounterMetricFamily(name, text, labels=["tenant", "reason"])
            for report in reports:
                for reason, field in reasons:
                    counter.add_metric([report.tenant, reason], getattr(report.stats, field))
            yield counter
        for name, text, field in _GAUGES:
            gauge = GaugeMetricFamily(name, text, labels=["tenant"])
            for report in reports:
                gauge.add_metric([report.tenant], getattr(report, field))
            yield gauge
        for name, text, field in _HISTOGRAMS:
            histogram = HistogramMetricFamily(name, text, labels=["tenant"])
            for report in reports:
                buckets, total = _cumulative(getattr(report.stats, field))
                histogram.add_metric([report.tenant], buckets, total)
            yield histogram


def _cumulative(durations: Durations) -> tuple[list[tuple[str, float]], float]:
    """Prometheus's cumulative ``le`` buckets (``+Inf`` last) and the sum."""
    buckets: list[tuple[str, float]] = []
    running = 0.0
    for bound, count in zip((*DURATION_BUCKETS, float("inf")), durations.counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
    return buckets, durations.total_seconds
