"""``POST /loki/api/v1/push``: Loki's push API, so that Promtail, Grafana Alloy, Fluent Bit,
Vector and Loki client libraries can send logs to otelite.

Bodies are JSON (``Content-Type: application/json``) or, with any other Content-Type as in
Loki, a snappy-compressed ``logproto.PushRequest``; either may also be gzip-encoded
(``Content-Encoding: gzip``; ``snappy`` there is taken as saying what the protobuf body
is anyway). ``_loki_decode`` turns them into OTLP logs, which then take the path of every
OTLP request: validation and limits, the consumer (write-ahead log, backpressure), one
answer once durable.

Answers are Loki's: 204 with no body once stored; errors in plain text, 400 for a body
that cannot be read (nothing of it is stored), 413 over the size limit, 429 or 503 with
``Retry-After`` when the client should retry later. As in Loki, entries that validation
refuses (a time too far ahead) are reported with 400 while the rest of the push is
stored; clients do not retry a 400.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from otelite.access import BearerAuth, Guard, Right, Tokens
from otelite.config import Limits, Tenancy
from otelite.errors import OteliteError
from otelite.pipeline import Consumer, PipelineStats
from otelite.receivers._admission import Admission
from otelite.receivers._body import content_coding
from otelite.receivers._export import export
from otelite.receivers._loki_decode import decode_push
from otelite.receivers._status import error_status, retry_after
from otelite.types import ExportLogsServiceResponse, ExportRequest, Signal

__all__ = ["LOKI_PUSH_PATH", "LokiPush"]

_log = logging.getLogger(__name__)

LOKI_PUSH_PATH = "/loki/api/v1/push"
_JSON = "application/json"
# Loki's clients name the protobuf body's compression here; the body is snappy regardless.
_SNAPPY = "snappy"
_WHERE = " (resourceLogs[i] is the i-th pushed stream with entries, logRecords[k] its k-th entry)"


class LokiPush:
    """The ASGI app of ``POST /loki/api/v1/push``, handing each push to ``consumer``.

    ``limits``, ``stats``, ``stats_of`` and ``tenancy`` mean what they mean to
    ``HttpReceiver``: the push is one more way into the same pipeline. With ``tokens``, a
    push needs a bearer token with the ingest right, whichever port serves it.
    """

    def __init__(
        self,
        consumer: Consumer,
        *,
        limits: Limits | None = None,
        stats: PipelineStats | None = None,
        stats_of: Callable[[str], PipelineStats] | None = None,
        tokens: Tokens | None = None,
        tenancy: Tenancy | None = None,
    ) -> None:
        self._consumer = consumer
        self._limits = limits or Limits()
        self._tenancy = tenancy or Tenancy()
        stats = PipelineStats() if stats is None else stats
        self._stats_of = stats_of or (lambda tenant: stats)
        self._admission = Admission(self._limits, self._tenancy, stats)
        self._app: ASGIApp = self._serve
        if tokens is not None:
            guard = Guard(tokens, server="Loki push API")
            self._app = BearerAuth(self._app, guard=guard, reply=_refused, right=Right.INGEST)

    def route(self) -> Route:
        """The route to mount in an app: the path, POST only."""
        return Route(LOKI_PUSH_PATH, self, methods=["POST"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._handle(Request(scope, receive))
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        headers = request.headers
        try:
            coding = headers.get("content-encoding")
            tenant, body = await self._admission.admit(
                request, coding="identity" if _is_snappy(coding) else content_coding(coding)
            )
            is_json = headers.get("content-type", "").split(";", 1)[0].strip().lower() == _JSON
            limit = self._limits.max_request_bytes

            def decode(signal: Signal, data: bytes) -> ExportRequest:
                return decode_push(data, json=is_json, max_bytes=limit, received_ns=time.time_ns())

            response = await export(
                self._consumer,
                Signal.LOGS,
                body,
                decode,
                limits=self._limits,
                stats=self._stats_of(tenant),
                tenant=tenant,
            )
        except OteliteError as error:
            status, _ = error_status(error)
            return PlainTextResponse(str(error), status, headers=retry_after(error))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception:
            _log.exception("Loki push request failed")
            return PlainTextResponse("internal error; see the server log", 500)
        assert isinstance(response, ExportLogsServiceResponse)
        partial = response.partial_success
        if partial.rejected_log_records:
            return PlainTextResponse(partial.error_message + _WHERE, 400)
        return Response(status_code=204)


def _is_snappy(coding: str | None) -> bool:
    return (coding or "").strip().lower() == _SNAPPY


def _refused(headers: Headers, status: int, message: str) -> Response:
    return PlainTextResponse(message, status)
