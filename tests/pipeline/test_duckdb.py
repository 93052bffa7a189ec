"""The pipeline over the real DuckDB store: a crash mid-stream, then exactly-once replay."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otelite.config import Limits
from otelite.pipeline import IngestPipeline
from otelite.storage.duckdb import DuckDBStorage

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import asyncio, os, sys
from pathlib import Path
from otelite.config import Limits
from otelite.pipeline import IngestPipeline
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import Signal
from tests.pipeline.conftest import make_logs, make_traces

data = Path(sys.argv[1])

async def main():
    storage = DuckDBStorage(data / "db")
    pipeline = IngestPipeline(storage, wal_dir=data / "wal", limits=Limits(),
                              max_batch_delay=60)
    await pipeline.start()
    for i in range(3):
        await pipeline.consume(Signal.TRACES, make_traces(f"stored-{i}", spans=10))
    await pipeline.flush()
    print(storage.wal_position(), flush=True)
    # Acknowledged but still queued (batches wait a minute) when the process dies.
    for i in range(2):
        await pipeline.consume(Signal.TRACES, make_traces(f"logged-{i}", spans=10))
    await pipeline.consume(Signal.LOGS, make_logs("logged-log", records=4))
    os._exit(0)

asyncio.run(main())
"""


def _count(storage: DuckDBStorage, table: str) -> int:
    return int(storage.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py())


async def test_crash_then_replay_stores_everything_exactly_once(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "3"

    storage = DuckDBStorage(tmp_path / "db")
    try:
        assert storage.wal_position() == 3
        assert _count(storage, "otel_traces") == 30
        pipeline = IngestPipeline(storage, wal_dir=tmp_path / "wal", limits=Limits())
        await pipeline.start()
        assert pipeline.stats.replayed_requests == 3
        assert storage.wal_position() == 6
        assert _count(storage, "otel_traces") == 50
        assert _count(storage, "otel_logs") == 4
        await pipeline.shutdown()
        assert list((tmp_path / "wal").iterdir()) == []
    finally:
        storage.close()

    # A second start finds nothing left to replay and stores nothing twice.
    storage = DuckDBStorage(tmp_path / "db")
    try:
        pipeline = IngestPipeline(storage, wal_dir=tmp_path / "wal", limits=Limits())
        await pipeline.start()
        await pipeline.shutdown()
        assert pipeline.stats.replayed_requests == 0
        assert _count(storage, "otel_traces") == 50
    finally:
        storage.close()
