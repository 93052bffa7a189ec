"""Bearer-token authentication for an ASGI app (the OTLP/HTTP receiver, the query API)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.access._tokens import Guard

__all__ = ["BearerAuth", "Reply"]

Reply = Callable[[Headers, str], Response]
"""Builds the 401 body for a request's headers and a message, in the app's error format."""

_REALM = 'Bearer realm="otelite"'
_POLICY_VIOLATION = 1008


class BearerAuth:
    """Lets a request through to ``app`` only with an accepted bearer token.

    Others get 401 with ``WWW-Authenticate: Bearer`` (``error="invalid_token"`` when a
    token was sent, as RFC 6750 asks) and the body ``reply`` builds. Paths in
    ``open_paths`` (health probes) need no token.
    """

    def __init__(
        self, app: ASGIApp, *, guard: Guard, reply: Reply, open_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self._guard = guard
        self._reply = reply
        self._open = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        where = f"{scope['path']} from {client[0]}" if client else scope["path"]
        denied = self._guard.check(headers.get("authorization"), where)
        if denied is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
            return
        response = self._reply(headers, denied.message)
        response.status_code = 401
        challenge = _REALM + (', error="invalid_token"' if denied.invalid_token else "")
        response.headers["WWW-Authenticate"] = challenge
        await response(scope, receive, send)
