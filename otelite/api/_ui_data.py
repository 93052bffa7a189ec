"""Endpoints the web UI needs beyond the query API: server facts, RED trends, completions.

=====================================  ==================================================
``GET /api/ui/info``                   the OTLP endpoints (``otlp.http``, ``otlp.grpc``;
                                       null before the receivers listen), ``version``,
                                       ``storage`` (``mode`` memory|disk, ``dataDir``
                                       the directory's name only), ``multiTenant`` and
                                       ``tenantRequired`` (must requests name a tenant)
``GET /api/ui/services``               per service: requests, errors, p50/p95/p99 (ms)
                                       over ``start``/``end``, and the same per time
                                       bucket (``buckets``, default 30) for sparklines;
                                       ``requestsQuery``, the TraceQL of its requests
``GET /api/ui/attributes``             ``signal`` (spans|logs) ``service start end``:
                                       attribute keys seen in recent records, most common
                                       first, each with its most common values
=====================================  ==================================================
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite import __version__
from otelite.analysis import Figures
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._service_map import figures_json
from otelite.api._storage import rows, rows_of_each
from otelite.query import (
    Table,
    attribute_sample_plan,
    requests_traceql,
    service_red_plan,
    service_trend_plan,
)

__all__ = ["ServerInfo", "ServerInfoSource", "ui_data_routes"]

_MS = 1_000_000
_SECOND = 1_000_000_000
_SAMPLE_RECORDS = 2000
_MAX_KEYS = 200
_MAX_VALUES = 20
_MAX_VALUE_CHARS = 200


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Where the running server takes OTLP (bound ports, also when 0 was asked) and keeps data."""

    host: str
    otlp_http_port: int
    otlp_grpc_port: int
    tls: bool = False
    data_dir: Path | None = None
    """None when data is kept in memory; only its last component is ever shown."""
    multi_tenant: bool = False
    tenant_required: bool = False
    """Multi-tenant without a default tenant: requests must name one (X-Scope-OrgID)."""


ServerInfoSource = Callable[[], ServerInfo | None]
"""Returns the server's facts; None while the receivers are not listening yet."""

# Listening on every address: the host a browser reached the API by is the one to show.
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


async def server_info(request: Request) -> Response:
    """``GET /api/ui/info``: OTLP endpoints, version and storage mode, for the empty state."""
    source: ServerInfoSource | None = request.app.state.server_info
    info = None if source is None else source()
    if info is None:
        return JSONResponse({"version": __version__, "otlp": None, "storage": None})
    host = (request.url.hostname or "localhost") if info.host in _WILDCARD_HOSTS else info.host
    host = f"[{host}]" if ":" in host else host
    scheme = "https" if info.tls else "http"
    storage = (
        {"mode": "memory"}
        if info.data_dir is None
        else {"mode": "disk", "dataDir": info.data_dir.name}
    )
    return JSONResponse(
        {
            "version": __version__,
            "otlp": {
                "http": f"{scheme}://{host}:{info.otlp_http_port}",
                "grpc": f"{scheme}://{host}:{info.otlp_grpc_port}",
                "tls": info.tls,
            },
            "storage": storage,
            "multiTenant": info.multi_tenant,
            "tenantRequired": info.tenant_required,
        }
    )


class _Signal(enum.Enum):
    SPANS = Table.SPANS
    LOGS = Table.LOGS


def _red(row: dict[str, Any], seconds: float) -> dict[str, Any]:
    return figures_json(Figures.of_row(row, seconds))


async def service_stats(request: Request) -> Response:
    """``GET /api/ui/services``: RED figures per service, in total and per time bucket."""
    params = Params(request.query_params)
    time, service = params.time_range(), params.text("service")
    buckets = params.limit("buckets", default=30, maximum=500)
    assert time.start is not None and time.end is not None  # the default window bounds both
    span = max(1, time.end - time.start)
    bucket_ns = max(_SECOND, -(-span // buckets))
    totals, trends = await rows_of_each(
        request,
        [service_red_plan(time, service), service_trend_plan(time, bucket_ns, service)],
    )
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in trends:
        by_name.setdefault(row["name"], []).append(
            {"startUnixMs": row["bucket_ns"] // _MS, **_red(row, bucket_ns / _SECOND)}
        )
    found = [
        {
            "name": row["name"],
            **_red(row, span / _SECOND),
            "trend": by_name.get(row["name"], []),
            "requestsQuery": requests_traceql(row["name"]),
        }
        for row in totals
    ]
    return JSONResponse(
        {
            "startUnixMs": time.start // _MS,
            "endUnixMs": time.end // _MS,
            "bucketMs": bucket_ns / _MS,
            "services": found,
        }
    )


async def attribute_completions(request: Request) -> Response:
    """``GET /api/ui/attributes``: keys (record's own, then resource) and common values."""
    params = Params(request.query_params)
    signal = params.choice("signal", _Signal) or _Signal.SPANS
    plan = attribute_sample_plan(
        signal.value, params.time_range(), _SAMPLE_RECORDS, params.text("service")
    )
    keys: Counter[str] = Counter()
    values: dict[str, Counter[str]] = {}
    for row in await rows(request, plan):
        for key, value in (*(row["record"] or ()), *(row["resource"] or ())):
            keys[key] += 1
            if len(value) <= _MAX_VALUE_CHARS:
                values.setdefault(key, Counter())[value] += 1
    found = [
        {
            "key": key,
            "count": count,
            "values": [v for v, _ in values.get(key, Counter()).most_common(_MAX_VALUES)],
        }
        for key, count in keys.most_common(_MAX_KEYS)
    ]
    return JSONResponse({"keys": found})


def ui_data_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    return [
        Route("/api/ui/info", server_info),
        Route("/api/ui/services", service_stats),
        Route("/api/ui/attributes", attribute_completions),
    ]
