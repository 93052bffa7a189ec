"""What only the ClickHouse store does: the exporter's tables, exactly-once without
transactions, a ClickHouse server over HTTP (with faults), and rows a Collector wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from otelite.config import StorageLocation, parse_storage
from otelite.errors import Unavailable
from otelite.storage import Storage, WriteBatch, open_storage
from otelite.storage._schema import SCHEMA_VERSION
from otelite.storage.clickhouse import ClickHouseStorage
from otelite.storage.clickhouse._ddl import create_statements
from otelite.storage.clickhouse._tables import DATA_TABLES
from otelite.types import Signal
from tests.api.samples import metrics
from tests.backends import chdb_location, chdb_path, drop
from tests.clickhouse_http import ClickHouseHTTP
from tests.roundtrip import assert_same_telemetry, canonical_records
from tests.storage.samples import TRACE_A, logs_request, trace_request

# The exporter's columns of otel_traces and their types (its traces table template).
EXPORTER_TRACES = {
    "Timestamp": "DateTime64(9)",
    "TraceId": "String",
    "SpanId": "String",
    "ParentSpanId": "String",
    "TraceState": "String",
    "SpanName": "LowCardinality(String)",
    "SpanKind": "LowCardinality(String)",
    "ServiceName": "LowCardinality(String)",
    "ResourceAttributes": "Map(LowCardinality(String), String)",
    "ScopeName": "String",
    "ScopeVersion": "String",
    "SpanAttributes": "Map(LowCardinality(String), String)",
    "Duration": "UInt64",
    "StatusCode": "LowCardinality(String)",
    "StatusMessage": "String",
    "Events.Timestamp": "Array(DateTime64(9))",
    "Events.Name": "Array(LowCardinality(String))",
    "Events.Attributes": "Array(Map(LowCardinality(String), String))",
    "Links.TraceId": "Array(String)",
    "Links.SpanId": "Array(String)",
    "Links.TraceState": "Array(String)",
    "Links.Attributes": "Array(Map(LowCardinality(String), String))",
}


def admin() -> Any:
    return clickhouse_connect.get_client(interface="chdb", path=str(chdb_path()))


@pytest.fixture
def location() -> Iterator[StorageLocation]:
    where = chdb_location()
    yield where
    drop(where)


def count(storage: Storage, table: str) -> int:
    return int(storage.query(f"SELECT count() AS n FROM {table}").column("n")[0].as_py())


def test_the_exporters_columns_keys_and_ttl(location: StorageLocation) -> None:
    with open_storage(location, None, retention_seconds=3 * 86400):
        client = admin()
        try:
            columns = dict(
                client.query(
                    "SELECT name, type FROM system.columns WHERE database = {d:String}"
                    " AND table = 'otel_traces'",
                    parameters={"d": location.database},
                ).result_rows
            )
            [(ddl,)] = client.query(
                f"SHOW CREATE TABLE `{location.database}`.otel_traces"
            ).result_rows
            tables = {
                row[0]
                for row in client.query(
                    "SELECT name FROM system.tables WHERE database = {d:String}",
                    parameters={"d": location.database},
                ).result_rows
            }
        finally:
            client.close()
    assert {name: columns[name] for name in EXPORTER_TRACES} == EXPORTER_TRACES
    assert "ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)" in ddl
    assert "TTL toDateTime(Timestamp) + toIntervalSecond(259200)" in ddl
    assert "ttl_only_drop_parts = 1" in ddl
    assert {
        "otel_traces",
        "otel_traces_trace_id_ts",
        "otel_traces_trace_id_ts_mv",
        "otel_logs",
        "otel_metrics_gauge",
        "otel_metrics_sum",
        "otel_metrics_histogram",
        "otel_metrics_exponential_histogram",
        "otel_metrics_summary",
    } <= tables


def test_values_are_encoded_as_the_exporter_encodes_them(location: StorageLocation) -> None:
    with open_storage(location, None) as store:
        store.write(WriteBatch(traces=[trace_request()]))
        client = admin()
        try:
            rows = client.query(
                f"SELECT TraceId, SpanKind, StatusCode, SpanAttributes FROM"
                f" `{location.database}`.otel_traces ORDER BY Timestamp LIMIT 1"
            ).result_rows
        finally:
            client.close()
    [(trace_id, kind, status, attributes)] = rows
    assert trace_id == TRACE_A.hex()  # lowercase hex, as the exporter writes ids
    assert kind == "Server"
    assert status == "Error"
    assert attributes["int"] == "42"  # attribute values stringified


class _FailingClient:
    """A client whose next ``insert`` (the write's last step, its record) fails."""

    def __init__(self, client: Any, failures: list[int]) -> None:
        self._client = client
        self._failures = failures

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        if self._failures:
            self._failures.pop()
            raise ConnectionError("injected: connection lost before the insert was recorded")
        return self._client.insert(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _failing_store(location: StorageLocation, writer_dir: Path, failures: list[int]) -> Storage:
    def connect(database: str | None) -> Any:
        client = clickhouse_connect.get_client(
            interface="chdb", path=str(location.path), database=database or ""
        )
        return _FailingClient(client, failures)

    return ClickHouseStorage(
        connect, database=location.database, where="chdb", writer_dir=writer_dir
    )


def test_a_crash_between_tables_and_record_stores_nothing_twice(
    location: StorageLocation, tmp_path: Path
) -> None:
    batch = WriteBatch(traces=[trace_request()], logs=[logs_request()], wal_position=7)
    crashed = _failing_store(location, tmp_path, failures=[1])
    with pytest.raises(Unavailable, match="injected"):
        crashed.write(batch)
    assert count(crashed, "otel_traces") == 4  # the tables were written, the record was not
    crashed.close()  # as if the process died here

    restarted = open_storage(location, tmp_path)
    try:
        assert restarted.wal_position() == 0  # so the write-ahead log replays the batch
        assert count(restarted, "otel_traces") == 0
        assert count(restarted, "otel_logs") == 0
        restarted.write(batch)
        assert restarted.wal_position() == 7
        assert count(restarted, "otel_traces") == 4
        assert_same_telemetry([trace_request()], list(restarted.export(Signal.TRACES)))
    finally:
        restarted.close()


def test_a_failed_write_is_removed_before_it_is_retried(
    location: StorageLocation, tmp_path: Path
) -> None:
    store = _failing_store(location, tmp_path, failures=[1])
    try:
        batch = WriteBatch(logs=[logs_request()], wal_position=3)
        with pytest.raises(Unavailable):
            store.write(batch)
        store.write(batch)  # the writer's retry
        assert count(store, "otel_logs") == len(
            list(logs_request().resource_logs[0].scope_logs[0].log_records)
        )
        assert store.wal_position() == 3
    finally:
        store.close()


# --- a ClickHouse server over HTTP ---------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[ClickHouseHTTP]:
    with ClickHouseHTTP(chdb_path(), user="otel", password="s3cret") as running:
        yield running


@pytest.fixture
def http_location(server: ClickHouseHTTP, location: StorageLocation) -> StorageLocation:
    return parse_storage(server.url(location.database))


def test_round_trip_over_http(http_location: StorageLocation) -> None:
    with open_storage(http_location, None) as store:
        store.write(
            WriteBatch(traces=[trace_request()], logs=[logs_request()], metrics=[metrics()])
        )
        assert_same_telemetry([trace_request()], list(store.export(Signal.TRACES)))
        assert_same_telemetry([logs_request()], list(store.export(Signal.LOGS)))
        assert_same_telemetry([metrics()], list(store.export(Signal.METRICS)))
        found = store.get_trace(TRACE_A)
        assert found is not None


def test_refused_credentials_name_the_url_without_the_password(
    server: ClickHouseHTTP, location: StorageLocation
) -> None:
    wrong = parse_storage(server.url(location.database).replace("s3cret", "wrong"))
    with pytest.raises(Unavailable, match=r"cannot open clickhouse://otel:\*\*\*@") as error:
        open_storage(wrong, None)
    assert "wrong" not in str(error.value)


def test_an_error_answer_is_unavailable_and_the_retry_stores_once(
    server: ClickHouseHTTP, http_location: StorageLocation
) -> None:
    with open_storage(http_location, None) as store:
        server.fail_next(1, code=242, message="table is in readonly mode")
        batch = WriteBatch(traces=[trace_request()], wal_position=1)
        with pytest.raises(Unavailable, match="readonly"):
            store.write(batch)
        store.write(batch)
        assert count(store, "otel_traces") == 4


def test_a_connection_dropped_mid_insert_stores_once(
    server: ClickHouseHTTP, http_location: StorageLocation
) -> None:
    with open_storage(http_location, None) as store:
        server.drop_next_insert()  # the insert is stored, its answer never arrives
        batch = WriteBatch(traces=[trace_request()], wal_position=1)
        with pytest.raises(Unavailable):
            store.write(batch)
        store.write(batch)
        assert count(store, "otel_traces") == 4
        assert_same_telemetry([trace_request()], list(store.export(Signal.TRACES)))


def test_two_writers_share_one_database(tmp_path: Path, http_location: StorageLocation) -> None:
    first = open_storage(http_location, tmp_path / "one")
    second = open_storage(http_location, tmp_path / "two")
    try:
        first.write(WriteBatch(traces=[trace_request()], wal_position=5))
        second.write(WriteBatch(logs=[logs_request()], wal_position=9))
        for store in (first, second):  # either one answers for both
            assert_same_telemetry([trace_request()], list(store.export(Signal.TRACES)))
            assert_same_telemetry([logs_request()], list(store.export(Signal.LOGS)))
        # Each keeps its own write-ahead-log position.
        assert (first.wal_position(), second.wal_position()) == (5, 9)
    finally:
        first.close()
        second.close()
    reopened = open_storage(http_location, tmp_path / "two")
    try:
        assert reopened.wal_position() == 9
    finally:
        reopened.close()


# --- rows the Collector's exporter wrote -------------------------------------------------

COLLECTOR_SPAN = """
INSERT INTO `{db}`.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName,
  SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration,
  StatusCode, StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`,
  `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
VALUES ('2026-12-01 10:00:00.000000001', '5b8efff798038103d269b633813fc60c', '051581bf3cb55c13',
  '', '', 'GET /cart', 'Server', 'cart', {{'service.name': 'cart'}}, 'io.otel.http', '1.2',
  {{'http.response.status_code': '500', 'retry': 'true'}}, 2500000, 'Error', 'boom',
  ['2026-12-01 10:00:00.001'], ['exception'], [{{'exception.type': 'IOError'}}],
  ['0af7651916cd43dd8448eb211c80319c'], ['b7ad6b7169203331'], [''], [{{}}])
"""
COLLECTOR_LOG = """
INSERT INTO `{db}`.otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText,
  SeverityNumber, ServiceName, Body, ResourceAttributes, LogAttributes)
VALUES ('2026-12-01 10:00:00.5', '5b8efff798038103d269b633813fc60c', '051581bf3cb55c13', 1,
  'ERROR', 17, 'cart', 'payment failed', {{'service.name': 'cart'}}, {{'order': '42'}})
"""


def test_rows_a_collector_wrote_are_served(location: StorageLocation) -> None:
    with open_storage(location, None) as store:
        client = admin()
        try:
            client.command(COLLECTOR_SPAN.format(db=location.database))
            client.command(COLLECTOR_LOG.format(db=location.database))
        finally:
            client.close()
        trace = store.get_trace(bytes.fromhex("5b8efff798038103d269b633813fc60c"))
        assert trace is not None
        [resource_spans] = trace.resource_spans
        [scope_spans] = resource_spans.scope_spans
        [span] = scope_spans.spans
        assert scope_spans.scope.name == "io.otel.http"
        assert span.span_id == bytes.fromhex("051581bf3cb55c13")
        assert span.parent_span_id == b""
        assert span.kind == span.SPAN_KIND_SERVER
        assert span.status.code == span.status.STATUS_CODE_ERROR
        assert span.end_time_unix_nano - span.start_time_unix_nano == 2_500_000
        # The exporter kept only strings, so strings come back.
        attributes = {a.key: a.value.WhichOneof("value") for a in span.attributes}
        assert attributes == {"http.response.status_code": "string_value", "retry": "string_value"}
        assert [e.name for e in span.events] == ["exception"]
        assert span.events[0].attributes[0].value.string_value == "IOError"
        assert span.links[0].trace_id == bytes.fromhex("0af7651916cd43dd8448eb211c80319c")

        [logs] = list(store.export(Signal.LOGS))
        record = logs.resource_logs[0].scope_logs[0].log_records[0]  # type: ignore[union-attr]
        assert record.body.string_value == "payment failed"
        assert record.severity_number == 17
        assert record.flags == 1
        assert record.trace_id == bytes.fromhex("5b8efff798038103d269b633813fc60c")
        assert record.observed_time_unix_nano == record.time_unix_nano


# --- retention and the cluster's DDL --------------------------------------------------------


def _engines(location: StorageLocation) -> dict[str, str]:
    client = admin()
    try:
        return dict(
            client.query(
                "SELECT name, engine_full FROM system.tables WHERE database = {d:String}",
                parameters={"d": location.database},
            ).result_rows
        )
    finally:
        client.close()


def test_retention_is_the_tables_ttl_and_follows_the_option(location: StorageLocation) -> None:
    open_storage(location, None, retention_seconds=3 * 86400).close()
    assert "toIntervalSecond(259200)" in _engines(location)["otel_logs"]
    open_storage(location, None, retention_seconds=86400).close()
    engines = _engines(location)
    assert "toIntervalSecond(86400)" in engines["otel_logs"]
    assert "toIntervalSecond(86400)" in engines["otel_traces_trace_id_ts"]
    open_storage(location, None, retention_seconds=None).close()
    assert " TTL " not in _engines(location)["otel_metrics_sum"]
    with open_storage(location, None) as store:  # and deleting is left to ClickHouse
        assert store.delete_before(2**62) == 0


def test_the_cluster_ddl_parses_and_shards_traces_by_trace_id() -> None:
    statements = create_statements("otel", ttl_seconds=86400, text_indexes=True, cluster="two")
    client = admin()
    try:
        for statement in statements:  # ClickHouse's own parser; running needs a cluster
            formatted = client.command(
                "SELECT formatQuery({q:String})", parameters={"q": statement}
            )
            assert "ON CLUSTER two" in str(formatted)
    finally:
        client.close()
    text = "\n".join(statements)
    assert (
        "CREATE TABLE IF NOT EXISTS `otel`.`otel_traces` ON CLUSTER `two` AS"
        " `otel`.`otel_traces_local` ENGINE = Distributed(`two`, `otel`, `otel_traces_local`,"
        " cityHash64(TraceId))" in text
    )
    assert "ENGINE = ReplicatedMergeTree()" in text
    assert "ENGINE = ReplicatedAggregatingMergeTree()" in text
    # The view runs on each shard, over that shard's spans, into that shard's lookup rows.
    assert (
        "TO `otel`.`otel_traces_trace_id_ts_local` AS SELECT TraceId" in text
        and "FROM `otel`.`otel_traces_local` WHERE" in text
    )


def test_logs_have_the_exporters_key_and_materialised_resource_columns(
    location: StorageLocation,
) -> None:
    with open_storage(location, None):
        client = admin()
        try:
            [(ddl,)] = client.query(
                f"SHOW CREATE TABLE `{location.database}`.otel_logs"
            ).result_rows
        finally:
            client.close()
    assert "ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)" in ddl
    assert (
        "`__otel_materialized_k8s.pod.name` LowCardinality(String)"
        " MATERIALIZED ResourceAttributes['k8s.pod.name']" in ddl
    )
    assert "INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8" in ddl


# --- tables the Collector created ------------------------------------------------------------


def _create_exporters_tables(client: Any, database: str) -> None:
    """The database as the exporter makes it: otelite's DDL without the columns it adds."""
    client.command(f"CREATE DATABASE `{database}`")
    for table in DATA_TABLES:
        columns = ",\n  ".join(c.ddl() for c in table.columns if not c.extra)
        client.command(
            f"CREATE TABLE `{database}`.`{table.name}` (\n  {columns}\n) ENGINE = MergeTree()\n"
            + table.engine_tail.format(ttl="")
        )


def test_tables_a_collector_created_get_otelites_columns_and_keep_working(
    location: StorageLocation,
) -> None:
    with admin() as client:
        _create_exporters_tables(client, location.database)
        client.command(COLLECTOR_SPAN.format(db=location.database))
        with open_storage(location, None) as store:
            # The Collector's row is served, and otelite's own round trip is lossless.
            assert store.get_trace(bytes.fromhex("5b8efff798038103d269b633813fc60c"))
            store.write(WriteBatch(traces=[trace_request()]))
            stored = set(canonical_records(list(store.export(Signal.TRACES))))
            assert set(canonical_records([trace_request()])) <= stored
        # And the Collector goes on writing with its own column list.
        client.command(COLLECTOR_SPAN.format(db=location.database))
        assert client.command(f"SELECT count() FROM `{location.database}`.otel_traces") == 6


def test_without_create_schema_missing_columns_are_named_with_the_fix(
    location: StorageLocation,
) -> None:
    with admin() as client:
        _create_exporters_tables(client, location.database)
    with pytest.raises(Unavailable, match="has no table otelite_state"):
        open_storage(location, None, create_schema=False)
    open_storage(location, None).close()  # creates what is missing
    with open_storage(location, None, create_schema=False) as store:
        assert store.wal_position() == 0
    with admin() as client:
        client.command(f"ALTER TABLE `{location.database}`.otel_logs DROP COLUMN BodyType")
    with pytest.raises(
        Unavailable, match=r"(?s)otel_logs\.BodyType\).*ADD COLUMN IF NOT EXISTS `BodyType`"
    ):
        open_storage(location, None, create_schema=False)


def test_a_severity_number_outside_the_exporters_column_is_kept(location: StorageLocation) -> None:
    sent = logs_request()
    record = sent.resource_logs[0].scope_logs[0].log_records[0]
    record.severity_number = 300  # OTLP's enum is open; the exporter's column is a UInt8
    with open_storage(location, None) as store:
        store.write(WriteBatch(logs=[sent]))
        assert_same_telemetry([sent], list(store.export(Signal.LOGS)))
        severity = store.dialect.placeholder(1, 300)
        rows = store.query(
            f"SELECT count() AS n FROM otel_logs WHERE {store.dialect.read('SeverityNumber')}"
            f" = {severity}",
            [300],
        )
        assert rows.column("n")[0].as_py() == 1


# --- schema versions ---------------------------------------------------------------------------


def test_tables_a_newer_otelite_wrote_into_are_refused(location: StorageLocation) -> None:
    with open_storage(location, None) as store:
        store.write(WriteBatch(traces=[trace_request()], wal_position=1))
    state = f"`{location.database}`.otelite_state"
    with admin() as client:
        assert client.command(f"SELECT max(SchemaVersion) FROM {state}") == SCHEMA_VERSION
        client.command(
            f"INSERT INTO {state} (Writer, Insert, WalPosition, IngestState, SchemaVersion)"
            f" VALUES ('newer', 1, 5, '', {SCHEMA_VERSION + 1})"
        )
    message = (
        rf"written by a newer otelite \(storage schema {SCHEMA_VERSION + 1}; this otelite "
        rf"knows up to {SCHEMA_VERSION}\): upgrade otelite"
    )
    with pytest.raises(Unavailable, match=message):
        open_storage(location, None)
    with pytest.raises(Unavailable, match=message):
        open_storage(location, None, create_schema=False)


def test_a_state_table_from_before_versions_gets_the_version(location: StorageLocation) -> None:
    with admin() as client:
        client.command(f"CREATE DATABASE `{location.database}`")
        client.command(
            f"CREATE TABLE `{location.database}`.otelite_state (Writer String, Insert UInt64,"
            " WalPosition Int64, IngestState String)"
            " ENGINE = ReplacingMergeTree(Insert) ORDER BY Writer"
        )
        client.command(
            f"INSERT INTO `{location.database}`.otelite_state VALUES ('older', 1, 7, '')"
        )
    with open_storage(location, None) as store:
        store.write(WriteBatch(logs=[logs_request()], wal_position=1))
    with admin() as client:
        versions = client.query(
            f"SELECT Writer, argMax(SchemaVersion, Insert) FROM `{location.database}`"
            ".otelite_state GROUP BY Writer ORDER BY Writer = 'older'"
        ).result_rows
    # The older writer's rows read as version 0; this one records the current version.
    assert [version for _, version in versions] == [SCHEMA_VERSION, 0]
