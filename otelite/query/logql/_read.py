"""Running a log query over a store: entries in time order, newest or oldest first.

The database selects the streams and filters the lines it can (``_select``); the rest
of the pipeline runs in Python on what it returns (``_process``). When no Python stage
can drop a line, one statement orders and limits the records. Otherwise the records are
read in windows of time, newest first for ``backward``, each ordered and limited, until
enough entries pass. A window that fills its batch ends at its last time: the records of
that time are left to the next window, which starts there (so that none is read twice
or skipped; a batch that is all one time is read whole at once), and which is sized to
hold about twice as many records as the batch did. A window that does not fill its batch
is read whole, and the next is sized to hold a batch at the density it had (at most
eight times as wide). The first window is an eighth of the range, at most five minutes:
most queries want the newest lines. Every statement binds every value it takes from the
query.

The time range is ``[start, end)``. A query stops with ``QueryTimeout`` once its budget's
time is spent (checked between statements and batches).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow.compute as pc

from otelite.query._compile import compile_plan
from otelite.query._plan import Order, Predicate, Select, Table, TimeRange, all_of
from otelite.query.logql._ast import LogQuery
from otelite.query.logql._entries import Entries
from otelite.query.logql._process import compile_stages
from otelite.query.logql._records import RECORD_OUTPUTS, RecordReader
from otelite.query.logql._select import split_query
from otelite.query.promql import Budget
from otelite.storage import Storage

__all__ = ["Direction", "LogResult", "ReadStats", "read_entries", "select_logs"]

_FIRST_BATCH = 1000
_MAX_BATCH = 20_000
_WINDOWS = 8  # the first window is this fraction of the range, or _FIRST_WINDOW
_FIRST_WINDOW = 5 * 60 * 10**9


class Direction(enum.Enum):
    """Which entries come first: Loki's ``backward`` (newest) is its default."""

    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(slots=True)
class ReadStats:
    """What a query read from the store."""

    lines: int = 0
    """Records the database returned (after the filters it applied)."""
    bytes: int = 0
    """Their lines' length in UTF-8."""
    statements: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


@dataclass(slots=True)
class LogResult:
    """The entries a log query answers, in its direction's order."""

    entries: Entries
    stats: ReadStats


class _Reader:
    def __init__(
        self, storage: Storage, where: Predicate | None, direction: Direction, budget: Budget
    ) -> None:
        self.storage = storage
        self.where = where
        self.descending = direction is Direction.BACKWARD
        self.budget = budget
        self.records = RecordReader()
        self.stats = ReadStats()

    def read(self, time_range: TimeRange, limit: int | None) -> Entries:
        self.budget.check_time()
        plan = Select(
            Table.LOGS,
            RECORD_OUTPUTS,
            where=self.where,
            time=time_range,
            order_by=(Order("time_ns", descending=self.descending),),
            limit=limit,
        )
        statement = compile_plan(plan, self.storage.dialect)
        table = self.storage.query(statement.sql, statement.params, types=statement.types)
        self.stats.statements += 1
        self.stats.lines += table.num_rows
        self.stats.bytes += pc.sum(pc.binary_length(table.column("Body"))).as_py() or 0
        return self.records.entries(table)

    def batches(self, start: int, end: int) -> Iterator[Entries]:
        """Every record in ``[start, end)``, in order, batch by batch."""
        batch = _FIRST_BATCH
        window = max(min((end - start) // _WINDOWS, _FIRST_WINDOW), 1)
        while start < end:
            if self.descending:
                part = TimeRange(max(start, end - window), end)
            else:
                part = TimeRange(start, min(end, start + window))
            found = self.read(part, batch)
            if len(found) < batch:
                # The whole window: move past it; widen the next one to hold about a batch
                # at the density this one had (at most eight times as wide).
                if self.descending:
                    end = part.start or start
                else:
                    start = part.end or end
                window = int(window * batch / max(len(found), batch / 8))
                if found:
                    yield found
                continue
            # A full batch: the records of its last time may go on past it.
            times = found.times
            edge = times[-1]
            whole = len(times)
            while whole and times[whole - 1] == edge:
                whole -= 1
            if whole:
                yield found.head(whole)
                spanned = (end - edge) if self.descending else (edge - start)
                if self.descending:
                    end = edge + 1
                else:
                    start = edge
                window = max(spanned * 4, 1)  # twice the records, with room to spare
            else:
                yield self.read(TimeRange(edge, edge + 1), None)
                if self.descending:
                    end = edge
                else:
                    start = edge + 1
            batch = min(batch * 2, _MAX_BATCH)


def read_entries(
    storage: Storage,
    query: LogQuery,
    *,
    start_ns: int,
    end_ns: int,
    direction: Direction = Direction.FORWARD,
    budget: Budget | None = None,
    stats: ReadStats | None = None,
    also: Predicate | None = None,
) -> Iterator[Entries]:
    """Every entry of ``query`` in ``[start_ns, end_ns)``, in ``direction``'s order,
    batch by batch, after its whole pipeline (what metric queries aggregate); with
    ``also``, only of the records that meet it too.

    Raises ``InvalidRequest`` (before reading) for a pipeline that cannot run."""
    part = split_query(query)
    pipeline = compile_stages(part.stages)
    reader = _Reader(storage, all_of(part.where, also), direction, budget or Budget())
    if stats is not None:
        reader.stats = stats
    for batch in reader.batches(start_ns, end_ns):
        passed = pipeline.run(batch)
        if passed:
            yield passed


def select_logs(
    storage: Storage,
    query: LogQuery,
    *,
    start_ns: int,
    end_ns: int,
    limit: int,
    direction: Direction = Direction.BACKWARD,
    interval_ns: int = 0,
    budget: Budget | None = None,
) -> LogResult:
    """The first ``limit`` entries of ``query`` in ``[start_ns, end_ns)`` in
    ``direction``'s order; with ``interval_ns``, only entries at least that far from the
    previous one returned (Loki's ``interval``)."""
    part = split_query(query)
    pipeline = compile_stages(part.stages)
    reader = _Reader(storage, part.where, direction, budget or Budget())
    if start_ns >= end_ns or limit <= 0:
        return LogResult(Entries(), reader.stats)
    if part.exact and not interval_ns:
        found = pipeline.run(reader.read(TimeRange(start_ns, end_ns), limit))
        return LogResult(found, reader.stats)
    answer = Entries()
    last: int | None = None
    for batch in reader.batches(start_ns, end_ns):
        passed = pipeline.run(batch)
        if interval_ns:
            passed, last = _spaced(passed, interval_ns, last, reader.descending)
        answer.extend(passed.head(limit - len(answer)))
        if len(answer) >= limit:
            break
        reader.budget.check_time()
    return LogResult(answer, reader.stats)


def _spaced(
    entries: Entries, interval_ns: int, last: int | None, descending: bool
) -> tuple[Entries, int | None]:
    """The entries at least ``interval_ns`` after (or before) the previous one kept."""
    keep = []
    for at in entries.times:
        far = last is None or (at <= last - interval_ns if descending else at >= last + interval_ns)
        keep.append(far)
        if far:
            last = at
    return entries.kept(keep), last
