"""DuckDB's SQL: the generic dialect is written in DuckDB's spelling already."""

from __future__ import annotations

from typing import ClassVar

from otelite.query.dialects._base import Dialect

__all__ = ["DuckDBDialect"]


class DuckDBDialect(Dialect):
    name: ClassVar[str] = "duckdb"
