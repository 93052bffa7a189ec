"""Analysis over the shared query layer: the answers people on call look for.

The service map, the critical path of one trace and of many, comparisons of two traces
and of two groups of spans, SLOs with their error budgets and burn-rate alerts, and
deployments. Each runs on any ``Storage`` (DuckDB or ClickHouse alike) through
``otelite.query``, bounds what it reads, and says when its answer is sampled or cut.
"""

from __future__ import annotations

from otelite.analysis._map_layout import Placed, layered_layout
from otelite.analysis._service_map import (
    MAX_EDGES,
    MAX_NODES,
    MAX_RANGE_NS,
    Figures,
    MapEdge,
    MapNode,
    NodeKind,
    ServiceMap,
    build_service_map,
    service_map_plans,
    service_map_range,
)

__all__: list[str] = [
    "MAX_EDGES",
    "MAX_NODES",
    "MAX_RANGE_NS",
    "Figures",
    "MapEdge",
    "MapNode",
    "NodeKind",
    "Placed",
    "ServiceMap",
    "build_service_map",
    "layered_layout",
    "service_map_plans",
    "service_map_range",
]
