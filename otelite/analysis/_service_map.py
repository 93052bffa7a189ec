"""The service map: services, the databases and other peers they call, and the calls.

Two plans answer it, both computed in SQL: ``ServiceEdges`` (the requests of the service
graph, paired as Tempo pairs them and, beyond Tempo, through a consumer's links to its
producer; totalled per edge and per server) and the services' RED figures
(``service_red_plan``). A *node* is

- a ``service`` (it sent spans): its figures are its requests, by otelite's one
  definition (``service_red_plan``: its server, consumer and root spans), the same the
  services page shows;
- a ``database`` (the server of a database call) or a ``peer`` (an uninstrumented server
  named by a client span's ``peer.service``, ..., ``server.address``): its figures are
  the requests it received, timed by their client spans;
- a ``client``: a virtual caller of a root server span (``user``, or the peer its
  ``peer.service`` names); it receives nothing.

Each node also has a place in a layered drawing (``_map_layout``): callers left of
their callees.

An *edge* is a client (or producer) and the server (or consumer) it called, with the
kind of connection (``""``, ``messaging_system``, ``database``, ``virtual_node``) and
the figures of its requests: latency is the server span's duration, or the client's
where there is no server span.

Every figure is over ``[start, end)``: rate is requests per second of the range, error
rate the share of requests that failed, and p50/p95/p99 interpolate linearly between the
closest ranks (R-7, numpy's default), in milliseconds. Bounds: the range is at most
``MAP_MAX_RANGE_NS`` (a longer one is refused), and the answer keeps the ``max_edges``
busiest edges and ``max_nodes`` busiest nodes, saying so in ``truncated``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from otelite.analysis._map_layout import Placed, layered_layout
from otelite.errors import InvalidRequest
from otelite.query import Plan, ServiceEdges, TimeRange, service_red_plan

__all__ = [
    "MAP_MAX_EDGES",
    "MAP_MAX_NODES",
    "MAP_MAX_RANGE_NS",
    "Figures",
    "MapEdge",
    "MapNode",
    "NodeKind",
    "ServiceMap",
    "build_service_map",
    "service_map_plans",
    "service_map_range",
]

_SECOND = 1_000_000_000
_MS = 1_000_000

MAP_MAX_RANGE_NS = 24 * 3600 * _SECOND
"""The longest range a map covers: a day, as Jaeger's dependencies look back by default."""
MAP_MAX_EDGES = 1000
MAP_MAX_NODES = 500


class NodeKind(enum.Enum):
    """What a node of the map is."""

    SERVICE = "service"
    DATABASE = "database"
    PEER = "peer"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class Figures:
    """Requests over the map's range: how many, how many failed, and latency (ms)."""

    requests: int
    errors: int
    rate_per_second: float
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @classmethod
    def of_row(cls, row: Mapping[str, Any] | None, seconds: float) -> Figures:
        """From a row of ``request_count``, ``error_count``, ``p50_ns``... as both plans
        give them (None: no requests)."""
        if row is None:
            return cls(0, 0, 0.0, 0.0, None, None, None)
        count, errors = int(row["request_count"]), int(row["error_count"])
        p50, p95, p99 = (_ms(row[key]) for key in ("p50_ns", "p95_ns", "p99_ns"))
        return cls(count, errors, count / seconds, errors / count if count else 0.0, p50, p95, p99)


@dataclass(frozen=True, slots=True)
class MapNode:
    """A service, database, peer or virtual caller, with the figures of its requests."""

    name: str
    kind: NodeKind
    figures: Figures
    place: Placed
    """Where a drawing puts it: callers in the layers left of their callees."""


@dataclass(frozen=True, slots=True)
class MapEdge:
    """Calls from ``client`` to ``server`` of one kind, with the figures of those calls."""

    client: str
    server: str
    connection: str
    """``""`` (a call), ``messaging_system``, ``database`` or ``virtual_node``."""
    figures: Figures


@dataclass(frozen=True, slots=True)
class ServiceMap:
    """Nodes by name, edges by client then server; ``truncated`` when some were left out."""

    time: TimeRange
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]
    truncated: bool


