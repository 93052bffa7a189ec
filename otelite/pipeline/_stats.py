"""Counters of what flows through the ingest pipeline, and its health."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)

__all__ = [
    "DURATION_BUCKETS",
    "Durations",
    "PipelineHealth",
    "PipelineReport",
    "PipelineStats",
    "count_items",
]

DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0
)  # fmt: skip
"""Upper bounds (seconds) of the buckets ``Durations`` counts in; one more holds the rest."""


@dataclass(slots=True)
class Durations:
    """How long one kind of step took: counts per ``DURATION_BUCKETS`` bucket (not
    cumulative) and their sum, for a histogram. One writing thread, like the counters."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total_seconds: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        self.total_seconds += seconds


@dataclass(slots=True)
class PipelineStats:
    """Running totals since start. Each counter has one writing thread, so no locks."""

    requests: int = 0
    """Requests accepted (consume returned)."""
    spans: int = 0
    data_points: int = 0
    log_records: int = 0
    bytes_accepted: int = 0
    """Serialized size of the accepted requests."""
    rejected_overloaded: int = 0
    rejected_unavailable: int = 0
    wal_syncs: int = 0
    """Group commits: one write + fsync shared by every request that arrived meanwhile."""
    batches_written: int = 0
    write_errors: int = 0
    """Failed ``Storage.write`` calls; each is retried."""
    replayed_requests: int = 0
    """Requests written from the write-ahead log at start-up."""
    dropped_requests: int = 0
    """Requests storage rejected as permanently unstorable, kept in the dead-letter
    directory (``<data_dir>/dead-letter``) and logged at ERROR."""
    rejected_records: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    """Spans, points and records that validation removed (partial success), by signal."""
    rejected_rate_limited: int = 0
    """Requests refused because their client was over its ingest rate."""
    dropped_attributes: int = 0
    """Attributes cut by ``Limits.max_attributes``."""
    dropped_events: int = 0
    dropped_links: int = 0
    truncated_values: int = 0
    """Attribute values cut to ``Limits.max_attribute_value_length``."""
    retention_deleted_rows: int = 0
    """Rows retention deleted (not counted by stores that expire rows themselves)."""
    wal_sync_seconds: Durations = field(default_factory=Durations)
    """Each group commit's write and fsync of the write-ahead log."""
    flatten_seconds: Durations = field(default_factory=Durations)
    """Each batch's turn into tables, waiting for a flatten worker included."""
    write_seconds: Durations = field(default_factory=Durations)
    """Each ``Storage.write`` call that succeeded."""

    def count_accepted(self, signal: Signal, items: int) -> None:
        """Add ``items`` accepted spans, data points or log records."""
        if signal is Signal.TRACES:
            self.spans += items
        elif signal is Signal.METRICS:
            self.data_points += items
        else:
            self.log_records += items

    def accepted(self, signal: Signal) -> int:
        """Spans, data points or log records accepted so far."""
        if signal is Signal.TRACES:
            return self.spans
        return self.data_points if signal is Signal.METRICS else self.log_records


@dataclass(frozen=True, slots=True)
class PipelineReport:
    """One tenant's counts and the state of its queue and log, as of now."""

    tenant: str
    """The tenant id; "" for what was refused before a tenant was known."""
    stats: PipelineStats
    queued_bytes: int = 0
    """Accepted bytes not yet stored."""
    wal_bytes: int = 0
    """The write-ahead log's size on disk."""


@dataclass(frozen=True, slots=True)
class PipelineHealth:
    """Whether the pipeline takes and stores data now; ``reason`` says why not."""

    ready: bool
    reason: str


def count_items(request: ExportRequest) -> int:
    """Spans, metric data points or log records in one export request."""
    if isinstance(request, ExportTraceServiceRequest):
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if isinstance(request, ExportLogsServiceRequest):
        return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
    assert isinstance(request, ExportMetricsServiceRequest)
    points = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    points += len(getattr(metric, kind).data_points)
    return points
