"""otelite's MCP server: its tools, resources and prompts, served at ``/mcp`` on the query
port (Streamable HTTP) or over stdio (``otelite mcp``).

Over HTTP the server is stateless and answers in JSON: every POST stands alone (no
session to keep, none lost by a restart or held by one replica), which is all its tools
need, since each answers from the query API at once. The route sits behind the query
API's own guard, so it takes the same tokens; each tool's API calls carry the request's
``Authorization`` and ``X-Scope-OrgID``, so a tenant's token sees only its tenant, as on
every other route.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from otelite import __version__
from otelite.api.mcp._analysis_tools import register_analysis_tools
from otelite.api.mcp._calls import FORWARDED_HEADERS, QueryApi
from otelite.api.mcp._query_tools import register_query_tools
from otelite.api.mcp._resources import register_prompts, register_resources
from otelite.api.mcp._trace_tools import ApiOf, register_trace_tools

__all__ = ["INSTRUCTIONS", "McpEndpoint", "mcp_routes", "mcp_server"]

INSTRUCTIONS = (
    "otelite stores OpenTelemetry traces, metrics and logs. To investigate: list_services "
    "for what runs and its RED figures; search_traces (TraceQL or filters) and get_trace "
    "for requests; answers are JSON within a size budget, and an answer that was cut has "
    "`more.cursor`: call the same tool with only that cursor for the rest."
    " For metrics, list_metrics for their PromQL names, then query_promql; for logs, "
    "query_logql."
    " To explain and watch: service_map, critical_path, compare_traces, compare_groups, "
    "slo_status, firing_alerts and recent_deployments."
)


def mcp_server(api_of: ApiOf) -> MCPServer:
    """The MCP server whose tools reach the query API through ``api_of``."""
    server = MCPServer(
        name="otelite",
        title="otelite",
        version=__version__,
        instructions=INSTRUCTIONS,
        # Tools are added once, here; a second registration is a mistake to hear of.
        warn_on_duplicate_tools=True,
    )
    register_trace_tools(server, api_of)
    register_query_tools(server, api_of)
    register_analysis_tools(server, api_of)
    register_resources(server, api_of)
    register_prompts(server)
    return server


@asynccontextmanager
async def _in_process(ctx: Context) -> AsyncIterator[QueryApi]:
    """The query API of the app serving this MCP request, called in process with the
    request's credentials."""
    request = ctx.request_context.request
    if not isinstance(request, Request):
        raise RuntimeError("an MCP request over HTTP carries its HTTP request")
    headers = [
        (name, value) for name in FORWARDED_HEADERS for value in request.headers.getlist(name)
    ]
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://otelite", headers=headers, timeout=None
    ) as client:
        yield QueryApi(client)


class McpEndpoint:
    """The ASGI endpoint of ``/mcp``. The SDK's session manager runs in a task of the
    serving loop, started by the first request (the query port's server runs no ASGI
    lifespan) and stopped by ``shutdown``."""

    def __init__(self) -> None:
        server = mcp_server(_in_process)
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            # The query API's guard checks tokens; a Host check would refuse proxies and
            # every name otelite is reached by.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._manager = server.session_manager
        self._app = StreamableHTTPASGIApp(self._manager)
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._started()
        await self._app(scope, receive, send)

    async def _started(self) -> None:
        if self._task is None:
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(self._ready), name="mcp sessions")
        assert self._ready is not None
        await self._ready.wait()

    async def _run(self, ready: asyncio.Event) -> None:
        async with self._manager.run():
            ready.set()
            await asyncio.Event().wait()  # until cancelled

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def mcp_routes() -> tuple[list[Route], McpEndpoint]:
    """The ``/mcp`` route, and its endpoint (to shut down with the server)."""
    endpoint = McpEndpoint()
    return [Route("/mcp", endpoint, methods=["GET", "POST", "DELETE"])], endpoint