def service_map_range(time: TimeRange) -> TimeRange:
    """``time`` when a map may cover it: bounded, and at most ``MAP_MAX_RANGE_NS`` long."""
    if time.start is None or time.end is None:
        raise InvalidRequest("start, end: a service map needs both ends of its range")
    if time.end <= time.start:
        raise InvalidRequest("end: must be after start")
    if time.end - time.start > MAP_MAX_RANGE_NS:
        hours = MAP_MAX_RANGE_NS // (3600 * _SECOND)
        raise InvalidRequest(f"start, end: a service map covers at most {hours}h")
    return time


def service_map_plans(time: TimeRange) -> tuple[Plan, Plan]:
    """The plans whose rows ``build_service_map`` takes: edges, then services' RED."""
    time = service_map_range(time)
    return ServiceEdges(time), service_red_plan(time)


def build_service_map(
    time: TimeRange,
    edge_rows: Iterable[Mapping[str, Any]],
    red_rows: Iterable[Mapping[str, Any]],
    *,
    service: str | None = None,
    max_edges: int = MAP_MAX_EDGES,
    max_nodes: int = MAP_MAX_NODES,
) -> ServiceMap:
    """The map from the rows of ``service_map_plans(time)``; with ``service``, only the
    edges to and from it, and their nodes."""
    assert time.start is not None and time.end is not None
    seconds = (time.end - time.start) / _SECOND
    red = {str(row["name"]): row for row in red_rows}
    edge_rows = list(edge_rows)
    per_server = {str(r["server"]): r for r in edge_rows if r["per_server"]}
    edges = [r for r in edge_rows if not r["per_server"]]
    if service is not None:
        edges = [r for r in edges if service in (r["client"], r["server"])]
    kinds = _kinds(edges, red if service is None else {})
    if service is not None and service in red:
        kinds.setdefault(service, NodeKind.SERVICE)
    # Busiest first, then by name, so what is cut is the least and always the same.
    edges.sort(key=lambda r: (-r["request_count"], r["client"], r["server"], r["connection"]))
    nodes = sorted(kinds, key=lambda name: (-_requests(name, kinds, red, per_server), name))
    truncated = len(edges) > max_edges or len(nodes) > max_nodes
    kept = set(nodes[:max_nodes])
    edges = [r for r in edges[:max_edges] if r["client"] in kept and r["server"] in kept]
    places = layered_layout(kept, ((r["client"], r["server"]) for r in edges))
    return ServiceMap(
        time,
        tuple(
            MapNode(
                name,
                kinds[name],
                Figures.of_row(_row(name, kinds, red, per_server), seconds),
                places[name],
            )
            for name in sorted(kept)
        ),
        tuple(
            MapEdge(r["client"], r["server"], r["connection"], Figures.of_row(r, seconds))
            for r in sorted(edges, key=lambda r: (r["client"], r["server"], r["connection"]))
        ),
        truncated,
    )


def _kinds(edges: list[Mapping[str, Any]], services: Iterable[str]) -> dict[str, NodeKind]:
    """Each node's kind: a name that is an instrumented service anywhere is a service."""
    kinds = dict.fromkeys(services, NodeKind.SERVICE)
    virtual: dict[str, NodeKind] = {}
    for row in edges:
        client, server, end = row["client"], row["server"], row["virtual"]
        if end == "client":
            virtual.setdefault(client, NodeKind.CLIENT)
        else:
            kinds[client] = NodeKind.SERVICE
        if end == "server":
            database = row["connection"] == "database"
            # A database beats a peer: it is what the name is known to be.
            if database or server not in virtual:
                virtual[server] = NodeKind.DATABASE if database else NodeKind.PEER
        else:
            kinds[server] = NodeKind.SERVICE
    return {**virtual, **kinds}


def _row(
    name: str,
    kinds: Mapping[str, NodeKind],
    red: Mapping[str, Mapping[str, Any]],
    per_server: Mapping[str, Mapping[str, Any]],
) -> Mapping[str, Any] | None:
    """The row of a node's figures: a service's requests, else the requests it received."""
    return red.get(name) if kinds[name] is NodeKind.SERVICE else per_server.get(name)


def _requests(
    name: str,
    kinds: Mapping[str, NodeKind],
    red: Mapping[str, Mapping[str, Any]],
    per_server: Mapping[str, Mapping[str, Any]],
) -> int:
    row = _row(name, kinds, red, per_server)
    return 0 if row is None else int(row["request_count"])


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / _MS
