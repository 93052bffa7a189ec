"""Inserts of the backend's preferred size: rows beyond them wait for the next batch, and
what that means for knowing which requests are stored.

Each backend says how many rows an insert should hold (``Storage.insert_rows``): DuckDB
its row group, which it writes straight into its file compressed (the figures are in
``otelite.storage.duckdb``). So while a backlog lasts, the writer inserts whole multiples
of that many spans and log records and carries the rest over to the next insert; when
the backlog ends (or on a flush or a stop) it inserts everything, so nothing waits longer
than the backlog does.

Carrying splits requests: part of a request's rows may be stored while the rest waits.
The write-ahead-log position stored with each insert is therefore the last request
stored *entirely* (with every request before it), and the insert also stores a
``Progress``: per signal, the last request of that signal stored entirely, and per
carried table, how many rows of later requests are already stored. Rows of one table
come in request order, so after a crash replay skips the requests a signal has stored
and drops that many rows from the front of what the rest flatten to: every request is
stored exactly once, split or not. Other tables (metric points, the trace-id index)
are inserted whole with the batch that brings them.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import orjson
import pyarrow as pa

from otelite.storage import LOGS, TRACES, table_name
from otelite.types import Signal

__all__ = ["ALIGNED_TABLES", "InsertPlan", "Progress", "RowGroupAligner"]

ALIGNED_TABLES: Mapping[Signal, str] = {
    Signal.TRACES: table_name(TRACES),
    Signal.LOGS: table_name(LOGS),
}
"""The table of each signal whose inserts are kept to whole multiples (one row per item)."""


class Request(Protocol):
    """What the aligner needs of a queued request."""

    @property
    def seq(self) -> int | None: ...

    @property
    def signal(self) -> Signal: ...

    @property
    def items(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Progress:
    """What is stored beyond the write-ahead-log position (see the module docstring)."""

    positions: Mapping[str, int] = field(default_factory=dict)
    """Signal name → its last request stored entirely (every earlier one of it too)."""
    pending: Mapping[str, int] = field(default_factory=dict)
    """Carried table → rows of requests past its signal's position already stored."""

    def encode(self) -> str:
        return orjson.dumps({"positions": self.positions, "pending": self.pending}).decode()

    @classmethod
    def decode(cls, text: str) -> Progress:
        """Inverse of :meth:`encode`; ``""`` (nothing recorded yet) is no progress."""
        if not text:
            return cls()
        data = orjson.loads(text)
        return cls(dict(data.get("positions", {})), dict(data.get("pending", {})))

    def stored(self, seq: int, signal: Signal) -> bool:
        """Whether the request ``seq`` of ``signal``, past the log position, is stored."""
        return seq <= self.positions.get(signal.value, 0)


@dataclass(slots=True)
class _Open:
    """A request not yet stored entirely."""

    request: Request
    table: str | None
    unstored: int
    """Rows of ``table`` still to insert; 0 when it has none (or no carried table)."""


@dataclass(frozen=True, slots=True)
class InsertPlan:
    """One insert: the rows to store now, and what is known stored once they are."""

    tables: dict[str, pa.Table]
    done: list[Request]
    """Requests stored entirely once this insert commits (not necessarily in a row)."""
    wal_position: int | None
    """The last request stored entirely with every request before it; None if unchanged."""
    progress: Progress
    carry: dict[str, pa.Table]
    open: list[_Open]
    skip: dict[str, int]


