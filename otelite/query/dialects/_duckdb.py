"""DuckDB's SQL: the generic dialect in DuckDB's spelling, with maps stored as two lists.

Attribute maps are kept as ``STRUCT("keys" K[], "values" V[])`` rather than DuckDB's
``MAP`` (why: ``otelite.storage.duckdb._layout``); looking a key up in the keys list and
taking the value at that position is as fast as a ``MAP`` lookup, and gives NULL for a
missing key as a ``MAP`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from otelite.query.dialects._base import Dialect

__all__ = ["DuckDBDialect"]


class DuckDBDialect(Dialect):
    name: ClassVar[str] = "duckdb"

    FUNCTIONS: ClassVar[Mapping[str, str]] = {
        **Dialect.FUNCTIONS,
        "map_get": '{0}."values"[list_position({0}."keys", {1})]',
        "map_contains": 'list_contains({0}."keys", {1})',
    }

    def map_type(self, key: str, item: str) -> str:
        return f'STRUCT("keys" {self.list_type(key)}, "values" {self.list_type(item)})'
