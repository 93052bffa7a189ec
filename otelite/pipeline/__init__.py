"""Between the receivers and storage: the pipeline file's processors (redaction, tail
sampling) and exporters (forwarding), durability (write-ahead log) and batched writes."""

from __future__ import annotations

from otelite.pipeline._breaker import BreakerState, CircuitBreaker
from otelite.pipeline._consumer import Consumer, InMemoryConsumer, parsed, serialized
from otelite.pipeline._delivery import Answer, Deliverer, DeliveryStats, Destination, Sleep
from otelite.pipeline._exporters import ExporterSettings, TlsSettings
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._forward_queue import QueueReport
from otelite.pipeline._forwarding import (
    FORWARD_DIR,
    DeadLetter,
    DestinationReport,
    Forwarding,
    ForwardStats,
)
from otelite.pipeline._ingest import IngestPipeline
from otelite.pipeline._pipeline_file import (
    PipelineFile,
    PipelineFileError,
    parse_pipeline,
    read_pipeline_file,
)
from otelite.pipeline._processing import Processing, Processor
from otelite.pipeline._redaction import PRESETS, RedactionRules
from otelite.pipeline._retention import Retention, RetentionTargets
from otelite.pipeline._sampling_settings import (
    SamplingReport,
    SamplingStats,
    TailSamplingSettings,
)
from otelite.pipeline._stages import PipelineStages
from otelite.pipeline._stats import (
    DURATION_BUCKETS,
    Durations,
    PipelineHealth,
    PipelineReport,
    PipelineStats,
    count_items,
)
from otelite.pipeline._tail_sampling import TAIL_SAMPLING_DIR, TailSampler
from otelite.pipeline._tenants import TENANTS_DIR, Tenant, Tenants

__all__ = [
    "DURATION_BUCKETS",
    "FORWARD_DIR",
    "PRESETS",
    "TAIL_SAMPLING_DIR",
    "TENANTS_DIR",
    "Answer",
    "BreakerState",
    "CircuitBreaker",
    "Consumer",
    "DeadLetter",
    "Deliverer",
    "DeliveryStats",
    "Destination",
    "DestinationReport",
    "Durations",
    "ExporterSettings",
    "FlattenPool",
    "ForwardStats",
    "Forwarding",
    "InMemoryConsumer",
    "IngestPipeline",
    "PipelineFile",
    "PipelineFileError",
    "PipelineHealth",
    "PipelineReport",
    "PipelineStages",
    "PipelineStats",
    "Processing",
    "Processor",
    "QueueReport",
    "RedactionRules",
    "Retention",
    "RetentionTargets",
    "SamplingReport",
    "SamplingStats",
    "Sleep",
    "TailSampler",
    "TailSamplingSettings",
    "Tenant",
    "Tenants",
    "TlsSettings",
    "count_items",
    "parse_pipeline",
    "parsed",
    "read_pipeline_file",
    "serialized",
]
