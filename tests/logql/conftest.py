"""A store of each kind holding ``loki_records``: every LogQL test against storage runs
on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store

from . import loki_records


@pytest.fixture(scope="module", params=BACKENDS)
def loki_store(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[loki_records.request()]))
        yield opened
