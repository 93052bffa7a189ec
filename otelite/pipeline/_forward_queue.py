"""A destination's queue: what is accepted for it and not yet sent, bounded in bytes.

``DiskQueue`` keeps the requests in a ``WriteAheadLog`` of its own
(``DATA_DIR/forward/<name>/log``) and the sequence number sent up to in a small file
beside it (``sent``, replaced atomically and fsynced). ``put`` returns once the requests
are synced, so a request acknowledged to its sender survives ``kill -9``; ``ack`` moves the
position after the destination took them, so a crash between the destination's answer
and the position's sync sends a request again (at least once, as OTLP clients expect).
Sequence numbers are consecutive, which makes a range's length its number of requests.

Two sizes are kept apart. What is still to be sent (``QueueReport.bytes``) is the OTLP
requests after the position, counted from a running total of request bytes by sequence
number (8 bytes of memory per waiting request, rebuilt from the log on open), so a sent
request stops counting when it is acknowledged, not when its segment file is deleted. The
bound is on bytes on disk (``QueueReport.disk_bytes``): the log's segment files, whose
oldest one may still hold sent records (it is deleted once all of it is sent) and whose
records carry a header and envelope besides the request.

Over ``max_bytes`` on disk, the oldest closed log segments are given up: the position
jumps past them, their unsent requests are counted as dropped (requests and their bytes,
as in ``bytes``). Segments are an eighth of the bound (at most 16 MiB), so the queue
overshoots it by at most one segment.

``MemoryQueue`` (``--memory``) is the same in a deque, and does not survive a restart.

Each record's payload is an envelope: enqueue time (Unix seconds, f64) and tenant length
(u16), the tenant, then the OTLP request as binary protobuf.
"""

from __future__ import annotations

import collections
import os
import struct
import threading
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from otelite.pipeline._wal import WriteAheadLog, _fsync_dir
from otelite.types import Signal

__all__ = ["DiskQueue", "ForwardQueue", "MemoryQueue", "QueueReport", "Queued"]

_ENVELOPE = struct.Struct("<dH")
_POSITION_FILE = "sent"


@dataclass(frozen=True, slots=True)
class Queued:
    """One accepted request, waiting for a destination."""

    seq: int
    signal: Signal
    tenant: str
    body: bytes
    """The OTLP export request, binary protobuf."""
    enqueued_at: float
    """Unix seconds."""


@dataclass(frozen=True, slots=True)
class QueueReport:
    requests: int
    """Requests waiting."""
    bytes: int
    """Bytes of the requests waiting (their OTLP bodies): what is still to be sent."""
    dropped_requests: int
    dropped_bytes: int
    """Bytes of the requests given up by the bound (their OTLP bodies)."""
    disk_bytes: int = 0
    """Bytes of the queue's files on disk, which its bound is on (0 in memory); they include
    sent records of a segment not yet deleted, and each record's header and envelope."""


class ForwardQueue(Protocol):
    """What a destination's worker and the forwarding tee need of a queue. ``put`` may be
    called from any one thread at a time, the rest from the worker's."""

    def put(self, items: Sequence[tuple[Signal, str, bytes]], now: float) -> None: ...

    def read(self, after: int, max_items: int, max_bytes: int) -> list[Queued]: ...

    def ack(self, seq: int) -> None: ...

    @property
    def sent_position(self) -> int: ...

    def report(self) -> QueueReport: ...

    def close(self) -> None: ...


