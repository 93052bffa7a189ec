"""SLOs over HTTP: their definitions, their status and their history.

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
                                       ``time`` (default now: the evaluator's last
                                       finding, when less than two intervals old;
                                       ``timeUnixMs`` says when), with each alert's
                                       condition and state
``GET /api/slos/{name}/history``       the budget remaining and the burn rates at up
                                       to ``points`` (default 200) whole minutes over
                                       ``start``..``end`` (default the last day; 30 days
                                       at most), for charts
=====================================  ==================================================

A bad document is refused (400) with the field at fault and the reason, and nothing of
it is applied. Each tenant has SLOs of its own. The status is computed when asked, from
the stored data; alert states come from the evaluator, which evaluates every SLO on a
schedule. ``_slo_rules`` answers for them on Prometheus's ``/api/v1/rules`` and
``/api/v1/alerts``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import (
    BURN_RULES,
    SLO_HISTORY_MAX_POINTS,
    Alert,
    BurnRule,
    ObjectiveStatus,
    SloBook,
    SloCatalog,
    SloDefinition,
    SloEvaluator,
    SloHistory,
    SloStatus,
    parse_documents,
    slo_history,
    slo_status,
    window_text,
)
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import storage_of, tenant_id_of
from otelite.errors import InvalidRequest, NotFound, RequestTooLarge

__all__ = ["slo_routes", "tenant_book", "tenant_slos"]

_MAX_DOCUMENT_BYTES = 1 << 20
_NS_PER_MS = 1_000_000
_STATUS_TIMEOUT_S = 60.0
_DAY_NS = 86400 * 1_000_000_000


def _catalog(request: Request) -> SloCatalog:
    catalog: SloCatalog = request.app.state.slos
    return catalog


def tenant_book(request: Request) -> SloBook | None:
    """The request's tenant's SLOs, if it has any."""
    return _catalog(request).find(tenant_id_of(request))


def tenant_slos(request: Request) -> list[SloDefinition]:
    book = tenant_book(request)
    return [] if book is None else book.slos()


def _definition(request: Request, name: str) -> SloDefinition:
    book = tenant_book(request)
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
    return JSONResponse({"slos": [_summary(d) for d in tenant_slos(request)]})


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
    book = tenant_book(request)
    if book is None:
        raise NotFound(f"no SLO named {name!r}")

    await run_in_threadpool(book.delete, name, time.time_ns())
    return JSONResponse({"deleted": name})


async def status(request: Request) -> Response:
    """``GET /api/slos/{name}/status``: computed now from the stored data."""
    definition = _definition(request, request.path_params["name"])
    params = Params(request.query_params)
    at = params.time("time")
    evaluator: SloEvaluator | None = request.app.state.slo_evaluator
    found = None
    if at is None and evaluator is not None:
        # Now: what the schedule found last, when recent, rather than the same again.
        found = evaluator.latest(tenant_id_of(request), definition, params.now_ns)
    if found is None:
        timeout: float | None = request.app.state.query_timeout_seconds
        found = await run_in_threadpool(
            slo_status,
            storage_of(request),
            definition,
            params.now_ns if at is None else at,
            timeout_s=timeout or _STATUS_TIMEOUT_S,
        )
    book = tenant_book(request)
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
    points = params.limit("points", default=200, maximum=SLO_HISTORY_MAX_POINTS)
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


def slo_routes() -> list[Route]:
    """The routes of otelite's own SLO API, for ``create_app`` (the Prometheus ones are
    served by ``_prometheus``, with ``_slo_rules``)."""
    return [
        Route("/api/slos", list_slos, methods=["GET"]),
        Route("/api/slos", apply_slos, methods=["POST"]),
        Route("/api/slos/{name}/status", status, methods=["GET"]),
        Route("/api/slos/{name}/history", history, methods=["GET"]),
        Route("/api/slos/{name}", get_slo, methods=["GET"]),
        Route("/api/slos/{name}", put_slo, methods=["PUT"]),
        Route("/api/slos/{name}", delete_slo, methods=["DELETE"]),
    ]
