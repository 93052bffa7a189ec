"""Attribute values as a reader gets them in otelite's MCP answers: plain JSON values."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from otelite.otlp import any_value_plain

CASES: list[tuple[AnyValue, Any]] = [
    (AnyValue(string_value="GET /cart"), "GET /cart"),
    (AnyValue(int_value=-(2**63)), -(2**63)),
    (AnyValue(double_value=0.25), 0.25),
    (AnyValue(double_value=float("inf")), "Infinity"),
    (AnyValue(bool_value=False), False),
    (AnyValue(bytes_value=b"\x00\xff"), "AP8="),
    (AnyValue(), None),
    (
        AnyValue(
            array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="a")])
        ),
        [1, "a"],
    ),
    (
        AnyValue(
            kvlist_value=KeyValueList(
                values=[KeyValue(key="k", value=AnyValue(array_value=ArrayValue()))]
            )
        ),
        {"k": []},
    ),
]


@pytest.mark.parametrize(("value", "plain"), CASES, ids=[repr(p) for _, p in CASES])
def test_values_become_plain_json(value: AnyValue, plain: Any) -> None:
    assert any_value_plain(value) == plain
    assert orjson.loads(orjson.dumps(any_value_plain(value))) == plain
