"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.storage import Storage
from otelite.storage.duckdb import DuckDBStorage
from tests.backends import BACKENDS, store


@pytest.fixture
def storage() -> Iterator[DuckDBStorage]:
    """An empty in-memory DuckDB store, closed after the test."""
    store = DuckDBStorage(None)
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def any_storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """An empty store of each kind (the storage contract holds on all of them)."""
    with store(request.param) as opened:
        yield opened
