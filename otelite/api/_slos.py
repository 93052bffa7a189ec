"""SLOs over HTTP: their definitions, their status, and their alerts in Prometheus's shapes.

=====================================  ==================================================
``GET /api/slos``                      every SLO: name, service, window, objectives and
                                       the document as applied
``POST /api/slos``                     apply one or more OpenSLO documents (YAML, apart
                                       by ``---``, or JSON): all of them or none
``PUT /api/slos/{name}``               apply one document whose ``metadata.name`` is
                                       ``name``: 201 when new, 200 when replaced
``GET /api/slos/{name}``               the document as applied (JSON)
``DELETE /api/slos/{name}``            remove it; its firing alerts are resolved
``GET /api/slos/{name}/status``        SLI, error budget remaining and burn rates over
                                       5m, 30m, 1h, 6h, 3d and the SLO's window, at
                                       ``time`` (default now), with each alert's condition
                                       and state
``GET /api/slos/{name}/history``       the budget remaining and the burn rates at up
                                       to ``points`` (default 200) whole minutes over
                                       ``start``..``end`` (default the last day; 30 days
                                       at most), for charts
``GET /api/v1/rules``                  Prometheus's rules: a group per SLO, an alerting
                                       rule per objective and burn-rate alert
``GET /api/v1/alerts``                 Prometheus's alerts: those firing
=====================================  ==================================================

A bad document is refused (400) with the field at fault and the reason, and nothing of
it is applied. Each tenant has SLOs of its own. The status is computed when asked, from
the stored data; alert states come from the evaluator, which evaluates every SLO on a
schedule (``/api/v1/rules`` shows how its last evaluation went). A rule's ``query`` is
the condition in PromQL's notation over burn rates (``slo:burn_rate:1h``), which are
otelite's own numbers, not series to query.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import (
    BURN_RULES,
    MAX_POINTS,
    Alert,
    BurnRule,
    Evaluation,
    ObjectiveStatus,
    SloBook,
    SloCatalog,
    SloDefinition,
    SloEvaluator,
    SloHistory,
    SloStatus,
    alert_annotations,
    alert_labels,
    parse_documents,
    rfc3339,
    slo_history,
    slo_status,
    window_text,
)
from otelite.api._form import Form
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import storage_of, tenant_id_of
from otelite.errors import InvalidRequest, NotFound, RequestTooLarge

__all__ = ["alerts", "rules", "slo_routes"]

_MAX_DOCUMENT_BYTES = 1 << 20
_NS_PER_MS = 1_000_000
_NEVER = "0001-01-01T00:00:00Z"  # Prometheus's lastEvaluation of a rule not yet evaluated
_STATUS_TIMEOUT_S = 60.0
_DAY_NS = 86400 * 1_000_000_000


def _catalog(request: Request) -> SloCatalog:
    catalog: SloCatalog = request.app.state.slos
    return catalog


def _evaluator(request: Request) -> SloEvaluator | None:
    evaluator: SloEvaluator | None = request.app.state.slo_evaluator
    return evaluator


def _book(request: Request) -> SloBook | None:
    """The request's tenant's SLOs, if it has any."""
    return _catalog(request).find(tenant_id_of(request))


def _definitions(request: Request) -> list[SloDefinition]:
    book = _book(request)
    return [] if book is None else book.slos()


def _definition(request: Request, name: str) -> SloDefinition:
    book = _book(request)
    if book is None:
        raise NotFound(f"no SLO named {name!r}")
    return book.get(name)


async def _documents(request: Request) -> list[SloDefinition]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_DOCUMENT_BYTES:
            raise RequestTooLarge(f"SLO documents are limited to {_MAX_DOCUMENT_BYTES} bytes")
    return parse_documents(body)


def _summary(definition: SloDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "displayName": definition.display_name,
        "description": definition.description,
        "service": definition.service,
        "window": window_text(definition.window_seconds),
        "objectives": [{"name": o.name, "target": o.target} for o in definition.objectives],
        "document": definition.document,
    }


async def list_slos(request: Request) -> Response:
    """``GET /api/slos``."""
    return JSONResponse({"slos": [_summary(d) for d in _definitions(request)]})


async def apply_slos(request: Request) -> Response:
    """``POST /api/slos``: one or more documents, all applied or none."""
    definitions = await _documents(request)
    book = _catalog(request).book(tenant_id_of(request))
    created = await run_in_threadpool(book.put, definitions)
    return JSONResponse(
        {
            "applied": [
                {"name": d.name, "created": new}
                for d, new in zip(definitions, created, strict=True)
            ]
        },
        status_code=201 if any(created) else 200,
    )


async def put_slo(request: Request) -> Response:
    """``PUT /api/slos/{name}``: one document, named as the path is."""
    name = request.path_params["name"]
    definitions = await _documents(request)
    if len(definitions) != 1:
        raise InvalidRequest(f"PUT takes one SLO document, got {len(definitions)}")
    [definition] = definitions
    if definition.name != name:
        raise InvalidRequest(
            f"metadata.name: {definition.name!r} is not {name!r}, the name in the path"
        )
    book = _catalog(request).book(tenant_id_of(request))
    [created] = await run_in_threadpool(book.put, definitions)
    return JSONResponse(_summary(definition), status_code=201 if created else 200)


async def get_slo(request: Request) -> Response:
    """``GET /api/slos/{name}``: the document as applied."""
    return JSONResponse(dict(_definition(request, request.path_params["name"]).document))


async def delete_slo(request: Request) -> Response:
    """``DELETE /api/slos/{name}``: gone, and its firing alerts resolved."""
    name = request.path_params["name"]
    book = _book(request)
    if book is None:
        raise NotFound(f"no SLO named {name!r}")

    await run_in_threadpool(book.delete, name, time.time_ns())
    return JSONResponse({"deleted": name})


async def status(request: Request) -> Response:
    """``GET /api/slos/{name}/status``: computed now from the stored data."""
    definition = _definition(request, request.path_params["name"])
    params = Params(request.query_params)
    at = params.time("time")
    at = params.now_ns if at is None else at
    timeout: float | None = request.app.state.query_timeout_seconds
    found = await run_in_threadpool(
        slo_status, storage_of(request), definition, at, timeout_s=timeout or _STATUS_TIMEOUT_S
    )
    book = _book(request)
    alerts = {} if book is None else {a.key: a for a in book.alerts.alerts(time.time_ns())}
    return JSONResponse(_status_json(found, alerts))


async def history(request: Request) -> Response:
    """``GET /api/slos/{name}/history``: the numbers at evenly spaced times, for charts."""
    definition = _definition(request, request.path_params["name"])
    params = Params(request.query_params)
    end = params.time("end")
    end = params.now_ns if end is None else end
    start = params.time("start")
    start = end - _DAY_NS if start is None else start
    points = params.limit("points", default=200, maximum=MAX_POINTS)
    timeout: float | None = request.app.state.query_timeout_seconds
    found = await run_in_threadpool(
        slo_history,
        storage_of(request),
        definition,
        start,
        end,
        points=points,
        timeout_s=timeout or _STATUS_TIMEOUT_S,
    )
    return JSONResponse(_history_json(found))


def _history_json(found: SloHistory) -> dict[str, Any]:
    return {
        "name": found.definition.name,
        "window": window_text(found.definition.window_seconds),
        "stepMs": found.step_ns // _NS_PER_MS,
        "timesUnixMs": [t // _NS_PER_MS for t in found.times_ns],
        "windows": {
            window_text(seconds): {
                "total": [c.total for c in counts],
                "bad": [c.bad for c in counts],
            }
            for seconds, counts in sorted(found.counts.items())
        },
        "objectives": [
            {
                "name": objective.name,
                "target": objective.target,
                "budgetRemaining": found.budget_remaining(objective),
                "burnRates": {
                    window_text(seconds): rates
                    for seconds, rates in sorted(found.burn_rates(objective).items())
                },
            }
            for objective in found.definition.objectives
        ],
    }


def _status_json(found: SloStatus, alerts: dict[str, Alert]) -> dict[str, Any]:
    definition = found.definition
    return {
        "name": definition.name,
        "displayName": definition.display_name,
        "service": definition.service,
        "window": window_text(definition.window_seconds),
        "timeUnixMs": found.at_ns // _NS_PER_MS,
        "windows": [
            {
                "window": window_text(seconds),
                "seconds": seconds,
                "total": counts.total,
                "good": counts.good,
                "bad": counts.bad,
            }
            for seconds, counts in sorted(found.counts.items())
        ],
        "objectives": [
            _objective_json(definition, objective, alerts) for objective in found.objectives
        ],
    }


def _objective_json(
    definition: SloDefinition, found: ObjectiveStatus, alerts: dict[str, Alert]
) -> dict[str, Any]:
    objective = found.objective
    return {
        "name": objective.name,
        "target": objective.target,
        "errorBudget": objective.error_budget,
        "sli": found.sli,
        "good": found.counts.good,
        "total": found.counts.total,
        "budgetRemaining": found.budget_remaining,
        "burnRates": {
            window_text(seconds): rate for seconds, rate in sorted(found.burn_rates.items())
        },
        "alerts": [
            _alert_status(
                rule, found.firing[rule.name], _alert_of(alerts, definition, objective.name, rule)
            )
            for rule in BURN_RULES
        ],
    }


def _alert_of(
    alerts: dict[str, Alert], definition: SloDefinition, objective: str, rule: BurnRule
) -> Alert | None:
    return next(
        (
            a
            for a in alerts.values()
            if (a.slo, a.objective, a.rule) == (definition.name, objective, rule.name)
        ),
        None,
    )


def _alert_status(rule: BurnRule, holds: bool, alert: Alert | None) -> dict[str, Any]:
    return {
        "name": rule.name,
        "severity": rule.severity,
        "longWindow": window_text(rule.long_seconds),
        "shortWindow": window_text(rule.short_seconds),
        "factor": rule.factor,
        "conditionHolds": holds,
        "state": "inactive" if alert is None else alert.state,
        "activeAtUnixMs": None if alert is None else alert.active_at_ns // _NS_PER_MS,
        "resolvedAtUnixMs": None
        if alert is None or alert.resolved_at_ns is None
        else alert.resolved_at_ns // _NS_PER_MS,
    }


# --- Prometheus's shapes -----------------------------------------------------------------


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
    for definition in _definitions(request):
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
    book = _book(request)
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


def slo_routes() -> list[Route]:
    """The routes of otelite's own SLO API, for ``create_app`` (the Prometheus ones are
    served by ``_prometheus`` with ``rules`` and ``alerts``)."""
    return [
        Route("/api/slos", list_slos, methods=["GET"]),
        Route("/api/slos", apply_slos, methods=["POST"]),
        Route("/api/slos/{name}/status", status, methods=["GET"]),
        Route("/api/slos/{name}/history", history, methods=["GET"]),
        Route("/api/slos/{name}", get_slo, methods=["GET"]),
        Route("/api/slos/{name}", put_slo, methods=["PUT"]),
        Route("/api/slos/{name}", delete_slo, methods=["DELETE"]),
    ]
