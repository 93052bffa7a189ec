"""Resources (a trace, a service) and prompts (an alert to investigate, a slow service).

Resources are what a client can attach to a conversation by address: ``otelite://trace/ID``
is the ``get_trace`` answer, ``otelite://service/NAME`` a service's page in brief (its RED
figures over the last hour, its busiest operations, its recent deploys and its SLOs).
Prompts are the two questions people bring most, written as the steps an experienced
person takes with otelite's tools, so that an agent starts from the evidence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from mcp.server.mcpserver import Context, MCPServer, UserMessage
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import Field

from otelite.api.mcp._answers import Call, known_service, path_segment
from otelite.api.mcp._calls import QueryApi
from otelite.api.mcp._pages import shortened
from otelite.api.mcp._times import period
from otelite.api.mcp._trace_tools import ApiOf, trace_text

__all__ = ["register_prompts", "register_resources"]

_LISTED = 10
_DAY_NS = 24 * 3600 * 10**9
_DEPLOY_FIELDS = ("version", "previous", "timeUnixMs", "rollback", "before", "after")


def register_resources(server: MCPServer, api_of: ApiOf) -> None:
    """Add the trace and service resources to ``server``."""

    @server.resource(
        "otelite://trace/{trace_id}",
        name="trace",
        title="A trace",
        mime_type="application/json",
        description="One trace as get_trace answers it: spans most telling first.",
    )
    async def trace(trace_id: str, ctx: Context) -> str:
        async with _resource(api_of, ctx) as api:
            return await trace_text(api, trace_id, Call("get_trace", None, {}))

    @server.resource(
        "otelite://service/{name}",
        name="service",
        title="A service",
        mime_type="application/json",
        description="One service in brief: RED figures over the last hour, its busiest "
        "operations, its deploys of the last day and its SLOs.",
    )
    async def service(name: str, ctx: Context) -> str:
        async with _resource(api_of, ctx) as api:
            return await _service(api, name)


async def _service(api: QueryApi, name: str) -> str:
    hour = period(None, None)
    figures = await api.json("/api/ui/services", {**hour.seconds, "service": name, "buckets": 1})
    found = [s for s in figures["services"] if s["name"] == name]
    if not found:
        await known_service(api, name)
    operations = await api.json(f"/api/services/{path_segment(name)}/operations", hour.seconds)
    busiest = sorted(operations["operations"], key=lambda o: (-o["spanCount"], o["name"]))
    day = period(None, None, _DAY_NS)
    deploys = (await api.json("/api/deployments", {**day.seconds, "service": name}))["deployments"]
    slos = (await api.json("/api/slos"))["slos"]
    brief = {
        "service": name,
        "lastHour": {k: v for k, v in found[0].items() if k != "trend"} if found else None,
        "operations": busiest[:_LISTED],
        "operationCount": len(busiest),
        "deploymentsLastDay": [_deploy(d) for d in deploys[-_LISTED:]],
        "deploymentCount": len(deploys),
        "slos": [
            {k: v for k, v in slo.items() if k != "document"}
            for slo in slos
            if slo.get("service") == name
        ][:_LISTED],
        "more": "list_operations, recent_deployments and slo_status give the rest",
    }
    return orjson.dumps(shortened(brief)[0]).decode()


def _deploy(found: dict[str, Any]) -> dict[str, Any]:
    return {
        k: found.get(k)
        for k in ("version", "previous", "timeUnixMs", "rollback", "before", "after")
    }


@asynccontextmanager
async def _resource(api_of: ApiOf, ctx: Context) -> AsyncIterator[QueryApi]:
    """The query API for a resource read; its refusals as the resource errors clients
    expect (not found, or the API's reason)."""
    try:
        async with api_of(ctx) as api:
            yield api
    except ToolError as error:
        message = str(error)
        if "not found" in message or "no span of the last 7 days" in message:
            raise ResourceNotFoundError(message) from None
        raise ResourceError(message) from None


def register_prompts(server: MCPServer) -> None:
    """Add the investigation prompts to ``server``."""

    @server.prompt(title="Investigate an alert")
    def investigate_alert(
        alert: Annotated[str, Field(description="the alert's name or its SLO, as it fires")],
    ) -> list[UserMessage]:
        """Find what an alert (an SLO burn-rate alert) is about and where it comes from."""
        return [
            UserMessage(
                f"The alert {alert!r} is firing. Find out what is wrong, with evidence.\n"
                "1. firing_alerts: read its labels (slo, service, severity) and since when.\n"
                "2. slo_status for its SLO: the SLI, the budget left and the burn rates.\n"
                "3. service_map around its service: which calls fail or slowed down.\n"
                "4. compare_groups with selection { status = error } !< { status = error } "
                "(where errors start) against the rest, over the alert's period.\n"
                "5. recent_deployments of the services involved: did a deploy start it?\n"
                "6. search_traces for a failing request and get_trace on it: read where "
                "the failure starts.\n"
                "Answer with the cause, the evidence (trace ids, figures) and what to check next."
            )
        ]

    @server.prompt(title="Why is this service slow?")
    def why_is_service_slow(
        service: Annotated[str, Field(description="the service's name (service.name)")],
        since: Annotated[str, Field(description="how far back to look, e.g. 1h")] = "1h",
    ) -> list[UserMessage]:
        """Find what a service's slow requests wait on, compared with its usual ones."""
        name = orjson.dumps(service).decode()  # a TraceQL string: quotes escaped
        slow = f"{{ resource.service.name = {name} && kind = server && duration > P95 }}"
        return [
            UserMessage(
                f"The service {service!r} is slow (over the last {since}). Find why, with "
                "evidence.\n"
                f"1. list_operations for {service!r} (start {since}): which operations' "
                "p95/p99 are high, and how busy they are.\n"
                f"2. critical_path with q = {slow} (the p95 from step 1 in place of P95) "
                "against the rest: which operations the slow requests' time goes to.\n"
                "3. search_traces for the slowest of them and get_trace on one: the critical "
                "path in it.\n"
                "4. compare_groups: the slow requests against the rest, to see which "
                "attribute values set them apart.\n"
                f"5. recent_deployments of {service!r} and of what it calls (service_map).\n"
                "Answer with where the time goes, since when, and the evidence."
            )
        ]
