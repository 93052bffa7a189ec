from __future__ import annotations

from collections.abc import Callable
from typing import Any

from otelite.query import (
    LogFilter,
    Plan,
    SpanFilter,
    SpanStatus,
    Table,
    TimeRange,
    log_search_plan,
    metric_catalog_plan,
    metric_points_plan,
    operation_summary_plan,
    service_summary_plan,
    trace_search_plan,
)

from .dataset import MS, T0, TRACE_A, TRACE_B

Run = Callable[[Plan], list[dict[str, Any]]]
ALL = TimeRange()


def trace_ids(run: Run, span: SpanFilter) -> list[bytes]:
    return [row["trace_id"] for row in run(trace_search_plan(span, ALL, 20))]


def test_span_filter_conditions_must_all_hold_on_one_span(run: Run) -> None:
    assert trace_ids(run, SpanFilter(service="cart", status=SpanStatus.ERROR)) == [TRACE_A]
    assert trace_ids(run, SpanFilter(service="db", status=SpanStatus.ERROR)) == []
    assert trace_ids(run, SpanFilter(name="POST /checkout")) == [TRACE_B]
    assert trace_ids(run, SpanFilter(min_duration_ns=300 * MS)) == [TRACE_B]
    assert trace_ids(run, SpanFilter(min_duration_ns=80 * MS, max_duration_ns=100 * MS)) == [
        TRACE_A
    ]
    assert trace_ids(
        run, SpanFilter(attributes=(("http.route", "/cart"), ("http.status_code", "500")))
    ) == [TRACE_A]
    assert (
        trace_ids(
            run, SpanFilter(attributes=(("http.route", "/cart"), ("http.status_code", "200")))
        )
        == []
    )


def test_service_summary(run: Run) -> None:
    assert run(service_summary_plan(ALL)) == [
        {"name": "cart", "span_count": 2, "error_count": 1},
        {"name": "checkout", "span_count": 1, "error_count": 0},
        {"name": "db", "span_count": 1, "error_count": 0},
        {"name": "frontend", "span_count": 2, "error_count": 0},
    ]
    assert run(service_summary_plan(TimeRange(T0 + 1000 * MS, None)))[0]["name"] == "cart"


def test_operation_summary(run: Run) -> None:
    rows = run(operation_summary_plan("cart", ALL))
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["span_kind"], row["span_count"], row["error_count"]) == (
        "cart.get",
        1,
        2,
        1,
    )
    # Durations 5 ms and 80 ms: interpolated quantiles.
    assert row["p50_ns"] == 42.5 * MS
    assert 5 * MS < row["p95_ns"] < row["p99_ns"] < 80 * MS


def test_log_search(run: Run) -> None:
    def bodies(log: LogFilter) -> list[str]:
        return [row["Body"] for row in run(log_search_plan(log, ALL, 100))]

    assert bodies(LogFilter()) == ["slow query", "Cart FAILED: timeout", "cart loaded"]
    assert bodies(LogFilter(min_severity=13)) == ["slow query", "Cart FAILED: timeout"]
    assert bodies(LogFilter(text="failed")) == ["Cart FAILED: timeout"]
    assert bodies(LogFilter(service="cart", trace_id=TRACE_A)) == [
        "Cart FAILED: timeout",
        "cart loaded",
    ]
    assert bodies(LogFilter(attributes=(("attempt", "3"),))) == ["Cart FAILED: timeout"]
    assert bodies(LogFilter(attributes=(("attempt", 3),))) == ["Cart FAILED: timeout"]
    assert bodies(LogFilter(attributes=(("user", 3),))) == []
    assert [r["Body"] for r in run(log_search_plan(LogFilter(), ALL, 1))] == ["slow query"]


def test_metric_catalog_and_points(run: Run) -> None:
    assert run(metric_catalog_plan(Table.GAUGE, None, ALL)) == [
        {
            "name": "queue.depth",
            "unit": "{items}",
            "description": "items waiting",
            "series_count": 2,
        }
    ]
    assert run(metric_catalog_plan(Table.GAUGE, "db", ALL)) == []
    rows = run(
        metric_points_plan(
            Table.GAUGE,
            "queue.depth",
            service="cart",
            attributes=(("queue", "b"),),
            time=ALL,
            limit=10,
        )
    )
    assert [(r["Attributes"], r["time_ns"], r["Value"]) for r in rows] == [
        ([("queue", "b")], T0 + i * 1000 * MS, float(i)) for i in range(3)
    ]
    every = run(
        metric_points_plan(
            Table.GAUGE, "queue.depth", service=None, attributes=(), time=ALL, limit=10
        )
    )
    # Series after series, each in time order.
    series = [r["series"] for r in every]
    assert len(every) == 6 and series == sorted(series) and len(set(series)) == 2