class RowGroupAligner:
    """Decides each insert's rows and tracks which requests are stored.

    ``plan`` is pure; ``commit`` adopts a plan once storage has written it. ``progress``
    is what storage recorded last (replay: its ``pending`` rows are dropped from the
    front of the carried tables first).
    """

    def __init__(self, *, rows: int, progress: Progress | None = None) -> None:
        progress = progress or Progress()
        self._rows = rows
        self._positions = dict(progress.positions)
        self._skip = dict(progress.pending)
        self._carry: dict[str, pa.Table] = {}
        self._open: collections.deque[_Open] = collections.deque()

    @property
    def carried_rows(self) -> int:
        return sum(table.num_rows for table in self._carry.values())

    def open_requests(self) -> list[Request]:
        """Requests not stored entirely (their rows carried or not yet inserted)."""
        return [entry.request for entry in self._open]

    def plan(
        self, requests: Sequence[Request], tables: Mapping[str, pa.Table], *, drain: bool
    ) -> InsertPlan:
        """The insert for ``requests`` (flattened into ``tables``) and what is carried.

        ``drain`` inserts every carried row; otherwise carried tables are inserted in
        whole row groups and the rest waits.
        """
        open_ = [_Open(e.request, e.table, e.unstored) for e in self._open]
        for request in requests:
            table = ALIGNED_TABLES.get(request.signal)
            open_.append(_Open(request, table, request.items if table else 0))
        skip = dict(self._skip)
        carry = dict(self._carry)
        insert: dict[str, pa.Table] = {}
        for name, table in tables.items():
            if name not in ALIGNED_TABLES.values():
                insert[name] = table
                continue
            dropped = min(skip.get(name, 0), table.num_rows)
            if dropped:  # stored before a restart
                skip[name] -= dropped
                _assign(open_, name, dropped)
                table = table.slice(dropped)
            carry[name] = pa.concat_tables([carry[name], table]) if name in carry else table
        for name, rows in list(carry.items()):
            count = rows.num_rows if drain else rows.num_rows // self._rows * self._rows
            if count:
                insert[name] = rows.slice(0, count)
                _assign(open_, name, count)
            if count == rows.num_rows:
                del carry[name]
            else:
                carry[name] = rows.slice(count)
        positions = dict(self._positions)
        done: list[Request] = []
        for entry in open_:
            if entry.unstored == 0:
                done.append(entry.request)
        # Rows of a table are assigned in request order, so a signal's requests complete
        # in order: its position is its last complete request before its first open one.
        blocked: set[Signal] = set()
        for entry in open_:
            signal = entry.request.signal
            seq = entry.request.seq
            if entry.unstored:
                blocked.add(signal)
            elif signal not in blocked and seq is not None:
                positions[signal.value] = seq
        wal_position: int | None = None
        remaining = collections.deque(open_)
        while remaining and remaining[0].unstored == 0:
            wal_position = remaining.popleft().request.seq
        still_open = [entry for entry in remaining if entry.unstored]
        pending: dict[str, int] = {}
        for entry in still_open:
            if entry.table is not None:
                stored = entry.request.items - entry.unstored
                pending[entry.table] = pending.get(entry.table, 0) + stored
        for name, rows in skip.items():  # replayed rows not met yet are stored too
            if rows:
                pending[name] = pending.get(name, 0) + rows
        return InsertPlan(
            tables=insert,
            done=done,
            wal_position=wal_position,
            progress=Progress(positions, pending),
            carry=carry,
            open=list(remaining),
            skip=skip,
        )

    def isolate(self) -> list[tuple[Request, dict[str, pa.Table]]]:
        """Take the carried rows out, as each open request's own rows, in order.

        For finding a request storage refuses: each can then be stored alone (``plan``
        with no new requests assigns rows to the first open request) or ``drop``-ped.
        """
        pieces: list[tuple[Request, dict[str, pa.Table]]] = []
        offsets = dict.fromkeys(self._carry, 0)
        for entry in self._open:
            if entry.table is None or not entry.unstored or entry.table not in self._carry:
                continue
            start = offsets[entry.table]
            rows = self._carry[entry.table].slice(start, entry.unstored)
            offsets[entry.table] = start + rows.num_rows
            pieces.append((entry.request, {entry.table: rows}))
        self._carry = {}
        return pieces

    def drop(self, request: Request) -> None:
        """Count ``request`` as stored without (the rest of) its rows: it was dead-lettered."""
        for entry in self._open:
            if entry.request is request:
                entry.unstored = 0

    def commit(self, plan: InsertPlan) -> None:
        """Adopt ``plan``: storage has written its tables, position and progress."""
        self._carry = plan.carry
        self._open = collections.deque(entry for entry in plan.open if entry.unstored)
        self._positions = dict(plan.progress.positions)
        self._skip = plan.skip


def _assign(open_: list[_Open], table: str, rows: int) -> None:
    """Count ``rows`` of ``table`` as stored, to its open requests in order."""
    for entry in open_:
        if not rows:
            return
        if entry.table == table and entry.unstored:
            taken = min(entry.unstored, rows)
            entry.unstored -= taken
            rows -= taken
    if rows:
        raise AssertionError(f"{rows} rows of {table} belong to no request")
