"""Turning query results back into export requests: chunking, and dropping re-sent spans."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

from otelite.types import ExportRequest

__all__ = ["ROW_HASH", "SpanDeduplicator", "chunked"]

ROW_HASH = "_RowHash"
"""Name of the extra result column holding a hash of the whole stored row."""


class SpanDeduplicator:
    """Drops copies of a span that a client sent again after a timeout.

    A copy has the same trace id, span id and content (so the same row hash, which the
    query adds as ``ROW_HASH``). Rows must arrive ordered by ``Timestamp``: copies share
    their start time, so only the keys seen at the latest time need remembering, which
    keeps memory flat however long the stream. A span re-sent with different content is
    not a copy and is kept.
    """

    def __init__(self) -> None:
        self._seen: set[tuple[bytes, bytes, int]] = set()
        self._time: int | None = None

    def __call__(self, table: pa.Table) -> pa.Table:
        times = table.column("Timestamp").cast(pa.int64()).to_pylist()
        keys = zip(
            table.column("TraceId").to_pylist(),
            table.column("SpanId").to_pylist(),
            table.column(ROW_HASH).to_pylist(),
            strict=True,
        )
        keep: list[int] = []
        seen = self._seen
        for index, (time, key) in enumerate(zip(times, keys, strict=True)):
            if time != self._time:
                seen.clear()
                self._time = time
            if key not in seen:
                seen.add(key)
                keep.append(index)
        unique = table if len(keep) == table.num_rows else table.take(pa.array(keep, pa.int64()))
        return unique.drop_columns([ROW_HASH])


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
