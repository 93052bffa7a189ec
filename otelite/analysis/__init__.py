"""Analysis over the shared query layer: the answers people on call look for.

The service map, the critical path of one trace and of many, comparisons of two traces
and of two groups of spans, SLOs with their error budgets and burn-rate alerts, and
deployments. Each runs on any ``Storage`` (DuckDB or ClickHouse alike) through
``otelite.query``, bounds what it reads, and says when its answer is sampled or cut.
"""

from __future__ import annotations

from otelite.analysis._critical_path import (
    CriticalPath,
    Section,
    TraceSpans,
    critical_path,
    trace_spans,
)
from otelite.analysis._critical_path_totals import (
    OperationShare,
    PathTotals,
    TracesRead,
    compare_totals,
    path_totals,
    spans_plan,
    traces_of,
)

__all__ = [
    "CriticalPath",
    "OperationShare",
    "PathTotals",
    "Section",
    "TraceSpans",
    "TracesRead",
    "compare_totals",
    "critical_path",
    "path_totals",
    "spans_plan",
    "trace_spans",
    "traces_of",
]
