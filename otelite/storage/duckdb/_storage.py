"""The embedded DuckDB store: one database file, Arrow in, Arrow out.

Writes come from one writer thread through one connection, each batch a single
transaction of Arrow inserts (all signals plus the WAL position). Reads run on other
connections to the same database — one per reading thread, plus one per running export —
and DuckDB's MVCC lets them read the last committed state without waiting for a write in
progress; DuckDB releases the GIL while it works, so they also run in parallel in Python.

Ingest tuning: inserts are whole Arrow tables, never rows. An insert of at least a row
group (122,880 rows; the writer joins a backlog into such inserts) is compressed straight
into the database file, ~4 µs a span; a smaller one goes through DuckDB's own log and
stays in memory until a checkpoint compresses it, ~10 µs a span in all. The checkpoint
threshold (128 MB of that log) bounds the memory such rows hold (checkpointing every few
MB made inserts slow down as tables grew), and ``memory_limit`` bounds DuckDB's cache, so
that the server stays within about 1 GiB however long it ingests.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from otelite.errors import InvalidRequest, Unavailable
from otelite.query.dialects import DuckDBDialect
from otelite.storage._base import WriteBatch, flatten
from otelite.storage._reading import ExportSource, SpanDeduplicator, chunked, export_sources
from otelite.storage._schema import (
    NEWER_SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    TRACE_ID_TS,
    TRACES,
    table_name,
)
from otelite.storage._traces import traces_from_table
from otelite.storage.duckdb._layout import (
    batch_from_stored,
    from_stored,
    migrations,
    stored_only,
    stored_schema,
    to_stored,
)
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal, TraceId, UnixNano

__all__ = ["DuckDBStorage"]

T = TypeVar("T")

DATABASE_FILE = "otelite.duckdb"
_STATE = "otelite_state"
_INT64_MAX = 2**63 - 1
_READ_BATCH_ROWS = 8192
ROW_GROUP_ROWS = 122_880
"""DuckDB's row group. Measured on the demo's spans: an insert of whole row groups goes
straight into the file, 4.0-4.2 µs and 89-90 B a span, against 7.7 µs and 150-165 B when
every insert ends in a partial group (even one of 500 rows), and 10-14 µs through DuckDB's
own log."""

_TRACES = table_name(TRACES)
_TRACE_ID_TS = table_name(TRACE_ID_TS)
# Per table, the columns only the store has, and the SQL of their values.
_STORED_ONLY = {table_name(schema): stored_only(schema) for schema in TABLES}
# The column each table is expired by: its export time column (the trace-id table: End).
_TIME_COLUMN: dict[str, str] = {
    **{
        source.table: source.time_column
        for signal in Signal
        for source in export_sources(signal, 1)
    },
    _TRACE_ID_TS: "End",
}
_USER_ERRORS = (
    duckdb.BinderException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.NotImplementedException,
    duckdb.OutOfRangeException,
    duckdb.ParserException,
    duckdb.PermissionException,
    duckdb.CatalogException,
)
# Errors that say the data itself is wrong (a value that does not convert or fit, a
# violated constraint): writing it again cannot succeed, so the pipeline isolates the
# request and keeps it as a dead letter instead of retrying it forever. Any other error
# (I/O, memory, a schema someone changed) may pass or needs an operator: retried.
_CONTENT_ERRORS = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.ConstraintException,
    duckdb.TypeMismatchException,
)


class DuckDBStorage:
    """``Storage`` on DuckDB: ``<data_dir>/otelite.duckdb``, or in memory when ``None``."""

    def __init__(
        self,
        data_dir: Path | None,
        *,
        checkpoint_threshold: str = "128MB",
        memory_limit: str = "512MB",
        threads: int = 0,
    ) -> None:
        config: dict[str, Any] = {
            "checkpoint_threshold": checkpoint_threshold,
            "memory_limit": memory_limit,
            # Nothing otelite runs needs files beyond its own database; a query cannot read
            # or write any other (or ATTACH one), whatever SQL reaches it.
            "enable_external_access": False,
        }
        # One core fewer than the machine has, unless told: the flatten worker and the
        # event loop need one, and DuckDB's extra threads on a busy machine cost more than
        # they give (on two cores, its second thread added ~4 µs of CPU to each span
        # inserted, a third of the server's ingest CPU, for no faster insert).
        config["threads"] = threads or max(1, (os.cpu_count() or 2) - 1)
        path = ":memory:" if data_dir is None else str(data_dir / DATABASE_FILE)
        try:
            if data_dir is not None:
                data_dir.mkdir(parents=True, exist_ok=True)
            self._db = duckdb.connect(path, config=config)
            self._create_tables(path)
            self._create_indexes()
            self._writer = self._db.cursor()
        except (OSError, duckdb.Error) as error:
            raise Unavailable(f"storage: cannot open {path}: {error}") from error
        except Unavailable:
            self._db.close()
            raise
        self._persistent = data_dir is not None
        self._dialect = DuckDBDialect()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()  # guards _cursors and _closed
        self._write_lock = threading.Lock()  # one write or retention pass at a time
        self._closed = False
        self._version = 0

    def _create_tables(self, where: str) -> None:
        dialect = DuckDBDialect()
        self._check_schema_version(where)
        for schema in TABLES:
            name = table_name(schema)
            self._db.execute(dialect.create_table(name, stored_schema(schema)))
            # A file written by an older otelite: convert it in place, once.
            stored = dict(
                self._db.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = ?",
                    [name],
                ).fetchall()
            )
            for statement in migrations(dialect, name, schema, stored):
                self._db.execute(statement)
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {_STATE} (wal_position BIGINT NOT NULL)")
        self._db.execute(
            f"INSERT INTO {_STATE} (wal_position) SELECT 0 "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_STATE})"
        )
        self._db.execute(
            f"ALTER TABLE {_STATE} ADD COLUMN IF NOT EXISTS ingest_state VARCHAR DEFAULT ''"
        )
        self._db.execute(
            f"ALTER TABLE {_STATE} ADD COLUMN IF NOT EXISTS schema_version INTEGER DEFAULT 0"
        )
        self._db.execute(f"UPDATE {_STATE} SET schema_version = ?", [SCHEMA_VERSION])

    def _check_schema_version(self, where: str) -> None:
        """Refuse a file a newer otelite wrote, before anything in it is changed."""
        recorded = self._db.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = ? AND column_name = 'schema_version'",
            [_STATE],
        ).fetchall()
        if not recorded:
            return  # a new file, or one from before versions were recorded
        [(found,)] = self._db.execute(f"SELECT max(schema_version) FROM {_STATE}").fetchall()
        if found is not None and found > SCHEMA_VERSION:
            raise Unavailable(NEWER_SCHEMA.format(where=where, found=found, known=SCHEMA_VERSION))

    def _create_indexes(self) -> None:
        # Trace ids are random, so zone maps cannot skip any of the trace-id table: without
        # an index, finding a trace's time range reads all of it (~16 ms at 10M spans). The
        # index costs ~1 µs per row of that table (about one row per trace and batch, so
        # ~0.1-0.2 µs per span) and ~40-60 MB of memory at 10M spans. The spans table
        # needs none: the time range narrows its scan to one or two row groups.
        self._db.execute(
            f'CREATE INDEX IF NOT EXISTS {_TRACE_ID_TS}_trace_id ON {_TRACE_ID_TS} ("TraceId")'
        )

    def __enter__(self) -> DuckDBStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def dialect(self) -> DuckDBDialect:
        """DuckDB's SQL dialect."""
        return self._dialect

    @property
    def insert_rows(self) -> int:
        """Whole row groups (``ROW_GROUP_ROWS``)."""
        return ROW_GROUP_ROWS

    # Writing -------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> None:
        """Insert every request and table of ``batch`` and its WAL position in one transaction."""
        tables = [
            *batch.tables.items(),
            *flatten(batch.traces, batch.metrics, batch.logs).items(),
        ]
        with self._write_lock:
            self._check_open()
            writer = self._writer
            try:
                writer.begin()
                for name, table in tables:
                    if table.num_rows:
                        self._insert(name, table)
                if batch.wal_position is not None:
                    writer.execute(
                        f"UPDATE {_STATE} SET wal_position = greatest(wal_position, ?)",
                        [batch.wal_position],
                    )
                if batch.ingest_state is not None:
                    writer.execute(f"UPDATE {_STATE} SET ingest_state = ?", [batch.ingest_state])
                writer.commit()
                self._version += 1
            except _CONTENT_ERRORS as error:
                self._rollback()
                raise InvalidRequest(f"storage: DuckDB refused the data: {error}") from error
            except duckdb.Error as error:
                self._rollback()
                raise Unavailable(f"storage: write failed: {error}") from error

    def _insert(self, name: str, table: pa.Table) -> None:
        view = "_otelite_rows"
        self._writer.register(view, to_stored(table))
        added = "".join(
            f", {value} AS {self._dialect.quote(column)}"
            for column, value in _STORED_ONLY.get(name, {}).items()
        )
        try:
            self._writer.execute(
                f"INSERT INTO {self._dialect.quote(name)} BY NAME SELECT *{added} FROM {view}"
            )
        except duckdb.Error:
            # The failed insert aborted the transaction, so unregistering fails too, and
            # its error must not hide this one; the next register replaces the view.
            with contextlib.suppress(duckdb.Error):
                self._writer.unregister(view)
            raise
        self._writer.unregister(view)

    def _rollback(self) -> None:
        # A failure may already have ended the transaction: nothing left to roll back then.
        with contextlib.suppress(duckdb.Error):
            self._writer.rollback()

    def data_version(self) -> int:
        """A number that changes with every write and delete (only this process writes)."""
        return self._version

    def wal_position(self) -> int:
        """The highest WAL position stored so far (0 when none)."""
        rows = self._read(lambda c: c.execute(f"SELECT wal_position FROM {_STATE}").fetchall())
        return int(rows[0][0]) if rows else 0

    def ingest_state(self) -> str:
        """The ingest pipeline's state stored last (``""`` when none)."""
        rows = self._read(lambda c: c.execute(f"SELECT ingest_state FROM {_STATE}").fetchall())
        return str(rows[0][0] or "") if rows else ""

    def delete_before(self, cutoff: UnixNano) -> int:
        """Delete spans, log records and data points older than ``cutoff``.

        Returns how many of those went (the trace time-range rows are not counted).
        """
        deleted = 0
        with self._write_lock:
            self._check_open()
            writer = self._writer
            try:
                writer.begin()
                for name, column in _TIME_COLUMN.items():
                    rows = writer.execute(
                        f"DELETE FROM {self._dialect.quote(name)} "
                        f"WHERE {self._dialect.quote(column)} < make_timestamp_ns(?)",
                        [min(cutoff, _INT64_MAX)],
                    ).fetchall()
                    if name != _TRACE_ID_TS:
                        deleted += int(rows[0][0])
                writer.commit()
                self._version += 1
            except duckdb.Error as error:
                self._rollback()
                raise Unavailable(f"storage: retention delete failed: {error}") from error
        return deleted

    # Reading -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("storage: closed")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's read connection, opened on first use."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._new_cursor()
            self._local.cursor = cursor
        return cursor

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            self._check_open()
            cursor = self._db.cursor()
            self._cursors.append(cursor)
            return cursor

    def _read(self, run: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        try:
            return run(self._cursor())
        except _USER_ERRORS as error:
            raise InvalidRequest(f"query: {error}") from error
        except duckdb.Error as error:
            raise Unavailable(f"storage: read failed: {error}") from error

    def get_trace(self, trace_id: TraceId) -> ExportTraceServiceRequest | None:
        """Every stored span of one trace (re-sent copies once); None when there is none."""

        def run(cursor: duckdb.DuckDBPyConnection) -> pa.Table | None:
            # The trace's time range first (through the index of ``_create_indexes``), so
            # the span scan reads only row groups whose Timestamp zone maps overlap it.
            [(first, last)] = cursor.execute(
                f'SELECT epoch_ns(min("Start")), epoch_ns(max("End")) FROM {_TRACE_ID_TS} '
                'WHERE "TraceId" = ?',
                [trace_id],
            ).fetchall()
            if first is None:
                return None
            # No ORDER BY and no row hash: for a trace's few rows, sorting here and
            # comparing only rows whose ids meet (SpanDeduplicator) is cheaper than either.
            table: pa.Table = cursor.sql(
                f'SELECT * FROM {_TRACES} WHERE "TraceId" = $1 AND "Timestamp" '
                "BETWEEN make_timestamp_ns($2) AND make_timestamp_ns($3)",
                params=[trace_id, first, last],
            ).to_arrow_table()
            return from_stored(table)

        table = self._read(run)
        if table is None or table.num_rows == 0:
            return None
        return traces_from_table(SpanDeduplicator()(table.sort_by("Timestamp")))

    def export(
        self,
        signal: Signal,
        *,
        start: UnixNano | None = None,
        end: UnixNano | None = None,
        max_items: int = 1000,
    ) -> Iterator[ExportRequest]:
        """Stored data of one signal with time in ``[start, end)``, oldest first.

        Yields requests of at most ``max_items`` spans, log records or data points (metrics
        table by table, each in time order), streaming from the database: memory holds
        about one request's rows, however much is stored.
        """
        for source in export_sources(signal, max_items):
            yield from self._export(source, start, end, max_items)

    def _export(
        self,
        source: ExportSource,
        start: UnixNano | None,
        end: UnixNano | None,
        max_items: int,
    ) -> Iterator[ExportRequest]:
        name = source.table
        column = self._dialect.quote(source.time_column)
        where: list[str] = []
        params: list[int] = []
        if start is not None:
            where.append(f"{column} >= make_timestamp_ns(?)")
            params.append(min(start, _INT64_MAX))
        if end is not None:
            where.append(f"{column} < make_timestamp_ns(?)")
            params.append(min(end, _INT64_MAX))
        hidden = ", ".join(self._dialect.quote(c) for c in _STORED_ONLY.get(name, {}))
        sql = f"SELECT * EXCLUDE ({hidden}) FROM {name}" if hidden else f"SELECT * FROM {name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {column}"
        # A connection of its own: the caller may run other reads on this thread between
        # two requests, and a new statement on a shared connection would end this stream.
        cursor = self._new_cursor()
        try:
            try:
                reader = cursor.sql(sql, params=params or None).to_arrow_reader(
                    min(max_items, _READ_BATCH_ROWS)
                )
            except duckdb.Error as error:
                raise Unavailable(f"storage: export failed: {error}") from error
            keep = SpanDeduplicator() if source.dedupe else None
            batches = map(batch_from_stored, reader)
            try:
                yield from chunked(batches, max_items, source.rebuild, keep)
            except duckdb.Error as error:  # e.g. the store was closed mid-stream
                raise Unavailable(f"storage: export failed: {error}") from error
        finally:
            self._forget(cursor)

    def _forget(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if cursor in self._cursors:
                self._cursors.remove(cursor)
                cursor.close()

    def query(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        types: Mapping[str, pa.DataType] | None = None,
    ) -> pa.Table:
        """Run one read-only statement (a ``SELECT``) and return its rows.

        DuckDB returns every column with the type ``types`` may ask for.

        Anything else — writes, DDL, ``COPY``, several statements — raises ``InvalidRequest``
        before it runs, as do errors in the statement itself.
        """

        def run(cursor: duckdb.DuckDBPyConnection) -> pa.Table:
            statements = cursor.extract_statements(sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                raise InvalidRequest("query: only a single read-only SELECT statement may run")
            table = cursor.sql(sql, params=list(params) or None).to_arrow_table()
            return from_stored(table)

        result: pa.Table = self._read(run)
        return result

    def close(self) -> None:
        """Checkpoint (on disk) and close every connection. Idempotent."""
        with self._write_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
            # A failed checkpoint loses nothing: the WAL holds every commit and is replayed
            # when the database opens next.
            with contextlib.suppress(duckdb.Error):
                if self._persistent:
                    self._writer.execute("CHECKPOINT")
            self._writer.close()
            self._db.close()
