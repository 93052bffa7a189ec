"""SQL dialects: one class per backend, each a table of overrides."""

from __future__ import annotations

from otelite.query.dialects._base import ColumnCodec, Dialect
from otelite.query.dialects._clickhouse import ClickHouseDialect
from otelite.query.dialects._duckdb import DuckDBDialect

__all__ = ["ClickHouseDialect", "ColumnCodec", "Dialect", "DuckDBDialect"]
