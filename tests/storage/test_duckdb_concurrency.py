"""Reads run while a write is in progress, without waiting for it and without seeing half of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import ExportTraceServiceRequest, Signal
from tests.storage.samples import T0, TRACE_A, kv, span


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[DuckDBStorage]:
    store = DuckDBStorage(tmp_path)
    yield store
    store.close()


def _request(first_id: int, count: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for i in range(first_id, first_id + count):
        item: Span = span(i.to_bytes(16, "big"), i, T0 + i)
        item.attributes.extend(kv(f"k{j}", string_value=f"value {i}") for j in range(8))
        scope_spans.spans.append(item)
    return request


def _count(store: DuckDBStorage) -> int:
    return int(store.query("SELECT count(*) AS n FROM otel_traces").column("n")[0].as_py())


def test_reads_during_a_large_write_see_before_or_after_never_half(
    storage: DuckDBStorage,
) -> None:
    storage.write(WriteBatch(traces=[_request(1, 10)]))
    big = [_request(1000 + 2000 * n, 2000) for n in range(10)]
    writing = threading.Thread(target=storage.write, args=(WriteBatch(traces=big),))
    seen: list[int] = []
    found = 0
    writing.start()
    while writing.is_alive():
        seen.append(_count(storage))
        found += storage.get_trace((1).to_bytes(16, "big")) is not None
    writing.join()

    assert set(seen) <= {10, 20_010}
    assert found == len(seen) >= 5  # reads kept completing while the write ran
    assert _count(storage) == 20_010


def test_reads_do_not_wait_for_an_open_write_transaction(storage: DuckDBStorage) -> None:
    storage.write(WriteBatch(traces=[_request(1, 3)], wal_position=1))
    trace_id = (2).to_bytes(16, "big")
    # Hold a write in progress exactly as write() does: its lock and an open transaction
    # holding uncommitted rows.
    with storage._write_lock:
        writer = storage._writer
        writer.begin()
        writer.execute("INSERT INTO otel_traces SELECT * FROM otel_traces")
        writer.execute("UPDATE otelite_state SET wal_position = 2")
        try:
            with ThreadPoolExecutor(2) as pool:
                started = time.monotonic()
                counts = pool.submit(_count, storage)
                trace = pool.submit(storage.get_trace, trace_id)
                exported = pool.submit(lambda: list(storage.export(Signal.TRACES)))
                position = pool.submit(storage.wal_position)
                assert counts.result(timeout=10) == 3
                found = trace.result(timeout=10)
                assert found is not None
                assert len(found.resource_spans[0].scope_spans[0].spans) == 1
                assert len(exported.result(timeout=10)) == 1
                assert position.result(timeout=10) == 1
                assert time.monotonic() - started < 10
        finally:
            writer.rollback()
    assert _count(storage) == 3
    assert storage.get_trace(TRACE_A) is None
