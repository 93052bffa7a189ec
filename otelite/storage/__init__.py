"""Where telemetry is kept. One sub-package per backend; callers see only ``Storage``."""

from __future__ import annotations

from otelite.storage._attributes import (
    BOOL_CODE,
    BYTES_CODE,
    COMPOSITE_CODE,
    DOUBLE_CODE,
    INT_CODE,
    any_value_from_text,
    any_value_to_text,
    stored_attributes,
    types_column_name,
)
from otelite.storage._base import Storage, WriteBatch, flatten
from otelite.storage._logs import logs_from_table, logs_to_table
from otelite.storage._open import open_storage
from otelite.storage._schema import LOGS, METRIC_TABLES, TRACES, table_name
from otelite.storage._traces import traces_from_table, traces_to_tables

__all__ = [
    "BOOL_CODE",
    "BYTES_CODE",
    "COMPOSITE_CODE",
    "DOUBLE_CODE",
    "INT_CODE",
    "LOGS",
    "METRIC_TABLES",
    "TRACES",
    "Storage",
    "WriteBatch",
    "any_value_from_text",
    "any_value_to_text",
    "flatten",
    "logs_from_table",
    "logs_to_table",
    "open_storage",
    "stored_attributes",
    "table_name",
    "traces_from_table",
    "traces_to_tables",
    "types_column_name",
]
