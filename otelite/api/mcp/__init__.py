"""The MCP server: otelite's query languages and analysis as tools for agents.

``mcp_routes`` serves it at ``/mcp`` on the query port (Streamable HTTP, behind the query
API's tokens); ``mcp_server`` builds it over any way of reaching the query API, which is
how ``otelite mcp`` serves it over stdio, talking to a running otelite.
"""

from __future__ import annotations

from otelite.api.mcp._calls import QueryApi
from otelite.api.mcp._server import INSTRUCTIONS, McpEndpoint, mcp_routes, mcp_server
from otelite.api.mcp._trace_tools import ApiOf

__all__ = ["INSTRUCTIONS", "ApiOf", "McpEndpoint", "QueryApi", "mcp_routes", "mcp_server"]
