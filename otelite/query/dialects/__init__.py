"""SQL dialects: one class per backend, each a table of overrides."""

from __future__ import annotations

from otelite.query.dialects._base import Dialect
from otelite.query.dialects._duckdb import DuckDBDialect

__all__ = ["Dialect", "DuckDBDialect"]
