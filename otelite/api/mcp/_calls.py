"""The query API as an MCP tool calls it: over HTTP, with the caller's own credentials.

Every tool answers from otelite's HTTP API, never from storage directly, so that a tool
sees exactly what the same client would see on the API: the same token checks, tenant,
parameter checks, bounds and error messages. Served at ``/mcp`` the calls go to the app
in process (``httpx.ASGITransport``), carrying the MCP request's ``Authorization`` and
``X-Scope-OrgID`` headers; from ``otelite mcp --url`` (stdio) they go over the network to
the otelite named, with the token and tenant given there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson
from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["FORWARDED_HEADERS", "QueryApi"]

FORWARDED_HEADERS = ("authorization", "x-scope-orgid")
"""The MCP request's headers a tool's API calls carry: who asks, and for which tenant."""

Query = Mapping[str, str | int | float | Sequence[str] | None]


class QueryApi:
    """GET requests to otelite's query API through ``client`` (its base URL and headers
    set). A refusal becomes a ``ToolError`` carrying the API's own message, which names
    the parameter and the accepted form: what the model should change."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def json(
        self,
        path: str,
        params: Query | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON body of a successful GET of ``path`` (as ``content`` takes it)."""
        return orjson.loads(await self.content(path, params, headers=headers, names=names))

    async def content(
        self,
        path: str,
        params: Query | None = None,
        *,
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body of a successful GET of ``path``, asking for ``accept`` (``headers``: more
        to send). ``names`` maps
        API parameters to the tool's arguments (``q`` to ``query``): a refusal naming
        one names the argument instead, which is what the model can change."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._client.get(
                path, params=query, headers={**(headers or {}), "Accept": accept}
            )
        except httpx.TimeoutException:
            raise ToolError("otelite did not answer in time; ask for a shorter range") from None
        except httpx.TransportError as error:
            raise ToolError(f"otelite cannot be reached: {error}") from None
        if response.is_success:
            return response.content
        raise ToolError(_renamed(_refusal(response), names or {}))


def _renamed(message: str, names: Mapping[str, str]) -> str:
    for parameter, argument in names.items():
        if message.startswith(f"{parameter}:"):
            return argument + message[len(parameter) :]
    return message


def _refusal(response: httpx.Response) -> str:
    """What the API said, as the model should read it."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    message = None
    if isinstance(body, dict):
        # otelite's {"error"}; Prometheus' and Loki's {"error", "errorType"} too.
        found = body.get("error") or body.get("message")
        message = found if isinstance(found, str) else None
    if message is None:
        message = response.text.strip()[:500] or response.reason_phrase
    if response.status_code == 401:
        return f"{message} (the MCP client's token is missing or not accepted)"
    if response.status_code == 403:
        return f"{message} (the MCP client's token does not allow this)"
    return message
