"""Servers the CLI talks to in tests: the query API and a real OTLP/HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.pipeline import InMemoryConsumer
from otelite.receivers import HttpReceiver

from . import fake_api
from .support import ServerThread


@pytest.fixture(scope="session")
def api_server() -> Iterator[ServerThread]:
    server = ServerThread(fake_api.app)
    yield server
    server.close()


@pytest.fixture
def api_url(api_server: ServerThread) -> str:
    """The query API's URL, with the record of requests it saw emptied."""
    fake_api.SEEN.clear()
    return api_server.url


@pytest.fixture
def consumer() -> InMemoryConsumer:
    return InMemoryConsumer()


@pytest.fixture
def otlp_url(consumer: InMemoryConsumer) -> Iterator[str]:
    """A real OTLP/HTTP receiver that hands what it accepts to ``consumer``."""
    server = ServerThread(HttpReceiver(consumer).app)
    yield server.url
    server.close()
