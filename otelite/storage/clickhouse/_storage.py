"""ClickHouse as otelite's store: the exporter's tables, through clickhouse-connect.

One code path for a ClickHouse server (HTTP) and for chDB, ClickHouse's engine in this
process: clickhouse-connect drives both, and ``connect`` says which. Each thread gets its
own client (a chDB client runs one statement at a time), and an export streams on a
client of its own.

Acknowledged still means stored, without transactions. ClickHouse stores each table's
insert on its own, so a crash can leave one table of a batch written and the next not.
Every row otelite writes carries the number of its insert (``OteliteInsert``: this
writer's tag in the high 32 bits, a counter below), and ``otelite_state`` records, after
a batch's tables, the insert and the write-ahead-log position it completes. A restart
deletes this writer's rows numbered past the last recorded insert before the log is
replayed, and a failed insert deletes its own rows before the batch is tried again; so
every logged request ends up stored exactly once. Each insert also carries a
deduplication token, so a block the driver sends twice (a dropped connection mid-insert)
is stored once on tables that keep a deduplication window.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from otelite.errors import InvalidRequest, PermanentError, Unavailable
from otelite.query.dialects import ClickHouseDialect
from otelite.storage._base import WriteBatch, flatten
from otelite.storage._reading import ExportSource, SpanDeduplicator, chunked, export_sources
from otelite.storage._schema import SCHEMA_VERSION, TRACE_ID_TS, TRACES, table_name
from otelite.storage._traces import traces_from_table
from otelite.storage.clickhouse._ddl import delete_statement
from otelite.storage.clickhouse._errors import message, refuses_content, refuses_statement
from otelite.storage.clickhouse._layout import conform, logical_schema, select_list, to_stored
from otelite.storage.clickhouse._setup import Client, prepare
from otelite.storage.clickhouse._tables import DATA_TABLES, INSERT_COLUMN, STATE
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal, TraceId, UnixNano

__all__ = ["ClickHouseStorage", "Client"]

log = logging.getLogger("otelite.storage")

T = TypeVar("T")

WRITER_FILE = "clickhouse-writer"
_READ_BATCH_ROWS = 8192
# Rows of a table per insert while a backlog lasts. Filling chDB directly with the
# bench's spans, 100k-row inserts peaked at ~1.9 GiB resident, 50k at ~1.4 GiB and 25k at
# ~1.2 GiB at the same rate; but in the server 25k-row inserts (more parts to merge)
# lowered sustained ingest by a fifth against 100k (BENCHMARKS.md, two runs): 50k is
# between the two.
INSERT_ROWS = 50_000
_INT64_MAX = 2**63 - 1
_TRACES = table_name(TRACES)
_SELECT = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
# Result columns and settings that keep the planner's SQL meaning what it means on DuckDB:
# an output named like a column must not replace that column elsewhere in the statement.
_QUERY_SETTINGS = {"prefer_column_name_to_alias": 1}


class ClickHouseStorage:
    """``Storage`` on a ClickHouse database, server or chDB.

    ``connect(database)`` opens a clickhouse-connect client whose default database is
    ``database`` (None: no default, for creating it). ``writer_dir`` keeps this writer's
    tag (one per write-ahead log; None: a new tag, for a log kept in memory).
    ``where`` names the store in errors, without its password.
    """

    def __init__(
        self,
        connect: Callable[[str | None], Client],
        *,
        database: str,
        where: str,
        writer_dir: Path | None = None,
        create_schema: bool = True,
        retention_seconds: int | None = None,
        cluster: str | None = None,
        read_only_queries: bool = True,
    ) -> None:
        self._connect = connect
        self._database = database
        self._where = where
        self._read_only = read_only_queries
        self._dialect = ClickHouseDialect()
        self._cluster = cluster
        # On a cluster an insert is acknowledged once every shard has stored its part.
        self._insert_settings: dict[str, object] = (
            {} if cluster is None else {"insert_distributed_sync": 1}
        )
        self._local = threading.local()
        self._clients: list[Client] = []
        self._lock = threading.Lock()  # guards _clients and _closed
        self._write_lock = threading.Lock()
        self._closed = False
        self._tag = _writer_tag(writer_dir)
        self._writer = f"{self._tag:08x}"
        self._session = secrets.token_hex(4)  # keeps deduplication tokens unique per start
        self._dirty: list[int] = []  # inserts that failed and may have left rows
        try:
            admin = connect(None)
            try:
                prepare(
                    admin,
                    database,
                    where,
                    create=create_schema,
                    retention_seconds=retention_seconds,
                    cluster=cluster,
                )
            finally:
                admin.close()
            self._wal_position, self._ingest_state, self._insert = self._recover()
        except Unavailable:
            raise
        except Exception as error:
            raise Unavailable(f"storage: cannot open {where}: {message(error)}") from error

    def _recover(self) -> tuple[int, str, int]:
        """This writer's stored position, after removing rows of an unrecorded insert."""
        client = self._client()
        rows = client.query(
            f"SELECT argMax(WalPosition, Insert), argMax(IngestState, Insert), max(Insert)"
            f" FROM `{STATE}` WHERE Writer = {{w:String}}",
            parameters={"w": self._writer},
        ).result_rows
        position, state, last = rows[0] if rows else (0, "", 0)
        last_insert = int(last or 0) & 0xFFFFFFFF
        first_unrecorded = (self._tag << 32) | (last_insert + 1)
        self._delete_inserts(client, first_unrecorded, (self._tag + 1) << 32)
        return int(position or 0), str(state or ""), last_insert

    def _delete_inserts(self, client: Client, first: int, end: int) -> None:
        for table in DATA_TABLES:
            condition = f"{INSERT_COLUMN} >= {first} AND {INSERT_COLUMN} < {end}"
            found = client.command(f"SELECT count() FROM `{table.name}` WHERE {condition}")
            if int(found):
                log.warning("%s: removing %s rows of an unfinished insert", table.name, found)
                client.command(
                    delete_statement(self._database, table.name, condition, self._cluster)
                )

    def __enter__(self) -> ClickHouseStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def dialect(self) -> ClickHouseDialect:
        """ClickHouse's SQL dialect."""
        return self._dialect

    @property
    def database(self) -> str:
        return self._database

    @property
    def insert_rows(self) -> int:
        """Large inserts: each insert is a part that ClickHouse merges later."""
        return INSERT_ROWS

    # Writing -------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> None:
        """Insert every table of ``batch``, then record it (see the module docstring)."""
        # The exporter's materialised view fills the trace-id table from otel_traces.
        tables = [
            (name, table)
            for name, table in (
                *batch.tables.items(),
                *flatten(batch.traces, batch.metrics, batch.logs).items(),
            )
            if name != table_name(TRACE_ID_TS) and table.num_rows
        ]
        with self._write_lock:
            self._check_open()
            client = self._client()
            try:
                self._clean(client)
            except Exception as error:
                raise self._write_error(error) from error
            number = self._insert + 1
            insert = (self._tag << 32) | number
            position = self._wal_position if batch.wal_position is None else batch.wal_position
            position = max(position, self._wal_position)
            state = self._ingest_state if batch.ingest_state is None else batch.ingest_state
            try:
                for part, (name, table) in enumerate(tables):
                    self._insert_table(client, name, table, insert, part)
                client.insert(
                    STATE,
                    [[self._writer, insert, position, state, SCHEMA_VERSION]],
                    column_names=[
                        "Writer",
                        "Insert",
                        "WalPosition",
                        "IngestState",
                        "SchemaVersion",
                    ],
                    settings=self._insert_settings,
                )
            except Exception as error:
                self._insert = number  # never reuse the number of an insert that may have rows
                self._dirty.append(insert)
                raise self._write_error(error) from error
            self._insert = number
            self._wal_position, self._ingest_state = position, state

    def _insert_table(
        self, client: Client, name: str, table: pa.Table, insert: int, part: int
    ) -> None:
        stored = to_stored(name, table)
        stored = stored.append_column(
            INSERT_COLUMN, pa.array([insert] * stored.num_rows, pa.uint64())
        )
        client.insert_arrow(
            name,
            stored,
            settings={
                **self._insert_settings,
                "insert_deduplication_token": f"{self._session}:{insert:x}:{part}",
            },
        )

    def _clean(self, client: Client) -> None:
        """Remove the rows of inserts that failed (before their batch is written again)."""
        while self._dirty:
            insert = self._dirty[0]
            self._delete_inserts(client, insert, insert + 1)
            self._dirty.pop(0)

    def _write_error(self, error: Exception) -> Exception:
        if isinstance(error, PermanentError | Unavailable):
            return error
        if refuses_content(error):
            return InvalidRequest(f"storage: {self._where} refused the data: {message(error)}")
        return Unavailable(f"storage: write to {self._where} failed: {message(error)}")

    def data_version(self) -> None:
        """None: other otelite instances (or a Collector) may write to the same tables."""
        return None

    def wal_position(self) -> int:
        """The highest WAL position this writer has stored (0 when none)."""
        return self._wal_position

    def ingest_state(self) -> str:
        """The ingest pipeline's state stored last by this writer (``""`` when none)."""
        return self._ingest_state

    def delete_before(self, cutoff: UnixNano) -> int:
        """Nothing to do: ClickHouse drops expired parts itself (the tables' TTL)."""
        return 0

    # Reading -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("storage: closed")

    def _client(self) -> Client:
        """This thread's client, opened on first use."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
        return client

    def _new_client(self) -> Client:
        with self._lock:
            self._check_open()
        client = self._connect(self._database)
        # Set once per client: chDB applies a per-call setting with three more statements
        # (read, set, restore), which would triple the cost of a small query.
        for key, value in _QUERY_SETTINGS.items():
            client.set_client_setting(key, value)
        with self._lock:
            self._clients.append(client)
        return client

    def _read(self, run: Callable[[Client], T]) -> T:
        self._check_open()
        try:
            return run(self._client())
        except (InvalidRequest, Unavailable):
            raise
        except Exception as error:
            if refuses_statement(error):
                raise InvalidRequest(f"query: {message(error)}") from error
            raise Unavailable(
                f"storage: read from {self._where} failed: {message(error)}"
            ) from error

    def _settings(self) -> dict[str, object]:
        # Searches narrow one step by the trace ids of the last (``TraceId IN (SELECT
        # ...)``). Checking tens of thousands of ids against the skip index on TraceId
        # costs more than reading the rows: at 10M spans, 26k ids took 0.5 s of index
        # analysis against 0.1 s of scan. Small sets (a page of traces) still use it.
        settings: dict[str, object] = {"use_index_for_in_with_subqueries_max_values": 1000}
        if self._read_only:
            settings["readonly"] = 2
        return settings

    def get_trace(self, trace_id: TraceId) -> ExportTraceServiceRequest | None:
        """Every stored span of one trace (re-sent copies once); None when there is none."""
        hex_id = trace_id.hex()

        def run(client: Client) -> pa.Table:
            # The trace's time range from the exporter's lookup table (filled by its
            # materialised view) bounds the span scan to the parts of those days, in the
            # same statement (as Grafana's ClickHouse data source asks). Without a lookup
            # row (a table filled before its view existed) the scan is by id alone.
            lookup = f"`{table_name(TRACE_ID_TS)}` WHERE TraceId = {{t:String}}"
            table: pa.Table = client.query_arrow(
                f"WITH (SELECT min(Start) FROM {lookup}) AS trace_start,"
                f" (SELECT max(End) FROM {lookup}) AS trace_end"
                f" SELECT {select_list(_TRACES)} FROM `{_TRACES}` WHERE TraceId = {{t:String}}"
                # Whole seconds, as the view computes them (and as the key holds them).
                " AND (trace_end < toDateTime(1) OR toDateTime(Timestamp)"
                " BETWEEN trace_start AND trace_end)",
                parameters={"t": hex_id},
            )
            return table

        table = conform(self._read(run), _types(_TRACES))
        if table.num_rows == 0:
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
        """Stored data of one signal with time in ``[start, end)``, oldest first, streamed."""
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
        column = f"`{source.time_column}`"
        where: list[str] = []
        parameters: dict[str, int] = {}
        if start is not None:
            where.append(f"{column} >= fromUnixTimestamp64Nano({{start:Int64}})")
            parameters["start"] = min(start, _INT64_MAX)
        if end is not None:
            where.append(f"{column} < fromUnixTimestamp64Nano({{end:Int64}})")
            parameters["end"] = min(end, _INT64_MAX)
        sql = f"SELECT {select_list(name)} FROM `{name}`"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {column}"
        types = _types(name)
        # A client of its own: a chDB client streaming a result answers nothing else.
        self._check_open()
        client = self._new_client()
        try:
            try:
                stream = client.query_arrow_stream(
                    sql,
                    parameters=parameters,
                    settings={"max_block_size": min(max_items, _READ_BATCH_ROWS)},
                )
            except Exception as error:
                raise Unavailable(f"storage: export failed: {message(error)}") from error
            keep = SpanDeduplicator() if source.dedupe else None
            with stream:
                batches = (
                    batch
                    for part in stream
                    for batch in conform(_as_table(part), types).to_batches()
                )
                try:
                    yield from chunked(batches, max_items, source.rebuild, keep)
                except (InvalidRequest, Unavailable):
                    raise
                except Exception as error:
                    raise Unavailable(f"storage: export failed: {message(error)}") from error
        finally:
            self._forget(client)

    def _forget(self, client: Client) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        client.close()

    def query(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        types: Mapping[str, pa.DataType] | None = None,
    ) -> pa.Table:
        """Run one read-only statement (a ``SELECT``) and return its rows.

        Columns named in ``types`` come back with those Arrow types (ids, stored as hex,
        are unhexed by the statement and come back as strings from the driver).
        """
        if not _SELECT.match(sql) or ";" in sql.rstrip().rstrip(";"):
            raise InvalidRequest("query: only a single read-only SELECT statement may run")
        parameters = {f"p{index}": value for index, value in enumerate(params, start=1)}

        def run(client: Client) -> pa.Table:
            table: pa.Table = client.query_arrow(
                sql, parameters=parameters, settings=self._settings()
            )
            return table

        return conform(self._read(run), types or {})

    def close(self) -> None:
        """Close every client. Idempotent."""
        with self._write_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            clients, self._clients = self._clients, []
        for client in clients:
            try:
                client.close()
            except Exception:  # closing a broken client must not stop the rest
                log.debug("closing a ClickHouse client failed", exc_info=True)


def _types(name: str) -> dict[str, pa.DataType]:
    return {field.name: field.type for field in logical_schema(name)}


def _as_table(part: pa.RecordBatch | pa.Table) -> pa.Table:
    return part if isinstance(part, pa.Table) else pa.Table.from_batches([part])


def _writer_tag(directory: Path | None) -> int:
    """This writer's 31-bit tag, kept in ``directory`` so a restart continues its inserts."""
    if directory is None:
        return secrets.randbits(31)
    path = directory / WRITER_FILE
    try:
        return int(path.read_text().strip(), 16)
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    tag = secrets.randbits(31)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{tag:08x}\n")
    temporary.replace(path)
    return tag
