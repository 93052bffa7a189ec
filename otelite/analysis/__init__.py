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

__all__: list[str] = [
    "OUTBOX_FILE",
    "SETTLE_NS",
    "WINDOW_NS",
    "AlertEvent",
    "AlertStatus",
    "DeadLetter",
    "Deploy",
    "Deployments",
    "Notifier",
    "Notifiers",
    "ReceiverReport",
    "ReceiverStats",
    "Red",
    "RedWindow",
    "VersionSeen",
    "alert_fingerprint",
    "find_deployments",
    "webhook_payload",
]
