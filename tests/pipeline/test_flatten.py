from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelite.errors import InvalidRequest, Unavailable
from otelite.pipeline._flatten import FlattenPool
from otelite.storage import flatten
from otelite.types import Signal

from .conftest import RecordingStorage, make_logs, make_metrics, make_pipeline, make_traces


@pytest.fixture
def pool() -> Iterator[FlattenPool]:
    flattener = FlattenPool()
    flattener.start()
    yield flattener
    flattener.close()


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie has exited; only its parent's reaping is left


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still running"
        time.sleep(0.02)


def test_worker_flattens_serialized_requests_as_storage_does(pool: FlattenPool) -> None:
    traces = make_traces("t", spans=50).SerializeToString()
    metrics = make_metrics("m").SerializeToString()
    logs = make_logs("l").SerializeToString()
    jobs = [
        pool.submit([(Signal.TRACES, traces), (Signal.METRICS, metrics), (Signal.LOGS, logs)])
        for _ in range(3)
    ]
    expected = flatten([traces], [metrics], [logs])
    for job in jobs:
        tables = job.result()
        assert sorted(tables) == sorted(expected)
        for name, table in expected.items():
            assert tables[name].equals(table), name


def test_requests_that_cannot_be_flattened_are_a_permanent_error(pool: FlattenPool) -> None:
    with pytest.raises(InvalidRequest, match="cannot flatten"):
        pool.submit([(Signal.TRACES, b"\xff\xff not protobuf")]).result()
    # The worker lives on.
    assert pool.submit([(Signal.LOGS, make_logs("x").SerializeToString())]).result()


def test_a_killed_worker_fails_its_job_retryably_and_is_replaced(pool: FlattenPool) -> None:
    [pid] = pool.pids
    # Big enough that the worker is still flattening when the kill lands.
    big = make_traces("big", spans=20_000).SerializeToString()
    job = pool.submit([(Signal.TRACES, big)])
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(Unavailable, match="flatten worker died"):
        job.result()
    request = [(Signal.LOGS, make_logs("x").SerializeToString())]
    assert pool.submit(request).result()["otel_logs"].num_rows == 3
    assert len(pool.pids) == 1
    assert pool.pids != [pid]
    _wait_gone(pid)


def test_workers_end_when_the_server_process_dies() -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os\n"
            "from otelite.pipeline._flatten import FlattenPool\n"
            "pool = FlattenPool(workers=2)\n"
            "pool.start()\n"
            "print(*pool.pids, flush=True)\n"
            "os._exit(0)\n",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    pids = [int(pid) for pid in child.stdout.split()]
    assert len(pids) == 2
    for pid in pids:
        _wait_gone(pid)


@pytest.mark.anyio
async def test_pipeline_stores_everything_when_its_worker_is_killed(tmp_path: Path) -> None:
    storage = RecordingStorage()
    flattener = FlattenPool()
    pipeline = make_pipeline(storage, tmp_path, max_batch_delay=0.01, flattener=flattener)
    await pipeline.start()
    try:
        await pipeline.consume(Signal.TRACES, make_traces("before"))
        await pipeline.flush()
        for pid in flattener.pids:
            os.kill(pid, signal.SIGKILL)
        for i in range(5):
            await pipeline.consume(Signal.TRACES, make_traces(f"after-{i}"))
        await pipeline.flush()
    finally:
        await pipeline.shutdown()
        flattener.close()
    assert storage.tags() == ["before", *(f"after-{i}" for i in range(5))]
