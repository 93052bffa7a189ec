"""Batches: a destination's queued requests sent several at a time, as one export.

OTLP export requests are one repeated field (``resource_spans``, ``resource_metrics``,
``resource_logs``), and protobuf parses repeated fields written one after another as one
list: serialized requests of one type, concatenated, are the serialization of a single
request holding all their resource entries. A batch is therefore its requests' bodies
joined, without parsing; OTLP/JSON parses that join once, as one request, when it is sent.

A batch holds requests of one signal and one tenant only (the tenant travels in a header
of the whole export), in queue order; the requests of one read of the queue are grouped by
(signal, tenant) in the order of each group's oldest request. A batch is at most
``max_bytes`` (a request over it goes alone) and ``max_requests`` long.

``SentWindow`` says how far the queue's sent position may move when batches finish in any
order (several in flight): only over a run of requests that are all through, so that a
restart never skips a request still unsent.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from otelite.pipeline._forward_queue import Queued
from otelite.types import Signal

__all__ = ["Batch", "SentWindow", "batches"]


@dataclass(frozen=True, slots=True)
class Batch:
    """Requests of one signal and tenant, oldest first, sent as one export."""

    requests: tuple[Queued, ...]
    body: bytes
    """The requests' bodies joined: one OTLP export request, binary protobuf."""

    @classmethod
    def of(cls, requests: Sequence[Queued]) -> Batch:
        return cls(tuple(requests), b"".join(r.body for r in requests))

    @property
    def signal(self) -> Signal:
        return self.requests[0].signal

    @property
    def tenant(self) -> str:
        return self.requests[0].tenant

    @property
    def enqueued_at(self) -> float:
        """When its oldest request was queued (Unix seconds)."""
        return self.requests[0].enqueued_at

    def halves(self) -> list[Batch]:
        """Two batches of half the requests each (none when it holds one request): how a
        refused batch is narrowed down to the requests the destination refuses."""
        if len(self.requests) < 2:
            return []
        middle = len(self.requests) // 2
        return [Batch.of(self.requests[:middle]), Batch.of(self.requests[middle:])]


def batches(queued: Sequence[Queued], *, max_bytes: int, max_requests: int) -> list[Batch]:
    """``queued`` (one read of the queue, oldest first) as batches, each of one signal and
    tenant and within ``max_bytes`` and ``max_requests``."""
    groups: dict[tuple[Signal, str], list[list[Queued]]] = {}
    sizes: dict[tuple[Signal, str], int] = {}
    for item in queued:
        key = (item.signal, item.tenant)
        runs = groups.setdefault(key, [[]])
        size = len(item.body)
        last = runs[-1]
        if last and (len(last) >= max_requests or sizes[key] + size > max_bytes):
            last = []
            runs.append(last)
            sizes[key] = 0
        last.append(item)
        sizes[key] = sizes.get(key, 0) + size
    found = [Batch.of(run) for runs in groups.values() for run in runs]
    found.sort(key=lambda batch: batch.requests[0].seq)
    return found


class SentWindow:
    """The requests taken from a queue after ``position`` and whether each is through
    (delivered or dead-lettered); ``position`` moves over those through, in order."""

    def __init__(self, position: int) -> None:
        self.position = position
        self.last_taken = position
        self._waiting: collections.deque[int] = collections.deque()
        self._through: set[int] = set()

    @property
    def empty(self) -> bool:
        """Nothing taken is still to go through."""
        return not self._waiting

    def take(self, seqs: Iterable[int]) -> None:
        """Requests were taken for sending (in queue order, after any taken before)."""
        for seq in seqs:
            self._waiting.append(seq)
            self.last_taken = seq

    def through(self, seqs: Iterable[int]) -> bool:
        """Requests went through; True when ``position`` moved."""
        self._through.update(seqs)
        moved = False
        while self._waiting and self._waiting[0] in self._through:
            seq = self._waiting.popleft()
            self._through.discard(seq)
            self.position = seq
            moved = True
        return moved
