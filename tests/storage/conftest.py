"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.storage.duckdb import DuckDBStorage


@pytest.fixture
def storage() -> Iterator[DuckDBStorage]:
    """An empty in-memory DuckDB store, closed after the test."""
    store = DuckDBStorage(None)
    yield store
    store.close()
