"""Bearer-token authentication for a gRPC server (the OTLP/gRPC receiver)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from otelite.access._tokens import Guard

__all__ = ["BearerAuthInterceptor"]


class BearerAuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Runs a call only when its ``authorization`` metadata holds an accepted bearer token.

    Others end with UNAUTHENTICATED before their request is read, which OTLP clients do
    not retry.
    """

    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        values = [v for k, v in details.invocation_metadata or () if k == "authorization"]
        authorization = values[0] if values and isinstance(values[0], str) else None
        denied = self._guard.check(authorization, details.method)
        if denied is None:
            return await continuation(details)
        message = denied.message

        # No deserializer: the refused request's bytes are never decoded.
        async def refuse(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

        return grpc.unary_unary_rpc_method_handler(refuse)
