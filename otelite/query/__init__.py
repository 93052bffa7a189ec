"""Queries: filters and (later) query languages → an immutable plan → SQL for a dialect.

``_plan`` holds the plan nodes, ``_compile`` the one compiler from plans to SQL through a
``Dialect``'s tables, ``_filters`` the filters the HTTP API takes and the plans they make,
``_time`` and ``_severity`` the parsers for what people type.
"""

from __future__ import annotations

from otelite.query._compile import Statement, compile_plan
from otelite.query._filters import (
    LogFilter,
    SpanFilter,
    SpanStatus,
    count_plan,
    log_search_plan,
    metric_catalog_plan,
    metric_points_plan,
    operation_summary_plan,
    service_summary_plan,
    trace_search_plan,
)
from otelite.query._plan import (
    And,
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Contains,
    Count,
    Exists,
    Expr,
    HasSpan,
    Literal,
    Not,
    Op,
    Or,
    Order,
    Output,
    Plan,
    Predicate,
    Select,
    Table,
    TimeRange,
    TraceSearch,
    Value,
    all_of,
)
from otelite.query._red import service_red_plan, service_trend_plan
from otelite.query._samples import attribute_sample_plan
from otelite.query._severity import parse_severity
from otelite.query._time import parse_duration_ns, parse_time

__all__ = [
    "And",
    "Attribute",
    "AttributeScope",
    "Call",
    "Column",
    "Compare",
    "Contains",
    "Count",
    "Exists",
    "Expr",
    "HasSpan",
    "Literal",
    "LogFilter",
    "Not",
    "Op",
    "Or",
    "Order",
    "Output",
    "Plan",
    "Predicate",
    "Select",
    "SpanFilter",
    "SpanStatus",
    "Statement",
    "Table",
    "TimeRange",
    "TraceSearch",
    "Value",
    "all_of",
    "attribute_sample_plan",
    "compile_plan",
    "count_plan",
    "log_search_plan",
    "metric_catalog_plan",
    "metric_points_plan",
    "operation_summary_plan",
    "parse_duration_ns",
    "parse_severity",
    "parse_time",
    "service_red_plan",
    "service_summary_plan",
    "service_trend_plan",
    "trace_search_plan",
]
