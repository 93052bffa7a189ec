"""DuckDB holds attribute maps as two lists: conversion both ways, lookups, older files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from otelite.errors import Unavailable
from otelite.query.dialects import DuckDBDialect
from otelite.storage import WriteBatch, flatten
from otelite.storage._schema import SCHEMA_VERSION, TABLES, TRACES, table_name
from otelite.storage._traces import END_OFFSET
from otelite.storage.duckdb import DATABASE_FILE, DuckDBStorage
from otelite.storage.duckdb._layout import (
    batch_from_stored,
    from_stored,
    migrations,
    stored_schema,
    stored_type,
    to_stored,
)
from otelite.types import ExportTraceServiceRequest, Signal
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import (
    T0,
    TRACE_A,
    decoded,
    logs_request,
    metrics_request,
    span,
    trace_request,
)
from tests.strategies import trace_requests

MAP = pa.map_(pa.string(), pa.string())


def test_stored_type_replaces_maps_everywhere() -> None:
    nested = pa.list_(pa.struct([pa.field("Name", pa.string()), pa.field("Attributes", MAP)]))
    lists = pa.struct(
        [pa.field("keys", pa.list_(pa.string())), pa.field("values", pa.list_(pa.string()))]
    )
    assert stored_type(MAP) == lists
    assert stored_type(nested) == pa.list_(
        pa.struct([pa.field("Name", pa.string()), pa.field("Attributes", lists)])
    )
    assert stored_type(pa.string()) == pa.string()


def test_conversion_round_trips_slices_nulls_and_empty_maps() -> None:
    maps = pa.array(
        [[("a", "1"), ("b", "2")], [], None, [("c", "3")], [("d", "4"), ("e", "")]], MAP
    )
    events = pa.array(
        [[{"Name": "x", "Attributes": [("k", "v")]}], None, [], [{"Name": "y", "Attributes": []}]],
        pa.list_(pa.struct([pa.field("Name", pa.string()), pa.field("Attributes", MAP)])),
    )
    # Slices keep their offsets into the children: the conversion must honour them.
    table = pa.Table.from_arrays([maps.slice(1, 4), events], names=["m", "e"])
    stored = to_stored(table)
    assert stored.schema.field("m").type == stored_type(MAP)
    assert stored.column("m").to_pylist() == [
        {"keys": [], "values": []},
        None,
        {"keys": ["c"], "values": ["3"]},
        {"keys": ["d", "e"], "values": ["4", ""]},
    ]
    back = from_stored(stored)
    assert back.schema == table.schema
    assert back.to_pylist() == table.to_pylist()


def test_a_result_read_from_duckdb_comes_back_as_maps_and_ends() -> None:
    table = flatten([trace_request()], [], [])[table_name(TRACES)]
    connection = duckdb.connect()
    connection.execute(DuckDBDialect().create_table("t", stored_schema(TRACES)))
    stored = to_stored(table)  # noqa: F841 - read by DuckDB's replacement scan
    connection.execute("INSERT INTO t SELECT * FROM stored")
    # A slice past the first row: DuckDB's lists then start at an offset in the children.
    result = connection.sql("SELECT * FROM t ORDER BY rowid OFFSET 1").to_arrow_table()
    batches = connection.sql("SELECT * FROM t ORDER BY rowid OFFSET 1").to_arrow_reader(1)
    expected = decoded(table).slice(1)
    assert from_stored(result).equals(expected)
    streamed = pa.Table.from_batches([batch_from_stored(batch) for batch in batches])
    assert streamed.equals(expected)


@pytest.mark.parametrize(
    ("key", "expected"), [("http.route", "/a"), ("missing", None), ("service.name", None)]
)
def test_map_lookups_read_the_value_at_the_key(key: str, expected: str | None) -> None:
    dialect = DuckDBDialect()
    connection = duckdb.connect()
    connection.execute(dialect.create_table("t", pa.schema([pa.field("m", MAP)])))
    rows = to_stored(pa.table({"m": pa.array([[("http.route", "/a"), ("x", "")]], MAP)}))  # noqa: F841
    connection.execute("INSERT INTO t SELECT * FROM rows")
    get = dialect.call("map_get", '"m"', "$1")
    has = dialect.call("map_contains", '"m"', "$1")
    assert connection.execute(f"SELECT {get}, {has} FROM t", [key]).fetchall() == [
        (expected, expected is not None)
    ]


class _MapEraDialect(DuckDBDialect):
    """DuckDB's dialect as it was when attribute maps were ``MAP`` columns."""

    def map_type(self, key: str, item: str) -> str:
        return f"MAP({key}, {item})"


