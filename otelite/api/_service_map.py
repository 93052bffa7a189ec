"""``GET /api/service-graph``: the service map (``otelite.analysis``) as JSON.

Parameters: ``start``/``end`` (the last hour by default; at most 24 h apart),
``service`` (only the edges to and from it, and their nodes). The answer::

    {"startUnixMs", "endUnixMs", "truncated", "limits": {"maxRangeMs", "maxNodes",
     "maxEdges"},
     "nodes": [{"id", "kind", "layer", "row", <figures>, "requestsQuery"}],
     "edges": [{"client", "server", "connection", <figures>}]}

where ``<figures>`` are ``requestCount``, ``errorCount``, ``ratePerSecond``,
``errorRate``, ``p50Ms``, ``p95Ms``, ``p99Ms`` (null without requests), ``layer`` and
``row`` place a node in a layered drawing (callers in columns left of their callees), and
``requestsQuery`` is the TraceQL query whose matched spans are a service's requests
(null for a node that is not a service), for links to its traces.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import (
    MAP_MAX_EDGES,
    MAP_MAX_NODES,
    MAP_MAX_RANGE_NS,
    Figures,
    NodeKind,
    ServiceMap,
    build_service_map,
    service_map_plans,
)
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import rows_of_each
from otelite.query import TimeRange, requests_traceql

__all__ = ["figures_json", "service_map", "service_map_of", "service_map_routes"]

_MS = 1_000_000


async def service_map_of(request: Request, time: TimeRange, service: str | None) -> ServiceMap:
    """The map of ``time`` from the request's storage (for this API and Jaeger's)."""
    edges, red = await rows_of_each(request, service_map_plans(time))
    return build_service_map(time, edges, red, service=service)


async def service_map(request: Request) -> Response:
    """``GET /api/service-graph``: nodes and edges with their figures over the range."""
    params = Params(request.query_params)
    time = params.time_range()
    found = await service_map_of(request, time, params.text("service"))
    assert time.start is not None and time.end is not None  # the default window bounds both
    return JSONResponse(
        {
            "startUnixMs": time.start // _MS,
            "endUnixMs": time.end // _MS,
            "truncated": found.truncated,
            "limits": {
                "maxRangeMs": MAP_MAX_RANGE_NS // _MS,
                "maxNodes": MAP_MAX_NODES,
                "maxEdges": MAP_MAX_EDGES,
            },
            "nodes": [
                {
                    "id": node.name,
                    "kind": node.kind.value,
                    "layer": node.place.layer,
                    "row": node.place.row,
                    **figures_json(node.figures),
                    "requestsQuery": requests_traceql(node.name)
                    if node.kind is NodeKind.SERVICE
                    else None,
                }
                for node in found.nodes
            ],
            "edges": [
                {
                    "client": edge.client,
                    "server": edge.server,
                    "connection": edge.connection,
                    **figures_json(edge.figures),
                }
                for edge in found.edges
            ],
        }
    )


def figures_json(figures: Figures) -> dict[str, Any]:
    """A node's, an edge's or a service's figures as the web UI reads them."""
    return {
        "requestCount": figures.requests,
        "errorCount": figures.errors,
        "ratePerSecond": figures.rate_per_second,
        "errorRate": figures.error_rate,
        "p50Ms": figures.p50_ms,
        "p95Ms": figures.p95_ms,
        "p99Ms": figures.p99_ms,
    }


def service_map_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    return [Route("/api/service-graph", service_map)]
