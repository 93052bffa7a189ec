"""Analysis over the shared query layer: the answers people on call look for.

The service map, the critical path of one trace and of many, comparisons of two traces
and of two groups of spans, SLOs with their error budgets and burn-rate alerts, and
deployments. Each runs on any ``Storage`` (DuckDB or ClickHouse alike) through
``otelite.query``, bounds what it reads, and says when its answer is sampled or cut.
"""

from __future__ import annotations

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
from otelite.analysis._slo_status import (
    SloStatus,
    alert_annotations,
    alert_labels,
    slo_status,
    window_text,
)
from otelite.analysis._slo_store import MAX_SLOS, SLO_DIR, SloBook, SloCatalog
from otelite.analysis._time import rfc3339

__all__: list[str] = [
    "BURN_RULES",
    "BURN_WINDOWS",
    "MAX_POINTS",
    "MAX_SLOS",
    "MAX_TRANSITIONS",
    "SLO_DIR",
    "Alert",
    "AlertBook",
    "AlertNotifier",
    "Backoff",
    "Breaker",
    "BurnRule",
    "Condition",
    "Evaluation",
    "EventCounts",
    "Objective",
    "ObjectiveStatus",
    "PromQLCount",
    "SloBook",
    "SloCatalog",
    "SloDefinition",
    "SloEvaluator",
    "SloHistory",
    "SloStatus",
    "SpanCount",
    "Transition",
    "alert_annotations",
    "alert_labels",
    "objective_status",
    "parse_documents",
    "parse_slo",
    "rfc3339",
    "slo_history",
    "slo_status",
    "webhook_message",
    "window_text",
]
