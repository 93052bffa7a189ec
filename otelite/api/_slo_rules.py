"""SLOs' alerts in Prometheus's shapes: ``/api/v1/rules`` and ``/api/v1/alerts``.

A group per SLO, an alerting rule per objective and burn-rate alert, with its state
(``firing`` or ``inactive``), its alert while it fires, and how the evaluator's last
evaluation of the SLO went (``health``, ``lastError``, ``lastEvaluation``). A rule's
``query`` is the condition in PromQL's notation over burn rates (``slo:burn_rate:1h``),
which are otelite's own numbers, not series to query. ``_prometheus`` serves both routes
in its envelope.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from otelite.analysis import (
    BURN_RULES,
    Alert,
    BurnRule,
    Evaluation,
    SloDefinition,
    SloEvaluator,
    alert_annotations,
    alert_labels,
    rfc3339,
    window_text,
)
from otelite.api._form import Form
from otelite.api._slos import tenant_book, tenant_slos
from otelite.api._storage import tenant_id_of
from otelite.errors import InvalidRequest

__all__ = ["alerts", "rules"]

_NEVER = "0001-01-01T00:00:00Z"  # Prometheus's lastEvaluation of a rule not yet evaluated


def _evaluator(request: Request) -> SloEvaluator | None:
    evaluator: SloEvaluator | None = request.app.state.slo_evaluator
    return evaluator


def _go_float(value: float | None) -> str:
    """A value as Prometheus writes an alert's: Go's shortest ``e`` form (``1.44e+01``)."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    for digits in range(17):
        text = f"{value:.{digits}e}"
        if float(text) == value:
            return text
    return f"{value:.17e}"


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "state": "firing",
        "activeAt": rfc3339(alert.active_at_ns),
        "value": _go_float(alert.value),
    }


def _condition_text(definition: SloDefinition, objective: str, rule: BurnRule) -> str:
    selector = f'{{slo="{definition.name}", objective="{objective}"}}'
    return " and ".join(
        f"slo:burn_rate:{window_text(seconds)}{selector} > {rule.factor:g}"
        for seconds in (rule.long_seconds, rule.short_seconds)
    )


async def rules(request: Request) -> dict[str, Any]:
    """The ``data`` of ``/api/v1/rules`` (``type``, ``rule_name[]``, ``rule_group[]``,
    ``exclude_alerts`` filter it, as Prometheus's do)."""
    form = await Form.of(request)
    kind = form.get("type")
    if kind not in (None, "alert", "record"):
        raise InvalidRequest(f'invalid parameter "type": must be alert or record, got {kind!r}')
    names, groups = set(form.all("rule_name[]")), set(form.all("rule_group[]"))
    exclude_alerts = form.get("exclude_alerts") == "true"
    if kind == "record":
        return {"groups": []}
    tenant = tenant_id_of(request)
    evaluator = _evaluator(request)
    firing = _firing(request)
    found = []
    for definition in tenant_slos(request):
        if groups and definition.name not in groups:
            continue
        last = None if evaluator is None else evaluator.last(tenant, definition.name)
        group_rules = [
            _rule_json(definition, objective.name, rule, firing, exclude_alerts, last)
            for objective in definition.objectives
            for rule in BURN_RULES
            if not names or rule.name in names
        ]
        if group_rules:
            found.append(
                {
                    "name": definition.name,
                    "file": "otelite SLOs",
                    "rules": group_rules,
                    "interval": 0 if evaluator is None else evaluator.interval_seconds,
                    "limit": 0,
                    "evaluationTime": 0 if last is None else last.seconds,
                    "lastEvaluation": _NEVER if last is None else rfc3339(last.at_ns),
                }
            )
    return {"groups": found}


def _rule_json(
    definition: SloDefinition,
    objective: str,
    rule: BurnRule,
    firing: dict[tuple[str, str, str], Alert],
    exclude_alerts: bool,
    last: Evaluation | None,
) -> dict[str, Any]:
    alert = firing.get((definition.name, objective, rule.name))
    labels = alert_labels(definition, objective, rule)
    del labels["alertname"]
    found: dict[str, Any] = {
        "state": "inactive" if alert is None else "firing",
        "name": rule.name,
        "query": _condition_text(definition, objective, rule),
        "duration": 0,
        "keepFiringFor": 0,
        "labels": labels,
        "annotations": alert_annotations(definition, objective, rule),
        "health": "unknown" if last is None else ("err" if last.error else "ok"),
        "lastError": "" if last is None or last.error is None else last.error,
        "evaluationTime": 0 if last is None else last.seconds,
        "lastEvaluation": _NEVER if last is None else rfc3339(last.at_ns),
        "type": "alerting",
    }
    if not exclude_alerts:
        found["alerts"] = [] if alert is None else [_alert_json(alert)]
    return found


def _firing(request: Request) -> dict[tuple[str, str, str], Alert]:
    book = tenant_book(request)
    if book is None:
        return {}
    return {
        (a.slo, a.objective, a.rule): a
        for a in book.alerts.alerts(time.time_ns())
        if a.state == "firing"
    }


async def alerts(request: Request) -> dict[str, Any]:
    """The ``data`` of ``/api/v1/alerts``: the alerts firing."""
    return {"alerts": [_alert_json(a) for a in _sorted(_firing(request).values())]}


def _sorted(found: Iterable[Alert]) -> list[Alert]:
    return sorted(found, key=lambda a: (a.slo, a.objective, a.rule))
