"""Real process deaths: a child acknowledges requests, dies, and a fresh pipeline replays."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otelite.types import Signal

from .conftest import RecordingStorage, make_pipeline, make_traces

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

_CHILD_PRELUDE = """
import asyncio, json, os, resource, signal, sys
from pathlib import Path
from otelite.config import Limits
from otelite.errors import Unavailable
from otelite.pipeline import IngestPipeline
from otelite.types import Signal
from tests.pipeline.conftest import RecordingStorage, make_logs, make_traces

wal_dir = Path(sys.argv[1])
# Batches wait a minute, so at the moment of death nothing acknowledged is stored yet.
pipeline = IngestPipeline(RecordingStorage(), wal_dir=wal_dir, limits=Limits(),
                          max_batch_delay=60)
"""


def _run_child(body: str, wal_dir: Path) -> subprocess.CompletedProcess[str]:
    code = _CHILD_PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code, str(wal_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _replayed_tags(wal_dir: Path) -> list[str]:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, wal_dir)
    await pipeline.start()
    await pipeline.shutdown()
    return storage.tags()


@pytest.mark.parametrize("death", ["os._exit(0)", "os.kill(os.getpid(), signal.SIGKILL)"])
async def test_acknowledged_requests_survive_process_death(tmp_path: Path, death: str) -> None:
    child = _run_child(
        f"""
        async def main():
            await pipeline.start()
            await asyncio.gather(
                *(pipeline.consume(Signal.TRACES, make_traces(f"c{{i}}")) for i in range(20))
            )
            await pipeline.consume(Signal.LOGS, make_logs("last"))
            print("acknowledged", flush=True)
            {death}

        asyncio.run(main())
        """,
        tmp_path,
    )
    assert child.stdout == "acknowledged\n", child.stderr
    assert child.returncode in (0, -signal.SIGKILL)
    tags = await _replayed_tags(tmp_path)
    assert sorted(tags) == sorted([f"c{i}" for i in range(20)] + ["last"])
    assert list(tmp_path.iterdir()) == [], "a clean shutdown after replay empties the log"


async def test_unwritable_log_raises_unavailable_and_recovers(tmp_path: Path) -> None:
    # A file-size limit makes the log's write fail with EFBIG, as a full disk would.
    child = _run_child(
        """
        async def main():
            await pipeline.start()
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, resource.RLIM_INFINITY))
            results = []
            for tag, spans in [("s0", 10), ("s1", 10), ("big", 400), ("s2", 10)]:
                try:
                    await pipeline.consume(Signal.TRACES, make_traces(tag, spans=spans))
                    results.append([tag, "ok", pipeline.health().reason])
                except Unavailable as error:
                    results.append([tag, str(error), pipeline.health().reason])
            logged = sum(make_traces(t, spans=10).ByteSize() for t in ("s0", "s1", "s2"))
            print(json.dumps({"results": results, "queued": [pipeline.queued_bytes, logged]}))
            sys.stdout.flush()
            os._exit(0)

        asyncio.run(main())
        """,
        tmp_path,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    results = report["results"]
    queued, logged = report["queued"]
    assert queued == logged, "a request kept from the log leaves the queue at once"
    assert [tag for tag, outcome, _ in results if outcome == "ok"] == ["s0", "s1", "s2"]
    big = next(row for row in results if row[0] == "big")
    assert "cannot write the write-ahead log" in big[1]
    assert big[2].startswith("write-ahead log cannot be written")
    assert results[-1][2] == "ok", "a successful sync makes the pipeline ready again"
    assert await _replayed_tags(tmp_path) == ["s0", "s1", "s2"]


async def test_pipeline_in_this_process_replays_after_child(tmp_path: Path) -> None:
    # The log a child wrote continues with higher sequence numbers here.
    child = _run_child(
        """
        async def main():
            await pipeline.start()
            await pipeline.consume(Signal.TRACES, make_traces("child"))
            os._exit(0)

        asyncio.run(main())
        """,
        tmp_path,
    )
    assert child.returncode == 0, child.stderr
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    await pipeline.consume(Signal.TRACES, make_traces("parent"))
    await pipeline.shutdown()
    assert storage.tags() == ["child", "parent"]
    assert [batch.wal_position for batch in storage.batches] == [1, 2]
