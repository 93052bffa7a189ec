"""The storage contract, on every backend: lossless round trips, reopening, trace lookup, export,
SQL; and what only DuckDB does (retention by deletes, its settings)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from otelite.errors import InvalidRequest, Unavailable
from otelite.query import Column, Output, Select, Table, compile_plan
from otelite.query.dialects import DuckDBDialect
from otelite.storage import Storage, WriteBatch, flatten
from otelite.storage.duckdb import DATABASE_FILE, DuckDBStorage
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)
from tests.backends import BACKENDS, chdb_location, drop, open_backend
from tests.roundtrip import assert_same_telemetry, canonical_records
from tests.storage.samples import (
    T0,
    TRACE_A,
    TRACE_B,
    kv,
    logs_request,
    metrics_request,
    span,
    trace_request,
    traces,
)
from tests.strategies import logs_requests, metrics_requests, trace_requests


def exported(store: Storage, signal: Signal, **options: int) -> list[ExportRequest]:
    return list(store.export(signal, **options))


def span_count(requests: list[ExportRequest]) -> int:
    return len(canonical_records(requests))


def test_is_a_storage_with_the_duckdb_dialect(storage: DuckDBStorage) -> None:
    store: Storage = storage
    assert isinstance(store.dialect, DuckDBDialect)
    assert store.wal_position() == 0


def test_every_signal_round_trips(any_storage: Storage) -> None:
    sent_traces, sent_logs, sent_metrics = trace_request(), logs_request(), metrics_request()
    any_storage.write(
        WriteBatch(traces=[sent_traces], logs=[sent_logs], metrics=[sent_metrics], wal_position=5)
    )
    assert any_storage.wal_position() == 5
    assert_same_telemetry([sent_traces], exported(any_storage, Signal.TRACES))
    assert_same_telemetry([sent_logs], exported(any_storage, Signal.LOGS))
    assert_same_telemetry([sent_metrics], exported(any_storage, Signal.METRICS))


@pytest.mark.parametrize("kind", BACKENDS)
def test_reopening_keeps_data_and_wal_position(tmp_path: Path, kind: str) -> None:
    location = chdb_location() if kind == "chdb" else None
    store = open_backend(kind, tmp_path / "data", location=location)
    store.write(WriteBatch(traces=[trace_request()], logs=[logs_request()], wal_position=41))
    store.write(WriteBatch(metrics=[metrics_request()], wal_position=42))
    store.write(WriteBatch(wal_position=40))  # positions only ever grow
    store.close()
    store.close()  # idempotent
    if kind == "duckdb":
        assert (tmp_path / "data" / DATABASE_FILE).is_file()

    reopened = open_backend(kind, tmp_path / "data", location=location)
    try:
        assert reopened.wal_position() == 42
        assert_same_telemetry([trace_request()], exported(reopened, Signal.TRACES))
        assert_same_telemetry([logs_request()], exported(reopened, Signal.LOGS))
        assert_same_telemetry([metrics_request()], exported(reopened, Signal.METRICS))
    finally:
        reopened.close()
        if location is not None:
            drop(location)


def test_get_trace_finds_spans_written_in_different_batches(any_storage: Storage) -> None:
    any_storage.write(WriteBatch(traces=[traces(span(TRACE_A, 1, T0), span(TRACE_B, 2, T0 + 5))]))
    # Other traces in between, and a late span of A ending before it starts.
    any_storage.write(
        WriteBatch(traces=[traces(*(span(bytes(16 * [i]), i, T0) for i in range(1, 9)))])
    )
    late = span(TRACE_A, 3, T0 + 10**12, T0 + 1)
    any_storage.write(WriteBatch(traces=[traces(late)]))

    found = any_storage.get_trace(TRACE_A)
    assert found is not None
    assert_same_telemetry([traces(span(TRACE_A, 1, T0), late)], [found])
    assert any_storage.get_trace(b"\x09" * 16) is None


def test_get_trace_orders_spans_by_start(any_storage: Storage) -> None:
    any_storage.write(
        WriteBatch(traces=[traces(*(span(TRACE_A, i, T0 + 100 - i) for i in range(1, 6)))])
    )
    found = any_storage.get_trace(TRACE_A)
    assert found is not None
    starts = [s.start_time_unix_nano for s in found.resource_spans[0].scope_spans[0].spans]
    assert starts == sorted(starts)


def test_resent_spans_come_back_once(any_storage: Storage) -> None:
    request = trace_request()
    any_storage.write(WriteBatch(traces=[request], wal_position=1))
    any_storage.write(WriteBatch(traces=[request, request], wal_position=2))  # client retries
    assert_same_telemetry([request], exported(any_storage, Signal.TRACES, max_items=2))
    found = any_storage.get_trace(TRACE_A)
    assert found is not None
    assert span_count([found]) == 3


def test_same_ids_with_other_content_are_both_kept(any_storage: Storage) -> None:
    first = traces(span(TRACE_A, 1, T0, name="first"))
    second = traces(span(TRACE_A, 1, T0, name="second"))
    any_storage.write(WriteBatch(traces=[first, second]))
    assert_same_telemetry([first, second], exported(any_storage, Signal.TRACES))


def test_export_streams_in_time_order_and_chunks(any_storage: Storage) -> None:
    spans = [span(TRACE_A, i, T0 + (i * 7919) % 25) for i in range(1, 26)]
    any_storage.write(WriteBatch(traces=[traces(*spans[:12])]))
    any_storage.write(WriteBatch(traces=[traces(*spans[12:])]))
    chunks = exported(any_storage, Signal.TRACES, max_items=10)
    assert [span_count([c]) for c in chunks] == [10, 10, 5]
    starts = [
        s.start_time_unix_nano
        for c in chunks
        for rs in c.resource_spans  # type: ignore[union-attr]
        for ss in rs.scope_spans
        for s in ss.spans
    ]
    assert starts == sorted(starts)
    assert_same_telemetry([traces(*spans)], chunks)


def test_export_filters_by_time(any_storage: Storage) -> None:
    spans = [span(TRACE_A, i, T0 + i) for i in range(10)]
    any_storage.write(WriteBatch(traces=[traces(*spans)], logs=[logs_request()]))
    window = exported(any_storage, Signal.TRACES, start=T0 + 3, end=T0 + 7)
    assert_same_telemetry([traces(*spans[3:7])], window)
    assert exported(any_storage, Signal.TRACES, start=T0 + 100) == []
    assert span_count(exported(any_storage, Signal.LOGS, end=T0 + 100)) == 1
    assert span_count(exported(any_storage, Signal.METRICS)) == 0


def test_export_rejects_a_zero_chunk(any_storage: Storage) -> None:
    with pytest.raises(ValueError, match="max_items"):
        exported(any_storage, Signal.TRACES, max_items=0)


def test_retention_deletes_old_rows_of_every_table(storage: DuckDBStorage) -> None:
    storage.write(
        WriteBatch(
            traces=[traces(span(TRACE_A, 1, T0, T0 + 2), span(TRACE_B, 2, T0 + 1000))],
            logs=[logs_request()],
            metrics=[metrics_request()],
        )
    )
    # Before T0 + 3: the span at T0 and the gauge points at T0+1 and T0+2 (logs are later).
    deleted = storage.delete_before(T0 + 3)
    assert deleted == 1 + 2
    assert storage.get_trace(TRACE_A) is None
    assert storage.get_trace(TRACE_B) is not None
    assert storage.query("SELECT count(*) AS n FROM otel_traces_trace_id_ts").to_pylist() == [
        {"n": 1}
    ]
    assert span_count(exported(storage, Signal.METRICS)) == 2
    logs = span_count(exported(storage, Signal.LOGS))
    assert storage.delete_before(T0 + 10**9) == 1 + logs + 2
    assert storage.query("SELECT count(*) AS n FROM otel_logs").to_pylist() == [{"n": 0}]


def test_query_runs_selects_with_parameters(any_storage: Storage) -> None:
    any_storage.write(WriteBatch(traces=[trace_request()]))
    service = any_storage.dialect.placeholder(1, "checkout")
    table = any_storage.query(
        f'SELECT "SpanName" FROM otel_traces WHERE "ServiceName" = {service} ORDER BY "Timestamp"',
        ["checkout"],
    )
    assert table.column("SpanName").to_pylist() == ["GET /checkout", "span 2", "clock skew"]


def test_a_plan_reads_exemplars_as_otelites_schema_has_them(any_storage: Storage) -> None:
    request = metrics_request()
    point = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    point.exemplars.add(
        time_unix_nano=T0,
        as_int=2**62 + 1,
        trace_id=TRACE_A,
        span_id=b"\x01" * 8,
        filtered_attributes=[kv("user", string_value="ann")],
    )
    point.exemplars.add(time_unix_nano=T0, as_double=0.5)
    point.exemplars.add(time_unix_nano=T0)  # no value at all
    any_storage.write(WriteBatch(metrics=[request]))
    plan = Select(Table.GAUGE, (Output("Exemplars", Column("Exemplars")),))
    statement = compile_plan(plan, any_storage.dialect)
    rows = any_storage.query(statement.sql, statement.params, types=statement.types)
    found = [e for row in rows.column("Exemplars").to_pylist() for e in row or ()]
    assert [(e["TraceId"], e["SpanId"], e["Value"], e["ValueInt"]) for e in found] == [
        (TRACE_A, b"\x01" * 8, float(2**62 + 1), 2**62 + 1),
        (b"", b"", 0.5, None),
        (b"", b"", None, None),
    ]
    assert found[0]["FilteredAttributes"] == [("user", "ann")]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM otel_traces",
        "DROP TABLE otel_logs",
        "SELECT 1; DELETE FROM otel_traces",
        "COPY otel_traces TO 'out.csv'",
        "ATTACH 'other.duckdb'",
    ],
)
def test_query_refuses_anything_but_one_select(any_storage: Storage, sql: str) -> None:
    any_storage.write(WriteBatch(traces=[trace_request()]))
    with pytest.raises(InvalidRequest, match="SELECT"):
        any_storage.query(sql)
    assert any_storage.query("SELECT count(*) AS n FROM otel_traces").to_pylist() == [{"n": 4}]


def test_query_cannot_read_files(storage: DuckDBStorage, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(InvalidRequest):
        storage.query(f"SELECT * FROM read_csv('{secret}')")


def test_bad_sql_is_an_invalid_request(any_storage: Storage) -> None:
    with pytest.raises(InvalidRequest):
        any_storage.query("SELECT nope FROM otel_traces")


def test_closed_storage_is_unavailable(any_storage: Storage) -> None:
    any_storage.close()
    with pytest.raises(Unavailable):
        any_storage.write(WriteBatch(traces=[trace_request()]))
    with pytest.raises(Unavailable):
        any_storage.get_trace(TRACE_A)


def _unique_records(requests: list[ExportRequest]) -> list[str]:
    return sorted(set(canonical_records(requests)))


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(first=trace_requests(), second=trace_requests())
def test_generated_traces_round_trip(
    first: ExportTraceServiceRequest, second: ExportTraceServiceRequest
) -> None:
    with DuckDBStorage(None) as store:
        store.write(WriteBatch(traces=[first]))
        store.write(WriteBatch(traces=[second]))
        got = exported(store, Signal.TRACES, max_items=3)
    # Identical spans under identical envelopes are one span sent twice.
    assert canonical_records(got) == _unique_records([first, second])


@PROPERTY
@given(first=logs_requests(), second=metrics_requests())
def test_generated_logs_and_metrics_round_trip(
    first: ExportLogsServiceRequest, second: ExportMetricsServiceRequest
) -> None:
    with DuckDBStorage(None) as store:
        store.write(WriteBatch(logs=[first], metrics=[second]))
        assert_same_telemetry([first], exported(store, Signal.LOGS, max_items=2))
        assert_same_telemetry([second], exported(store, Signal.METRICS, max_items=2))


def test_a_data_dir_that_cannot_be_made_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(Unavailable, match="cannot open"):
        DuckDBStorage(tmp_path / "file")


def test_a_failed_write_is_unavailable_and_stores_nothing(storage: DuckDBStorage) -> None:
    storage.write(WriteBatch(traces=[trace_request()], wal_position=1))
    # A transaction left open on the writer connection makes the next BEGIN fail in DuckDB.
    storage._writer.begin()
    with pytest.raises(Unavailable, match="write failed"):
        storage.write(WriteBatch(logs=[logs_request()], wal_position=2))
    assert storage.wal_position() == 1
    assert exported(storage, Signal.LOGS) == []
    storage.write(WriteBatch(logs=[logs_request()], wal_position=3))  # and it recovers
    assert storage.wal_position() == 3


def test_data_duckdb_refuses_is_an_invalid_request_and_stores_nothing(
    storage: DuckDBStorage,
) -> None:
    storage.write(WriteBatch(traces=[trace_request()], wal_position=1))
    spans = flatten([trace_request()], [], [])["otel_traces"]
    # A kind DuckDB cannot turn into the column's integer: the data, not the store, is bad.
    index = spans.schema.get_field_index("SpanKind")
    bad = spans.set_column(index, "SpanKind", pa.array(["sideways"] * spans.num_rows))
    with pytest.raises(InvalidRequest, match="DuckDB refused the data: Conversion Error"):
        storage.write(
            WriteBatch(tables={"otel_traces": bad}, logs=[logs_request()], wal_position=2)
        )
    assert storage.wal_position() == 1
    assert exported(storage, Signal.LOGS) == []  # the whole batch rolled back
    storage.write(WriteBatch(logs=[logs_request()], wal_position=3))
    assert storage.wal_position() == 3


def test_memory_and_checkpoint_bounds_are_applied() -> None:
    with DuckDBStorage(None, memory_limit="300MB", checkpoint_threshold="32MB") as store:
        [row] = store.query(
            "SELECT current_setting('memory_limit') AS memory, "
            "current_setting('checkpoint_threshold') AS checkpoint"
        ).to_pylist()
    assert row["memory"].startswith("286.1 MiB")  # 300 MB in DuckDB's binary units
    assert row["checkpoint"].startswith("30.5 MiB")
