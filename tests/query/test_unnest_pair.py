"""The dialects' ``unnest_pair``: each row once per position of two equally long lists.

A span comparison unfolds attribute maps with it (keys beside values) and the compared
columns (each column's number beside its value); the expected rows are written out from
the spans stored, by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans

from otelite.storage import Storage, WriteBatch
from otelite.types import ExportTraceServiceRequest
from tests.backends import BACKENDS, store
from tests.storage.samples import T0, TRACE_A, kv, resource, span


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    spans = [
        span(
            TRACE_A,
            1,
            T0,
            name="three",
            attributes=[kv("b", string_value="2"), kv("a", string_value="1"), kv("c", int_value=3)],
        ),
        span(TRACE_A, 2, T0 + 1, name="none"),
        span(TRACE_A, 3, T0 + 2, name="one", attributes=[kv("a", string_value="x")]),
    ]
    request_ = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource("svc"), scope_spans=[ScopeSpans(spans=spans)])
        ]
    )
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[request_]))
        yield opened


def _rows(storage: Storage, keys: str, values: str) -> list[tuple[object, ...]]:
    call = storage.dialect.call
    pairs = call(
        "unnest_pair", '"SpanName" AS name', '"otel_traces" AS spans', keys, "k", values, "v"
    )
    table = storage.query(f"SELECT name, k, v FROM ({pairs}) AS pairs")
    return sorted((r["name"], r["k"], r["v"]) for r in table.to_pylist())


def test_a_maps_keys_pair_with_its_values_and_an_empty_map_gives_no_row(
    storage: Storage,
) -> None:
    call = storage.dialect.call
    keys = call("map_keys", '"SpanAttributes"')
    values = call("map_values", '"SpanAttributes"')
    assert _rows(storage, keys, values) == [
        ("one", "a", "x"),
        ("three", "a", "1"),
        ("three", "b", "2"),
        ("three", "c", "3"),
    ]


def test_lists_of_columns_pair_item_by_item(storage: Storage) -> None:
    assert _rows(storage, "[3, 7]", '["SpanName", "ServiceName"]') == [
        ("none", 3, "none"),
        ("none", 7, "svc"),
        ("one", 3, "one"),
        ("one", 7, "svc"),
        ("three", 3, "three"),
        ("three", 7, "svc"),
    ]
