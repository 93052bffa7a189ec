"""The tail sampler's own durable log: requests it holds, and which it has carried out.

Two write-ahead logs (``WriteAheadLog``) in ``<data_dir>/tail-sampling/``:

* ``held/``: one record per trace request taken in (as received), appended and synced
  before the client is answered; payload ``u16 tenant length | tenant |
  ExportTraceServiceRequest``.
* ``settled/``: one record per batch of held requests carried out (their kept spans handed
  on and durable downstream, or all dropped); payload ``u32 count | count times u64
  held sequence | u64 mark`` then, for each trace of those requests, ``u16 tenant length |
  tenant | 16-byte trace id | u8 kept``. ``mark`` is the highest held sequence reserved
  when the record was written.

On start, the held requests no settled record names are held again; the decisions in
the settled records come back too, so that the traces of requests held again, decided
before the crash, follow their decision. Held segments are deleted as a whole once every
request in them is settled; a settled record goes with its segment once every request
held before it was written is settled and deleted (its decisions then concern no held request
on disk, only the sampler's cache of recent decisions).

Held records are written in groups (``HeldCommitter``): sequence numbers are reserved on
the event loop, in arrival order, and written and synced later in one thread, while
settlements are recorded from another; the bookkeeping both share (what is unsettled)
is guarded by a lock. A reserved sequence whose write failed is abandoned: it is never
written again, and nothing settles it, since only synced requests are ever carried out.
"""

from __future__ import annotations

import struct
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from otelite.pipeline._wal import WriteAheadLog
from otelite.types import Signal

__all__ = ["Decision", "HeldRecord", "SamplingLog"]

_TENANT = struct.Struct("<H")
_COUNT = struct.Struct("<I")
_SEQ = struct.Struct("<Q")
_DECISION = struct.Struct("<16sB")
# Records are released a segment at a time: small segments let the log shrink soon after
# the requests in them are settled.
_HELD_SEGMENT_BYTES = 4 * 1024 * 1024
_SETTLED_SEGMENT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Decision:
    """A trace's decision, carried out for (some of) the requests holding its spans."""

    tenant: str
    trace_id: bytes
    kept: bool


@dataclass(frozen=True, slots=True)
class HeldRecord:
    seq: int
    tenant: str
    payload: bytes
    """The request as received (an ``ExportTraceServiceRequest``)."""


