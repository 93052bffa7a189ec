from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from otelite.config import Limits
from otelite.errors import Overloaded, Unavailable
from otelite.pipeline._batcher import Batcher, Flattening, QueuedRequest, Stop
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._wal import WriteAheadLog
from otelite.storage import WriteBatch
from otelite.types import ExportTraceServiceRequest, Signal

from .conftest import (
    RecordingStorage,
    make_logs,
    make_metrics,
    make_pipeline,
    make_traces,
)

pytestmark = pytest.mark.anyio


def _logged(wal_dir: Path, after: int = 0) -> list[int]:
    wal = WriteAheadLog.open(wal_dir)
    try:
        return [record.seq for record in wal.records(after)]
    finally:
        wal.close(stored_position=0)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


async def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_memory_mode_acks_only_after_storage_commit() -> None:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, None, max_batch_delay=0.05)
    await pipeline.start()
    storage.freeze()
    consume = asyncio.create_task(pipeline.consume(Signal.TRACES, make_traces("a")))
    await asyncio.sleep(0.15)
    assert not consume.done()
    storage.thaw()
    await asyncio.wait_for(consume, 5)
    assert storage.tags() == ["a"]
    assert storage.batches[0].wal_position is None
    await pipeline.shutdown()


async def test_ack_means_logged_and_durable_across_a_new_pipeline(tmp_path: Path) -> None:
    crashed_storage = RecordingStorage()
    crashed_storage.freeze()  # nothing reaches storage: only the log has the data
    first = make_pipeline(crashed_storage, tmp_path)
    await first.start()
    await first.consume(Signal.TRACES, make_traces("t1"))
    await first.consume(Signal.METRICS, make_metrics("m1"))
    await first.consume(Signal.LOGS, make_logs("l1"))
    assert _logged(tmp_path) == [1, 2, 3]
    # `first` is abandoned: no shutdown, as if the process died here.

    storage = RecordingStorage()
    second = make_pipeline(storage, tmp_path)
    await second.start()
    assert sorted(storage.tags()) == ["l1", "m1", "t1"]
    assert storage.wal_position() == 3
    assert second.stats.replayed_requests == 3
    await second.consume(Signal.TRACES, make_traces("t2"))
    await second.shutdown()
    assert storage.tags()[-1] == "t2"
    assert storage.wal_position() == 4
    crashed_storage.thaw()


async def test_replay_writes_exactly_the_unstored_requests(tmp_path: Path) -> None:
    disk = RecordingStorage()
    first = make_pipeline(disk, tmp_path, max_batch_items=30)  # three requests per batch
    await first.start()
    for i in range(9):
        await first.consume(Signal.TRACES, make_traces(f"stored-{i}"))
    await first.flush()
    assert disk.wal_position() == 9
    disk.freeze()
    await asyncio.gather(*(first.consume(Signal.LOGS, make_logs(f"pending-{i}")) for i in range(7)))
    # Crash: what `disk` committed survives, the writer's in-flight batch does not.
    after_crash = disk.clone()

    second = make_pipeline(after_crash, tmp_path, max_batch_items=6)  # two log requests a batch
    await second.start()
    tags = after_crash.tags()
    assert tags == [f"stored-{i}" for i in range(9)] + [f"pending-{i}" for i in range(7)]
    replay_positions = [b.wal_position for b in after_crash.batches if (b.wal_position or 0) > 9]
    assert replay_positions == [11, 13, 15, 16]
    await second.consume(Signal.TRACES, make_traces("new"))
    await second.flush()
    assert after_crash.batches[-1].wal_position == 17
    disk.thaw()


