"""Following a log query as records are stored: what Loki's ``tail`` sends.

Loki's ingesters hand a tail each line as it is pushed; otelite reads its store again
and again instead. The first read is the history: the newest ``limit`` entries from the
start to now (less the delay), oldest first. Each later read takes the entries up to
now (less the delay) that were not sent yet, oldest first. A record can be stored some
time after its own timestamp (SDKs and collectors batch), so every read looks back
``LATE_NS`` and skips what it sent before, an entry being its time, stream and line (two
such entries are one, as Loki's ingester keeps one). A read sends at most ``limit`` new
entries; those past that are reported as dropped, by time and labels, as Loki reports
the entries a slow client missed. A read scans at most ``SCAN_LIMIT`` entries, the
newest, so a query that matches more than that in ``LATE_NS`` misses some.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from otelite.query.logql._ast import LogQuery
from otelite.query.logql._entries import Entries, EntryLabels, Labels
from otelite.query.logql._read import Direction, select_logs
from otelite.query.promql import Budget
from otelite.storage import Storage

__all__ = ["LATE_NS", "SCAN_LIMIT", "Tail", "TailBatch"]

LATE_NS = 10 * 10**9
"""How long after its time a record may be stored and still be sent."""
SCAN_LIMIT = 5000
"""The most entries one read looks at."""

_Key = tuple[int, str, tuple[tuple[str, str], ...]]


@dataclass(slots=True)
class TailBatch:
    """What one read found: the entries to send, oldest first, and those dropped."""

    entries: Entries = field(default_factory=Entries)
    dropped: list[tuple[int, Labels]] = field(default_factory=list)
    """(time, labels) of new entries past the read's ``limit``."""


class Tail:
    """A log query followed from ``start_ns``; ``read`` it about once a second."""

    def __init__(
        self,
        query: LogQuery,
        *,
        start_ns: int,
        limit: int,
        delay_ns: int = 0,
        timeout_s: float | None = None,
    ) -> None:
        self.query = query
        self.start_ns = start_ns
        self.limit = limit
        self.delay_ns = delay_ns
        self.timeout_s = timeout_s
        self._horizon: int | None = None
        """Where the next read starts; None before the history is read."""
        self._seen: dict[_Key, int] = {}

    def read(self, storage: Storage, now_ns: int) -> TailBatch:
        """The entries to send now (``InvalidRequest``, ``QueryTimeout`` as a query's)."""
        upto = now_ns - self.delay_ns
        if self._horizon is None:
            return self._history(storage, upto)
        if upto <= self._horizon:
            return TailBatch()
        found = self._newest(storage, self._horizon, upto, SCAN_LIMIT)
        fresh = [i for i in reversed(range(len(found))) if _key(found, i) not in self._seen]
        for i in fresh:
            self._seen[_key(found, i)] = found.times[i]
        sent, dropped = fresh[: self.limit], fresh[self.limit :]
        self._forget(max(self._horizon, upto - LATE_NS))
        return TailBatch(
            _picked(found, sent), [(found.times[i], found.labels[i].all()) for i in dropped]
        )

    def _history(self, storage: Storage, upto: int) -> TailBatch:
        found = self._newest(storage, self.start_ns, upto, self.limit)
        oldest_first = _picked(found, list(reversed(range(len(found)))))
        for i in range(len(found)):
            self._seen[_key(found, i)] = found.times[i]
        horizon = max(self.start_ns, upto - LATE_NS)
        if len(found) >= self.limit:
            # What is older than the history sent was left out, not missed.
            horizon = max(horizon, found.times[-1])
        self._horizon = horizon
        self._forget(horizon)
        return TailBatch(oldest_first)

    def _newest(self, storage: Storage, start: int, end: int, limit: int) -> Entries:
        if end <= start:
            return Entries()
        budget = Budget(timeout_s=self.timeout_s)
        found = select_logs(
            storage,
            self.query,
            start_ns=start,
            end_ns=end,
            limit=limit,
            direction=Direction.BACKWARD,
            budget=budget,
        )
        return found.entries

    def _forget(self, horizon: int) -> None:
        """Move the next read's start to ``horizon`` and forget what is before it."""
        self._horizon = horizon
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}


def _key(entries: Entries, i: int) -> _Key:
    labels: EntryLabels = entries.labels[i]
    return entries.times[i], entries.lines[i], tuple(labels.stream.items())


def _picked(entries: Entries, rows: list[int]) -> Entries:
    return Entries(
        [entries.times[i] for i in rows],
        [entries.lines[i] for i in rows],
        [entries.labels[i] for i in rows],
    )
