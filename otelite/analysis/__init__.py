"""Analysis over the shared query layer: the answers people on call look for.

The service map, the critical path of one trace and of many, comparisons of two traces
and of two groups of spans, SLOs with their error budgets and burn-rate alerts, and
deployments. Each runs on any ``Storage`` (DuckDB or ClickHouse alike) through
``otelite.query``, bounds what it reads, and says when its answer is sampled or cut.
"""

from __future__ import annotations

from otelite.analysis._alert_events import (
    AlertEvent,
    AlertStatus,
    alert_fingerprint,
    webhook_payload,
)
from otelite.analysis._alert_notifier import Notifier, ReceiverReport, ReceiverStats
from otelite.analysis._alert_notifiers import Notifiers
from otelite.analysis._alert_outbox import OUTBOX_FILE, DeadLetter
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
    GROUP_MAX_RANGE_NS,
    MAX_ATTRIBUTES,
    MAX_COUNTED_SPANS,
    MAX_VALUES,
    GroupComparison,
    GroupComparisonPlan,
    Sample,
    ValueShift,
    group_comparison_plan,
)
from otelite.analysis._map_layout import Placed, layered_layout
from otelite.analysis._openslo import (
    Objective,
    PromQLCount,
    SloDefinition,
    SpanCount,
    parse_documents,
    parse_slo,
)
from otelite.analysis._service_map import (
    MAP_MAX_EDGES,
    MAP_MAX_NODES,
    MAP_MAX_RANGE_NS,
    Figures,
    MapEdge,
    MapNode,
    NodeKind,
    ServiceMap,
    build_service_map,
    service_map_plans,
    service_map_range,
)
from otelite.analysis._slo_alerts import MAX_TRANSITIONS as SLO_MAX_TRANSITIONS
from otelite.analysis._slo_alerts import (
    Alert,
    AlertBook,
    AlertId,
    Condition,
    Transition,
    alert_event,
)
from otelite.analysis._slo_evaluator import NOTIFIERS, Evaluation, Notify, SloEvaluator
from otelite.analysis._slo_history import MAX_POINTS as SLO_HISTORY_MAX_POINTS
from otelite.analysis._slo_history import SloHistory, slo_history
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
from otelite.analysis._slo_store import MAX_SLOS as SLO_MAX_PER_TENANT
from otelite.analysis._slo_store import SLO_DIR, SloBook, SloCatalog
from otelite.analysis._time import rfc3339
from otelite.analysis._trace_comparison import (
    COMPARED_MAX_SPANS,
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
    "COMPARED_MAX_SPANS",
    "GROUP_MAX_RANGE_NS",
    "MAP_MAX_EDGES",
    "MAP_MAX_NODES",
    "MAP_MAX_RANGE_NS",
    "MAX_ATTRIBUTES",
    "MAX_COUNTED_SPANS",
    "MAX_VALUES",
    "NOTIFIERS",
    "OUTBOX_FILE",
    "SETTLE_NS",
    "SIGNIFICANT",
    "SLO_DIR",
    "SLO_HISTORY_MAX_POINTS",
    "SLO_MAX_PER_TENANT",
    "SLO_MAX_TRANSITIONS",
    "WINDOW_NS",
    "Alert",
    "AlertBook",
    "AlertEvent",
    "AlertId",
    "AlertStatus",
    "AlignedNode",
    "BurnRule",
    "Change",
    "Condition",
    "CriticalPath",
    "DeadLetter",
    "Deploy",
    "Deployments",
    "Evaluation",
    "EventCounts",
    "Figures",
    "GroupComparison",
    "GroupComparisonPlan",
    "MapEdge",
    "MapNode",
    "NodeKind",
    "Notifier",
    "Notifiers",
    "Notify",
    "Objective",
    "ObjectiveStatus",
    "OperationShare",
    "PathStats",
    "PathTotals",
    "Placed",
    "PromQLCount",
    "ReceiverReport",
    "ReceiverStats",
    "Red",
    "RedWindow",
    "Sample",
    "Section",
    "ServiceMap",
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
    "alert_event",
    "alert_fingerprint",
    "alert_labels",
    "build_service_map",
    "compare_totals",
    "compare_traces",
    "critical_path",
    "find_deployments",
    "group_comparison_plan",
    "layered_layout",
    "objective_status",
    "parse_documents",
    "parse_slo",
    "path_totals",
    "rfc3339",
    "service_map_plans",
    "service_map_range",
    "slo_history",
    "slo_status",
    "spans_plan",
    "trace_spans",
    "traces_of",
    "webhook_payload",
    "window_text",
]
