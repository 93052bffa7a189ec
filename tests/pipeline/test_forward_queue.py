"""A destination's queue: durable across a reopen (as after ``kill -9``), read in order,
and bounded on disk by dropping the oldest requests, counted."""

from __future__ import annotations

import random
from pathlib import Path

from otelite.pipeline._forward_queue import DiskQueue, MemoryQueue
from otelite.types import Signal

MiB = 1024 * 1024


def body(i: int, size: int = 100) -> bytes:
    return f"{i:08d}".encode().ljust(size, b".")


def index(item_body: bytes) -> int:
    return int(item_body[:8])


def test_what_was_not_acknowledged_is_read_again_after_a_reopen(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, 64 * MiB)
    queue.put([(Signal.TRACES, "t1", body(i)) for i in range(5)], 1.0)
    queue.put([(Signal.LOGS, "t2", body(5))], 2.0)
    first = queue.read(0, max_items=3, max_bytes=MiB)
    assert [index(item.body) for item in first] == [0, 1, 2]
    queue.ack(first[-1].seq)
    # No close: the process is gone. A new queue over the same files goes on from there.
    again = DiskQueue(tmp_path, 64 * MiB)
    rest = again.read(0, max_items=100, max_bytes=MiB)
    assert [(index(i.body), i.signal, i.tenant, i.enqueued_at) for i in rest] == [
        (3, Signal.TRACES, "t1", 1.0),
        (4, Signal.TRACES, "t1", 1.0),
        (5, Signal.LOGS, "t2", 2.0),
    ]
    assert again.report().requests == 3
    again.ack(rest[-1].seq)
    again.put([(Signal.TRACES, "t1", body(6))], 3.0)
    assert [index(i.body) for i in again.read(rest[-1].seq, 100, MiB)] == [6]


def test_reads_continue_where_the_last_stopped_and_see_later_appends(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, 64 * MiB)
    seen: list[int] = []
    after = 0
    for round_ in range(4):
        queue.put([(Signal.TRACES, "t", body(round_ * 10 + i)) for i in range(10)], 0.0)
        while batch := queue.read(after, max_items=3, max_bytes=MiB):
            seen += [index(item.body) for item in batch]
            after = batch[-1].seq
    assert seen == list(range(40))


def test_over_the_bound_the_oldest_are_dropped_and_counted(tmp_path: Path) -> None:
    # 1 MiB bound: 128 KiB segments; 40 requests of 64 KiB are 2.5 MiB.
    queue = DiskQueue(tmp_path, MiB)
    size = 64 * 1024
    for i in range(40):
        queue.put([(Signal.TRACES, "t", body(i, size))], 0.0)
    report = queue.report()
    kept = [index(item.body) for item in queue.read(0, max_items=100, max_bytes=100 * MiB)]
    # The newest survive, in order and without a gap; what is missing was counted.
    assert kept == list(range(40 - len(kept), 40))
    assert report.dropped_requests == 40 - len(kept) > 0
    assert report.requests == len(kept)
    # The bytes waiting and dropped are the requests' own; the bound is on the files.
    assert (report.bytes, report.dropped_bytes) == (len(kept) * size, (40 - len(kept)) * size)
    assert report.disk_bytes <= MiB + 2 * (size + 64)
    # The position survives a reopen: the dropped stay dropped.
    assert [index(i.body) for i in DiskQueue(tmp_path, MiB).read(0, 100, 100 * MiB)] == kept


def record_bytes(tenant: str, item_body: bytes) -> int:
    """A record's size on disk, from the formats the log and the queue document: a
    17-byte header (u32, u32, u64, u8), then the envelope (f64, u16, the tenant), then
    the request."""
    return 17 + 10 + len(tenant.encode()) + len(item_body)


def test_the_bytes_waiting_are_those_of_the_requests_not_yet_sent(tmp_path: Path) -> None:
    rng = random.Random(7)
    sizes = [rng.randrange(20, 3000) for _ in range(300)]
    bodies = [body(i, size) for i, size in enumerate(sizes)]
    queue = DiskQueue(tmp_path, 64 * MiB)  # 8 MiB segments: all of it in one file
    start = 0
    while start < len(bodies):
        count = rng.randrange(1, 20)
        queue.put([(Signal.TRACES, "tenant-a", b) for b in bodies[start : start + count]], 0.0)
        start += count
    on_disk = sum(record_bytes("tenant-a", b) for b in bodies)
    sent = 0
    while sent < len(bodies):
        # Acknowledge in steps that do not follow the batches that were put.
        batch = queue.read(sent, max_items=rng.randrange(1, 40), max_bytes=MiB)
        queue.ack(batch[-1].seq)
        sent += len(batch)
        report = queue.report()
        assert (report.requests, report.bytes) == (len(bodies) - sent, sum(sizes[sent:]))
        # The segment holds the sent records until it is deleted: the files still count them.
        assert report.disk_bytes == on_disk
        if sent >= 200:
            break
    # Reopened (as after kill -9), the figure is rebuilt from the log.
    again = DiskQueue(tmp_path, 64 * MiB)
    report = again.report()
    assert (report.requests, report.bytes) == (len(bodies) - sent, sum(sizes[sent:]))
    again.ack(len(bodies))
    report = again.report()
    assert (report.requests, report.bytes, report.dropped_bytes) == (0, 0, 0)
    assert report.disk_bytes == on_disk
    again.put([(Signal.LOGS, "b", body(0, 500))], 0.0)
    assert (again.report().requests, again.report().bytes) == (1, 500)


def test_the_memory_queue_drops_the_oldest_over_its_bound() -> None:
    queue = MemoryQueue(1000)
    for i in range(25):
        queue.put([(Signal.METRICS, "t", body(i))], 0.0)
    report = queue.report()
    assert [index(item.body) for item in queue.read(0, 100, MiB)] == list(range(15, 25))
    assert (report.requests, report.bytes) == (10, 1000)
    assert (report.dropped_requests, report.dropped_bytes) == (15, 1500)
    queue.ack(20)
    assert [index(item.body) for item in queue.read(0, 100, MiB)] == list(range(20, 25))
