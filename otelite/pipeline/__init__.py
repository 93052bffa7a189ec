"""Between the receivers and storage: durability (write-ahead log) and batched writes."""

from __future__ import annotations

from otelite.pipeline._consumer import Consumer, InMemoryConsumer

__all__ = ["Consumer", "InMemoryConsumer"]
