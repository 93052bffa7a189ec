"""Retention as a component: each pass deletes what is older than the retention from every
store it is given, counts it for the store's tenant, and a failing store stops no other."""

from __future__ import annotations

import asyncio

from otelite.pipeline import PipelineStats, Retention
from otelite.storage import Storage, WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal
from tests.storage.samples import trace_request


class FailingStorage:
    """A store whose deletes fail (the retention must go on to the next one)."""

    calls = 0

    def delete_before(self, cutoff: int) -> int:
        self.calls += 1
        raise OSError("disk gone")


def test_each_pass_deletes_old_rows_of_every_store_and_counts_them() -> None:
    # trace_request's spans are from 2023: older than a day's retention.
    spans = sum(len(ss.spans) for rs in trace_request().resource_spans for ss in rs.scope_spans)
    stores = [DuckDBStorage(None), DuckDBStorage(None)]
    failing = FailingStorage()
    stats = [PipelineStats(), PipelineStats(), PipelineStats()]
    for store in stores:
        store.write(WriteBatch(traces=[trace_request()]))
    targets: list[tuple[Storage, PipelineStats]] = [
        (failing, stats[0]),  # type: ignore[list-item]
        (stores[0], stats[1]),
        (stores[1], stats[2]),
    ]

    async def run() -> None:
        retention = Retention(lambda: targets, retention_seconds=86_400, interval_seconds=0.05)
        retention.start()
        while failing.calls < 3:  # three passes
            await asyncio.sleep(0.01)
        await retention.shutdown()
        await retention.shutdown()  # a second time: nothing to do

    try:
        asyncio.run(run())
        assert [s.retention_deleted_rows for s in stats] == [0, spans, spans]
        for store in stores:
            assert list(store.export(Signal.TRACES)) == []
    finally:
        for store in stores:
            store.close()
