"""Storage faults: a full disk and a request storage refuses — never a silent drop.

A full disk is made real with ``RLIMIT_FSIZE`` on the running server (``prlimit``): every
write past the limit fails with ``EFBIG``, as a write fails with ``ENOSPC`` on a full disk,
in the write-ahead log and in DuckDB alike. Raising the limit again is the disk emptied.
"""

from __future__ import annotations

import asyncio
import resource
import signal
from pathlib import Path

import httpx
import pytest

from otelite.config import Limits
from otelite.errors import InvalidRequest
from otelite.pipeline import IngestPipeline
from otelite.storage import WriteBatch, traces_from_table
from otelite.types import ExportTraceServiceRequest, Signal
from tests.e2e.conftest import ServerProcess, wait_for

from .load import make_request, span_ids, stored_span_ids


def post(server: ServerProcess, batch: int) -> httpx.Response:
    return httpx.post(
        f"{server.otlp_http}/v1/traces",
        content=make_request(batch, 50).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10,
    )


@pytest.mark.slow
def test_full_disk_is_a_retryable_error_reported_by_readyz_and_recovers(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    server.start()
    assert server.process is not None
    pid = server.process.pid
    try:
        assert post(server, 1).status_code == 200
        written = max(f.stat().st_size for f in (tmp_path / "data").rglob("*") if f.is_file())
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (written, resource.RLIM_INFINITY))
        refused = post(server, 2)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert "cannot write the write-ahead log" in refused.text
        assert "File too large" in refused.text

        def not_ready() -> str | None:
            response = httpx.get(f"{server.url}/readyz", timeout=5)
            return response.json().get("reason") if response.status_code == 503 else None

        reason = wait_for(not_ready, what="/readyz to report the failing disk")
        assert "write-ahead log cannot be written" in reason
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200  # alive

        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        wait_for(lambda: post(server, 3).status_code == 200, what="ingest to recover")
        wait_for(
            lambda: httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200,
            what="/readyz to recover",
        )
        assert server.stop(signal.SIGTERM) == 0
        server.start()
        stored = stored_span_ids(server.url)
        assert span_ids(make_request(1, 50)) <= stored.keys()
        assert not span_ids(make_request(2, 50)) & stored.keys()  # refused: the client retries
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()


class RefusingStorage:
    """Storage that refuses any batch holding a span named ``poison`` as unstorable."""

    def __init__(self) -> None:
        self.position = 0
        self.stored: list[ExportTraceServiceRequest] = []

    def write(self, batch: WriteBatch) -> None:
        # The pipeline hands storage flattened rows (WriteBatch.tables); a batch may hold
        # none, only the position (a dead-lettered request counted as done).
        spans = batch.tables.get("otel_traces")
        if spans is not None and "poison" in spans.column("SpanName").to_pylist():
            raise InvalidRequest("span 'poison' cannot be stored")
        if spans is not None:
            self.stored.append(traces_from_table(spans))
        self.position = batch.wal_position or self.position

    insert_rows = 122_880  # as DuckDB's row groups

    def wal_position(self) -> int:
        return self.position

    def ingest_state(self) -> str:
        return ""  # nothing is replayed from this store


def poison_request() -> ExportTraceServiceRequest:
    request = make_request(7, 1)
    request.resource_spans[0].scope_spans[0].spans[0].name = "poison"
    return request


def test_a_request_storage_refuses_goes_to_the_dead_letters(tmp_path: Path) -> None:
    storage = RefusingStorage()
    pipeline = IngestPipeline(storage, wal_dir=tmp_path / "wal", limits=Limits())  # type: ignore[arg-type]

    async def run() -> None:
        await pipeline.start()
        await pipeline.consume(Signal.TRACES, make_request(1, 3))
        await pipeline.consume(Signal.TRACES, poison_request())
        await pipeline.consume(Signal.TRACES, make_request(2, 3))
        await pipeline.flush()
        await pipeline.shutdown()

    asyncio.run(run())
    assert [r.resource_spans[0].scope_spans[0].spans[0].name for r in storage.stored] == [
        "op-0",
        "op-0",
    ]
    [letter] = (tmp_path / "dead-letter").iterdir()
    assert letter.name.endswith("-2.traces.pb")  # WAL sequence 2, the second request
    kept = ExportTraceServiceRequest.FromString(letter.read_bytes())
    assert [s.name for s in kept.resource_spans[0].scope_spans[0].spans] == ["poison"]
    assert span_ids(kept) == span_ids(poison_request())
    assert pipeline.stats.dropped_requests == 1


def test_in_memory_mode_the_sender_of_a_refused_request_is_told() -> None:
    storage = RefusingStorage()
    pipeline = IngestPipeline(storage, wal_dir=None, limits=Limits())  # type: ignore[arg-type]

    async def run() -> None:
        await pipeline.start()
        with pytest.raises(InvalidRequest, match="span 'poison' cannot be stored"):
            await pipeline.consume(Signal.TRACES, poison_request())
        await pipeline.consume(Signal.TRACES, make_request(1, 3))
        await pipeline.shutdown()

    asyncio.run(run())
    assert len(storage.stored) == 1
