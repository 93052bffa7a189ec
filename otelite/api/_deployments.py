"""``GET /api/deployments``: when each service's version changed, with RED before and after.

Parameters: ``service`` (every service when absent), ``start`` and ``end`` (the last hour
by default; at most 7 days apart), ``settle`` (how long other versions must serve
without a version for it to count as replaced; 5m by default) and ``window`` (how far
before and after a deploy its RED reaches; 15m by default, at most 1h). How deploys are
found and what is read: ``otelite.analysis.find_deployments``.

The answer::

    {
      "startUnixMs": 1700000000000, "endUnixMs": 1700003600000,
      "bucketMs": 3600, "settleMs": 300000, "windowMs": 900000,
      "truncated": false, "warnings": [],
      "versions": [{"service": "catalog", "version": "1.8.3",
                    "firstSeenUnixMs": ..., "lastSeenUnixMs": ...}, ...],
      "deployments": [{
        "service": "catalog", "version": "1.9.0", "previous": ["1.8.3"],
        "timeUnixMs": ...,            the new version's first span
        "rollback": false,            the version had served before and was replaced
        "rolloutEndUnixMs": ...,      the replaced versions' last span; null while serving
        "before": {"startUnixMs": ..., "endUnixMs": ..., <RED>,
                   "versions": [{"version": "1.8.3", <RED>}, ...]},
        "after": {...}
      }, ...]
    }

``settleMs`` is the settle used: never below ``bucketMs`` (the range over 1000, at least
a second), since a gap inside a bucket cannot be seen. ``<RED>`` is ``requestCount``,
``errorCount``, ``ratePerSecond``, ``errorRate`` (errors per request) and ``p50Ms``,
``p95Ms``, ``p99Ms`` (null without requests), as ``/api/ui/services`` gives them.
Deployments come oldest first; ``truncated`` and ``warnings`` say when rows or deploys
were cut.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import SETTLE_NS, WINDOW_NS, Deployments, Red, RedWindow, find_deployments
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest

__all__ = ["deployment_routes"]

_MS = 1_000_000
_MAX_WINDOW_NS = 3600 * 10**9


async def deployments(request: Request) -> Response:
    """``GET /api/deployments``: see the module docstring."""
    storage_of(request)  # a refused tenant is the server's answer, before the parameters
    params = Params(request.query_params)
    time, service = params.time_range(), params.text("service")
    settle, window = params.duration_ns("settle"), params.duration_ns("window")
    settle = SETTLE_NS if settle is None else settle
    window = WINDOW_NS if window is None else window
    if window > _MAX_WINDOW_NS:
        raise InvalidRequest(f"window: at most 1h, got {window / 60e9:.0f}m")
    found = await run_in_threadpool(
        find_deployments,
        storage_of(request),
        time,
        service,
        settle_ns=settle,
        window_ns=window,
    )
    return JSONResponse(deployments_json(found))


def deployments_json(found: Deployments) -> dict[str, Any]:
    """The answer's JSON form (see the module docstring)."""
    return {
        "startUnixMs": found.start_ns // _MS,
        "endUnixMs": found.end_ns // _MS,
        "bucketMs": found.bucket_ns / _MS,
        "settleMs": found.settle_ns / _MS,
        "windowMs": found.window_ns / _MS,
        "truncated": found.truncated,
        "warnings": list(found.warnings),
        "versions": [
            {
                "service": v.service,
                "version": v.version,
                "firstSeenUnixMs": v.first_ns // _MS,
                "lastSeenUnixMs": v.last_ns // _MS,
            }
            for v in found.versions
        ],
        "deployments": [
            {
                "service": d.service,
                "version": d.version,
                "previous": list(d.previous),
                "timeUnixMs": d.time_ns // _MS,
                "rollback": d.rollback,
                "rolloutEndUnixMs": None if d.rollout_end_ns is None else d.rollout_end_ns // _MS,
                "before": _window(d.before),
                "after": _window(d.after),
            }
            for d in found.deploys
        ],
    }


def _window(window: RedWindow | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "startUnixMs": window.start_ns // _MS,
        "endUnixMs": window.end_ns // _MS,
        **_red(window.service),
        "versions": [{"version": version, **_red(red)} for version, red in window.versions],
    }


def _red(red: Red) -> dict[str, Any]:
    return {
        "requestCount": red.request_count,
        "errorCount": red.error_count,
        "ratePerSecond": red.rate_per_second,
        "errorRate": red.error_rate,
        "p50Ms": _ms(red.p50_ns),
        "p95Ms": _ms(red.p95_ns),
        "p99Ms": _ms(red.p99_ns),
    }


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / _MS


def deployment_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    return [Route("/api/deployments", deployments)]
