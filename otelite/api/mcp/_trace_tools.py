"""Tools over traces: services and operations with their RED figures, trace search
(TraceQL or plain filters), and one trace as a ranked outline."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from otelite.api.mcp._answers import Call, known_service, path_segment
from otelite.api.mcp._calls import QueryApi
from otelite.api.mcp._pages import page
from otelite.api.mcp._times import iso_ns
from otelite.api.mcp._trace_tree import trace_outline
from otelite.types import ExportTraceServiceRequest

__all__ = ["READ_ONLY", "ApiOf", "register_trace_tools", "trace_text"]

ApiOf = Callable[[Context], AbstractAsyncContextManager[QueryApi]]
"""The query API as the MCP client calling a tool may use it."""

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Start = Annotated[
    str | None,
    Field(
        description="start of the range: now-1h, 1h (ago), RFC 3339 or Unix seconds; "
        "default: 1h before end"
    ),
]
End = Annotated[str | None, Field(description="end of the range (default: now)")]
MaxChars = Annotated[
    int | None,
    Field(
        description="the most characters the answer may hold (1000 to 100000; "
        "default 12000); the rest comes with the cursor in `more`"
    ),
]
CursorArg = Annotated[
    str | None,
    Field(
        description="the `more.cursor` of an earlier answer of this tool: continues it "
        "(the other arguments are then taken from the cursor)"
    ),
]
_MS = 1_000_000


def register_trace_tools(server: MCPServer, api_of: ApiOf) -> None:
    """Add the trace tools to ``server``."""

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def list_services(
        ctx: Context,
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """The services that sent spans in the range, busiest first, each with its RED
        figures: requests (server, consumer and root spans) per second, error rate, and
        p50/p95/p99 latency in ms. Start here to see what runs and what is unwell.
        Example: {"start": "now-6h"} for the last six hours.
        """
        call = Call("list_services", cursor, {"start": start, "end": end, "max_chars": max_chars})
        when = call.period()
        async with api_of(ctx) as api:
            found = await api.json("/api/ui/services", {**when.seconds, "buckets": 1})
        services = [{k: v for k, v in s.items() if k not in ("trend",)} for s in found["services"]]
        services.sort(key=lambda s: (-(s.get("requestCount") or 0), s["name"]))
        head = {"start": iso_ns(when.start_ns), "end": iso_ns(when.end_ns)}
        return page(head, "services", services, budget=call.budget, cursor=call.cursor)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def list_operations(
        ctx: Context,
        service: Annotated[str, Field(description="the service's name (service.name)")] = "",
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """One service's operations (span name and kind) in the range, busiest first:
        spans, errors, p50/p95/p99 in ms, and spans per second.
        Example: {"service": "checkout", "start": "now-1h"}.
        """
        call = Call(
            "list_operations",
            cursor,
            {"service": service, "start": start, "end": end, "max_chars": max_chars},
        )
        when = call.period()
        name = call.text("service")
        async with api_of(ctx) as api:
            found = await api.json(f"/api/services/{path_segment(name)}/operations", when.seconds)
            operations = found["operations"]
            if not operations:
                await known_service(api, name)
        seconds = (when.end_ns - when.start_ns) / 1e9
        for operation in operations:
            operation["perSecond"] = round(operation["spanCount"] / seconds, 4)
        operations.sort(key=lambda o: (-o["spanCount"], o["name"]))
        head = {"service": name, "start": iso_ns(when.start_ns), "end": iso_ns(when.end_ns)}
        return page(head, "operations", operations, budget=call.budget, cursor=call.cursor)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def search_traces(
        ctx: Context,
        # Plain str: the SDK reads any other string argument that looks like JSON as
        # JSON, which would turn the TraceQL `{ }` into an object.
        query: Annotated[
            str,
            Field(
                description='a TraceQL query, e.g. { resource.service.name = "checkout" '
                '&& status = error } or { span.http.route = "/cart" && duration > 500ms }; '
                "leave out to use the filters below"
            ),
        ] = "",
        service: Annotated[str | None, Field(description="filter: a span of this service")] = None,
        operation: Annotated[str | None, Field(description="filter: span name")] = None,
        status: Annotated[
            Literal["error", "ok", "unset"] | None, Field(description="filter: span status")
        ] = None,
        min_duration: Annotated[
            str | None, Field(description="filter: span at least this long, e.g. 250ms")
        ] = None,
        max_duration: Annotated[
            str | None, Field(description="filter: span at most this long, e.g. 2s")
        ] = None,
        start: Start = None,
        end: End = None,
        limit: Annotated[
            int, Field(description="most traces to find (1 to 200)", ge=1, le=200)
        ] = 20,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """Traces in the range with a span matching a TraceQL query, or the plain filters
        (all of them on one span), newest first: root service and operation, start,
        duration, span and error counts, and for TraceQL the matched spans. Then call
        get_trace with a traceId."""
        call = Call(
            "search_traces",
            cursor,
            {
                "query": query or None,
                "service": service,
                "operation": operation,
                "status": status,
                "min_duration": min_duration,
                "max_duration": max_duration,
                "limit": limit,
                "start": start,
                "end": end,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        args = call.args
        async with api_of(ctx) as api:
            if "query" in args:
                if any(k in args for k in ("service", "operation", "status", "min_duration")):
                    raise ToolError("query: give a TraceQL query or the filters, not both")
                found = await api.json(
                    "/api/search",
                    {
                        "q": args["query"],
                        "start": when.start_ns // 10**9,
                        "end": -(-when.end_ns // 10**9),
                        "limit": args.get("limit", 20),
                    },
                )
                traces = [_tempo_trace(t) for t in found.get("traces", [])]
            else:
                found = await api.json(
                    "/api/search/traces",
                    {
                        **when.seconds,
                        "service": args.get("service"),
                        "name": args.get("operation"),
                        "status": args.get("status"),
                        "minDuration": args.get("min_duration"),
                        "maxDuration": args.get("max_duration"),
                        "limit": args.get("limit", 20),
                    },
                )
                traces = [_found_trace(t) for t in found["traces"]]
                if not traces and "service" in args:
                    await known_service(api, str(args["service"]))
        head = {
            "query": args.get("query"),
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
            "limit": args.get("limit", 20),
        }
        notes = []
        if len(traces) >= int(args.get("limit", 20)):
            notes.append("as many traces as `limit` were found: there may be more")
        return page(head, "traces", traces, budget=call.budget, cursor=call.cursor, notes=notes)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def get_trace(
        ctx: Context,
        trace_id: Annotated[str, Field(description="the trace id: 32 hex digits")] = "",
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """One trace, its spans most telling first: those that failed (where the failure
        started first), then those on its critical path (the chain of spans its duration
        waited on) by their time on it, then the slowest. Each span has its parent and
        depth in the tree, service, start and duration (ms), status, and its first
        attributes and events; services' resource attributes are in the head.
        Example: {"trace_id": "5b8efff798038103d269b633813fc60c"}; a long trace goes on with
        {"cursor": <its more.cursor>}.
        """
        call = Call("get_trace", cursor, {"trace_id": trace_id, "max_chars": max_chars})
        trace = call.text("trace_id")
        async with api_of(ctx) as api:
            return await trace_text(api, trace, call)


async def trace_text(api: QueryApi, trace_id: str, call: Call) -> str:
    """The ranked outline of one trace, paged (the ``get_trace`` tool and the trace
    resource)."""
    path_of = f"/api/traces/{path_segment(trace_id)}"
    body = await api.content(path_of, accept="application/protobuf")
    trace = ExportTraceServiceRequest.FromString(body)
    path: dict[str, Any] | None
    try:
        path = await api.json(f"{path_of}/critical-path")
    except ToolError:
        path = None  # the outline stands without it
    head, spans = trace_outline(trace, path)
    return page(head, "spans", spans, budget=call.budget, cursor=call.cursor)


def _found_trace(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "traceId": found["traceId"],
        "rootService": found["rootServiceName"],
        "rootName": found["rootSpanName"],
        "start": iso_ns(int(found["startTimeUnixNano"])),
        "durationMs": found["durationMs"],
        "spanCount": found["spanCount"],
        "errorCount": found["errorCount"],
        "services": found["services"],
    }


def _tempo_trace(found: dict[str, Any]) -> dict[str, Any]:
    stats = found.get("serviceStats", {})
    matched = [
        {
            "spanId": span.get("spanID"),
            "name": span.get("name"),
            "durationMs": round(int(span.get("durationNanos", 0)) / _MS, 3),
            **(
                {"attributes": {a["key"]: _tempo_value(a["value"]) for a in span["attributes"]}}
                if span.get("attributes")
                else {}
            ),
        }
        for spanset in found.get("spanSets", [])
        for span in spanset.get("spans", [])
    ]
    return {
        # Tempo's search leaves out an id's leading zeros; get_trace wants all 32 digits.
        "traceId": str(found["traceID"]).rjust(32, "0"),
        "rootService": found.get("rootServiceName"),
        "rootName": found.get("rootTraceName"),
        "start": iso_ns(int(found["startTimeUnixNano"])),
        "durationMs": found.get("durationMs", 0),
        "spanCount": sum(s.get("spanCount", 0) for s in stats.values()),
        "errorCount": sum(s.get("errorCount", 0) for s in stats.values()),
        "services": sorted(stats),
        "matchedSpans": matched,
        "matched": sum(s.get("matched", 0) for s in found.get("spanSets", [])),
    }


def _tempo_value(value: dict[str, Any]) -> Any:
    return next(iter(value.values()), None)
