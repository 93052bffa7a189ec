"""Between the receivers and storage: durability (write-ahead log) and batched writes."""

from __future__ import annotations

from otelite.pipeline._breaker import BreakerState, CircuitBreaker
from otelite.pipeline._consumer import Consumer, InMemoryConsumer
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._ingest import IngestPipeline
from otelite.pipeline._retention import Retention, RetentionTargets
from otelite.pipeline._stats import (
    DURATION_BUCKETS,
    Durations,
    PipelineHealth,
    PipelineReport,
    PipelineStats,
    count_items,
)
from otelite.pipeline._tenants import TENANTS_DIR, Tenant, Tenants

__all__ = [
    "DURATION_BUCKETS",
    "TENANTS_DIR",
    "BreakerState",
    "CircuitBreaker",
    "Consumer",
    "Durations",
    "FlattenPool",
    "InMemoryConsumer",
    "IngestPipeline",
    "PipelineHealth",
    "PipelineReport",
    "PipelineStats",
    "Retention",
    "RetentionTargets",
    "Tenant",
    "Tenants",
    "count_items",
]