async def test_crash_during_replay_is_safe(tmp_path: Path) -> None:
    crashed = RecordingStorage()
    crashed.freeze()
    first = make_pipeline(crashed, tmp_path)
    await first.start()
    await asyncio.gather(
        *(first.consume(Signal.TRACES, make_traces(f"r{i}", spans=10)) for i in range(6))
    )

    replaying = RecordingStorage()
    second = make_pipeline(replaying, tmp_path, max_batch_items=20)
    original_write = replaying.write

    def write_once_then_hang(batch: WriteBatch) -> None:
        original_write(batch)
        if len(replaying.batches) == 1:
            replaying.freeze()

    replaying.write = write_once_then_hang  # type: ignore[method-assign]
    start = asyncio.create_task(second.start())
    await _wait_for(lambda: len(replaying.batches) == 1)
    after_crash = replaying.clone()
    assert after_crash.wal_position() == 2

    third = make_pipeline(after_crash, tmp_path, max_batch_items=20)
    await third.start()
    assert after_crash.tags() == [f"r{i}" for i in range(6)]
    await third.shutdown()
    # Let the "crashed" replay finish so its thread does not outlive the test's loop.
    replaying.thaw()
    await start
    await second.shutdown()
    crashed.thaw()


async def test_abandoned_pipeline_with_torn_tail_replays_the_rest(tmp_path: Path) -> None:
    crashed = RecordingStorage()
    crashed.freeze()
    first = make_pipeline(crashed, tmp_path)
    await first.start()
    for i in range(3):
        await first.consume(Signal.TRACES, make_traces(f"ok-{i}"))
    (segment,) = tmp_path.glob("*.wal")
    with segment.open("ab") as file:
        file.write(b"\x40\x00\x00\x00\xde\xad")  # a record torn mid-header

    storage = RecordingStorage()
    second = make_pipeline(storage, tmp_path)
    await second.start()
    assert storage.tags() == ["ok-0", "ok-1", "ok-2"]
    await second.consume(Signal.TRACES, make_traces("after"))
    await second.shutdown()
    assert storage.tags()[-1] == "after"
    crashed.thaw()


async def test_segments_are_deleted_as_storage_catches_up(tmp_path: Path) -> None:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path, wal_segment_bytes=8192, max_batch_items=10)
    await pipeline.start()
    storage.freeze()
    for i in range(20):
        await pipeline.consume(Signal.TRACES, make_traces(f"s{i}"))  # ≈ 3.4 kB each
    assert len(list(tmp_path.glob("*.wal"))) > 3
    storage.thaw()
    await pipeline.flush()
    assert len(list(tmp_path.glob("*.wal"))) == 1
    await pipeline.shutdown()
    assert list(tmp_path.iterdir()) == []
    assert len(storage.tags()) == 20

    again = storage.clone()
    restarted = make_pipeline(again, tmp_path)
    await restarted.start()
    await restarted.consume(Signal.LOGS, make_logs("later"))
    await restarted.shutdown()
    assert again.batches[-1].wal_position == 21, "sequence continues after storage's position"


async def test_many_requests_become_few_batches(tmp_path: Path) -> None:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path, max_batch_delay=0.5)
    await pipeline.start()
    await asyncio.gather(
        *(pipeline.consume(Signal.TRACES, make_traces(f"b{i}")) for i in range(200))
    )
    assert pipeline.stats.wal_syncs < 50, "concurrent requests share fsyncs"
    await pipeline.flush()
    assert len(storage.tags()) == 200
    assert len(storage.batches) <= 2
    assert pipeline.stats.spans == 2000
    await pipeline.shutdown()


def test_batch_closes_at_max_items() -> None:
    # The batcher alone: the writer may join batches that wait for it into one insert.
    abandon = threading.Event()
    abandon.set()  # batches are handed on without flattening
    batcher = Batcher(FlattenPool(), max_items=50, max_delay=10, max_in_flight=8, abandon=abandon)
    thread = threading.Thread(target=batcher.run)
    thread.start()
    for seq in range(1, 13):
        batcher.put(QueuedRequest(seq, Signal.TRACES, b"", 0, items=10))
    batches = [batcher.output.get(timeout=5), batcher.output.get(timeout=5)]
    batcher.put(Stop())
    batches.append(batcher.output.get(timeout=5))
    assert isinstance(batcher.output.get(timeout=5), Stop)
    thread.join()
    sizes = [len(entry.batch) for entry in batches if isinstance(entry, Flattening)]
    assert sizes == [5, 5, 2]


async def test_batch_closes_after_max_delay(tmp_path: Path) -> None:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path, max_batch_delay=0.1)
    await pipeline.start()
    started = time.monotonic()
    await pipeline.consume(Signal.METRICS, make_metrics("lonely"))
    await _wait_for(lambda: storage.tags() == ["lonely"])
    # Not before the delay, though nothing else came (how much later is the machine's).
    assert time.monotonic() - started >= 0.1
    await pipeline.shutdown()


