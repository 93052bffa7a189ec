"""The API on a real uvicorn server (port 0), over in-memory DuckDB filled with samples."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage

from .samples import logs, metrics, traces
from .served import Served


@pytest.fixture(scope="module")
def storage() -> Iterator[DuckDBStorage]:
    store = DuckDBStorage(None)
    store.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(storage: DuckDBStorage) -> Iterator[httpx.Client]:
    served = Served(create_app(storage))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            yield http
    finally:
        served.close()