def _write_map_era_file(data_dir: Path, request: ExportTraceServiceRequest) -> None:
    """A database as otelite wrote it when attribute maps were DuckDB ``MAP`` columns."""
    data_dir.mkdir()
    connection = duckdb.connect(str(data_dir / DATABASE_FILE))
    old = _MapEraDialect()
    for schema in TABLES:
        connection.execute(old.create_table(table_name(schema), schema))
    for name, table in flatten([request], [], [logs_request()]).items():
        connection.register("incoming", table)
        connection.execute(f'INSERT INTO "{name}" SELECT * FROM incoming')
        connection.unregister("incoming")
    connection.close()


def test_a_file_with_map_columns_is_converted_in_place_and_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _write_map_era_file(data_dir, trace_request())
    with DuckDBStorage(data_dir) as store:
        assert_same_telemetry([trace_request()], list(store.export(Signal.TRACES)))
        assert_same_telemetry([logs_request()], list(store.export(Signal.LOGS)))
        found = store.get_trace(TRACE_A)
        assert found is not None and found.resource_spans[0].resource.attributes
        store.write(WriteBatch(traces=[trace_request()]))  # new rows in the new layout
        assert_same_telemetry([trace_request()], list(store.export(Signal.TRACES)))
        types = _column_types(store)
    assert types["SpanAttributes"].startswith("STRUCT")
    assert "MAP(" not in types["Events"]
    # Opening again finds nothing left to convert; the file records the current version.
    with DuckDBStorage(data_dir) as store:
        assert migrations(DuckDBDialect(), "otel_traces", TRACES, _column_types(store)) == []
        version = store.query("SELECT schema_version AS v FROM otelite_state").to_pylist()
    assert version == [{"v": SCHEMA_VERSION}]


def test_a_file_a_newer_otelite_wrote_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with DuckDBStorage(data_dir) as store:
        store.write(WriteBatch(traces=[trace_request()], wal_position=4))
    connection = duckdb.connect(str(data_dir / DATABASE_FILE))
    connection.execute("UPDATE otelite_state SET schema_version = ?", [SCHEMA_VERSION + 1])
    # As a newer otelite might have left it: a column this one does not know.
    connection.execute('ALTER TABLE otel_traces ADD COLUMN "Future" VARCHAR')
    connection.close()
    message = (
        rf"written by a newer otelite \(storage schema {SCHEMA_VERSION + 1}; this otelite "
        rf"knows up to {SCHEMA_VERSION}\): upgrade otelite"
    )
    with pytest.raises(Unavailable, match=message):
        DuckDBStorage(data_dir)
    connection = duckdb.connect(str(data_dir / DATABASE_FILE), read_only=True)
    try:
        assert connection.execute("SELECT schema_version FROM otelite_state").fetchall() == [
            (SCHEMA_VERSION + 1,)
        ]
        assert connection.execute("SELECT count(*) FROM otel_traces").fetchall() == [(4,)]
    finally:
        connection.close()


