"""The write-ahead log: accepted requests on disk before anything else happens to them.

A log is a directory of segment files named after the sequence number of their first
record (``00000000000000000042.wal``). A segment is a run of records::

    u32 payload length | u32 CRC-32 of the rest | u64 sequence | u8 signal | payload

little-endian; the payload is the serialized OTLP export request. Sequence numbers rise
strictly across the whole log, so the highest sequence in segment *i* is below the first
one of segment *i + 1*, which is how a segment is known to be fully stored without
reading it.

A crash can leave a torn record at the end of the newest segment (or zeros, or garbage,
depending on the file system). Opening the log keeps the longest valid prefix of every
segment and truncates the rest, so start-up never fails on a damaged tail.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from otelite.types import Signal

__all__ = ["WalRecord", "WriteAheadLog"]

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<IIQB")
_CRC_FROM = 8  # the CRC covers sequence, signal and payload
_SUFFIX = ".wal"
_SIGNAL_CODES: dict[Signal, int] = {Signal.TRACES: 1, Signal.METRICS: 2, Signal.LOGS: 3}
_CODE_SIGNALS: dict[int, Signal] = {code: signal for signal, code in _SIGNAL_CODES.items()}


@dataclass(frozen=True, slots=True)
class WalRecord:
    """One logged request."""

    seq: int
    signal: Signal
    payload: bytes


@dataclass(slots=True)
class _Segment:
    first_seq: int
    path: Path


def _encode(seq: int, signal: Signal, payload: bytes) -> bytes:
    header = bytearray(_HEADER.pack(len(payload), 0, seq, _SIGNAL_CODES[signal]))
    crc = zlib.crc32(payload, zlib.crc32(header[_CRC_FROM:]))
    struct.pack_into("<I", header, 4, crc)
    return bytes(header) + payload


def _decode(buf: bytes) -> Iterator[tuple[int, int, Signal, memoryview]]:
    """(end offset, sequence, signal, payload) of each valid record of a segment image.

    Stops at the first record that is short, fails its CRC, or does not raise the
    sequence: everything from there on is a torn or corrupt tail.
    """
    offset = 0
    last_seq = -1
    view = memoryview(buf)
    while offset + _HEADER.size <= len(buf):
        length, crc, seq, code = _HEADER.unpack_from(buf, offset)
        end = offset + _HEADER.size + length
        if end > len(buf) or code not in _CODE_SIGNALS or seq <= last_seq:
            return
        if zlib.crc32(view[offset + _CRC_FROM : end]) != crc:
            return
        yield end, seq, _CODE_SIGNALS[code], view[offset + _HEADER.size : end]
        last_seq = seq
        offset = end


def _fsync_dir(directory: Path) -> None:
    # A new or removed file name is only durable once its directory is synced.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class WriteAheadLog:
    """Append-only, CRC-checked request log in rolling segment files.

    ``append`` is called from one thread at a time; ``release`` may run concurrently from
    another (the storage writer), so the segment list is guarded by a lock.
    """

    def __init__(
        self, directory: Path, segments: list[_Segment], last_seq: int, *, segment_bytes: int
    ) -> None:
        self._dir = directory
        self._segments = segments
        self._last_seq = last_seq
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._size = 0
        """Bytes of the active segment known to be synced; a failed append rewinds here."""
        self._broken = False

    @classmethod
    def open(cls, directory: Path, *, segment_bytes: int = 64 * 1024 * 1024) -> WriteAheadLog:
        """Open (or create) the log in ``directory``, truncating any torn or corrupt tail."""
        directory.mkdir(parents=True, exist_ok=True)
        segments = sorted(
            (
                _Segment(int(path.stem), path)
                for path in directory.iterdir()
                if path.suffix == _SUFFIX and path.stem.isdigit()
            ),
            key=lambda segment: segment.first_seq,
        )
        last_seq = 0
        for segment in segments:
            last_seq = max(last_seq, _repair(segment.path))
        wal = cls(directory, segments, last_seq, segment_bytes=segment_bytes)
        if segments and segments[-1].path.stat().st_size < segment_bytes:
            wal._open_active(segments[-1].path)
        return wal

    @property
    def last_seq(self) -> int:
        """The highest sequence number in the log; 0 when it has never held a record."""
        return self._last_seq

    @property
    def first_seq(self) -> int:
        """The lowest sequence number still on disk may be this one (``last_seq`` + 1 when
        no segment is left)."""
        with self._lock:
            return self._segments[0].first_seq if self._segments else self._last_seq + 1

    @property
    def segment_paths(self) -> list[Path]:
        """The segment files, oldest first."""
        with self._lock:
            return [segment.path for segment in self._segments]

    def size_bytes(self) -> int:
        """Bytes of the segment files on disk (a segment deleted meanwhile counts 0)."""
        total = 0
        for path in self.segment_paths:
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size
        return total

    def records(self, after: int = 0) -> Iterator[WalRecord]:
        """Every logged record with a sequence number above ``after``, in order."""
        with self._lock:
            segments = list(self._segments)
        for index, segment in enumerate(segments):
            if index + 1 < len(segments) and segments[index + 1].first_seq - 1 <= after:
                continue
            for _, seq, signal, payload in _decode(segment.path.read_bytes()):
                if seq > after:
                    yield WalRecord(seq, signal, bytes(payload))

    def append(self, records: Sequence[tuple[int, Signal, bytes]]) -> None:
        """Write records (sequence, signal, payload) and make them durable.

        Raises ``OSError`` when they could not be written and synced; the segment is then
        rewound to its last synced size so that a later append does not follow garbage.
        """
        if not records:
            return
        if self._broken:
            self._recover()
        if self._fd is None or self._size >= self._segment_bytes:
            self._roll(records[0][0])
        assert self._fd is not None
        data = b"".join(_encode(seq, signal, payload) for seq, signal, payload in records)
        try:
            _write_all(self._fd, data)
            os.fdatasync(self._fd)
        except OSError:
            self._broken = True
            self._recover()
            raise
        self._size += len(data)
        self._last_seq = records[-1][0]

    def release(self, position: int) -> None:
        """Delete the closed segments whose records are all stored (sequence ≤ ``position``)."""
        with self._lock:
            while len(self._segments) > 1 and self._segments[1].first_seq - 1 <= position:
                segment = self._segments.pop(0)
                segment.path.unlink(missing_ok=True)
                logger.debug("deleted stored WAL segment %s", segment.path.name)

    def close(self, stored_position: int) -> None:
        """Close the active segment; delete every segment if all records are stored."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if stored_position >= self._last_seq:
            with self._lock:
                for segment in self._segments:
                    segment.path.unlink(missing_ok=True)
                self._segments.clear()
            _fsync_dir(self._dir)
        else:
            self.release(stored_position)

    def _open_active(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size

    def _roll(self, first_seq: int) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        path = self._dir / f"{first_seq:020d}{_SUFFIX}"
        self._open_active(path)
        with self._lock:
            self._segments.append(_Segment(first_seq, path))
        _fsync_dir(self._dir)

    def _recover(self) -> None:
        # Cut the active segment back to what was synced; if even that fails, stay broken
        # and try again on the next append.
        if self._fd is None:
            self._broken = False
            return
        os.ftruncate(self._fd, self._size)
        os.fsync(self._fd)
        self._broken = False


def _repair(path: Path) -> int:
    """Truncate a segment to its valid records; returns its highest sequence (0 if none)."""
    buf = path.read_bytes()
    valid_end = 0
    last_seq = 0
    for end, seq, _, _ in _decode(buf):
        valid_end, last_seq = end, seq
    if valid_end < len(buf):
        logger.warning(
            "WAL segment %s: dropping %d bytes of torn or corrupt records after offset %d",
            path,
            len(buf) - valid_end,
            valid_end,
        )
        with path.open("r+b") as file:
            file.truncate(valid_end)
            os.fsync(file.fileno())
    return last_seq
