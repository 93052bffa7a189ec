"""Attribute lists → map columns from encoded ``KeyValue``s, and the encoded request views."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.storage._attributes import AttributeColumns
from otelite.storage._wire import encoded_view
from otelite.types import ExportRequest, Signal
from tests.strategies import export_requests


def _kv(key: str, value: str | int) -> bytes:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value)).SerializeToString()
    return KeyValue(key=key, value=AnyValue(string_value=value)).SerializeToString()


def _columns(rows: list[list[bytes]]) -> tuple[list[Any], list[Any]]:
    columns = AttributeColumns()
    for row in rows:
        columns.append(row)
    values, types = columns.arrays()
    return values.to_pylist(), types.to_pylist()


def test_rows_keep_order_and_types_and_share_decoded_values() -> None:
    rows = [[_kv("a", "x"), _kv("n", 1)], [], [_kv("n", 1), _kv("a", "x"), _kv("b", "y")]]
    values, types = _columns(rows)
    assert values == [[("a", "x"), ("n", "1")], [], [("n", "1"), ("a", "x"), ("b", "y")]]
    assert types == [[("n", "i")], [], [("n", "i")]]


def test_a_repeated_key_keeps_its_first_value() -> None:
    rows = [[_kv("a", "first"), _kv("b", 2), _kv("a", 3)], [_kv("a", "ok")], [_kv("c", "c")] * 2]
    values, types = _columns(rows)
    assert values == [[("a", "first"), ("b", "2")], [("a", "ok")], [("c", "c")]]
    assert types == [[("b", "i")], [], []]


def test_keys_sharing_a_bit_are_not_taken_for_repeats() -> None:
    # Keys are numbered as first seen and share 64 bits, so k3 and k67 share one.
    introduce = [[_kv(f"k{i}", i)] for i in range(200)]
    rows = [*introduce, [_kv("k3", "x"), _kv("k67", 67), _kv("k131", "y")]]
    values, types = _columns(rows)
    assert values[-1] == [("k3", "x"), ("k67", "67"), ("k131", "y")]
    assert types[-1] == [("k67", "i")]
    values, _ = _columns([*rows, [_kv("k3", 1), _kv("k67", "v"), _kv("k3", 2)]])
    assert values[-2:] == [[("k3", "x"), ("k67", "67"), ("k131", "y")], [("k3", "1"), ("k67", "v")]]
    assert values[:200] == [[(f"k{i}", str(i))] for i in range(200)]


def test_no_rows_give_empty_columns() -> None:
    assert _columns([]) == ([], [])


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    traces=export_requests(Signal.TRACES, extended=True),
    logs=export_requests(Signal.LOGS, extended=True),
    metrics=export_requests(Signal.METRICS, extended=True),
)
def test_views_carry_the_same_wire_bytes(
    traces: ExportRequest, logs: ExportRequest, metrics: ExportRequest
) -> None:
    for request in (traces, logs, metrics):
        view = encoded_view(request)
        assert view.SerializeToString() == request.SerializeToString()
        again = type(request).FromString(view.SerializeToString())
        assert again == request
