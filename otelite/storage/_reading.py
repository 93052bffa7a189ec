"""Turning stored rows back into export requests: which tables a signal is read from,
chunking, and dropping re-sent spans. Shared by every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import pyarrow as pa

from otelite.storage._logs import logs_from_table
from otelite.storage._metrics import metrics_from_tables
from otelite.storage._schema import LOGS, METRIC_TABLES, TRACES, table_name
from otelite.storage._traces import traces_from_table
from otelite.types import ExportRequest, Signal

__all__ = ["ExportSource", "SpanDeduplicator", "chunked", "export_sources"]


@dataclass(frozen=True, slots=True)
class ExportSource:
    """One table a signal is exported from."""

    table: str
    time_column: str
    """The column its rows are ordered and filtered by."""
    rebuild: Callable[[pa.Table], ExportRequest]
    """Rows (in otelite's schema) → one request."""
    dedupe: bool
    """Drop re-sent copies (spans only): see :class:`SpanDeduplicator`."""


def _metrics_request(kind: str, table: pa.Table) -> ExportRequest:
    return metrics_from_tables({kind: table})


def export_sources(signal: Signal, max_items: int) -> list[ExportSource]:
    """The tables ``signal`` is exported from, in order (metrics: one per point type).

    Raises ``ValueError`` for a chunk size below 1, before anything is read.
    """
    if max_items < 1:
        raise ValueError(f"max_items must be at least 1, got {max_items}")
    if signal is Signal.TRACES:
        return [ExportSource(table_name(TRACES), "Timestamp", traces_from_table, True)]
    if signal is Signal.LOGS:
        return [ExportSource(table_name(LOGS), "Timestamp", logs_from_table, False)]
    return [
        ExportSource(table_name(schema), "TimeUnix", partial(_metrics_request, kind), False)
        for kind, schema in METRIC_TABLES.items()
    ]


class SpanDeduplicator:
    """Drops copies of a span that a client sent again after a timeout.

    A copy has the same trace id, span id, start time and content. Rows must arrive
    ordered by ``Timestamp``: copies share their start time, so only the rows seen at the
    latest time need remembering, which keeps memory flat however long the stream. Rows
    are compared whole only when their ids and start time meet (rare: only re-sent
    spans), so a query need not hash every row. A span re-sent with different content is
    not a copy and is kept.
    """

    def __init__(self) -> None:
        # (trace id, span id) → the rows kept with those ids at the latest time, as
        # (table, row index) so that a row is only sliced out when it has to be compared.
        self._seen: dict[tuple[bytes, bytes], list[tuple[pa.Table, int]]] = {}
        self._time: int | None = None

    def __call__(self, table: pa.Table) -> pa.Table:
        times = table.column("Timestamp").cast(pa.int64()).to_pylist()
        keys = zip(
            table.column("TraceId").to_pylist(), table.column("SpanId").to_pylist(), strict=True
        )
        keep: list[int] = []
        seen = self._seen
        for index, (time, key) in enumerate(zip(times, keys, strict=True)):
            if time != self._time:
                seen.clear()
                self._time = time
            kept = seen.get(key)
            if kept is None:
                seen[key] = [(table, index)]
            elif _is_copy(table, index, kept):
                continue
            else:
                kept.append((table, index))
            keep.append(index)
        if len(keep) == table.num_rows:
            return table
        return table.take(pa.array(keep, pa.int64()))


def _is_copy(table: pa.Table, index: int, kept: list[tuple[pa.Table, int]]) -> bool:
    row = table.slice(index, 1)
    return any(row.equals(other.slice(other_index, 1)) for other, other_index in kept)


def chunked(
    batches: Iterable[pa.RecordBatch],
    max_items: int,
    rebuild: Callable[[pa.Table], ExportRequest],
    keep: Callable[[pa.Table], pa.Table] | None = None,
) -> Iterator[ExportRequest]:
    """Requests of at most ``max_items`` rows each, holding only about one chunk at a time.

    ``keep`` filters each batch first (e.g. a :class:`SpanDeduplicator`).
    """
    pending: list[pa.Table] = []
    count = 0
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if keep is not None:
            table = keep(table)
        if table.num_rows == 0:
            continue
        pending.append(table)
        count += table.num_rows
        while count >= max_items:
            rows = pa.concat_tables(pending)
            yield rebuild(rows.slice(0, max_items))
            rest = rows.slice(max_items)
            pending, count = [rest], rest.num_rows
    if count:
        yield rebuild(pa.concat_tables(pending))
