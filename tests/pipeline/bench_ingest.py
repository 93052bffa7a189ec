"""Overhead of the ingest pipeline per span, with a storage that does nothing.

Run: ``.venv/bin/python -m tests.pipeline.bench_ingest [requests] [senders]``. Reports wall
and CPU time (all threads) per span for 500-span requests, with the write-ahead log (real
fsyncs in a temporary directory) and in memory mode.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from otelite.config import Limits
from otelite.pipeline import IngestPipeline
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportTraceServiceRequest, Signal

from .conftest import make_traces

SPANS = 500


class _NullStorage:
    def __init__(self) -> None:
        self.position = 0
        self.spans = 0

    def write(self, batch: WriteBatch) -> None:
        self.position = batch.wal_position or self.position
        self.spans += batch.tables["otel_traces"].num_rows

    insert_rows = 122_880  # as DuckDB's row groups

    def wal_position(self) -> int:
        return self.position

    def ingest_state(self) -> str:
        return ""  # nothing is replayed from this store


async def _run(
    wal_dir: Path | None, requests: list[ExportTraceServiceRequest], senders: int
) -> tuple[float, float, int]:
    storage = _NullStorage()
    pipeline = IngestPipeline(cast(Storage, storage), wal_dir=wal_dir, limits=Limits())
    await pipeline.start()
    queue = list(requests)

    async def sender() -> None:
        while queue:
            await pipeline.consume(Signal.TRACES, queue.pop())

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(sender() for _ in range(senders)))
    await pipeline.flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await pipeline.shutdown()
    spans = len(requests) * SPANS
    assert storage.spans == spans
    return wall / spans * 1e6, cpu / spans * 1e6, pipeline.stats.wal_syncs


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    senders = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    requests = [make_traces(f"bench-{i}", spans=SPANS) for i in range(count)]
    size = requests[0].ByteSize()
    print(f"{count} requests of {SPANS} spans ({size / SPANS:.0f} B/span), {senders} senders")
    for label, use_wal in [("WAL", True), ("memory", False)]:
        runs = []
        for _ in range(5):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(asyncio.run(_run(Path(tmp) if use_wal else None, requests, senders)))
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        syncs = statistics.median(r[2] for r in runs)
        print(f"{label:>6}: wall {wall:.2f} µs/span, CPU {cpu:.2f} µs/span, {syncs:.0f} fsyncs")


if __name__ == "__main__":
    main()
