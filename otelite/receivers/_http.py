"""OTLP/HTTP: ``POST /v1/{traces,metrics,logs}`` in binary protobuf or OTLP/JSON, and
Loki's ``POST /loki/api/v1/push`` (``LokiPush``, which answers as Loki does).

Responses are encoded like the request. Errors carry a ``google.rpc.Status`` body and
the status codes of the OTLP specification: 400 undecodable, 413 too large (after
decompression), 415 unsupported Content-Type or Content-Encoding, 429 or 503 with
``Retry-After`` when the client should retry later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.access import (
    BearerAuth,
    Guard,
    Right,
    ServerCertificate,
    Tokens,
)
from otelite.config import Limits, Tenancy
from otelite.errors import OteliteError, UnsupportedMediaType
from otelite.otlp import (
    decode_request_json,
    encode_response_json,
    encode_status_json,
    status_proto,
)
from otelite.pipeline import Consumer, PipelineStats
from otelite.receivers._admission import Admission
from otelite.receivers._body import content_coding
from otelite.receivers._export import decode_request_proto, export
from otelite.receivers._loki_push import LokiPush
from otelite.receivers._status import error_status, retry_after
from otelite.receivers._uvicorn import UvicornServer
from otelite.types import Signal

__all__ = ["HttpReceiver"]

_log = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

_INTERNAL = 13
_UNAUTHENTICATED = 16
_PERMISSION_DENIED = 7


class HttpReceiver:
    """Serves OTLP/HTTP on ``host:port`` and hands every request to ``consumer``.

    Runs as a task in the caller's event loop and leaves signal handling to the caller.
    ``port=0`` picks a free port; ``port`` tells the one chosen once started. ``shutdown``
    stops accepting connections and lets requests in flight finish for up to
    ``grace_seconds``. With ``tokens``, requests need one with the ingest right as a bearer
    token (else 401, or 403 for a token without the right); with a ``certificate``, the
    receiver speaks HTTPS. With multi-tenancy on (``tenancy``), the ``X-Scope-OrgID``
    header names the tenant each request is for, among those its token may use. What validation
    refuses and cuts is counted in ``stats_of(tenant)`` (``stats`` by default).
    """

    def __init__(
        self,
        consumer: Consumer,
        *,
        host: str = "127.0.0.1",
        port: int = 4318,
        limits: Limits | None = None,
        stats: PipelineStats | None = None,
        stats_of: Callable[[str], PipelineStats] | None = None,
        grace_seconds: float = 5.0,
        tokens: Tokens | None = None,
        certificate: ServerCertificate | None = None,
        tenancy: Tenancy | None = None,
    ) -> None:
        self._consumer = consumer
        self._limits = limits or Limits()
        self._tenancy = tenancy or Tenancy()
        self.stats = PipelineStats() if stats is None else stats
        # Validation's refusals and cuts count per tenant when the consumer keeps tenants.
        self._stats_of = stats_of or (lambda tenant: self.stats)
        """Where limits count what they refuse and cut (the pipeline's, in a server)."""
        self._admission = Admission(self._limits, self._tenancy, self.stats)
        self.app = Starlette(
            routes=[
                *(
                    Route(f"/v1/{signal.value}", self._endpoint(signal), methods=["POST"])
                    for signal in Signal
                ),
                # Loki's push API too, for shippers pointed at this port; the app's guard
                # below asks it for the ingest right like every route here.
                LokiPush(
                    consumer,
                    limits=self._limits,
                    stats=self.stats,
                    stats_of=self._stats_of,
                    tenancy=self._tenancy,
                ).route(),
            ],
            middleware=[]
            if tokens is None
            else [
                Middleware(
                    BearerAuth,
                    guard=Guard(tokens, server="OTLP/HTTP receiver"),
                    reply=_refused,
                    right=Right.INGEST,
                )
            ],
        )
        self.app.router.redirect_slashes = False
        self._server = UvicornServer(
            self.app,
            host=host,
            port=port,
            grace_seconds=grace_seconds,
            name="OTLP/HTTP receiver",
            certificate=certificate,
        )

    @property
    def port(self) -> int:
        """The port listened on: the one chosen by the system when constructed with 0."""
        return self._server.port

    async def start(self) -> None:
        """Bind and start serving; returns once connections are accepted."""
        await self._server.start()

    async def shutdown(self) -> None:
        """Stop accepting connections, finish requests in flight, then return."""
        await self._server.shutdown()

    def _endpoint(self, signal: Signal) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(signal, request)

        return endpoint

    async def _handle(self, signal: Signal, request: Request) -> Response:
        media_type = JSON
        try:
            media_type = _media_type(request.headers.get("content-type"))
            coding = content_coding(request.headers.get("content-encoding"))
            tenant, body = await self._admission.admit(request, coding=coding)
            decode = decode_request_json if media_type == JSON else decode_request_proto
            response = await export(
                self._consumer,
                signal,
                body,
                decode,
                limits=self._limits,
                stats=self._stats_of(tenant),
                tenant=tenant,
            )
        except OteliteError as error:
            return _error_response(error, media_type)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception:
            _log.exception("OTLP/HTTP %s request failed", signal.value)
            return _status_response(
                500, _INTERNAL, "internal error; see the server log", media_type
            )
        if media_type == JSON:
            return Response(encode_response_json(response), media_type=JSON)
        return Response(response.SerializeToString(), media_type=PROTOBUF)


def _media_type(header: str | None) -> str:
    """The OTLP encoding named by a Content-Type header; parameters such as charset are ignored."""
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type in (PROTOBUF, JSON):
        return media_type
    use = f"use {PROTOBUF} or {JSON}"
    if not header:
        raise UnsupportedMediaType(f"a Content-Type header is required; {use}")
    raise UnsupportedMediaType(f"Content-Type {header!r} is not supported; {use}")


def _refused(headers: Headers, status: int, message: str) -> Response:
    """A ``google.rpc.Status`` body in the request's encoding (JSON when it names none)."""
    try:
        media_type = _media_type(headers.get("content-type"))
    except UnsupportedMediaType:
        media_type = JSON
    code = _PERMISSION_DENIED if status == 403 else _UNAUTHENTICATED
    return _status_response(status, code, message, media_type)


def _error_response(error: OteliteError, media_type: str) -> Response:
    http_status, code = error_status(error)
    response = _status_response(http_status, code, str(error), media_type)
    response.headers.update(retry_after(error))
    return response


def _status_response(http_status: int, code: int, message: str, media_type: str) -> Response:
    if media_type == JSON:
        return Response(encode_status_json(code, message), http_status, media_type=JSON)
    return Response(status_proto(code, message), http_status, media_type=PROTOBUF)
