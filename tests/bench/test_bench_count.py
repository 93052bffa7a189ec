"""``count_stored``: the bench's count of stored items, against a real query API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bench._ingest import count_stored
from otelite.api import create_app
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal
from tests.api.samples import T0, logs, metrics, traces
from tests.api.served import Served

S = 10**9


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    storage = DuckDBStorage(None)
    storage.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
    served = Served(create_app(storage))
    yield served.url
    served.close()
    storage.close()


@pytest.mark.parametrize(
    ("signal", "stored"), [(Signal.TRACES, 5), (Signal.LOGS, 3), (Signal.METRICS, 8)]
)
def test_counts_every_stored_item(url: str, signal: Signal, stored: int) -> None:
    with httpx.Client() as client:
        assert count_stored(client, url, signal) == stored
        # The window is in Unix seconds; the samples' points lie at T0 + 1 s and T0 + 2 s.
        t0 = T0 // S
        assert count_stored(client, url, signal, (t0 - 1, t0 + 3)) == stored
        assert count_stored(client, url, signal, (t0 + 3, t0 + 4)) == 0
        if signal is Signal.METRICS:
            assert count_stored(client, url, signal, (t0 + 2, t0 + 3)) == 2


def test_an_error_answer_raises(url: str) -> None:
    with httpx.Client() as client, pytest.raises(httpx.HTTPStatusError):
        count_stored(client, url, Signal.LOGS, (10, 5))