def test_a_file_with_span_ends_keeps_every_end_exactly(tmp_path: Path) -> None:
    """Ends stored as timestamps become offsets, also those far before or after the start
    (the offset wraps on 64 bits both ways)."""
    request = trace_request()
    extremes = request.resource_spans[1].scope_spans[0].spans
    extremes.append(span(TRACE_A, 5, T0, 2**64 - 1, name="ends at the last nanosecond"))
    extremes.append(span(TRACE_A, 6, 2**63 + 5, 3, name="ends 2^63 before it starts"))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    connection = duckdb.connect(str(data_dir / DATABASE_FILE))
    dialect = DuckDBDialect()
    for schema in TABLES:  # the layout before ends were offsets
        connection.execute(dialect.create_table(table_name(schema), schema))
    traces = flatten([request], [], [])[table_name(TRACES)]
    stored = to_stored(traces)
    index = stored.schema.get_field_index(END_OFFSET)
    old = stored.set_column(index, "EndTimestamp", traces.column("EndTimestamp"))
    connection.register("incoming", old)
    connection.execute(f'INSERT INTO "{table_name(TRACES)}" BY NAME SELECT * FROM incoming')
    connection.close()
    with DuckDBStorage(data_dir) as store:
        types = _column_types(store)
        assert "EndTimestamp" not in types and types[END_OFFSET] == "BIGINT"
        assert_same_telemetry([request], list(store.export(Signal.TRACES)))
        offsets = store.query(f'SELECT "{END_OFFSET}" AS o FROM otel_traces').to_pylist()

    # Only the spans that do not end at start + duration (duration clamped to 0..2^63-1)
    # have an offset: end - start - duration, taken modulo 2^64 as a signed number.
    def offset(start: int, end: int) -> int:
        duration = min(max(0, end - start), 2**63 - 1)
        return (end - start - duration + 2**63) % 2**64 - 2**63

    expected = [offset(T0 + 10_000, T0 + 4_000), offset(T0, 2**64 - 1), offset(2**63 + 5, 3)]
    assert sorted(row["o"] for row in offsets if row["o"]) == sorted(expected)


def _column_types(store: DuckDBStorage) -> dict[str, str]:
    rows = store.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'otel_traces'"
    ).to_pylist()
    return {row["column_name"]: row["data_type"] for row in rows}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=trace_requests())
def test_generated_tables_survive_the_conversion(request: ExportTraceServiceRequest) -> None:
    for table in flatten([request], [], []).values():
        plain = decoded(table)
        assert from_stored(to_stored(plain)).equals(plain)
        # Dictionary-encoded columns are converted in their dictionaries.
        assert decoded(to_stored(table)).equals(to_stored(plain))


def test_a_file_from_before_series_ids_gets_them_and_new_points_join_their_series(
    tmp_path: Path,
) -> None:
    """Metric points written before the store kept each point's series identity get
    it when the file opens; a later point of the same series gets the same one."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    connection = duckdb.connect(str(data_dir / DATABASE_FILE))
    dialect = DuckDBDialect()
    for schema in TABLES:  # the layout before series ids
        connection.execute(dialect.create_table(table_name(schema), stored_schema(schema)))
    for name, table in flatten([], [metrics_request()], []).items():
        connection.register("incoming", to_stored(table))
        connection.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM incoming')
        connection.unregister("incoming")
    connection.close()
    with DuckDBStorage(data_dir) as store:
        store.write(WriteBatch(metrics=[metrics_request()]))
        assert_same_telemetry(
            [metrics_request(), metrics_request()], list(store.export(Signal.METRICS))
        )
        rows = store.query(
            'SELECT "Attributes" AS a, "SeriesId" AS s FROM otel_metrics_gauge'
        ).to_pylist()
    # The gauge has two series (with and without "room"), each written twice: once before
    # the migration and once after.
    by_series: dict[str, set[int]] = {}
    for row in rows:
        by_series.setdefault(repr(sorted(row["a"])), set()).add(row["s"])
    assert len(rows) == 4 and len(by_series) == 2
    assert all(len(ids) == 1 and None not in ids for ids in by_series.values())
    assert len(set.union(*by_series.values())) == 2
