"""An ASGI app served by uvicorn inside the caller's event loop, as a start/shutdown component.

The otelite process runs one loop with both receivers and the query API, and handles
SIGINT and SIGTERM itself; so uvicorn runs as a task, installs no signal handlers and
configures no logging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from otelite.access import ServerCertificate

__all__ = ["UvicornServer"]

_log = logging.getLogger(__name__)


class UvicornServer:
    """Serves ``app`` on ``host:port`` over HTTP/1.1, with TLS when given a ``certificate``.

    ``port=0`` picks a free port; ``port`` tells the one chosen once started.
    ``shutdown`` stops accepting connections and lets requests in flight finish for up to
    ``grace_seconds`` before cancelling them. With ``websockets``, WebSocket upgrades are
    served too (the query API's Loki tail); otherwise they are refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int,
        grace_seconds: float = 5.0,
        name: str = "HTTP server",
        certificate: ServerCertificate | None = None,
        websockets: bool = False,
    ) -> None:
        self._config = uvicorn.Config(
            app,
            # The C parser (httptools) costs less CPU per request than the pure-Python h11,
            # which OTLP ingest feels: every request is a few hundred kilobytes of body.
            http="httptools",
            ws="websockets-sansio" if websockets else "none",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=math.ceil(grace_seconds),
            ssl_certfile=None if certificate is None else certificate.cert_file,
            ssl_keyfile=None if certificate is None else certificate.key_file,
        )
        self._host = host
        self._port = port
        self._name = name
        self.scheme = "http" if certificate is None else "https"
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port listened on: the one chosen by the system when constructed with 0."""
        return self._port

    async def start(self) -> None:
        """Bind and start serving; returns once connections are accepted.

        Raises ``OSError`` when the address cannot be bound.
        """
        sock = _listen(self._host, self._port)
        self._port = sock.getsockname()[1]
        server = _Server(self._config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                raise RuntimeError(f"{self._name} on {self._host}:{self._port} stopped at start")
            await asyncio.sleep(0.005)
        self._server, self._task = server, task
        _log.info("%s listening on %s://%s:%d", self._name, self.scheme, self._host, self._port)

    async def shutdown(self) -> None:
        """Stop accepting connections, finish requests in flight, then return."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (IPv4 or IPv6, as ``host`` resolves)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
