"""Bearer-token authentication for an ASGI app (the OTLP/HTTP receiver, the query API)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.access._grants import Grant, Right, record_grant
from otelite.access._tokens import Guard

__all__ = ["BearerAuth", "Reply"]

Reply = Callable[[Headers, int, str], Response]
"""Builds the refusal for a request's headers, a status (401, 403) and a message, in the
app's error format."""

_REALM = 'Bearer realm="otelite"'
_POLICY_VIOLATION = 1008


class BearerAuth:
    """Lets a request through to ``app`` only with a bearer token that holds its right.

    The right is ``right``, or the one ``path_rights`` gives the request's path. A request
    without an accepted token gets 401 with ``WWW-Authenticate: Bearer``
    (``error="invalid_token"`` when a token was sent, as RFC 6750 asks); a token without
    the right gets 403. Either body is the one ``reply`` builds. Paths in ``open_paths``
    (health probes) need no token. The grant of a request let through is recorded for
    ``allowed_tenants``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        guard: Guard,
        reply: Reply,
        right: Right,
        path_rights: Mapping[str, Right] | None = None,
        open_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self._guard = guard
        self._reply = reply
        self._right = right
        self._path_rights = dict(path_rights or {})
        self._open = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self._open:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        where = f"{scope['path']} from {client[0]}" if client else scope["path"]
        right = self._path_rights.get(scope["path"], self._right)
        checked = self._guard.check(headers.get("authorization"), where, right)
        if isinstance(checked, Grant):
            record_grant(scope, checked)
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
            return
        response = self._reply(headers, 403 if checked.forbidden else 401, checked.message)
        if not checked.forbidden:
            challenge = _REALM + (', error="invalid_token"' if checked.invalid_token else "")
            response.headers["WWW-Authenticate"] = challenge
        await response(scope, receive, send)
