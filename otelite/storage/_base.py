"""The storage interface: the only thing the rest of otelite knows about a backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from otelite.storage._logs import logs_to_table
from otelite.storage._metrics import metrics_to_tables
from otelite.storage._schema import LOGS, METRIC_TABLES, TRACE_ID_TS, TRACES, table_name
from otelite.storage._traces import traces_to_tables
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
    TraceId,
    UnixNano,
)

if TYPE_CHECKING:
    from otelite.query.dialects import Dialect

__all__ = ["Storage", "WriteBatch", "flatten"]


@dataclass(frozen=True, slots=True)
class WriteBatch:
    """Requests written in one transaction.

    Requests come as messages or serialized (as the write-ahead log holds them), or
    already flattened: ``tables`` maps table names (``otel_traces``, ...) to rows made by
    :func:`flatten`, which the ingest pipeline runs in a worker process so that flattening
    and inserting use two cores. A batch may hold both; the backend stores all of it.

    ``wal_position`` is the write-ahead-log sequence number up to which every request is
    stored once this batch is (None: unchanged); the backend stores it in the same
    transaction, with ``ingest_state``, so a replay after a crash knows exactly which
    logged requests (or which of their rows, see ``otelite.pipeline._align``) are already
    stored and writes none of them twice.
    """

    traces: Sequence[ExportTraceServiceRequest | bytes] = ()
    metrics: Sequence[ExportMetricsServiceRequest | bytes] = ()
    logs: Sequence[ExportLogsServiceRequest | bytes] = ()
    wal_position: int | None = None
    tables: Mapping[str, pa.Table] = field(default_factory=dict)
    ingest_state: str | None = None
    """What the ingest pipeline knows beyond ``wal_position`` (an opaque string the backend
    keeps with it, in the same transaction; see ``Storage.ingest_state``)."""


def flatten(
    traces: Sequence[ExportTraceServiceRequest | bytes] = (),
    metrics: Sequence[ExportMetricsServiceRequest | bytes] = (),
    logs: Sequence[ExportLogsServiceRequest | bytes] = (),
) -> dict[str, pa.Table]:
    """Requests as the rows of each table they go to (table name → rows; none empty)."""
    tables: dict[str, pa.Table] = {}
    if traces:
        spans, ranges = traces_to_tables(traces)
        tables[table_name(TRACES)] = spans
        tables[table_name(TRACE_ID_TS)] = ranges
    if logs:
        tables[table_name(LOGS)] = logs_to_table(logs)
    if metrics:
        for kind, table in metrics_to_tables(metrics).items():
            tables[table_name(METRIC_TABLES[kind])] = table
    return {name: table for name, table in tables.items() if table.num_rows}


class Storage(Protocol):
    """A telemetry store. Methods block; callers keep them off the event loop.

    ``write`` is called from one writer thread; every other method may be called from
    any thread while a write is in progress, and must not wait for it.
    """

    @property
    def dialect(self) -> Dialect:
        """The SQL dialect the query layer compiles plans to for this backend."""
        ...

    @property
    def insert_rows(self) -> int:
        """How many rows of a table an insert should hold while a backlog lasts: the
        ingest pipeline inserts whole multiples of it and carries the rest over."""
        ...

    def write(self, batch: WriteBatch) -> None:
        """Store a batch atomically. Raises ``Unavailable`` when the backend cannot write."""
        ...

    def data_version(self) -> int | None:
        """A number that changes whenever the stored data does, so what is derived from it
        (a catalog of metric names) may be kept while it holds; None when writers other
        than this process may change the data, and nothing may be kept."""
        ...

    def wal_position(self) -> int:
        """The highest ``WriteBatch.wal_position`` stored so far (0 when none)."""
        ...

    def ingest_state(self) -> str:
        """The ``WriteBatch.ingest_state`` stored last (``""`` when none)."""
        ...

    def get_trace(self, trace_id: TraceId) -> ExportTraceServiceRequest | None:
        """Every stored span of one trace, grouped by resource and scope; None if unknown."""
        ...

    def export(
        self,
        signal: Signal,
        *,
        start: UnixNano | None = None,
        end: UnixNano | None = None,
        max_items: int = 1000,
    ) -> Iterator[ExportRequest]:
        """Stored data of one signal in ``[start, end)``, as requests of at most ``max_items``."""
        ...

    def query(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        types: Mapping[str, pa.DataType] | None = None,
    ) -> pa.Table:
        """Run a read-only statement the query layer compiled for ``dialect``.

        ``types`` names the Arrow type some result columns must have (``Statement.types``):
        a backend whose driver returns another type for them converts.
        """
        ...

    def delete_before(self, cutoff: UnixNano) -> int:
        """Delete every record older than ``cutoff``; returns how many rows went."""
        ...

    def close(self) -> None:
        """Flush and release the backend. Idempotent."""
        ...
