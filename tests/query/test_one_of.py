"""``OneOf``: a column holding one of several values, on both backends."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from otelite.errors import InvalidRequest
from otelite.query import Column, OneOf, Output, Plan, Select, Table, Value

from .dataset import TRACE_A, TRACE_C

Run = Callable[[Plan], list[dict[str, Any]]]


def span_ids(run: Run, column: str, values: tuple[Value, ...]) -> list[int]:
    plan = Select(Table.SPANS, (Output("id", Column("SpanId")),), where=OneOf(column, values))
    return sorted(int.from_bytes(row["id"], "big") for row in run(plan))


def test_ids(run: Run) -> None:
    # Ids are stored encoded on ClickHouse: the values are encoded the same way.
    assert span_ids(run, "TraceId", (TRACE_A, TRACE_C, bytes(16))) == [1, 2, 3, 6]
    assert span_ids(run, "ParentSpanId", ((2).to_bytes(8, "big"),)) == [3]


def test_strings_and_numbers(run: Run) -> None:
    assert span_ids(run, "ServiceName", ("cart", "db")) == [2, 3, 6]
    assert span_ids(run, "StatusCode", (2,)) == [2]  # an enum on ClickHouse
    assert span_ids(run, "SpanName", ("GET /cart", "GET /cart")) == [1]


def test_no_values_match_nothing(run: Run) -> None:
    assert span_ids(run, "ServiceName", ()) == []


@pytest.mark.parametrize(
    ("column", "values", "words"),
    [
        ("ServiceName", (1,), "ServiceName (string) cannot be compared = 1"),
        ("Timestamp", (1,), "a time column"),
        ("Nope", ("x",), "no column 'Nope'"),
    ],
)
def test_bad_columns_and_values(
    run: Run, column: str, values: tuple[Value, ...], words: str
) -> None:
    with pytest.raises(InvalidRequest, match=re.escape(words)):
        span_ids(run, column, values)
