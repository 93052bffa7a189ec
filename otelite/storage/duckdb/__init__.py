"""The embedded DuckDB backend: otelite's default store."""

from __future__ import annotations

from otelite.storage.duckdb._storage import DATABASE_FILE, DuckDBStorage

__all__ = ["DATABASE_FILE", "DuckDBStorage"]
