from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from otelite.pipeline._wal import WriteAheadLog
from otelite.types import Signal


def _append(wal: WriteAheadLog, first: int, count: int, size: int = 100) -> None:
    for seq in range(first, first + count):
        wal.append([(seq, Signal.TRACES, bytes([seq % 256]) * size)])


def _seqs(directory: Path, after: int = 0) -> list[int]:
    wal = WriteAheadLog.open(directory)
    try:
        return [record.seq for record in wal.records(after)]
    finally:
        wal.close(stored_position=0)


def test_records_survive_reopen_with_signal_and_payload(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path)
    wal.append([(1, Signal.TRACES, b"t"), (2, Signal.METRICS, b"m"), (3, Signal.LOGS, b"")])
    wal.close(stored_position=0)

    reopened = WriteAheadLog.open(tmp_path)
    records = list(reopened.records())
    assert [(r.seq, r.signal, r.payload) for r in records] == [
        (1, Signal.TRACES, b"t"),
        (2, Signal.METRICS, b"m"),
        (3, Signal.LOGS, b""),
    ]
    assert reopened.last_seq == 3
    assert [r.seq for r in reopened.records(after=2)] == [3]
    reopened.close(stored_position=0)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:-7], id="torn-payload"),
        pytest.param(lambda data: data + b"\x05\x00", id="torn-header"),
        pytest.param(lambda data: data + bytes(4096), id="zero-filled"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), id="bad-crc"),
    ],
)
def test_damaged_tail_is_truncated_and_log_stays_appendable(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    wal = WriteAheadLog.open(tmp_path)
    _append(wal, 1, 3)
    wal.close(stored_position=0)
    (segment,) = tmp_path.glob("*.wal")
    segment.write_bytes(damage(segment.read_bytes()))

    wal = WriteAheadLog.open(tmp_path)
    kept = [r.seq for r in wal.records()]
    assert kept in ([1, 2], [1, 2, 3])
    assert segment.stat().st_size == len(kept) * (17 + 100)
    wal.append([(10, Signal.LOGS, b"after the tear")])
    wal.close(stored_position=0)
    assert _seqs(tmp_path) == [*kept, 10]


def test_corrupt_record_in_the_middle_drops_the_rest_of_its_segment(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path)
    _append(wal, 1, 4)
    wal.close(stored_position=0)
    (segment,) = tmp_path.glob("*.wal")
    data = bytearray(segment.read_bytes())
    data[117 + 40] ^= 0x01  # inside the second record's payload
    segment.write_bytes(bytes(data))
    assert _seqs(tmp_path) == [1]


def test_segments_roll_by_size_and_are_deleted_once_stored(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path, segment_bytes=1000)
    _append(wal, 1, 30)  # 117 bytes each: 9 per segment (rolled once ≥ 1000 bytes)
    names = [path.name for path in wal.segment_paths]
    assert len(names) == 4
    assert names[0] == f"{1:020d}.wal"
    assert names[1] == f"{10:020d}.wal"

    wal.release(15)  # the first segment (1-9) is stored, the second (10-18) is not
    assert [path.name for path in wal.segment_paths] == names[1:]
    assert not (tmp_path / names[0]).exists()
    wal.release(30)  # the active segment is never deleted while open
    assert [path.name for path in wal.segment_paths] == names[3:]
    assert [r.seq for r in wal.records(after=0)] == [28, 29, 30]

    wal.close(stored_position=30)
    assert list(tmp_path.iterdir()) == []


def test_close_keeps_unstored_segments(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path, segment_bytes=1000)
    _append(wal, 1, 20)
    wal.close(stored_position=12)
    assert _seqs(tmp_path, after=12) == list(range(13, 21))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"{10:020d}.wal",
        f"{19:020d}.wal",
    ]


def test_open_resumes_appending_to_a_partly_filled_segment(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path, segment_bytes=10_000)
    _append(wal, 1, 2)
    wal.close(stored_position=0)
    wal = WriteAheadLog.open(tmp_path, segment_bytes=10_000)
    _append(wal, 3, 2)
    wal.close(stored_position=0)
    assert len(list(tmp_path.glob("*.wal"))) == 1
    assert _seqs(tmp_path) == [1, 2, 3, 4]