async def test_full_queue_raises_overloaded_without_logging_then_recovers(
    tmp_path: Path,
) -> None:
    storage = RecordingStorage()
    storage.fail_times = 10**9
    limits = Limits(max_queue_bytes=20_000, retry_after_seconds=7)
    pipeline = make_pipeline(storage, tmp_path, limits=limits)
    await pipeline.start()
    accepted = 0
    with pytest.raises(Overloaded) as raised:
        for i in range(100):
            await pipeline.consume(Signal.TRACES, make_traces(f"q{i}"))
            accepted += 1
    assert raised.value.retry_after == 7
    assert "max_queue_bytes=20000" in str(raised.value)
    assert 0 < accepted < 100
    assert _logged(tmp_path) == list(range(1, accepted + 1)), "rejected data is not logged"
    await _wait_for(lambda: not pipeline.ready)
    assert "storage writes failing" in pipeline.health().reason
    assert pipeline.stats.rejected_overloaded == 1

    storage.fail_times = 0
    await pipeline.flush()
    assert pipeline.ready
    assert pipeline.queued_bytes == 0
    await pipeline.consume(Signal.TRACES, make_traces("after"))
    await pipeline.shutdown()
    tags = storage.tags()
    assert tags == [f"q{i}" for i in range(accepted)] + ["after"]


async def test_storage_failures_are_retried_without_loss(tmp_path: Path) -> None:
    storage = RecordingStorage()
    storage.fail_times = 4
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    for i in range(5):
        await pipeline.consume(Signal.LOGS, make_logs(f"f{i}"))
    await pipeline.flush()
    assert storage.tags() == [f"f{i}" for i in range(5)]
    assert pipeline.stats.write_errors == 4
    assert pipeline.ready
    await pipeline.shutdown()


async def test_memory_mode_retries_and_acks_after_commit() -> None:
    storage = RecordingStorage()
    storage.fail_times = 3
    pipeline = make_pipeline(storage, None)
    await pipeline.start()
    await pipeline.consume(Signal.LOGS, make_logs("m"))
    assert storage.tags() == ["m"]
    assert pipeline.stats.write_errors == 3
    await pipeline.shutdown()


async def test_unstorable_request_is_dropped_and_the_rest_stored(tmp_path: Path) -> None:
    storage = RecordingStorage()
    storage.reject_tags = {"poison"}
    pipeline = make_pipeline(storage, tmp_path, max_batch_delay=0.3)
    await pipeline.start()
    await asyncio.gather(
        pipeline.consume(Signal.TRACES, make_traces("before")),
        pipeline.consume(Signal.TRACES, make_traces("poison")),
        pipeline.consume(Signal.TRACES, make_traces("after")),
    )
    await pipeline.flush()
    assert storage.tags() == ["before", "after"]
    assert pipeline.stats.dropped_requests == 1
    await pipeline.shutdown()


async def test_shutdown_drains_queue_and_empties_the_log(tmp_path: Path) -> None:
    storage = RecordingStorage()
    # A batch delay of an hour: a shutdown that waited for it would hit the test timeout.
    pipeline = make_pipeline(storage, tmp_path, max_batch_delay=3600)
    await pipeline.start()
    await asyncio.gather(
        *(pipeline.consume(Signal.TRACES, make_traces(f"d{i}")) for i in range(10))
    )
    await pipeline.shutdown()
    assert sorted(storage.tags()) == sorted(f"d{i}" for i in range(10))
    assert list(tmp_path.iterdir()) == []
    assert not pipeline.ready
    with pytest.raises(Unavailable):
        await pipeline.consume(Signal.TRACES, make_traces("late"))
    await pipeline.shutdown()  # idempotent


async def test_shutdown_with_storage_down_keeps_data_in_the_log(tmp_path: Path) -> None:
    storage = RecordingStorage()
    storage.fail_times = 10**9
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    await pipeline.consume(Signal.TRACES, make_traces("kept"))
    await pipeline.shutdown(drain_timeout=0.2)
    assert storage.tags() == []
    assert _logged(tmp_path) == [1]