class MemoryQueue:
    """A bounded queue in memory: lost on restart (``--memory``)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: collections.deque[Queued] = collections.deque()
        self._bytes = 0
        self._next_seq = 1
        self._sent = 0
        self._dropped = (0, 0)
        self._lock = threading.Lock()

    def put(self, items: Sequence[tuple[Signal, str, bytes]], now: float) -> None:
        with self._lock:
            for signal, tenant, body in items:
                self._items.append(Queued(self._next_seq, signal, tenant, body, now))
                self._next_seq += 1
                self._bytes += len(body)
            requests, size = self._dropped
            while self._bytes > self._max_bytes and len(self._items) > 1:
                oldest = self._items.popleft()
                self._bytes -= len(oldest.body)
                self._sent = max(self._sent, oldest.seq)
                requests, size = requests + 1, size + len(oldest.body)
            self._dropped = (requests, size)

    def read(self, after: int, max_items: int, max_bytes: int) -> list[Queued]:
        with self._lock:
            taken: list[Queued] = []
            size = 0
            for item in self._items:
                if item.seq <= after:
                    continue
                if taken and (len(taken) >= max_items or size + len(item.body) > max_bytes):
                    break
                taken.append(item)
                size += len(item.body)
            return taken

    def ack(self, seq: int) -> None:
        with self._lock:
            self._sent = max(self._sent, seq)
            while self._items and self._items[0].seq <= seq:
                self._bytes -= len(self._items.popleft().body)

    @property
    def sent_position(self) -> int:
        return self._sent

    def report(self) -> QueueReport:
        with self._lock:
            return QueueReport(len(self._items), self._bytes, *self._dropped)

    def close(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class _RunningTotal:
    """Request bytes by sequence number from the sent position on: ``_totals[i]`` is the
    bytes of every request up to sequence ``_base + i``, so a range's bytes is one
    subtraction. Entries before the position are cut off in amortized constant time."""

    def __init__(self, position: int) -> None:
        self._base = position
        self._head = 0
        self._totals = array("q", [0])

    @property
    def last(self) -> int:
        """The highest sequence number counted (the position when none waits)."""
        return self._base + len(self._totals) - 1

    def add(self, seq: int, size: int) -> None:
        """Count request ``seq``; one at or before the position was sent already (a worker
        can read and acknowledge a request before ``put`` counts it) and is skipped."""
        if seq <= self.last:
            return
        # Sequence numbers are consecutive; were one missing, it would count as empty.
        total = self._totals[-1]
        self._totals.extend([total] * (seq - self.last - 1))
        self._totals.append(total + size)

    def waiting(self) -> tuple[int, int]:
        """(requests, bytes) after the position."""
        return self.last - self._base - self._head, self._totals[-1] - self._totals[self._head]

    def advance(self, position: int) -> None:
        """Move the position to ``position`` (never back)."""
        if position >= self.last:
            self._base, self._head, self._totals = position, 0, array("q", [0])
            return
        self._head = max(self._head, position - self._base)
        if self._head * 2 > len(self._totals):
            del self._totals[: self._head]
            self._base += self._head
            self._head = 0


class DiskQueue:
    """A destination's durable queue in ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        segment_bytes = max(64 * 1024, min(max_bytes // 8, 16 * 1024 * 1024))
        self._wal = WriteAheadLog.open(directory / "log", segment_bytes=segment_bytes)
        self._sent = _read_position(directory / _POSITION_FILE)
        self._wal.release(self._sent)
        self._next_seq = max(self._wal.last_seq, self._sent) + 1
        sizes = [(item.seq, len(item.body)) for item in self._records(self._sent)]
        # A position file cut short (read as 0) is followed by the log's first record.
        self._waiting = _RunningTotal(max(self._sent, sizes[0][0] - 1 if sizes else 0))
        for seq, size in sizes:
            self._waiting.add(seq, size)
        self._dropped = (0, 0)
        self._cursor: Iterator[Queued] | None = None
        self._cursor_after = -1
        self._peeked: Queued | None = None

    def put(self, items: Sequence[tuple[Signal, str, bytes]], now: float) -> None:
        """Append ``items`` and sync them (blocking); then keep within the bound."""
        if not items:
            return
        records = []
        for seq, (signal, tenant, body) in enumerate(items, self._next_seq):
            name = tenant.encode()
            envelope = _ENVELOPE.pack(now, len(name)) + name + body
            records.append((seq, signal, envelope))
        self._wal.append(records)
        # Only once appended: a failed append is rewound and leaves no gap in the numbers.
        self._next_seq += len(records)
        with self._lock:
            for (seq, _, _), (_, _, body) in zip(records, items, strict=True):
                self._waiting.add(seq, len(body))
        self._bound()

    def read(self, after: int, max_items: int, max_bytes: int) -> list[Queued]:
        """The next requests after sequence ``after`` (and after what was dropped), oldest
        first, up to ``max_items`` and ``max_bytes`` (at least one). Blocking."""
        after = max(after, self._sent)
        if after != self._cursor_after:  # not where the last read stopped
            self._cursor, self._peeked = None, None
        taken: list[Queued] = []
        size = 0
        while (item := self._next(after)) is not None:
            if taken and (len(taken) >= max_items or size + len(item.body) > max_bytes):
                self._peeked = item
                break
            taken.append(item)
            size += len(item.body)
            after = item.seq
        self._cursor_after = after
        return taken

    def ack(self, seq: int) -> None:
        """Everything up to ``seq`` was sent: save the position (fsynced) and free the
        segments it covers. Blocking."""
        self._advance(seq)

    def _advance(self, seq: int) -> tuple[int, int]:
        """Move the position to ``seq`` (see ``ack``); returns the (requests, bytes) it
        passed over that were waiting, in the same lock so none is counted twice."""
        with self._lock:
            if seq <= self._sent:
                return 0, 0
            before = self._waiting.waiting()
            self._waiting.advance(seq)
            after = self._waiting.waiting()
            passed = (before[0] - after[0], before[1] - after[1])
            self._sent = seq
            _write_position(self._dir / _POSITION_FILE, seq)
        self._wal.release(seq)
        return passed

    @property
    def sent_position(self) -> int:
        return self._sent

    def report(self) -> QueueReport:
        with self._lock:
            requests, size = self._waiting.waiting()
            dropped = self._dropped
        return QueueReport(requests, size, *dropped, disk_bytes=self._wal.size_bytes())

    def close(self) -> None:
        self._cursor = None
        self._wal.close(self._sent)

    def _next(self, after: int) -> Queued | None:
        """The record after ``after``, continuing the open cursor, so that a segment is
        decoded once rather than once per read; a cursor that ran dry is opened again
        once, to see what was appended since it read its segment."""
        if self._peeked is not None:
            peeked, self._peeked = self._peeked, None
            return peeked
        item: Queued | None
        for _ in range(2):
            fresh = self._cursor is None
            if self._cursor is None:
                self._cursor = self._records(after)
            try:
                item = next(self._cursor, None)
            except FileNotFoundError:  # its segment was dropped meanwhile
                item = None
                fresh = False
                after = max(after, self._sent)
            if item is not None:
                return item
            self._cursor = None
            if fresh:
                return None
        return None

    def _records(self, after: int) -> Iterator[Queued]:
        for record in self._wal.records(after=after):
            stamp, length = _ENVELOPE.unpack_from(record.payload)
            start = _ENVELOPE.size
            tenant = record.payload[start : start + length].decode()
            body = record.payload[start + length :]
            yield Queued(record.seq, record.signal, tenant, body, stamp)

    def _bound(self) -> None:
        """Give up the oldest closed segments while the log's files are over the bound."""
        paths = self._wal.segment_paths
        sizes = [_size(path) for path in paths]
        total = sum(sizes)
        index = 0
        last_dropped = self._sent
        while total > self._max_bytes and index + 1 < len(paths):
            # Consecutive sequence numbers: a segment ends right before the next begins.
            last_dropped = max(last_dropped, int(paths[index + 1].stem) - 1)
            total -= sizes[index]
            index += 1
        # What the worker sent meanwhile is not counted as dropped: only what was waiting.
        requests, size = self._advance(last_dropped)
        if requests:
            with self._lock:
                self._dropped = (self._dropped[0] + requests, self._dropped[1] + size)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_position(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except FileNotFoundError:
        return 0
    except ValueError:
        # A position file cut short: sending from the start of the log again repeats,
        # never loses.
        return 0


def _write_position(path: Path, seq: int) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w") as file:
        file.write(f"{seq}\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)