class SamplingLog:
    """Appends held requests and settlements, and replays what is unsettled (blocking)."""

    def __init__(
        self,
        directory: Path,
        *,
        held_segment_bytes: int = _HELD_SEGMENT_BYTES,
        settled_segment_bytes: int = _SETTLED_SEGMENT_BYTES,
    ) -> None:
        self._held = WriteAheadLog.open(directory / "held", segment_bytes=held_segment_bytes)
        self._settled = WriteAheadLog.open(
            directory / "settled", segment_bytes=settled_segment_bytes
        )
        self._next_held = self._held.last_seq + 1
        self._next_settled = self._settled.last_seq + 1
        self._unsettled: dict[int, None] = {}
        """Held sequences not settled yet, in rising order (dict keeps insertion order)."""
        self._marks: deque[tuple[int, int]] = deque()
        """(settled sequence, its mark), oldest first."""
        self._settled_through = 0
        """Settled records up to here are no longer needed."""
        self._lock = threading.Lock()
        """Guards the bookkeeping above: held requests and settlements are written from
        different threads."""

    def replay(self) -> tuple[list[Decision], list[HeldRecord]]:
        """The decisions in the log (oldest first) and the held requests not settled."""
        decisions: list[Decision] = []
        settled: set[int] = set()
        for record in self._settled.records():
            seqs, mark, found = _decode_settlement(record.payload)
            settled.update(seqs)
            decisions += found
            self._marks.append((record.seq, mark))
        unsettled: list[HeldRecord] = []
        for record in self._held.records():
            if record.seq in settled:
                continue
            tenant, payload = _split_tenant(record.payload)
            unsettled.append(HeldRecord(record.seq, tenant, payload))
            self._unsettled[record.seq] = None
        self._release()
        return decisions, unsettled

    def hold(self, requests: list[tuple[str, bytes]]) -> list[int]:
        """Append (tenant, serialized request) records durably; their sequence numbers."""
        seqs = self.reserve(len(requests))
        self.write(
            [(seq, tenant, payload) for seq, (tenant, payload) in zip(seqs, requests, strict=True)]
        )
        return seqs

    def reserve(self, count: int) -> list[int]:
        """The sequence numbers of the next ``count`` held records, unsettled until then."""
        with self._lock:
            first = self._next_held
            self._next_held += count
            seqs = list(range(first, first + count))
            for seq in seqs:
                self._unsettled[seq] = None
        return seqs

    def write(self, records: list[tuple[int, str, bytes]]) -> None:
        """Append reserved (sequence, tenant, serialized request) records and sync them.

        Raises ``OSError`` when they could not be; ``abandon`` their sequences then.
        """
        self._held.append(
            [
                (seq, Signal.TRACES, _TENANT.pack(len(t := tenant.encode())) + t + payload)
                for seq, tenant, payload in records
            ]
        )

    def abandon(self, seqs: list[int]) -> None:
        """Forget reserved sequences whose records were never written."""
        with self._lock:
            for seq in seqs:
                self._unsettled.pop(seq, None)

    def settle(self, seqs: list[int], decisions: list[Decision]) -> None:
        """Record durably that the held requests ``seqs`` are carried out, by ``decisions``."""
        if not seqs:
            return
        with self._lock:
            mark = self._next_held - 1
        seq = self._next_settled
        self._settled.append([(seq, Signal.TRACES, _encode_settlement(seqs, mark, decisions))])
        self._next_settled += 1
        with self._lock:
            self._marks.append((seq, mark))
            for held in seqs:
                self._unsettled.pop(held, None)
            self._release()

    def close(self) -> None:
        """Close both logs; emptied ones are deleted. Call when nothing is being written."""
        self._held.close(self._held_position())
        self._settled.close(self._settled_position())

    def _held_position(self) -> int:
        if self._unsettled:
            return next(iter(self._unsettled)) - 1
        return self._next_held - 1

    def _settled_position(self) -> int:
        # A settlement is needed while a request it names, or one held before it, may be
        # replayed: while it is still on disk.
        first_held = self._held.first_seq
        while self._marks and self._marks[0][1] < first_held:
            self._settled_through = self._marks.popleft()[0]
        return self._settled_through

    def _release(self) -> None:
        self._held.release(self._held_position())
        self._settled.release(self._settled_position())


def _split_tenant(payload: bytes) -> tuple[str, bytes]:
    (length,) = _TENANT.unpack_from(payload)
    start = _TENANT.size + length
    return payload[_TENANT.size : start].decode(), payload[start:]


def _encode_settlement(seqs: list[int], mark: int, decisions: list[Decision]) -> bytes:
    parts = [_COUNT.pack(len(seqs)), *(_SEQ.pack(seq) for seq in seqs), _SEQ.pack(mark)]
    for decision in decisions:
        tenant = decision.tenant.encode()
        parts.append(_TENANT.pack(len(tenant)) + tenant)
        parts.append(_DECISION.pack(decision.trace_id, decision.kept))
    return b"".join(parts)


def _decode_settlement(payload: bytes) -> tuple[list[int], int, list[Decision]]:
    (count,) = _COUNT.unpack_from(payload)
    offset = _COUNT.size
    seqs = [_SEQ.unpack_from(payload, offset + i * _SEQ.size)[0] for i in range(count)]
    offset += count * _SEQ.size
    (mark,) = _SEQ.unpack_from(payload, offset)
    offset += _SEQ.size
    decisions = []
    while offset < len(payload):
        (length,) = _TENANT.unpack_from(payload, offset)
        offset += _TENANT.size
        tenant = payload[offset : offset + length].decode()
        offset += length
        trace_id, kept = _DECISION.unpack_from(payload, offset)
        offset += _DECISION.size
        decisions.append(Decision(tenant, trace_id, bool(kept)))
    return seqs, mark, decisions
