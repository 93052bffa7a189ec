"""The tail sampler's own durable log: spans it holds, and the decisions it has carried out.

Two write-ahead logs (``WriteAheadLog``) in ``<data_dir>/tail-sampling/``:

* ``held/``: one record per trace piece taken in (the spans of one trace from one
  request, resource and scope kept), appended and synced before the client is answered;
  payload ``u16 tenant length | tenant | ExportTraceServiceRequest``.
* ``decided/``: one record per batch of decisions carried out (kept spans handed on and
  durable downstream, or dropped); each entry ``u16 tenant length | tenant | 16-byte
  trace id | u64 highest held-log sequence of the trace | u8 kept``.

A held record is settled once a decision of its trace names a sequence at or above its
own. On start, the unsettled records are held again; the settled ones are skipped, so a
kept trace is not handed on twice. Segments are deleted as a whole once every record in
them is settled (held) or refers only to deleted held records (decided).

Held records are written in groups (``HeldCommitter``): sequence numbers are reserved on
the event loop, in arrival order, and written and synced later in one thread, while
decisions are recorded from another; the bookkeeping both share (what is unsettled) is
guarded by a lock. A reserved sequence whose write failed is abandoned: it is never
written again, and no decision names it, since only synced pieces are ever decided.
"""

from __future__ import annotations

import struct
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from otelite.pipeline._wal import WriteAheadLog
from otelite.types import ExportTraceServiceRequest, Signal

__all__ = ["Decision", "HeldRecord", "SamplingLog"]

_TENANT = struct.Struct("<H")
_DECISION = struct.Struct("<16sQB")
# Records are released a segment at a time: small segments let the log shrink soon after
# the traces in them are decided.
_HELD_SEGMENT_BYTES = 4 * 1024 * 1024
_DECIDED_SEGMENT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision carried out: ``through`` is the highest held sequence it settles."""

    tenant: str
    trace_id: bytes
    through: int
    kept: bool


@dataclass(frozen=True, slots=True)
class HeldRecord:
    seq: int
    tenant: str
    trace_id: bytes
    piece: ExportTraceServiceRequest
    serialized: bytes
    """``piece`` as written."""


class SamplingLog:
    """Appends held pieces and decisions, and replays what is unsettled (blocking calls)."""

    def __init__(
        self,
        directory: Path,
        *,
        held_segment_bytes: int = _HELD_SEGMENT_BYTES,
        decided_segment_bytes: int = _DECIDED_SEGMENT_BYTES,
    ) -> None:
        self._held = WriteAheadLog.open(directory / "held", segment_bytes=held_segment_bytes)
        self._decided = WriteAheadLog.open(
            directory / "decided", segment_bytes=decided_segment_bytes
        )
        self._next_held = self._held.last_seq + 1
        self._next_decided = self._decided.last_seq + 1
        self._unsettled: dict[int, None] = {}
        """Held sequences not settled yet, in rising order (dict keeps insertion order)."""
        self._decisions: deque[tuple[int, int]] = deque()
        """(decided sequence, held sequence it settles through), oldest first."""
        self._decided_through = 0
        """Decided records up to here are no longer needed."""
        self._lock = threading.Lock()
        """Guards the bookkeeping above: held pieces and decisions are written from
        different threads."""

    def replay(self) -> tuple[list[Decision], list[HeldRecord]]:
        """The decisions in the log (oldest first) and the held records they do not settle."""
        decisions: list[Decision] = []
        settled: dict[tuple[str, bytes], int] = {}
        for record in self._decided.records():
            for decision in _decode_decisions(record.payload):
                decisions.append(decision)
                key = (decision.tenant, decision.trace_id)
                settled[key] = max(settled.get(key, 0), decision.through)
                self._decisions.append((record.seq, decision.through))
        unsettled: list[HeldRecord] = []
        for record in self._held.records():
            tenant, serialized = _split_tenant(record.payload)
            piece = ExportTraceServiceRequest.FromString(serialized)
            trace_id = _trace_id(piece)
            if settled.get((tenant, trace_id), 0) >= record.seq:
                continue
            unsettled.append(HeldRecord(record.seq, tenant, trace_id, piece, serialized))
            self._unsettled[record.seq] = None
        self._release()
        return decisions, unsettled

    def hold(self, pieces: list[tuple[str, bytes]]) -> list[int]:
        """Append (tenant, serialized piece) records durably; their sequence numbers."""
        seqs = self.reserve(len(pieces))
        self.write(
            [(seq, tenant, payload) for seq, (tenant, payload) in zip(seqs, pieces, strict=True)]
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
        """Append reserved (sequence, tenant, serialized piece) records and sync them.

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

    def settle(self, decisions: list[Decision], seqs: list[int]) -> None:
        """Record ``decisions`` durably; the held records ``seqs`` are settled by them."""
        if not decisions:
            return
        seq = self._next_decided
        self._decided.append([(seq, Signal.TRACES, _encode_decisions(decisions))])
        self._next_decided += 1
        with self._lock:
            self._decisions.append((seq, max(d.through for d in decisions)))
            for held in seqs:
                self._unsettled.pop(held, None)
            self._release()

    def close(self) -> None:
        """Close both logs; emptied ones are deleted. Call when nothing is being written."""
        position = self._held_position()
        self._held.close(position)
        # Decisions are only needed while held records they settle remain.
        self._decided.close(self._decided_position(position))

    def _held_position(self) -> int:
        if self._unsettled:
            return next(iter(self._unsettled)) - 1
        return self._next_held - 1

    def _decided_position(self, held_position: int) -> int:
        while self._decisions and self._decisions[0][1] <= held_position:
            self._decided_through = self._decisions.popleft()[0]
        return self._decided_through

    def _release(self) -> None:
        held_position = self._held_position()
        self._held.release(held_position)
        self._decided.release(self._decided_position(held_position))


def _trace_id(piece: ExportTraceServiceRequest) -> bytes:
    return bytes(piece.resource_spans[0].scope_spans[0].spans[0].trace_id)


def _split_tenant(payload: bytes) -> tuple[str, bytes]:
    (length,) = _TENANT.unpack_from(payload)
    start = _TENANT.size + length
    return payload[_TENANT.size : start].decode(), payload[start:]


def _encode_decisions(decisions: list[Decision]) -> bytes:
    parts = []
    for decision in decisions:
        tenant = decision.tenant.encode()
        parts.append(_TENANT.pack(len(tenant)) + tenant)
        parts.append(_DECISION.pack(decision.trace_id, decision.through, decision.kept))
    return b"".join(parts)


def _decode_decisions(payload: bytes) -> Iterator[Decision]:
    offset = 0
    while offset < len(payload):
        (length,) = _TENANT.unpack_from(payload, offset)
        offset += _TENANT.size
        tenant = payload[offset : offset + length].decode()
        offset += length
        trace_id, through, kept = _DECISION.unpack_from(payload, offset)
        offset += _DECISION.size
        yield Decision(tenant, trace_id, through, bool(kept))