async def test_consume_before_start_is_unavailable() -> None:
    pipeline = make_pipeline(RecordingStorage(), None)
    with pytest.raises(Unavailable, match="not started"):
        await pipeline.consume(Signal.TRACES, make_traces("early"))
    assert pipeline.health().reason == "not started"


async def test_unusable_wal_dir_fails_start_with_unavailable(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "wal"
    not_a_dir.write_text("occupied")
    pipeline = make_pipeline(RecordingStorage(), not_a_dir)
    with pytest.raises(Unavailable, match="cannot open the write-ahead log"):
        await pipeline.start()
    assert not pipeline.ready


async def test_stats_count_what_flows(tmp_path: Path) -> None:
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    await pipeline.consume(Signal.TRACES, make_traces("t", spans=7))
    await pipeline.consume(Signal.METRICS, make_metrics("m", points=4))
    await pipeline.consume(Signal.LOGS, make_logs("l", records=2))
    await pipeline.shutdown()
    stats = pipeline.stats
    assert (stats.requests, stats.spans, stats.data_points, stats.log_records) == (3, 7, 4, 2)
    assert stats.bytes_accepted > 0
    assert stats.batches_written == 1
    assert stats.write_errors == 0
    batch = storage.batches[0]
    assert sorted(batch.tables) == [
        "otel_logs",
        "otel_metrics_gauge",
        "otel_traces",
        "otel_traces_trace_id_ts",
    ]
    assert batch.wal_position == 3


async def test_a_given_payload_is_what_the_log_keeps(tmp_path: Path) -> None:
    request = make_traces("p", spans=3)
    # The same request encoded another way (resource after its scopes): logged as given.
    resource_spans = request.resource_spans[0]
    inner = (
        ResourceSpans(scope_spans=resource_spans.scope_spans).SerializeToString()
        + ResourceSpans(resource=resource_spans.resource).SerializeToString()
    )
    payload = b"\x0a" + _varint(len(inner)) + inner
    assert ExportTraceServiceRequest.FromString(payload) == request
    assert payload != request.SerializeToString()
    storage = RecordingStorage()
    storage.freeze()
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    await pipeline.consume(Signal.TRACES, request, payload=payload)
    await pipeline.consume(Signal.TRACES, make_traces("q", spans=2))
    wal = WriteAheadLog.open(tmp_path)
    try:
        logged = [record.payload for record in wal.records()]
    finally:
        wal.close(stored_position=0)
    assert logged == [payload, make_traces("q", spans=2).SerializeToString()]
    assert pipeline.stats.bytes_accepted == len(payload) + len(logged[1])
    storage.thaw()
    await pipeline.shutdown()
    assert storage.tags() == ["p", "q"]


async def test_a_request_given_as_bytes_only_is_logged_stored_and_counted(
    tmp_path: Path,
) -> None:
    # A request held as bytes upstream (tail sampling) comes without its parsed form,
    # with its count of spans.
    payload = make_traces("b", spans=5).SerializeToString()
    storage = RecordingStorage()
    pipeline = make_pipeline(storage, tmp_path)
    await pipeline.start()
    await pipeline.consume(Signal.TRACES, None, payload=payload, items=5)
    # Without a count, the bytes are parsed to count them.
    await pipeline.consume(
        Signal.TRACES, None, payload=make_traces("c", spans=2).SerializeToString()
    )
    await pipeline.shutdown()
    assert (pipeline.stats.requests, pipeline.stats.spans) == (2, 7)
    assert storage.tags() == ["b", "c"]


async def test_a_backlog_is_joined_into_few_large_writes(tmp_path: Path) -> None:
    storage = RecordingStorage()
    # One request per batch, so only the writer's joining can make writes larger.
    pipeline = make_pipeline(storage, tmp_path, max_batch_items=10)
    await pipeline.start()
    storage.freeze()
    for i in range(30):
        await pipeline.consume(Signal.TRACES, make_traces(f"b{i}"))
    storage.thaw()
    await pipeline.flush()
    await pipeline.shutdown()
    assert storage.tags() == [f"b{i}" for i in range(30)]
    assert len(storage.batches) <= 3, "the queued batches went in one or two writes"
    assert storage.batches[-1].wal_position == 30
