"""``Count`` plans: rows of one or several tables in a time range, as one statement."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query import Count, Table, TimeRange, compile_plan, count_plan
from otelite.query.dialects import DuckDBDialect
from otelite.types import Signal

from .dataset import MS, T0
from .test_compile import Run

S = 1000 * MS


def counted(run: Run, plan: Count) -> int:
    [row] = run(plan)
    found: int = row["count"]
    return found


@pytest.mark.parametrize(
    ("tables", "time", "expected"),
    [
        # Spans start at 0, 10, 20, 1000, 1100 and 2000 ms after T0.
        ((Table.SPANS,), TimeRange(), 6),
        ((Table.SPANS,), TimeRange(T0 + 10 * MS, T0 + 1100 * MS), 3),
        ((Table.SPANS,), TimeRange(T0 + 10 * MS + 1, T0 + 1100 * MS + 1), 3),
        ((Table.SPANS,), TimeRange(start=T0 + 1000 * MS), 3),
        ((Table.SPANS,), TimeRange(end=T0 + 1000 * MS), 3),
        # Log records at 5, 15 and 25 ms.
        ((Table.LOGS,), TimeRange(T0 + 15 * MS, T0 + 25 * MS), 1),
        # Gauge points, two at each of 0, 1 and 2 s; the other metric tables are empty.
        (Table.metrics(), TimeRange(), 6),
        (Table.metrics(), TimeRange(T0 + S, T0 + 2 * S), 2),
        (Table.metrics(), TimeRange(T0 + S, T0 + S), 0),
        # Each table by its own time column: 3 spans, 3 log records, 2 points.
        ((Table.SPANS, Table.LOGS, Table.GAUGE), TimeRange(T0 + 5 * MS, T0 + S + 1), 8),
    ],
)
def test_counts_rows_in_the_half_open_range(
    run: Run, tables: tuple[Table, ...], time: TimeRange, expected: int
) -> None:
    assert counted(run, Count(tables, time)) == expected


def test_the_bounds_are_bound_once_for_every_table() -> None:
    statement = compile_plan(Count(Table.metrics(), TimeRange(T0, T0 + S)), DuckDBDialect())
    assert statement.params == (T0, T0 + S)
    assert str(T0) not in statement.sql
    assert statement.sql.count("count(*)") == len(Table.metrics())


def test_a_signal_counts_its_tables() -> None:
    time = TimeRange(T0, T0 + S)
    assert count_plan(Signal.TRACES, time) == Count((Table.SPANS,), time)
    assert count_plan(Signal.LOGS, time) == Count((Table.LOGS,), time)
    assert count_plan(Signal.METRICS, time) == Count(Table.metrics(), time)
    assert len(Table.metrics()) == 5


def test_a_count_of_no_table_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="at least one table"):
        compile_plan(Count(()), DuckDBDialect())
