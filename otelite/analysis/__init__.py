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
    "COMPARED_MAX_SPANS",
    "GROUP_MAX_RANGE_NS",
    "MAP_MAX_EDGES",
    "MAP_MAX_NODES",
    "MAP_MAX_RANGE_NS",
    "MAX_ATTRIBUTES",
    "MAX_COUNTED_SPANS",
    "MAX_VALUES",
    "OUTBOX_FILE",
    "SETTLE_NS",
    "SIGNIFICANT",
    "WINDOW_NS",
    "AlertEvent",
    "AlertStatus",
    "AlignedNode",
    "Change",
    "CriticalPath",
    "DeadLetter",
    "Deploy",
    "Deployments",
    "Figures",
    "GroupComparison",
    "GroupComparisonPlan",
    "MapEdge",
    "MapNode",
    "NodeKind",
    "Notifier",
    "Notifiers",
    "OperationShare",
    "PathStats",
    "PathTotals",
    "Placed",
    "ReceiverReport",
    "ReceiverStats",
    "Red",
    "RedWindow",
    "Sample",
    "Section",
    "ServiceMap",
    "TraceComparison",
    "TraceSide",
    "TraceSpans",
    "TracesRead",
    "ValueShift",
    "VersionSeen",
    "alert_fingerprint",
    "build_service_map",
    "compare_totals",
    "compare_traces",
    "critical_path",
    "find_deployments",
    "group_comparison_plan",
    "layered_layout",
    "path_totals",
    "service_map_plans",
    "service_map_range",
    "spans_plan",
    "trace_spans",
    "traces_of",
    "webhook_payload",
]
