"""Where telemetry is kept. One sub-package per backend; callers see only ``Storage``."""

from __future__ import annotations

from otelite.storage._attributes import stored_attributes
from otelite.storage._base import Storage, WriteBatch, flatten
from otelite.storage._logs import logs_from_table, logs_to_table
from otelite.storage._open import open_storage
from otelite.storage._traces import traces_from_table, traces_to_tables

__all__ = [
    "Storage",
    "WriteBatch",
    "flatten",
    "logs_from_table",
    "logs_to_table",
    "open_storage",
    "stored_attributes",
    "traces_from_table",
    "traces_to_tables",
]
