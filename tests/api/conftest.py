"""The API on a real uvicorn server (port 0), over each kind of store filled with samples."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store

from .samples import logs, metrics, traces
from .served import Served


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """The samples in a store of each kind: every API test runs on both."""
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
        yield opened


@pytest.fixture(scope="module")
def client(storage: Storage) -> Iterator[httpx.Client]:
    served = Served(create_app(storage))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as http:
            yield http
    finally:
        served.close()
