"""``otelite mcp``: otelite's MCP server over stdio, for clients that launch a command.

The tools answer from the query API of the otelite at ``--url``, with ``--token`` and
``--tenant``, exactly as the same server's ``/mcp`` route would; nothing is read locally.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from otelite._cli import _args
from otelite._cli._client import client_options

__all__ = ["register"]


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``mcp``; ``parents`` carry the connection options."""
    p = commands.add_parser(
        "mcp",
        parents=parents,
        help="serve otelite's MCP tools over stdio, for an agent",
        description="Serve otelite's MCP server (tools, resources and prompts for agents) "
        "over stdin and stdout, answering from the otelite at --url. For MCP clients that "
        "launch a command; those that speak HTTP can use the /mcp route of the query port.",
    )
    p.set_defaults(run=_mcp)


def _mcp(args: argparse.Namespace) -> int:
    # Imported here so that other commands do not load the MCP SDK.
    import httpx

    from otelite.api.mcp import QueryApi, mcp_server

    # Before the SDK's own set-up, and to stderr: stdout carries the protocol.
    logging.basicConfig(level=logging.WARNING, format="otelite mcp: %(message)s", stream=sys.stderr)
    headers, verify = client_options(token=args.token, ca_cert=args.ca_cert, tenant=args.tenant)
    url = args.url.rstrip("/")

    @asynccontextmanager
    async def remote(_ctx: object) -> AsyncIterator[QueryApi]:
        async with httpx.AsyncClient(
            base_url=url, headers=headers, verify=verify, timeout=args.timeout
        ) as client:
            yield QueryApi(client)

    mcp_server(remote).run("stdio")
    return 0
