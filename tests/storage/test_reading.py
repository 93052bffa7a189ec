"""Reading traces back from DuckDB: dropping re-sent spans, and the trace-id index."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.storage import WriteBatch, traces_to_tables
from otelite.storage._reading import SpanDeduplicator
from otelite.storage.duckdb import DuckDBStorage
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import T0, TRACE_A, TRACE_B, full_span, span, traces


def rows(*spans: Span) -> pa.Table:
    table, _ = traces_to_tables([traces(*spans)])
    return table


def names(table: pa.Table) -> list[str]:
    names: list[str] = table.column("SpanName").to_pylist()
    return names


def test_copies_are_dropped_and_other_content_with_the_same_ids_is_kept() -> None:
    copy = full_span()
    other = full_span()
    other.name = "renamed"
    unrelated = span(TRACE_B, 9, copy.start_time_unix_nano)
    table = rows(copy, unrelated, copy, other, copy, other)
    assert names(SpanDeduplicator()(table)) == [copy.name, unrelated.name, "renamed"]


def test_copies_are_found_across_batches_of_a_stream() -> None:
    first, second = span(TRACE_A, 1, T0), span(TRACE_A, 2, T0 + 5)
    keep = SpanDeduplicator()
    assert names(keep(rows(first))) == ["span 1"]
    # The copy of span 1 arrives in the next batch, still at the same start time.
    assert names(keep(rows(first, second))) == ["span 2"]
    assert keep(rows(second)).num_rows == 0
    # A batch where every row is kept comes back as it was.
    fresh = rows(span(TRACE_A, 3, T0 + 9))
    assert keep(fresh) is fresh


def test_get_trace_drops_copies_keeps_variants_and_orders_by_start(
    storage: DuckDBStorage,
) -> None:
    early, late = span(TRACE_A, 1, T0), span(TRACE_A, 2, T0 + 50)
    variant = span(TRACE_A, 1, T0, name="variant")
    storage.write(WriteBatch(traces=[traces(late, early)]))
    storage.write(WriteBatch(traces=[traces(early, variant, late)]))  # a retry, and a variant
    found = storage.get_trace(TRACE_A)
    assert found is not None
    assert_same_telemetry([traces(early, variant, late)], [found])
    starts = [s.start_time_unix_nano for s in found.resource_spans[0].scope_spans[0].spans]
    assert starts == sorted(starts)


def trace_id_indexes(store: DuckDBStorage) -> list[dict[str, object]]:
    table = store.query(
        "SELECT table_name, expressions FROM duckdb_indexes() "
        "WHERE table_name = 'otel_traces_trace_id_ts'"
    )
    indexes: list[dict[str, object]] = table.to_pylist()
    return indexes


def test_the_trace_id_table_is_indexed_once_across_reopening(tmp_path: Path) -> None:
    store = DuckDBStorage(tmp_path)
    store.write(WriteBatch(traces=[traces(span(TRACE_A, 1, T0), span(TRACE_B, 2, T0 + 1))]))
    store.close()
    reopened = DuckDBStorage(tmp_path)
    try:
        [index] = trace_id_indexes(reopened)
        assert "TraceId" in str(index["expressions"])
        # The index follows deletes: what expired is gone, the rest is still found.
        reopened.delete_before(T0 + 1)
        assert reopened.get_trace(TRACE_A) is None
        assert reopened.get_trace(TRACE_B) is not None
        reopened.write(WriteBatch(traces=[traces(span(TRACE_A, 3, T0 + 7))]))
        found = reopened.get_trace(TRACE_A)
        assert found is not None
        assert_same_telemetry([traces(span(TRACE_A, 3, T0 + 7))], [found])
    finally:
        reopened.close()
