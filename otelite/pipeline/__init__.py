"""Between the receivers and storage: durability (write-ahead log) and batched writes."""

from __future__ import annotations

from otelite.pipeline._consumer import Consumer, InMemoryConsumer
from otelite.pipeline._ingest import IngestPipeline
from otelite.pipeline._stats import PipelineHealth, PipelineStats, count_items

__all__ = [
    "Consumer",
    "InMemoryConsumer",
    "IngestPipeline",
    "PipelineHealth",
    "PipelineStats",
    "count_items",
]
