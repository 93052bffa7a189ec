"""Counters of what flows through the ingest pipeline, and its health."""

from __future__ import annotations

from dataclasses import dataclass

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
)

__all__ = ["PipelineHealth", "PipelineStats", "count_items"]


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
    rejected_records: int = 0
    """Spans, points and records that validation removed (partial success)."""
    rejected_rate_limited: int = 0
    """Requests refused because their client was over its ingest rate."""
    dropped_attributes: int = 0
    """Attributes cut by ``Limits.max_attributes``."""
    dropped_events: int = 0
    dropped_links: int = 0
    truncated_values: int = 0
    """Attribute values cut to ``Limits.max_attribute_value_length``."""


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
