"""Tools over otelite's analyses: the service map and critical paths over many traces
(comparisons are in ``_compare_tools``, the SLO, alert and deploy tools in
``_health_tools``; all are registered here).

Each tool answers from one analysis API and keeps what an agent reasons with: names,
rates, shares and latencies rounded, ranked most telling first, paged within the budget.
The API's own bounds (``truncated``, ``sampled``, ``cut``) become ``cut`` notes. Where the
API names a parameter differently from the tool (``q`` for ``query``), its refusal is
reworded to name the tool's argument, so that the model knows what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from otelite.api.mcp._answers import Call, figures, known_service, rounded
from otelite.api.mcp._compare_tools import register_compare_tools
from otelite.api.mcp._health_tools import register_health_tools
from otelite.api.mcp._pages import page
from otelite.api.mcp._times import Period, iso_ns
from otelite.api.mcp._trace_tools import READ_ONLY, ApiOf, CursorArg, End, MaxChars, Start

__all__ = ["register_analysis_tools"]

_MS = 1_000_000
_NODE_SHARE = 3
"""The service map's nodes take at most a third of the first page's budget."""


def register_analysis_tools(server: MCPServer, api_of: ApiOf) -> None:
    """Add the analysis, comparison, SLO, alert and deploy tools to ``server``."""

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def service_map(
        ctx: Context,
        service: Annotated[str, Field(description="only the calls to and from this service")] = "",
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """Who calls whom in the range (at most 24h), from the spans: services, databases
        and remote peers as nodes, and the calls between them as edges, each with its
        requests per second, error rate and p50/p95/p99 latency in ms. Edges come worst
        first: by error rate, then by p99. Use it to see where failures and slowness sit
        between services, and which callers suffer from a callee.
        Example: {"service": "checkout", "start": "now-30m"}.
        """
        call = Call(
            "service_map",
            cursor,
            {"service": service or None, "start": start, "end": end, "max_chars": max_chars},
        )
        when = call.period()
        name = call.args.get("service")
        async with api_of(ctx) as api:
            found = await api.json("/api/service-graph", {**when.seconds, "service": name})
            if name and not found["nodes"]:
                await known_service(api, str(name))
        edges = [_edge(e) for e in found["edges"]]
        edges.sort(key=_worst_first)
        nodes = sorted((_node(n) for n in found["nodes"]), key=_worst_first)
        head: dict[str, Any] = {
            "service": name,
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
            "nodeCount": len(nodes),
        }
        notes = []
        if found["truncated"]:
            limits = found["limits"]
            notes.append(
                f"the map holds at most {limits['maxNodes']} nodes and {limits['maxEdges']} "
                "edges: the rest were left out"
            )
        if not call.offset:  # the nodes come once, on the first page
            head["nodes"] = _fitting(nodes, call.budget // _NODE_SHARE)
            if len(head["nodes"]) < len(nodes):
                notes.append(
                    f"{len(head['nodes'])} of {len(nodes)} nodes listed, worst first; "
                    "ask with `service` for one's calls"
                )
        return page(head, "edges", edges, budget=call.budget, cursor=call.cursor, notes=notes)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def critical_path(
        ctx: Context,
        # Plain str (as every query argument): the SDK reads any other string that looks
        # like JSON as JSON.
        query: Annotated[
            str,
            Field(
                description="TraceQL: the traces to explain, e.g. { duration > 2s } or "
                '{ resource.service.name = "checkout" && status = error }; default { }'
            ),
        ] = "",
        baseline: Annotated[
            str,
            Field(
                description="TraceQL: the traces to compare with; default: the other "
                "traces of the range (or `query` itself in the baseline range)"
            ),
        ] = "",
        baseline_start: Annotated[
            str | None, Field(description="start of the baseline's range (with baseline_end)")
        ] = None,
        baseline_end: Annotated[
            str | None, Field(description="end of the baseline's range (default: the range)")
        ] = None,
        start: Start = None,
        end: End = None,
        limit: Annotated[
            int, Field(description="newest traces read per group (1 to 1000)", ge=1, le=1000)
        ] = 100,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """Which operations (service and span name) the matched traces spent their time
        waiting on: their critical paths added up, each operation with its share of the
        selection's critical-path time next to its share in a baseline, and the
        difference. Ranked by share of the selection's path time. Use it to explain why
        slow or failing requests are slow compared with the rest, or with an earlier
        period (baseline_start/baseline_end). One trace's critical path: get_trace."""
        call = Call(
            "critical_path",
            cursor,
            {
                "query": query or None,
                "baseline": baseline or None,
                "baseline_start": baseline_start,
                "baseline_end": baseline_end,
                "start": start,
                "end": end,
                "limit": limit,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        against = call.optional_period("baseline_start", "baseline_end")
        args = call.args
        async with api_of(ctx) as api:
            found = await api.json(
                "/api/critical-path",
                {
                    **when.seconds,
                    "q": args.get("query"),
                    "baseline": args.get("baseline"),
                    "baselineStart": None if against is None else against.seconds["start"],
                    "baselineEnd": None if against is None else against.seconds["end"],
                    "limit": args.get("limit", 100),
                },
                names={
                    "q": "query",
                    "baselineStart": "baseline_start",
                    "baselineEnd": "baseline_end",
                },
            )
        operations = [_operation(o) for o in found["operations"]]
        head = {
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
            "selection": _path_group(found["selection"], when),
            "baseline": _path_group(found["baseline"], when),
            "operationCount": found["operationCount"],
        }
        notes = []
        for side in ("selection", "baseline"):
            group = found[side]
            if group["sampled"]:
                notes.append(
                    f"{side}: more traces matched than `limit`; the newest "
                    f"{found['limits']['traces']} were read"
                )
            if group["cut"]:
                notes.append(
                    f"{side}: traces beyond {found['limits']['spans']} spans were left out"
                )
        if found["operationCount"] > len(operations):
            notes.append(
                f"only the first {len(operations)} of {found['operationCount']} operations"
            )
        return page(
            head, "operations", operations, budget=call.budget, cursor=call.cursor, notes=notes
        )

    register_compare_tools(server, api_of)
    register_health_tools(server, api_of)


def _node(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": found["id"], "kind": found["kind"], **figures(found)}


def _edge(found: Mapping[str, Any]) -> dict[str, Any]:
    edge = {"client": found["client"], "server": found["server"]}
    if found["connection"]:
        edge["connection"] = found["connection"]
    return {**edge, **figures(found)}


def _worst_first(item: Mapping[str, Any]) -> tuple[float, float, str]:
    """Error rate, then p99 (unknown last), descending; then by name for a stable order."""
    return (
        -(item["errorRate"] or 0.0),
        -(item["p99Ms"] or 0.0),
        str(item.get("name") or (item["client"], item["server"], item.get("connection"))),
    )


def _fitting(items: list[dict[str, Any]], room: int) -> list[dict[str, Any]]:
    """The first ``items`` whose JSON fits in ``room`` characters (at least one)."""
    kept: list[dict[str, Any]] = []
    used = 0
    for item in items:
        used += len(orjson.dumps(item)) + 1
        if used > room and kept:
            break
        kept.append(item)
    return kept


def _path_group(found: Mapping[str, Any], when: Period) -> dict[str, Any]:
    group = {
        "query": found["query"],
        "traces": found["traces"],
        "meanPathMs": _ms(found["meanPathNs"]),
    }
    start, end = int(found["start"]), int(found["end"])
    if (start, end) != (when.start_ns, when.end_ns):  # a baseline period of its own
        group.update({"start": iso_ns(start), "end": iso_ns(end)})
    if found.get("others"):
        group["others"] = True
    return group


def _operation(found: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "service": found["service"],
        "name": found["name"],
        "share": rounded(found["share"], 4),
        "baselineShare": rounded(found["baselineShare"], 4),
        "difference": rounded(found["difference"], 4),
        "perTraceMs": _ms(found["perTraceNs"]),
        "traces": found["traces"],
        "baselineTraces": found["baselineTraces"],
        "exampleTraceId": found["exampleTraceId"],
    }


def _ms(ns: float | None) -> float | None:
    """Nanoseconds in ms (none when the API has none: a group without traces)."""
    return None if ns is None else round(ns / _MS, 3)
