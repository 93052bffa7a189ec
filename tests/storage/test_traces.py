"""Spans flatten to ``otel_traces`` rows and rebuild with every field and value type."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings

from otelite.storage import traces_from_table, traces_to_tables
from otelite.storage._schema import TRACE_ID_TS, TRACES, flattened
from otelite.types import ExportTraceServiceRequest
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import T0, TRACE_A, TRACE_B, span, trace_request
from tests.strategies import trace_requests


def _spans(request: ExportTraceServiceRequest) -> list[object]:
    return [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows with top-level times as integers (datetimes would drop the nanoseconds)."""
    columns = [c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    rows: list[dict[str, Any]] = pa.table(columns, names=table.column_names).to_pylist()
    return rows


def test_every_field_and_value_type_round_trips() -> None:
    sent = trace_request()
    table, _ = traces_to_tables([sent])
    assert table.schema == flattened(TRACES)
    assert table.num_rows == 4
    back = traces_from_table(table)
    assert_same_telemetry([sent], [back])
    # Same envelopes come back as the same grouping: two resources, three scopes.
    assert len(back.resource_spans) == 2
    assert [len(rs.scope_spans) for rs in back.resource_spans] == [2, 1]


def test_values_keep_their_types() -> None:
    back = traces_from_table(traces_to_tables([trace_request()])[0])
    full = back.resource_spans[0].scope_spans[0].spans[0]
    values = {a.key: a.value for a in full.attributes}
    assert values["int"].WhichOneof("value") == "int_value" and values["int"].int_value == 42
    assert values["looks like int"].string_value == "42"
    assert values["double whole"].WhichOneof("value") == "double_value"
    assert math.isnan(values["nan"].double_value)
    assert math.copysign(1, values["-0"].double_value) == -1
    assert values["false"].WhichOneof("value") == "bool_value"
    assert values["empty bytes"].WhichOneof("value") == "bytes_value"
    assert values["empty array"].WhichOneof("value") == "array_value"
    assert values["empty value"].WhichOneof("value") is None
    assert values["kvlist"].kvlist_value.values[0].value.kvlist_value.values[0].value.int_value == 1


def test_stored_columns_follow_the_schema() -> None:
    table, _ = traces_to_tables([trace_request()])
    row = _rows(table.drop_columns(["Events"]))[0]
    assert row["ServiceName"] == "checkout"
    assert row["SpanKind"] == 2 and row["StatusCode"] == 2
    assert row["Duration"] == 5_000_000_006
    assert ("int", "42") in row["SpanAttributes"]
    assert ("int", "i") in row["SpanAttributeTypes"]
    assert ("string", "hello ✓") in row["SpanAttributes"]
    assert all(key != "string" for key, _ in row["SpanAttributeTypes"])


def test_end_before_start_gives_zero_duration_and_keeps_the_raw_end() -> None:
    sent = ExportTraceServiceRequest()
    sent.resource_spans.add().scope_spans.add().spans.append(span(TRACE_A, 1, T0 + 10, T0 + 3))
    table, index = traces_to_tables([sent])
    assert table.column("Duration").to_pylist() == [0]
    back = traces_from_table(table)
    assert _spans(back)[0].end_time_unix_nano == T0 + 3  # type: ignore[attr-defined]
    # The time range still covers the span's start, where lookups search for it.
    [row] = _rows(index)
    assert row["Start"] == row["End"] == T0 + 10


def test_index_has_one_row_per_trace_with_its_time_range() -> None:
    table, index = traces_to_tables([trace_request(), trace_request()])
    assert table.num_rows == 8
    assert index.schema == TRACE_ID_TS
    ranges = {r["TraceId"]: (r["Start"], r["End"]) for r in _rows(index)}
    assert ranges == {
        TRACE_A: (T0 + 1, T0 + 5_000_000_007),
        TRACE_B: (T0 + 10_000, T0 + 10_000),
    }


def test_empty_input_gives_empty_tables() -> None:
    table, index = traces_to_tables([ExportTraceServiceRequest()])
    assert table.num_rows == 0 and index.num_rows == 0
    assert traces_from_table(table) == ExportTraceServiceRequest()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=trace_requests().map(lambda r: [r]))
def test_generated_requests_round_trip(requests: list[ExportTraceServiceRequest]) -> None:
    table, _ = traces_to_tables(requests)
    assert_same_telemetry(requests, [traces_from_table(table)])
