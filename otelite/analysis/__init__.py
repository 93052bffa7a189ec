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
from otelite.analysis._deployments import (
    SETTLE_NS,
    WINDOW_NS,
    Deploy,
    Deployments,
    Red,
    RedWindow,
    VersionSeen,
    find_deployments,
)
from otelite.analysis._group_comparison import (
    MAX_ATTRIBUTES,
    MAX_COUNTED_SPANS,
    MAX_RANGE_NS,
    MAX_VALUES,
    GroupComparison,
    GroupComparisonPlan,
    Sample,
    ValueShift,
    group_comparison_plan,
)
from otelite.analysis._notifier import AlertNotifier, Backoff, Breaker, webhook_message
from otelite.analysis._openslo import (
    Objective,
    PromQLCount,
    SloDefinition,
    SpanCount,
    parse_documents,
    parse_slo,
)
from otelite.analysis._slo_alerts import (
    MAX_TRANSITIONS,
    Alert,
    AlertBook,
    Condition,
    Transition,
)
from otelite.analysis._slo_evaluator import Evaluation, SloEvaluator
from otelite.analysis._slo_history import MAX_POINTS, SloHistory, slo_history
from otelite.analysis._slo_math import (
    BURN_RULES,
    BURN_WINDOWS,
    BurnRule,
    EventCounts,
    ObjectiveStatus,
    objective_status,
)
from otelite.analysis._slo_metrics import SloCollector
from otelite.analysis._slo_status import (
    SloStatus,
    alert_annotations,
    alert_labels,
    slo_status,
    window_text,
)
from otelite.analysis._slo_store import MAX_SLOS, SLO_DIR, SloBook, SloCatalog
from otelite.analysis._time import rfc3339
from otelite.analysis._trace_comparison import (
    MAX_SPANS,
    SIGNIFICANT,
    AlignedNode,
    Change,
    PathStats,
    TraceComparison,
    TraceSide,
    compare_traces,
)

__all__: list[str] = [
    "BURN_RULES",
    "BURN_WINDOWS",
    "MAX_ATTRIBUTES",
    "MAX_COUNTED_SPANS",
    "MAX_POINTS",
    "MAX_RANGE_NS",
    "MAX_SLOS",
    "MAX_SPANS",
    "MAX_TRANSITIONS",
    "MAX_VALUES",
    "SETTLE_NS",
    "SIGNIFICANT",
    "SLO_DIR",
    "WINDOW_NS",
    "Alert",
    "AlertBook",
    "AlertNotifier",
    "AlignedNode",
    "Backoff",
    "Breaker",
    "BurnRule",
    "Change",
    "Condition",
    "CriticalPath",
    "Deploy",
    "Deployments",
    "Evaluation",
    "EventCounts",
    "GroupComparison",
    "GroupComparisonPlan",
    "Objective",
    "ObjectiveStatus",
    "OperationShare",
    "PathStats",
    "PathTotals",
    "PromQLCount",
    "Red",
    "RedWindow",
    "Sample",
    "Section",
    "SloBook",
    "SloCatalog",
    "SloCollector",
    "SloDefinition",
    "SloEvaluator",
    "SloHistory",
    "SloStatus",
    "SpanCount",
    "TraceComparison",
    "TraceSide",
    "TraceSpans",
    "TracesRead",
    "Transition",
    "ValueShift",
    "VersionSeen",
    "alert_annotations",
    "alert_labels",
    "compare_totals",
    "compare_traces",
    "critical_path",
    "find_deployments",
    "group_comparison_plan",
    "objective_status",
    "parse_documents",
    "parse_slo",
    "path_totals",
    "rfc3339",
    "slo_history",
    "slo_status",
    "spans_plan",
    "trace_spans",
    "traces_of",
    "webhook_message",
    "window_text",
]
